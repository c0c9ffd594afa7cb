import {createHash, randomBytes} from 'node:crypto'
import path from 'node:path'

import {shownValue} from '../config/env.js'
import type {BotConfig} from '../config/load.js'
import {durationText, TIMEFRAME_MS} from '../domain.js'
import {BotError} from '../errors.js'
import type {Broker, Clock, MarketData} from '../exchange/ports.js'
import {BUNDLED_DATA_DIR, loadCandleDir} from '../exchange/replay/candle-files.js'
import {CandleReplay} from '../exchange/replay/replay.js'
import {SimBroker} from '../exchange/sim-broker/broker.js'
import type {StateRun} from '../state/prepare.js'
import type {Durability} from '../state/store.js'
import {tierMap} from '../universe/eligibility.js'

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
  /** `readOnly`: a look that writes nothing (a dry run beside a running bot). */
  open(run: StateRun, options?: {readOnly?: boolean}): Promise<Venue>
}

/**
 * The composition root: the only place that knows which venue it is. sim = candle replay + simulated broker
 * + the replay's virtual clock. Everything after it sees the ports.
 */
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
  const barMs = TIMEFRAME_MS[app.exchange.timeframe]
  const dataDir = sim.data_dir === null ? BUNDLED_DATA_DIR : path.resolve(sim.data_dir)
  // A folder named by an environment variable is shown by the variable's name, never by its value.
  const label = config.fromEnv.app.has('exchange.sim.data_dir') ? shownValue(config.fromEnv.app, ['exchange', 'sim', 'data_dir'], '') : undefined
  // Excluded symbols are loaded too: a holding in one must still be valued.
  const data = loadCandleDir(dataDir, [...tierOf.keys()], {label, barMs})
  const stateFile = path.join(options.stateDir, 'sim-exchange.sqlite')
  const fingerprint = createHash('sha256').update(JSON.stringify([data.symbols, data.barMs, [...data.series.values()].map((s) => [s.time[0], s.time.at(-1), s.time.length])])).digest('hex')
  const bps = (table: Record<string, number>, symbol: string) => table[tierOf.get(symbol) ?? 'default'] ?? table.default ?? 0
  const first = Math.min(...[...data.series.values()].map((s) => s.time[0]))
  const last = Math.max(...[...data.series.values()].map((s) => s.time.at(-1)!))
  const day = (t: number) => new Date(t).toISOString().slice(0, 16)
  return {
    pairedFiles: [stateFile],
    async open(run, {readOnly = false} = {}) {
      const replay = new CandleReplay(data, {
        spreadBps: (s) => bps(sim.costs.spread_bps, s), fees: {makerBps: sim.fees_bps.maker, takerBps: sim.fees_bps.taker},
        warmupBars: sim.warmup_bars, resumeAt: run.lastCycleTime, paceMs: (options.intervalSeconds ?? 0) * 1000,
      })
      const identity = {market: fingerprint, marketSummary: `${data.symbols.length} symbols, ${day(first)} to ${day(last)}`, startBalances: JSON.stringify(Object.fromEntries(Object.entries(sim.start_balances).sort(([a], [b]) => (a < b ? -1 : 1))))}
      const broker = SimBroker.open({market: replay, clock: replay.clock, settings: sim, quote: app.exchange.quote_currency, tierOf: (s) => tierOf.get(s), stateFile, identity, run, readOnly})
      return {
        market: replay,
        broker,
        clock: replay.clock,
        intervalMs: data.barMs,
        idNamespace: `s${fingerprint.slice(0, 8)}`,
        // A rehearsal: safe against a killed process; a power cut may cost the last commits (the sim's too).
        durability: 'os',
        description: `simulated exchange on ${sim.data_dir === null ? 'the bundled Coinbase hourly data' : label ?? dataDir} (${data.symbols.length} symbols, ${durationText(data.barMs)} bars)`,
      }
    },
  }
}

export function randomNamespace(): string {
  return `r${randomBytes(4).toString('hex')}`
}
