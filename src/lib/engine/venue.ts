import type {BotConfig} from '../config/load.js'
import {BotError} from '../errors.js'
import type {CircuitSnapshot, RequestStats} from '../exchange/ccxt/index.js'
import type {Broker, Clock, MarketData} from '../exchange/ports.js'
import type {StateRun} from '../state/prepare.js'
import type {Durability} from '../state/store.js'
import {prepareExchangeVenue} from './venues/exchange.js'
import {prepareSimVenue} from './venues/sim.js'

/** What the loop runs on: three ports, and how they behave. */
export interface Venue {
  market: MarketData
  broker: Broker
  clock: Clock
  /** Between the starts of two cycles: one bar on a replay, loop.interval_seconds on a wall clock. */
  intervalMs: number
  /** Client-order-id namespace: deterministic where the account belongs to this state dir alone (sim). */
  idNamespace: string
  /** How bot.sqlite must be synced: 'full' where orders reach a real account (see StateStore.setDurability). */
  durability: Durability
  /** What the run is trading on, for the start-up line. */
  description: string
  /** A real exchange's connection (paper and live): its circuit breaker and the HTTP requests it sent. */
  exchange?: ExchangeLink
}

/** What the loop watches of a connection to a real exchange, for alerts and metrics. */
export interface ExchangeLink {
  circuit(): CircuitSnapshot
  onCircuitChange(listener: (s: CircuitSnapshot) => void): void
  /** HTTP requests sent (and failed) since the last reset. */
  requests(): RequestStats
  resetRequests(): void
}

export interface VenueOptions {
  stateDir: string
  /** Seconds between cycles; undefined = the venue's default (sim: as fast as possible). */
  intervalSeconds?: number
  live: boolean
  /** Where live trading's credentials are read (default: process.env). */
  env?: NodeJS.ProcessEnv
}

/**
 * A venue checked and loaded but not yet opened: nothing in the state dir was touched, so a refusal up to
 * here changes no file. `pairedFiles` are the account files the venue keeps beside bot.sqlite.
 */
export interface PreparedVenue {
  pairedFiles: string[]
  /** Loads what opening needs and may still refuse (a real exchange's ccxt class); sends no request, writes nothing. */
  load?(): Promise<void>
  /** `readOnly`: a look that writes nothing (a dry run beside a running bot). */
  open(run: StateRun, options?: {readOnly?: boolean}): Promise<Venue>
}

/**
 * The composition root: the only place that knows which venue it is. sim = candle replay + simulated broker
 * + the replay's virtual clock (venues/sim.ts); any other exchange.id is a ccxt exchange, paper or live
 * (venues/exchange.ts). Everything after it sees the ports.
 */
export function prepareVenue(config: BotConfig, options: VenueOptions): PreparedVenue {
  const {app} = config
  if (options.live && app.mode !== 'live') throw new BotError('--live was given but app.yaml says mode: paper; both must ask for live trading', 'LIVE_NOT_ARMED')
  if (app.mode === 'live' && !options.live) throw new BotError('app.yaml says mode: live; add --live to confirm real orders (both opt-ins are required)', 'LIVE_NOT_ARMED')
  return app.exchange.id === 'sim' ? prepareSimVenue(config, options) : prepareExchangeVenue(config, options)
}

export {randomNamespace} from './venues/exchange.js'
