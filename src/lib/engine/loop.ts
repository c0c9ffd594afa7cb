import {describeLookbacks} from '../config/lookbacks.js'
import {durationText} from '../domain.js'
import {buildPortfolio} from '../market/snapshot.js'
import {atRiskValue, exposurePct} from '../risk/exposure.js'
import type {CycleAt, Engine} from './context.js'
import {runCycle} from './cycle.js'
import {openEngine, type OpenOptions} from './open.js'
import {type RunSummary, summarize} from './summary.js'

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
  const opened = await openEngine(options, 'run')
  try {
    const {engine, venue, stateDir, config} = opened
    options.onStart?.({
      description: venue.description, stateDir, resumedFrom: engine.store.lastCycle()?.cycle ?? 0,
      lookbacks: `${describeLookbacks(config.signals, venue.market.barMs)} on ${durationText(venue.market.barMs)} bars`,
    })
    const {ran, stoppedBy} = await cycleUntilDone(engine, venue.intervalMs, options, opened.cycleTook)
    return await finalSummary(engine, {stateDir, cyclesThisRun: ran, stoppedBy})
  } finally {
    await opened.close()
  }
}

/**
 * Cycles every `intervalMs` on the venue's clock. A cycle that crashed after storing its plan is finished
 * first, as the same cycle with its stored intents.
 */
async function cycleUntilDone(engine: Engine, intervalMs: number, options: RunOptions, took: (seconds: number) => void): Promise<{ran: number; stoppedBy: RunSummary['stoppedBy']}> {
  let ran = 0
  const step = async (at: CycleAt): Promise<boolean> => {
    const started = performance.now()
    await runCycle(engine, at)
    took((performance.now() - started) / 1000)
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
