import {requireValidConfig} from '../config/index.js'
import {BotError} from '../errors.js'
import {buildPortfolio} from '../market/snapshot.js'
import {atRiskValue, exposurePct} from '../risk/exposure.js'
import {SignalBook} from '../signals/scores.js'
import {acquireLock} from '../state/lock.js'
import {StateStore} from '../state/store.js'
import {tierMap} from '../universe/eligibility.js'
import type {Engine} from './context.js'
import {runCycle} from './cycle.js'
import type {EngineObserver} from './events.js'
import {warmUp} from './steps/snapshot.js'
import {type RunSummary, summarize} from './summary.js'
import {openVenue, randomNamespace, type Venue} from './venue.js'

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
  /** Called once everything is open, before the first cycle. */
  onStart?: (info: {description: string; stateDir: string; resumedFrom: number}) => void
}

/**
 * `bot run`: validate, lock the state dir, open the venue, warm the indicators up, then cycle until
 * --cycles, the end of the data or a stop signal. Whatever happens, the store, venue and lock are released.
 */
export async function runBot(options: RunOptions): Promise<RunSummary> {
  const config = requireValidConfig(options.configDir)
  const stateDir = options.stateDir ?? config.app.state.dir
  const lock = acquireLock(stateDir)
  let store: StateStore | undefined
  let venue: Venue | undefined
  try {
    store = StateStore.open(stateDir)
    venue = await openVenue(config, {stateDir, intervalSeconds: options.intervalSeconds, live: options.live ?? false, botHasHistory: store.lastCycle() !== null})
    store.setDurability(venue.durability)
    const engine = await createEngine(config, stateDir, venue, store, options)
    options.onStart?.({description: venue.description, stateDir, resumedFrom: store.lastCycle()?.cycle ?? 0})
    const {ran, stoppedBy} = await cycleUntilDone(engine, options)
    const tickers = await engine.exchange.tickers(engine.symbols)
    const final = buildPortfolio(config.app.exchange.quote_currency, await engine.exchange.balances(), tickers, await engine.exchange.openOrders())
    const exposure = exposurePct(atRiskValue(final, (s) => tickers.get(s)?.last), final.equity)
    return summarize(store, final, (s) => tickers.get(s)?.last, exposure, {stateDir, cyclesThisRun: ran, stoppedBy})
  } finally {
    store?.close()
    await venue?.exchange.close()
    lock.release()
  }
}

async function createEngine(config: Engine['config'], stateDir: string, venue: Venue, store: StateStore, options: RunOptions): Promise<Engine> {
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
    config, stateDir, exchange: venue.exchange, clock: venue.clock, store, signals: new SignalBook(config.signals), markets,
    symbols, tierOf, idPrefix, takerFeeBps: venue.takerFeeBps, benchmark: symbols.includes(btc) ? btc : symbols[0] ?? null,
    observe: options.observe, anchors: store.anchors(), eligibility: store.eligibility(),
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
      if (options.cycles !== undefined && ran >= options.cycles) return {ran, stoppedBy: 'cycles'}
    }

    if (!(await engine.clock.next(now, options.stop))) return {ran, stoppedBy: options.stop.aborted ? 'signal' : 'end_of_data'}
  }
}
