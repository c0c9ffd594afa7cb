import {requireValidConfig} from '../config/index.js'
import {BotError} from '../errors.js'
import {buildPortfolio} from '../market/snapshot.js'
import {atRiskValue, exposurePct} from '../risk/exposure.js'
import {PriceGuard} from '../market/price-guard.js'
import {SignalBook} from '../signals/scores.js'
import {acquireLock} from '../state/lock.js'
import {AuditHeadFile} from '../state/audit-head.js'
import {auditKeyFrom} from '../state/audit-key.js'
import {prepareState} from '../state/prepare.js'
import type {StateStore} from '../state/store.js'
import {tierMap} from '../universe/eligibility.js'
import type {Engine} from './context.js'
import {runCycle} from './cycle.js'
import type {EngineObserver} from './events.js'
import {warmUp} from './steps/snapshot.js'
import {type RunSummary, summarize} from './summary.js'
import {prepareVenue, randomNamespace, type Venue} from './venue.js'

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
  onStart?: (info: {description: string; stateDir: string; resumedFrom: number}) => void
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
  try {
    const state = prepareState(stateDir, {pairedFiles: prepared.pairedFiles, auditKey})
    try {
      venue = await prepared.open(state.run)
    } catch (error) {
      state.abandon()
      throw error
    }

    store = state.open()
    store.setDurability(venue.durability)
    for (const message of state.notices) options.observe({type: 'notice', level: 'warning', message})
    auditHead.write(store.audit.current(), await venue.clock.now())
    const engine = await createEngine(config, stateDir, venue, store, auditHead, options)
    options.onStart?.({description: venue.description, stateDir, resumedFrom: store.lastCycle()?.cycle ?? 0})
    const {ran, stoppedBy} = await cycleUntilDone(engine, options)
    const tickers = await engine.exchange.tickers(engine.symbols)
    for (const [symbol, t] of tickers) tickers.set(symbol, {...t, last: engine.prices.peek(symbol, t.last)})
    const final = buildPortfolio(config.app.exchange.quote_currency, await engine.exchange.balances(), tickers, await engine.exchange.openOrders())
    const exposure = exposurePct(atRiskValue(final, (s) => tickers.get(s)?.last), final.equity)
    return summarize(store, final, (s) => tickers.get(s)?.last, exposure, {stateDir, cyclesThisRun: ran, stoppedBy})
  } finally {
    auditHead.close()
    store?.close()
    await venue?.exchange.close()
    lock.release()
  }
}

async function createEngine(config: Engine['config'], stateDir: string, venue: Venue, store: StateStore, auditHead: AuditHeadFile, options: RunOptions): Promise<Engine> {
  const markets = await venue.exchange.markets()
  const tierOf = tierMap(config.universe)
  const symbols = [...tierOf.keys()].filter((s) => markets.has(s))
  let idPrefix = store.getMeta('id_prefix')
  if (idPrefix === null) {
    idPrefix = venue.idNamespace || randomNamespace()
    store.setMeta('id_prefix', idPrefix)
  }

  const btc = `BTC-${config.app.exchange.quote_currency}`
  const engine: Engine = {
    config, stateDir, exchange: venue.exchange, clock: venue.clock, store, markets,
    signals: new SignalBook(config.signals, new PriceGuard(config.policy.risk.max_bar_move_pct)), prices: new PriceGuard(config.policy.risk.max_bar_move_pct),
    symbols, tierOf, idPrefix, takerFeeBps: venue.takerFeeBps, benchmark: symbols.includes(btc) ? btc : symbols[0] ?? null,
    observe: options.observe, anchors: store.anchors(), eligibility: store.eligibility(), auditHead,
  }
  await warmUp(engine)
  return engine
}

async function cycleUntilDone(engine: Engine, options: RunOptions): Promise<{ran: number; stoppedBy: RunSummary['stoppedBy']}> {
  let ran = 0
  for (;;) {
    if (options.stop.aborted) return {ran, stoppedBy: 'signal'}
    const now = await engine.clock.now()
    const last = engine.store.lastCycle()
    if (last && now < last.time) {
      throw new BotError(`the exchange's clock (${new Date(now).toISOString()}) is behind the last cycle (${new Date(last.time).toISOString()}): this state dir belongs to another account or data set`, 'CLOCK_BEHIND')
    }

    const due = last === null || now > last.time || (last.status === 'planned' && last.time === now)
    if (due) {
      await runCycle(engine, now, last)
      ran++
      await options.flush?.()
      // A replay's awaits all resolve at once: without a macrotask turn, SIGINT/SIGTERM would wait for the end.
      await new Promise((resolve) => setImmediate(resolve))
      if (options.cycles !== undefined && ran >= options.cycles) return {ran, stoppedBy: 'cycles'}
    }

    if (!(await engine.clock.next(now, options.stop))) return {ran, stoppedBy: options.stop.aborted ? 'signal' : 'end_of_data'}
  }
}
