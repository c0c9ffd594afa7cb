import {describeLookbacks} from '../config/lookbacks.js'
import {durationText} from '../domain.js'
import {BotError} from '../errors.js'
import {buildPortfolio} from '../market/snapshot.js'
import {recordAbandonedCycle} from '../metrics/record.js'
import {atRiskValue, exposurePct} from '../risk/exposure.js'
import {raiseAlert, resolveAlert} from './alerting.js'
import type {CycleAt, Engine} from './context.js'
import {runCycle} from './cycle.js'
import {openEngine, type OpenedEngine, type OpenOptions} from './open.js'
import {type RunSummary, summarize} from './summary.js'
import {isTransient, retryTransient} from './venues/watch.js'

const OVERRUN_ALERT = 'CYCLE_OVERRUN'
/** Once these steps start, the cycle's orders are out: it is finished (it only records), however late. */
const FINISHING_STEPS: ReadonlySet<string> = new Set(['execute', 'escalate', 'record'])

/** A cycle past loop.max_cycle_seconds, given up after `step` (thrown between two steps, never inside one). */
class CycleOverrun extends BotError {
  constructor(readonly step: string, readonly seconds: number) {
    super(`took ${seconds.toFixed(1)} s, more than loop.max_cycle_seconds, by the end of its ${step} step`, 'CYCLE_OVERRUN')
  }
}

/**
 * loop.max_cycle_seconds: armed while a cycle runs, checked after each of its steps (engine.timing), so an
 * overrun gives the cycle up between two steps: every write is its own transaction, and what it stored (its
 * intents) is reconciled by the next cycle, as after a crash.
 */
class CycleDeadline {
  limitMs = Number.POSITIVE_INFINITY
  private startedAt: number | null = null

  arm(): void {
    this.startedAt = performance.now()
  }

  disarm(): number {
    const ms = this.startedAt === null ? 0 : performance.now() - this.startedAt
    this.startedAt = null
    return ms
  }

  afterStep(step: string): void {
    if (this.startedAt === null || FINISHING_STEPS.has(step)) return
    const ms = performance.now() - this.startedAt
    if (ms > this.limitMs) throw new CycleOverrun(step, ms / 1000)
  }
}

export interface StartInfo {
  description: string
  stateDir: string
  /** The last cycle before this run, 0 if the state dir is new. */
  resumedFrom: number
  /** What the signals' look-backs mean in time, e.g. "momentum 24 bars (1d), ...". */
  lookbacks: string
}

export interface RunOptions extends OpenOptions {
  /** Stop after this many cycles in this run. */
  cycles?: number
  stop: AbortSignal
  /**
   * Awaited after every cycle: the output's chance to drain (a slow pipe reader) before the next cycle adds
   * to it. The loop also yields to the event loop there, so signals are seen even in a replay.
   */
  flush?: () => Promise<void>
  /** Called once everything is open, before the first cycle. */
  onStart?: (info: StartInfo) => void
}

/**
 * `bot run`: open the engine (openEngine: every check before the first write), then cycle until --cycles,
 * the end of the data or a stop signal. Whatever happens, everything opened is released.
 */
export async function runBot(options: RunOptions): Promise<RunSummary> {
  const deadline = new CycleDeadline()
  const opened = await openEngine({...options, timing: (cycle, step, ms) => {
    options.timing?.(cycle, step, ms)
    deadline.afterStep(step)
  }}, 'run')
  try {
    const {engine, venue, stateDir, config} = opened
    deadline.limitMs = config.app.loop.max_cycle_seconds * 1000
    options.onStart?.({
      description: venue.description, stateDir, resumedFrom: engine.store.lastCycle()?.cycle ?? 0,
      lookbacks: `${describeLookbacks(config.signals, venue.market.barMs)} on ${durationText(venue.market.barMs)} bars`,
    })
    const {ran, stoppedBy} = await cycleUntilDone(opened, deadline, options)
    // On a real exchange the final valuation may meet a failing request too: tried again before giving up.
    const wall = venue.clock.kind === 'wall'
    return await retryTransient(() => finalSummary(engine, {stateDir, cyclesThisRun: ran, stoppedBy}), wall ? 3 : 1, Math.min(2000, venue.intervalMs))
  } finally {
    await opened.close()
  }
}

/**
 * One cycle, guarded: a cycle that overruns loop.max_cycle_seconds, or meets an exchange failure that outlasted
 * its retries, is given up between two steps (as after a crash: what it stored is reconciled by the next
 * cycle), said, counted and, for an overrun, alerted; anything else stops the loop. Returns whether it completed.
 */
