import {type CandleSet, lastAtOrBefore, type Series, timelineOf} from '../../src/lib/exchange/replay/candle-files.js'
import {marketInfoOf, pow10} from '../../src/lib/exchange/precision.js'
import {ceilToStep, floorToStep} from './decimal.js'

/**
 * The replayed market behind the loopback Coinbase: recorded candles, a cursor on the current closed bar,
 * prices derived from it. Nothing after the cursor is ever visible, so a client cannot look ahead. Times
 * leave this module shifted by `timeShiftMs`, so a client on the wall clock sees recent bars.
 */

/** Coinbase's candle granularities (Advanced Trade names), in ms. */
export const GRANULARITY_MS: Readonly<Record<string, number>> = {
  ONE_MINUTE: 60_000,
  FIVE_MINUTE: 300_000,
  FIFTEEN_MINUTE: 900_000,
  THIRTY_MINUTE: 1_800_000,
  ONE_HOUR: 3_600_000,
  TWO_HOUR: 7_200_000,
  SIX_HOUR: 21_600_000,
  ONE_DAY: 86_400_000,
}

const DAY_MS = 86_400_000

/** A product's trading rules, as Coinbase publishes them in /market/products. */
export interface ProductRules {
  baseIncrement: number
  priceIncrement: number
  /** Precision of `quote_size`; ccxt truncates costs to the price increment, and Coinbase keeps them equal. */
  quoteIncrement: number
  baseMinSize: number
  baseMaxSize: number
  quoteMinSize: number
  quoteMaxSize: number
}

/** One bar as served: `start` is the shifted open time in epoch ms. */
export interface ServedBar {
  start: number
  open: number
  high: number
  low: number
  close: number
  volume: number
}

export interface MarketOptions {
  data: CandleSet
  /** Index (into the union of all bar times) of the first current bar. */
  startBar?: number
  /** Added to every data time; default puts the current bar's close at `startTimeMs`, rounded down to the bar. */
  timeShiftMs?: number
  /** The server clock when it starts, epoch ms. */
  startTimeMs: number
  /** bid = close * (1 - halfSpread), ask = close * (1 + halfSpread), then rounded out to the price increment. */
  halfSpread: number
  /** Per-product overrides of the rules derived from the price level. */
  rules?: Readonly<Record<string, Partial<ProductRules>>>
}

const QUOTE_MAX_SIZE = 10_000_000

/** Rules from the price level of a product's first bar: the same steps the simulated exchange uses. */
function derivedRules(productId: string, firstClose: number): ProductRules {
  const info = marketInfoOf(productId, firstClose, {makerBps: 0, takerBps: 0})
  return {
    baseIncrement: info.amountStep,
    priceIncrement: info.priceStep,
    quoteIncrement: info.priceStep,
    baseMinSize: info.minAmount,
    baseMaxSize: pow10(Math.ceil(Math.log10(QUOTE_MAX_SIZE / firstClose))),
    quoteMinSize: info.minNotional,
    quoteMaxSize: QUOTE_MAX_SIZE,
  }
}

export class MarketReplay {
  readonly barMs: number
  readonly timeShiftMs: number
  private readonly timeline: Float64Array
  private cursor: number
  private readonly ruleBook = new Map<string, ProductRules>()

  constructor(private readonly options: MarketOptions) {
    const {data} = options
    this.barMs = data.barMs
    const {timeline, latestFirst} = timelineOf(data)
    this.timeline = timeline
    // Default: every product has a full ccxt fetchOHLCV window (300 bars) of history, where the data allows.
    const fullHistory = lastAtOrBefore(timeline, latestFirst) + 299
    this.cursor = options.startBar ?? Math.min(fullHistory, timeline.length - 1)
    if (!Number.isInteger(this.cursor) || this.cursor < 0 || this.cursor >= timeline.length) {
      throw new Error(`startBar ${options.startBar} is outside the data (0..${timeline.length - 1})`)
    }

    const closeAt = Math.floor(options.startTimeMs / this.barMs) * this.barMs
    this.timeShiftMs = options.timeShiftMs ?? closeAt - this.barMs - timeline[this.cursor]
    for (const symbol of data.symbols) {
      const derived = derivedRules(symbol, this.series(symbol).close[0])
      this.ruleBook.set(symbol, {...derived, ...options.rules?.[symbol]})
    }
  }

