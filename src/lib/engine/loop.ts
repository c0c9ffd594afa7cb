import path from 'node:path'

import {type AlertService, createAlertService, type Severity} from '../alerts/index.js'
import {requireValidConfig} from '../config/index.js'
import {describeLookbacks} from '../config/lookbacks.js'
import {durationText} from '../domain.js'
import {BotError} from '../errors.js'
import {PriceGuard} from '../market/price-guard.js'
import {buildPortfolio} from '../market/snapshot.js'
import {atRiskValue, exposurePct} from '../risk/exposure.js'
import {SignalBook} from '../signals/scores.js'
import {sqliteAlertStore} from '../state/alert-store.js'
import {AuditHeadFile} from '../state/audit-head.js'
import {auditKeyFrom} from '../state/audit-key.js'
import {acquireLock} from '../state/lock.js'
import {prepareState} from '../state/prepare.js'
import type {StateStore} from '../state/store.js'
import {tierMap} from '../universe/eligibility.js'
import type {CycleAt, Engine} from './context.js'
import {runCycle} from './cycle.js'
import type {EngineObserver} from './events.js'
import {warmUp} from './steps/snapshot.js'
import {type RunSummary, summarize} from './summary.js'
import {prepareVenue, randomNamespace, type Venue} from './venue.js'

export interface StartInfo {
  description: string
  stateDir: string
  /** The last cycle before this run, 0 if the state dir is new. */
  resumedFrom: number
  /** What the signals' look-backs mean in time, e.g. "momentum 24 bars (1d), ...". */
  lookbacks: string
}

export interface RunOptions {
  configDir: string
  /** Overrides app.yaml state.dir. */
  stateDir?: string
  /** Stop after this many cycles in this run. */
  cycles?: number
  intervalSeconds?: number
  live?: boolean
  observe: EngineObserver
  stop: AbortSignal
  /** Where the audit key's variable is read (default: process.env). */
  env?: NodeJS.ProcessEnv
  /**
   * Awaited after every cycle: the output's chance to drain (a slow pipe reader) before the next cycle adds
   * to it. The loop also yields to the event loop there, so signals are seen even in a replay.
   */
  flush?: () => Promise<void>
  /** Called once everything is open, before the first cycle. */
  onStart?: (info: StartInfo) => void
  /** Where the console alert sink writes (default: nowhere; every alert is also an event). */
  alertLine?: (line: string, severity: Severity) => void
}

/**
 * `bot run`: validate, load the venue's data, lock the state dir, check it (one run, audit chain intact), open
 * the venue, warm the indicators up, then cycle until --cycles, the end of the data or a stop signal. Every
 * refusal comes before the first write; whatever happens, the store, venue and lock are released.
 */
export async function runBot(options: RunOptions): Promise<RunSummary> {
  const config = requireValidConfig(options.configDir)
  const stateDir = options.stateDir ?? config.app.state.dir
  const prepared = prepareVenue(config, {stateDir, intervalSeconds: options.intervalSeconds, live: options.live ?? false})
  const auditKey = auditKeyFrom(config.app.state.audit_key_env, options.env ?? process.env)
  const lock = acquireLock(stateDir)
  let store: StateStore | undefined
  let venue: Venue | undefined
  const auditHead = AuditHeadFile.in(stateDir)
  let alerts: AlertService | undefined
  try {
    const state = await refuseLoudly(() => prepareState(stateDir, {pairedFiles: prepared.pairedFiles, auditKey}), config, stateDir, options)
    try {
      venue = await prepared.open(state.run)
    } catch (error) {
      state.abandon()
      throw error
    }

    store = state.open()
    store.setDurability(venue.durability)
    alerts = createAlertService(config.app.alerts, {env: options.env ?? process.env, writeLine: options.alertLine ?? (() => {}), store: sqliteAlertStore(store), instance: path.resolve(stateDir)})
    for (const message of state.notices) options.observe({type: 'notice', level: 'warning', message})
    auditHead.write(store.audit.current(), venue.clock.now())
    const engine = await createEngine(config, stateDir, {venue, store, auditHead, alerts}, options)
    options.onStart?.({
      description: venue.description, stateDir, resumedFrom: store.lastCycle()?.cycle ?? 0,
      lookbacks: `${describeLookbacks(config.signals, venue.market.barMs)} on ${durationText(venue.market.barMs)} bars`,
    })
    const {ran, stoppedBy} = await cycleUntilDone(engine, venue.intervalMs, options)
    return await finalSummary(engine, {stateDir, cyclesThisRun: ran, stoppedBy})
  } finally {
    await alerts?.close()
    auditHead.close()
    store?.close()
    await venue?.broker.close()
    await venue?.market.close()
    lock.release()
  }
}

