import {createHash} from 'node:crypto'
import path from 'node:path'

import {shownValue} from '../../config/env.js'
import type {BotConfig} from '../../config/load.js'
import {durationText, TIMEFRAME_MS} from '../../domain.js'
import {BUNDLED_DATA_DIR, loadCandleDir} from '../../exchange/replay/candle-files.js'
import {CandleReplay} from '../../exchange/replay/replay.js'
import {SimBroker} from '../../exchange/sim-broker/broker.js'
import {tierMap} from '../../universe/eligibility.js'
import type {PreparedVenue, VenueOptions} from '../venue.js'

/** The simulated exchange's account file, beside bot.sqlite (also paper trading's). */
export const SIM_STATE_FILE = 'sim-exchange.sqlite'

/** The sim: candle replay + simulated broker + the replay's virtual clock. */
export function prepareSimVenue(config: BotConfig, options: VenueOptions): PreparedVenue {
  const {app} = config
  const sim = app.exchange.sim
  const tierOf = tierMap(config.universe)
  const barMs = TIMEFRAME_MS[app.exchange.timeframe]
  const dataDir = sim.data_dir === null ? BUNDLED_DATA_DIR : path.resolve(sim.data_dir)
  // A folder named by an environment variable is shown by the variable's name, never by its value.
  const label = config.fromEnv.app.has('exchange.sim.data_dir') ? shownValue(config.fromEnv.app, ['exchange', 'sim', 'data_dir'], '') : undefined
  // Excluded symbols are loaded too: a holding in one must still be valued.
  const data = loadCandleDir(dataDir, [...tierOf.keys()], {label, barMs})
  const stateFile = path.join(options.stateDir, SIM_STATE_FILE)
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
      const identity = {market: fingerprint, marketSummary: `${data.symbols.length} symbols, ${day(first)} to ${day(last)}`, startBalances: startBalancesText(sim.start_balances)}
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

/** Start balances in a stable order: a simulated account is refused when they change under it. */
export function startBalancesText(balances: Record<string, number>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(balances).sort(([a], [b]) => (a < b ? -1 : 1))))
}