async function guardedCycle(opened: OpenedEngine, deadline: CycleDeadline, at: CycleAt): Promise<boolean> {
  const {engine, watch, metrics} = opened
  watch.beginCycle()
  deadline.arm()
  let abandoned: BotError | null = null
  let ms = 0
  try {
    await runCycle(engine, at)
  } catch (error) {
    if (!(error instanceof CycleOverrun) && !isTransient(error)) throw error
    abandoned = error instanceof CycleOverrun ? error : new BotError(error.message, error.code)
  } finally {
    ms = deadline.disarm()
    watch.endCycle()
    if (!abandoned) opened.cycleTook(ms / 1000)
  }

  const now = engine.clock.now()
  const limit = engine.config.app.loop.max_cycle_seconds
  if (abandoned) {
    const overrun = abandoned instanceof CycleOverrun
    recordAbandonedCycle(metrics, overrun ? 'overrun' : 'exchange_error')
    engine.observe({type: 'notice', level: 'warning', message: `cycle ${at.cycle} abandoned: ${abandoned.message}; what it stored is reconciled by the next cycle`})
    if (overrun) await raiseOverrun(engine, at, now, `cycle ${at.cycle} ${abandoned.message}: abandoned before sending its orders`)
  } else if (ms > limit * 1000) {
    await raiseOverrun(engine, at, now, `cycle ${at.cycle} took ${(ms / 1000).toFixed(1)} s, more than loop.max_cycle_seconds (${limit} s), while its orders were going out`)
  } else if (engine.alerts.active().includes(OVERRUN_ALERT)) {
    await resolveAlert(engine, OVERRUN_ALERT, `cycle ${at.cycle} finished within loop.max_cycle_seconds (${limit} s)`, now)
  }

  await opened.watch.alert(engine, now)
  return abandoned === null
}

function raiseOverrun(engine: Engine, at: CycleAt, now: number, summary: string): Promise<void> {
  return raiseAlert(engine, {
    code: OVERRUN_ALERT, severity: 'warning', time: now, summary,
    action: 'look at the exchange\'s latency and the step timings (bot run --verbose); raise loop.max_cycle_seconds if cycles are simply slow',
    context: {cycle: at.cycle, maxCycleSeconds: engine.config.app.loop.max_cycle_seconds},
  })
}

/**
 * Cycles every `intervalMs` on the venue's clock. A cycle that crashed after storing its plan is finished
 * first, as the same cycle with its stored intents; one abandoned while the loop runs is not (see guardedCycle).
 */
async function cycleUntilDone(opened: OpenedEngine, deadline: CycleDeadline, options: RunOptions): Promise<{ran: number; stoppedBy: RunSummary['stoppedBy']}> {
  const {engine} = opened
  const {intervalMs} = opened.venue
  let ran = 0
  const step = async (at: CycleAt): Promise<boolean> => {
    // An abandoned cycle counts: --cycles bounds the attempts, so a cron job ends even while the exchange is down.
    await guardedCycle(opened, deadline, at)
    ran++
    await options.flush?.()
    // A replay's awaits all resolve at once: without a macrotask turn, SIGINT/SIGTERM would wait for the end.
    await new Promise((resolve) => setImmediate(resolve))
    return options.cycles !== undefined && ran >= options.cycles
  }

  const last = engine.store.lastCycle()
  if (last?.status === 'planned' && !options.stop.aborted && (await step({cycle: last.cycle, now: engine.clock.now(), resumed: true, kind: 'loop'}))) return {ran, stoppedBy: 'cycles'}
  for (;;) {
    if (options.stop.aborted) return {ran, stoppedBy: 'signal'}
    const prev = engine.store.lastCycle()
    const now = engine.clock.now()
    if ((prev === null || now > prev.time) && (await step({cycle: (prev?.cycle ?? 0) + 1, now, resumed: false, kind: 'loop'}))) return {ran, stoppedBy: 'cycles'}
    const next = Math.max(now, engine.store.lastCycle()?.time ?? now) + intervalMs
    if (!(await engine.clock.sleepUntil(next, options.stop))) return {ran, stoppedBy: options.stop.aborted ? 'signal' : 'end_of_data'}
  }
}

/** The run's summary, valued at trusted prices (a suspect last tick does not make the final equity). */
async function finalSummary(engine: Engine, extra: Pick<RunSummary, 'stateDir' | 'cyclesThisRun' | 'stoppedBy'>): Promise<RunSummary> {
  const tickers = await engine.market.tickers(engine.symbols)
  for (const [symbol, t] of tickers) tickers.set(symbol, {...t, last: engine.prices.peek(symbol, t.last)})
  const final = buildPortfolio(engine.config.app.exchange.quote_currency, await engine.broker.balances(), tickers, await engine.broker.openOrders())
  const exposure = exposurePct(atRiskValue(final, (s) => tickers.get(s)?.last), final.equity)
  return summarize(engine.store, final, (s) => tickers.get(s)?.last, exposure, extra)
}