interface Opened {
  venue: Venue
  store: StateStore
  auditHead: AuditHeadFile
  alerts: AlertService
}

async function createEngine(config: Engine['config'], stateDir: string, {venue, store, auditHead, alerts}: Opened, options: RunOptions): Promise<Engine> {
  const tierOf = tierMap(config.universe)
  const symbols = [...tierOf.keys()]
  let idPrefix = store.getMeta('id_prefix')
  if (idPrefix === null) {
    idPrefix = venue.idNamespace || randomNamespace()
    store.setMeta('id_prefix', idPrefix)
  }

  const btc = `BTC-${config.app.exchange.quote_currency}`
  const maxMove = config.policy.risk.max_bar_move_pct
  const eligibility = new Map([...store.eligibility()].map(([s, status]) => [s, status.replace(/^excluded:/, '')]))
  const engine: Engine = {
    config, stateDir, market: venue.market, broker: venue.broker, clock: venue.clock, store,
    signals: new SignalBook(config.signals, new PriceGuard(maxMove)), prices: new PriceGuard(maxMove),
    symbols, tierOf, idPrefix, benchmark: symbols.includes(btc) ? btc : symbols[0] ?? null,
    observe: options.observe, eligibility, auditHead, alerts,
  }
  await warmUp(engine)
  return engine
}

/**
 * A start refused because the audit log cannot be proved is worth a person's attention right away: it goes to
 * the alert sinks (there is no trustworthy state to keep alert memory in, so in memory) before the refusal.
 */
async function refuseLoudly<T>(open: () => T, config: Engine['config'], stateDir: string, options: RunOptions): Promise<T> {
  try {
    return open()
  } catch (error) {
    if (error instanceof BotError && error.code.startsWith('AUDIT_')) {
      const alerts = createAlertService(config.app.alerts, {env: options.env ?? process.env, writeLine: options.alertLine ?? (() => {}), instance: path.resolve(stateDir)})
      await alerts.raise({code: 'AUDIT_CHAIN_BROKEN', severity: 'critical', time: Date.now(), summary: error.message, action: 'compare the state dir with a head published earlier (bot validate --state-dir DIR --audit-head N:HASH) and restore it from a backup; bot will not trade on it'})
      await alerts.close()
    }

    throw error
  }
}

/**
 * Cycles every `intervalMs` on the venue's clock. A cycle that crashed after storing its plan is finished
 * first, as the same cycle with its stored intents.
 */
async function cycleUntilDone(engine: Engine, intervalMs: number, options: RunOptions): Promise<{ran: number; stoppedBy: RunSummary['stoppedBy']}> {
  let ran = 0
  const step = async (at: CycleAt): Promise<boolean> => {
    await runCycle(engine, at)
    ran++
    await options.flush?.()
    // A replay's awaits all resolve at once: without a macrotask turn, SIGINT/SIGTERM would wait for the end.
    await new Promise((resolve) => setImmediate(resolve))
    return options.cycles !== undefined && ran >= options.cycles
  }

  const last = engine.store.lastCycle()
  if (last?.status === 'planned' && !options.stop.aborted && (await step({cycle: last.cycle, now: engine.clock.now(), resumed: true}))) return {ran, stoppedBy: 'cycles'}
  for (;;) {
    if (options.stop.aborted) return {ran, stoppedBy: 'signal'}
    const prev = engine.store.lastCycle()
    const now = engine.clock.now()
    if ((prev === null || now > prev.time) && (await step({cycle: (prev?.cycle ?? 0) + 1, now, resumed: false}))) return {ran, stoppedBy: 'cycles'}
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
