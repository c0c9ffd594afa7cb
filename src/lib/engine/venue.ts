import {createHash, randomBytes} from 'node:crypto'
import path from 'node:path'

import type {BotConfig} from '../config/load.js'
import {BotError} from '../errors.js'
import {BUNDLED_DATA_DIR, loadCandleDir} from '../exchange/candle-files.js'
import type {Exchange} from '../exchange/port.js'
import {SimExchange} from '../exchange/sim.js'
import {tierMap} from '../universe/eligibility.js'
import {type Clock, VirtualClock} from './clock.js'

export interface Venue {
  exchange: Exchange
  clock: Clock
  /** Client-order-id namespace: deterministic where the account belongs to this state dir alone (sim). */
  idNamespace: string
  takerFeeBps: number
  /** How bot.sqlite must be synced: 'full' where orders reach a real account. */
  durability: 'full' | 'normal'
  /** What the run is trading on, for the start-up line. */
  description: string
}

export interface VenueOptions {
  stateDir: string
  /** bot.sqlite already holds cycles: the venue's account must hold the same run. */
  botHasHistory: boolean
  /** Seconds between cycles; undefined = the venue's default (sim: as fast as possible). */
  intervalSeconds?: number
  live: boolean
}

/** The composition root: the only place that knows which venue it is. Everything after it sees the ports. */
export async function openVenue(config: BotConfig, options: VenueOptions): Promise<Venue> {
  const {app} = config
  if (options.live && app.mode !== 'live') throw new BotError('--live was given but app.yaml says mode: paper; both must ask for live trading', 'LIVE_NOT_ARMED')
  if (app.mode === 'live' && !options.live) throw new BotError('app.yaml says mode: live; add --live to confirm real orders (both opt-ins are required)', 'LIVE_NOT_ARMED')
  if (app.exchange.id !== 'sim') {
    throw new BotError(`exchange.id "${app.exchange.id}": this version trades on the simulated exchange only (exchange.id: sim); real exchanges come with the ccxt adapter`, 'VENUE_UNAVAILABLE')
  }

  const sim = app.exchange.sim
  const tierOf = tierMap(config.universe)
  const dataDir = sim.data_dir === null ? BUNDLED_DATA_DIR : path.resolve(sim.data_dir)
  // Excluded symbols are loaded too: a holding in one must still be valued.
  const data = loadCandleDir(dataDir, [...tierOf.keys()])
  const stateFile = path.join(options.stateDir, 'sim-exchange.sqlite')
  const exchange = SimExchange.open({data, settings: sim, quote: app.exchange.quote_currency, tierOf: (s) => tierOf.get(s), stateFile})
  if (exchange.resumed !== options.botHasHistory) {
    // The two files are one run: client order ids are only unique within it.
    await exchange.close()
    throw new BotError(options.botHasHistory
      ? `${stateFile} is new but bot.sqlite in ${options.stateDir} holds a run: they belong together; restore the sim file, or delete bot.sqlite too to start over`
      : `${stateFile} holds a run that bot.sqlite in ${options.stateDir} does not know: delete sim-exchange.sqlite too to start over, or use the state dir that made it`, 'STATE_MISMATCH')
  }

  const fingerprint = createHash('sha256').update(JSON.stringify([data.symbols, data.barMs, [...data.series.values()].map((s) => [s.time[0], s.time.at(-1), s.time.length])])).digest('hex')
  return {
    exchange,
    clock: new VirtualClock(exchange, (options.intervalSeconds ?? 0) * 1000),
    idNamespace: `s${fingerprint.slice(0, 8)}`,
    takerFeeBps: sim.fees_bps.taker,
    // The simulated account lives beside bot.sqlite and is itself synced at checkpoints only.
    durability: 'normal',
    description: `simulated exchange on ${sim.data_dir === null ? 'the bundled Coinbase hourly data' : dataDir} (${data.symbols.length} symbols)`,
  }
}

export function randomNamespace(): string {
  return `r${randomBytes(4).toString('hex')}`
}
