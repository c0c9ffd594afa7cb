import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

import {AppConfig} from '../../src/lib/config/schema/app.js'
import type {Candle} from '../../src/lib/domain.js'
import type {Clock} from '../../src/lib/exchange/ports.js'
import {BUNDLED_DATA_DIR, type CandleSet, loadCandleDir} from '../../src/lib/exchange/replay/candle-files.js'
import {CandleReplay, type ReplayOptions} from '../../src/lib/exchange/replay/replay.js'
import {SimBroker, type SimSettings} from '../../src/lib/exchange/sim-broker/broker.js'
import type {SimRun} from '../../src/lib/exchange/sim-broker/store.js'

let bundled: CandleSet | undefined
/** The bundled Coinbase hourly data, loaded once per test process. */
export function bundledData(): CandleSet {
  bundled ??= loadCandleDir(BUNDLED_DATA_DIR)
  return bundled
}

export interface SimVenueOptions {
  /** `exchange.sim` of app.yaml, parsed with its defaults. */
  sim?: Record<string, unknown>
  data?: CandleSet
  /** null = the account lives in memory. */
  stateFile?: string | null
  run?: SimRun
  tierOf?: (symbol: string) => string | undefined
  /** Replay options beyond the config (resumeAt, paceMs, fees no config may set). */
  replay?: Partial<ReplayOptions>
  /** The broker's clock when not the replay's (paper trading keeps a wall clock). */
  clock?: Clock
}

export interface SimVenue {
  replay: CandleReplay
  broker: SimBroker
  settings: SimSettings
  /** Moves the replay's clock one bar; false at the end of the data. */
  step(signal?: AbortSignal): Promise<boolean>
}

/** A clock set by hand, as a wall clock moves between two calls within a bar (paper trading). */
export class HandClock implements Clock {
  readonly kind = 'wall'
  constructor(public time: number) {}
  now(): number {
    return this.time
  }

  async sleepUntil(time: number): Promise<boolean> {
    this.time = Math.max(this.time, time)
    return true
  }
}

export const TEST_RUN: SimRun = {id: 'test-run', hasHistory: false}

/** What makes two data sets different to the sim's account file: symbols, bar length and the span of each. */
function marketOf(data: CandleSet): string {
  return JSON.stringify([data.symbols, data.barMs, [...data.series.values()].map((s) => [s.time[0], s.time.at(-1), s.time.length])])
}

/** A candle replay and a simulated broker on it, wired as the sim venue wires them. */
export function openSimVenue(options: SimVenueOptions = {}): SimVenue {
  const data = options.data ?? bundledData()
  const parsed = AppConfig.parse({exchange: {sim: options.sim ?? {}}}).exchange.sim
  // The loader resolves a duration ("2d") to bars; tests give bars.
  if (typeof parsed.warmup_bars !== 'number') throw new Error('openSimVenue takes warmup_bars as a number of bars')
  const settings: SimSettings = {...parsed, warmup_bars: parsed.warmup_bars}
  const tierOf = options.tierOf ?? (() => undefined)
  const bps = (table: Record<string, number>, symbol: string) => table[tierOf(symbol) ?? 'default'] ?? table.default ?? 0
  const replay = new CandleReplay(data, {
    spreadBps: (s) => bps(settings.costs.spread_bps, s),
    fees: {makerBps: settings.fees_bps.maker, takerBps: settings.fees_bps.taker},
    warmupBars: settings.warmup_bars,
    resumeAt: null,
    paceMs: 0,
    ...options.replay,
  })
  const startBalances = JSON.stringify(Object.fromEntries(Object.entries(settings.start_balances).sort(([a], [b]) => (a < b ? -1 : 1))))
  const identity = {market: marketOf(data), marketSummary: `${data.symbols.length} symbols`, startBalances}
  const broker = SimBroker.open({market: replay, clock: options.clock ?? replay.clock, settings, quote: 'USD', tierOf, stateFile: options.stateFile ?? null, identity, run: options.run ?? TEST_RUN})
  const step = (signal = new AbortController().signal) => replay.clock.sleepUntil(replay.clock.now() + data.barMs, signal)
  return {replay, broker, settings, step}
}

const rowCache = new Map<string, Candle[]>()
/** A bundled file's bars, parsed independently of the loader under test. */
export function rows(symbol: string): Candle[] {
  if (!rowCache.has(symbol)) {
    const text = fs.readFileSync(path.join(BUNDLED_DATA_DIR, `${symbol}-1h.csv`), 'utf8').trim()
    const parsed = text.split('\n').slice(1).map((line) => line.split(',').map(Number))
    rowCache.set(symbol, parsed.map(([ts, open, high, low, close, volume]) => ({time: ts * 1000, open, high, low, close, volume})))
  }

  return rowCache.get(symbol)!
}

/** Index in rows(symbol) of the bar opening at `time`. */
export function rowIndex(symbol: string, time: number): number {
  const i = rows(symbol).findIndex((r) => r.time === time)
  assert.ok(i >= 0, `${symbol} has a bar at ${new Date(time).toISOString()}`)
  return i
}

export function approx(actual: number, expected: number, rel = 1e-10): void {
  const tol = rel * Math.max(1, Math.abs(expected))
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} (tolerance ${tol})`)
}
