import {createHash, randomBytes} from 'node:crypto'
import path from 'node:path'

import type {BotConfig} from '../config/load.js'
import {shownValue} from '../config/env.js'
import {BotError} from '../errors.js'
import {BUNDLED_DATA_DIR, loadCandleDir} from '../exchange/candle-files.js'
import type {Exchange} from '../exchange/port.js'
import {SimExchange} from '../exchange/sim.js'
import type {StateRun} from '../state/prepare.js'
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
  /** Seconds between cycles; undefined = the venue's default (sim: as fast as possible). */
  intervalSeconds?: number
  live: boolean
}

/**
 * A venue checked and loaded but not yet opened: nothing in the state dir was touched, so a refusal up to
 * here changes no file. `pairedFiles` are the account files the venue keeps beside bot.sqlite.
 */
export interface PreparedVenue {
  pairedFiles: string[]
  open(run: StateRun): Promise<Venue>
}

/** The composition root: the only place that knows which venue it is. Everything after it sees the ports. */
export function prepareVenue(config: BotConfig, options: VenueOptions): PreparedVenue {
  const {app} = config
  if (options.live && app.mode !== 'live') throw new BotError('--live was given but app.yaml says mode: paper; both must ask for live trading', 'LIVE_NOT_ARMED')
  if (app.mode === 'live' && !options.live) throw new BotError('app.yaml says mode: live; add --live to confirm real orders (both opt-ins are required)', 'LIVE_NOT_ARMED')
  if (app.exchange.id !== 'sim') {
    const id = shownValue(config.fromEnv.app, ['exchange', 'id'], `"${app.exchange.id}"`)
    throw new BotError(`exchange.id ${id}: this version trades on the simulated exchange only (exchange.id: sim); real exchanges come with the ccxt adapter`, 'VENUE_UNAVAILABLE')
  }

  const sim = app.exchange.sim
  const tierOf = tierMap(config.universe)
  const dataDir = sim.data_dir === null ? BUNDLED_DATA_DIR : path.resolve(sim.data_dir)
  // A folder named by an environment variable is shown by the variable's name, never by its value.
  const dataLabel = sim.data_dir === null ? undefined : shownValue(config.fromEnv.app, ['exchange', 'sim', 'data_dir'], '') || undefined
  // Excluded symbols are loaded too: a holding in one must still be valued.
  const data = loadCandleDir(dataDir, [...tierOf.keys()], dataLabel)
  const stateFile = path.join(options.stateDir, 'sim-exchange.sqlite')
  const fingerprint = createHash('sha256').update(JSON.stringify([data.symbols, data.barMs, [...data.series.values()].map((s) => [s.time[0], s.time.at(-1), s.time.length])])).digest('hex')
  return {
    pairedFiles: [stateFile],
    async open(run) {
      const exchange = SimExchange.open({data, settings: sim, quote: app.exchange.quote_currency, tierOf: (s) => tierOf.get(s), stateFile, run})
      return {
        exchange,
        clock: new VirtualClock(exchange, (options.intervalSeconds ?? 0) * 1000),
        idNamespace: `s${fingerprint.slice(0, 8)}`,
        takerFeeBps: sim.fees_bps.taker,
        // The simulated account lives beside bot.sqlite and is itself synced at checkpoints only.
        durability: 'normal',
        description: `simulated exchange on ${sim.data_dir === null ? 'the bundled Coinbase hourly data' : dataLabel ?? dataDir} (${data.symbols.length} symbols)`,
      }
    },
  }
}

export function randomNamespace(): string {
  return `r${randomBytes(4).toString('hex')}`
}