  /** Index of the current bar in the timeline (all products' bar times). */
  get barIndex(): number {
    return this.cursor
  }

  /** Served open time of the current bar. */
  get currentBarStart(): number {
    return this.timeline[this.cursor] + this.timeShiftMs
  }

  barsLeft(): number {
    return this.timeline.length - 1 - this.cursor
  }

  /**
   * Moves the cursor `bars` ahead, calling `onBar` for every product bar passed on the way, oldest first:
   * resting limit orders fill against each of them.
   */
  advance(bars: number, onBar: (productId: string, bar: ServedBar) => void): void {
    if (!Number.isInteger(bars) || bars < 1) throw new Error(`advance(${bars}): bars must be a positive integer`)
    if (bars > this.barsLeft()) throw new Error(`advance(${bars}): only ${this.barsLeft()} bars left in the data`)
    for (let k = 0; k < bars; k++) {
      this.cursor++
      const time = this.timeline[this.cursor]
      for (const symbol of this.options.data.symbols) {
        const s = this.series(symbol)
        const i = lastAtOrBefore(s.time, time)
        if (i >= 0 && s.time[i] === time) onBar(symbol, this.served(s, i))
      }
    }
  }

  /** Products with at least one closed bar at the cursor (later listings are not visible yet). */
  listed(): string[] {
    return this.options.data.symbols.filter((symbol) => this.latestIndex(symbol) >= 0)
  }

  isListed(productId: string): boolean {
    return this.options.data.series.has(productId) && this.latestIndex(productId) >= 0
  }

  rules(productId: string): ProductRules {
    const rules = this.ruleBook.get(productId)
    if (!rules) throw new Error(`no product ${productId}`)
    return rules
  }

  /** The current (latest closed) bar of a listed product. */
  bar(productId: string): ServedBar {
    const i = this.latestIndex(productId)
    if (i < 0) throw new Error(`${productId} is not listed at the cursor`)
    return this.served(this.series(productId), i)
  }

  /** Last price, bid and ask: the current close and the close -/+ the half-spread. */
  quote(productId: string): {price: number; bid: number; ask: number} {
    const price = this.bar(productId).close
    const step = this.rules(productId).priceIncrement
    const bid = Math.max(step, floorToStep(price * (1 - this.options.halfSpread), step))
    const ask = Math.max(ceilToStep(bid + step, step), ceilToStep(price * (1 + this.options.halfSpread), step))
    return {price, bid, ask}
  }

  /** Change (percent, close against the open 24 h ago), base and quote volume over the last 24 h of bars. */
  stats24h(productId: string): {changePct: number; volume: number; quoteVolume: number} {
    const s = this.series(productId)
    const i = this.latestIndex(productId)
    const from = Math.max(0, i - Math.max(1, Math.round(DAY_MS / this.barMs)) + 1)
    let volume = 0
    for (let k = from; k <= i; k++) volume += s.volume[k]
    const changePct = ((s.close[i] - s.open[from]) / s.open[from]) * 100
    return {changePct, volume, quoteVolume: s.quoteVolumePrefix[i + 1] - s.quoteVolumePrefix[from]}
  }

  /** Closed bars with start in [startMs, endMs), newest first (as Coinbase orders them), at most `limit`. */
  candles(productId: string, startMs: number, endMs: number, limit: number): ServedBar[] {
    const s = this.series(productId)
    const out: ServedBar[] = []
    for (let i = this.latestIndex(productId); i >= 0 && out.length < limit; i--) {
      const start = s.time[i] + this.timeShiftMs
      if (start < startMs) break
      if (start < endMs) out.push(this.served(s, i))
    }

    return out
  }

  private series(productId: string): Series {
    const s = this.options.data.series.get(productId)
    if (!s) throw new Error(`no product ${productId}`)
    return s
  }

  private latestIndex(productId: string): number {
    return lastAtOrBefore(this.series(productId).time, this.timeline[this.cursor])
  }

  private served(s: Series, i: number): ServedBar {
    return {start: s.time[i] + this.timeShiftMs, open: s.open[i], high: s.high[i], low: s.low[i], close: s.close[i], volume: s.volume[i]}
  }
}
