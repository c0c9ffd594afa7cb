import type {CandleBatch, MarketInfo, Ticker} from '../../domain.js'
import {BotError} from '../../errors.js'
import {type Clock, type MarketData, sleep} from '../ports.js'
import {marketInfoOf} from '../precision.js'
import {BarCursor, type CandleSet, lastAtOrBefore, type Series, timelineOf} from './candle-files.js'

const DAY_MS = 86_400_000

export interface ReplayOptions {
  /** Half-spread in bps around each bar's close, per symbol (the market's spread by tier). */
  spreadBps: (symbol: string) => number
  /** The fees this venue charges (a recorded market carries none). */
  fees: {makerBps: number; takerBps: number}
  /** Bars replayed before the first cycle, after the latest first bar of any symbol. */
  warmupBars: number
  /** Resume at this instant (the last cycle's time) instead of at the start. */
  resumeAt: number | null
  /** Wall time per step when paced (`bot run --interval`); 0 = as fast as possible. */
  paceMs: number
}

/** First row of the bars before `end` with time > `since`, at most `limit` of them; one new bar needs no search. */
function firstAfter(time: Float64Array, end: number, since: number, limit: number): number {
  if (limit >= 1 && end >= 2 && time[end - 2] <= since && time[end - 1] > since) return end - 1
  return Math.max(lastAtOrBefore(time, since) + 1, end - Math.max(0, Math.floor(limit)))
}

/**
 * Recorded candles replayed as market data on a virtual clock: bar `t` of the timeline has closed at now(),
 * and nothing later is ever shown (no look-ahead). The clock moves one bar per step, as fast as possible or
 * paced. Holds no account and no state of its own: where a run resumes comes from bot.sqlite.
 */
export class CandleReplay implements MarketData {
  readonly id = 'sim'
  readonly barMs: number
  readonly clock: Clock

  private readonly symbols: string[]
  private readonly index = new Map<string, number>()
  private readonly series: Series[]
  private readonly info: MarketInfo[]
  private readonly spreadBps: Float64Array
  private readonly timeline: Float64Array
  /** Per symbol: its latest bar at or before timeline[t] (-1 = not listed yet), and the first bar of 24 h. */
  private readonly bars: BarCursor
  private marketsCache: {listed: number; map: Map<string, MarketInfo>} | null = null
  private t: number
  private readonly first: number
  private lastAsked: {symbols: readonly string[]; indices: Int32Array} | null = null

  constructor(data: CandleSet, options: ReplayOptions) {
    const {timeline, latestFirst} = timelineOf(data)
    if (timeline.length === 0) throw new BotError('the sim has no market data to replay', 'MARKET_DATA_MISSING')
    this.timeline = timeline
    this.barMs = data.barMs
    this.symbols = [...data.symbols]
    this.series = this.symbols.map((s) => data.series.get(s)!)
    this.symbols.forEach((s, i) => this.index.set(s, i))
    this.info = this.symbols.map((s, i) => marketInfoOf(s, this.series[i].close[0], options.fees))
    this.spreadBps = Float64Array.from(this.symbols, (s) => options.spreadBps(s))
    const last = timeline.length - 1
    this.first = Math.min(last, lastAtOrBefore(timeline, latestFirst) + options.warmupBars)
    this.t = options.resumeAt === null ? this.first : this.positionOf(options.resumeAt)
    this.bars = new BarCursor(this.series, DAY_MS, timeline[this.t])
    this.clock = new ReplayClock(this, options.paceMs)
  }

  /** The timeline index whose bar closes at `time` (a resumed run's last cycle), refused if there is none. */
  private positionOf(time: number): number {
    const t = lastAtOrBefore(this.timeline, time - this.barMs)
    if (t < 0 || this.timeline[t] + this.barMs !== time) {
      throw new BotError(`the state dir's last cycle (${new Date(time).toISOString()}) is not a bar of this market data: it belongs to another data set`, 'SIM_STATE_MISMATCH')
    }

    return t
  }

  /** The virtual time: the close of bar t. */
  now(): number {
    return this.timeline[this.t] + this.barMs
  }

  /** Cycles from the first (after warm-up) to the last bar. */
  totalBars(): number {
    return this.timeline.length - this.first
  }

  /** Moves to the first bar that closes at or after `time`; false (and nothing moves) past the end of the data. */
  moveTo(time: number): boolean {
    let t = this.t
    while (t < this.timeline.length - 1 && this.timeline[t] + this.barMs < time) t++
    if (this.timeline[t] + this.barMs < time) return false
    if (t !== this.t) {
      this.t = t
      this.bars.forward(this.timeline[t])
    }

    return true
  }

  async time(): Promise<number> {
    return this.now()
  }

  async markets(): Promise<Map<string, MarketInfo>> {
    if (this.marketsCache?.listed !== this.bars.listed) {
      const map = new Map<string, MarketInfo>()
      for (let s = 0; s < this.symbols.length; s++) if (this.bars.latest[s] >= 0) map.set(this.symbols[s], this.info[s])
      this.marketsCache = {listed: this.bars.listed, map}
    }

    return this.marketsCache.map
  }

  async tickers(symbols: readonly string[]): Promise<Map<string, Ticker>> {
    const out = new Map<string, Ticker>()
    const indices = this.indicesOf(symbols)
    for (let k = 0; k < symbols.length; k++) {
      const s = indices[k]
      if (s < 0) continue
      const symbol = symbols[k]
      const c = this.bars.latest[s]
      if (c < 0) continue
      const series = this.series[s]
      const last = series.close[c]
      const half = this.spreadBps[s] / 1e4
      const prefix = series.quoteVolumePrefix
      const quoteVolume24h = prefix[c + 1] - prefix[this.bars.windowStart[s]]
      // A symbol whose data has a gap quotes its last bar, and says how old that is.
      const timestamp = series.time[c] + this.barMs
      out.set(symbol, {symbol, bid: last * (1 - half), ask: last * (1 + half), last, quoteVolume24h, timestamp})
    }

    return out
  }

  /** The loop asks for the same symbols every cycle: their indices are looked up once. */
  private indicesOf(symbols: readonly string[]): Int32Array {
    if (this.lastAsked?.symbols !== symbols) this.lastAsked = {symbols, indices: Int32Array.from(symbols, (s) => this.index.get(s) ?? -1)}
    return this.lastAsked.indices
  }

  /** One pass for every symbol, handing out views of the series (no object per bar). */
  async candles(since: ReadonlyMap<string, number>, limit: number): Promise<CandleBatch> {
    const batch = {symbols: [] as string[], columns: [] as Series[], from: [] as number[], to: [] as number[]}
    for (const [symbol, after] of since) {
      const s = this.index.get(symbol)
      if (s === undefined) continue
      const series = this.series[s]
      const end = this.bars.latest[s] + 1
      if (end === 0 || series.time[end - 1] <= after) continue
      const from = firstAfter(series.time, end, after, limit)
      if (from >= end) continue
      batch.symbols.push(symbol)
      batch.columns.push(series)
      batch.from.push(from)
      batch.to.push(end)
    }

    return batch
  }

  async close(): Promise<void> {}
}

/** The replay's clock: now() is the close of the current bar; each step moves it one bar, paced or not. */
class ReplayClock implements Clock {
  readonly kind = 'virtual'

  constructor(private readonly replay: CandleReplay, private readonly paceMs: number) {}

  now(): number {
    return this.replay.now()
  }

  async sleepUntil(time: number, stop: AbortSignal): Promise<boolean> {
    await sleep(this.paceMs, stop)
    if (stop.aborted) return false
    return this.replay.moveTo(time)
  }
}
