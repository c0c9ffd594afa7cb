import type {OHLCV, Ticker as CcxtTicker, Tickers} from 'ccxt'

import {batchOf, type Candle, type CandleBatch, type MarketInfo, type Ticker, TIMEFRAME_MS, type Timeframe} from '../../domain.js'
import {ExchangeError, type MarketData} from '../ports.js'
import {type FeeRates, marketInfoOf} from './mapping.js'
import type {CcxtSession} from './session.js'

/**
 * An exchange's market data through ccxt: markets with precision, limits and this account's fees; tickers
 * with bid and ask; closed candles since a time; the exchange's clock. Every call is one port call of the
 * session (counted, retried where safe, refused while the circuit is open).
 */

/** Candles asked per request where ccxt does not say (its `features`). */
const DEFAULT_OHLCV_PAGE = 100

const positive = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0

export class CcxtMarketData implements MarketData {
  readonly id: string
  readonly barMs: number
  private readonly timeframe: Timeframe
  private readonly pageBars: number
  private infoCache: {generation: number; map: Map<string, MarketInfo>} | null = null
  private closed = false

  constructor(private readonly s: CcxtSession, timeframe: Timeframe) {
    const {ex} = s
    if (!ex.has.fetchOHLCV || !ex.timeframes?.[timeframe]) {
      const offered = Object.keys(ex.timeframes ?? {}).join(', ') || 'none'
      throw new ExchangeError(`${s.id} has no ${timeframe} candles (it offers: ${offered}); set exchange.timeframe to one of them`, 'fatal', 'TIMEFRAME_UNSUPPORTED')
    }

    this.id = s.id
    this.timeframe = timeframe
    this.barMs = TIMEFRAME_MS[timeframe]
    const featureLimit = (ex.features as {spot?: {fetchOHLCV?: {limit?: unknown}}} | undefined)?.spot?.fetchOHLCV?.limit
    this.pageBars = positive(featureLimit) ? Math.floor(featureLimit) : DEFAULT_OHLCV_PAGE
  }

  /** Tradable spot markets (inactive ones and ones without a fixed step are left out). Cached until markets reload. */
  markets(): Promise<Map<string, MarketInfo>> {
    return this.port('markets', async () => {
      const {toCcxt} = await this.s.symbols()
      const generation = this.s.markets.generation
      if (this.infoCache?.generation === generation) return this.infoCache.map
      const fees = await this.accountFees()
      const {ex, precisionModes} = this.s
      const defaults = (ex.fees as {trading?: Partial<FeeRates>} | undefined)?.trading ?? {}
      const map = new Map<string, MarketInfo>()
      for (const [symbol, m] of toCcxt) {
        const info = marketInfoOf(symbol, m, Number(ex.precisionMode), precisionModes, fees?.[m.symbol], defaults)
        if (info) map.set(symbol, info)
      }

      this.infoCache = {generation, map}
      return map
    })
  }

  /**
   * Bid, ask, last and 24 h quote volume. One batched fetchTickers where the exchange has it; bid/ask it
   * lacks come from one fetchBidsAsks where that works (on Coinbase it needs credentials), else from one
   * fetchTicker per symbol. Figures are timed when they arrived, on the local clock (the live venue's clock).
   */
  tickers(symbols: readonly string[]): Promise<Map<string, Ticker>> {
    return this.port('tickers', async () => {
      const {toCcxt, toBot} = await this.s.symbols()
      const ids = [...new Set(symbols)].filter((s) => toCcxt.has(s)).map((s) => toCcxt.get(s)!.symbol)
      const out = new Map<string, Ticker>()
      if (ids.length === 0) return out
      const {ex} = this.s
      const main: Tickers = ex.has.fetchTickers ? await this.s.retry('fetchTickers', () => ex.fetchTickers(ids)) : await this.oneByOne(ids)
      const missing = ids.filter((id) => !(positive(main[id]?.bid) && positive(main[id]?.ask)))
      let quotes: Tickers = {}
      if (missing.length > 0) {
        quotes = this.s.hasCredentials && ex.has.fetchBidsAsks ? await this.s.retry('fetchBidsAsks', () => ex.fetchBidsAsks(missing)) : await this.oneByOne(missing)
      }

      const timestamp = Date.now()
      for (const id of ids) {
        const t = main[id] as CcxtTicker | undefined
        const q = (quotes[id] ?? t) as CcxtTicker | undefined
        const [bid, ask] = [q?.bid, q?.ask]
        if (!positive(bid) || !positive(ask) || bid > ask) continue
        const last = [t?.last, t?.close, q?.last].find(positive) ?? (bid + ask) / 2
        const base = t?.baseVolume
        const quoteVolume24h = positive(t?.quoteVolume) ? t.quoteVolume : positive(base) ? base * (positive(t?.vwap) ? t.vwap : last) : 0
        const symbol = toBot.get(id)!
        out.set(symbol, {symbol, bid, ask, last, quoteVolume24h, timestamp})
      }

      return out
    })
  }

  /**
   * For each symbol, its closed bars after `since` (at most `limit`, the newest), in as few requests as the
   * exchange's page size allows: none when no new bar can have closed. The window is computed here, on
   * the exchange's clock (read once first if time() never was), never left to ccxt's local-clock default;
   * a bar still forming is dropped.
   */
  candles(since: ReadonlyMap<string, number>, limit: number): Promise<CandleBatch> {
    return this.port('candles', async () => {
      const {toCcxt} = await this.s.symbols()
      await this.s.knowSkew()
      const {barMs} = this
      const lastOpen = Math.floor(this.s.exchangeNow() / barMs) * barMs - barMs
      const n = Math.max(0, Math.floor(limit))
      const out = new Map<string, Candle[]>()
      await Promise.all([...since].map(async ([symbol, after]) => {
        const market = toCcxt.get(symbol)
        if (!market || n === 0) return
        const first = Math.max(Math.floor(after / barMs) * barMs + barMs, lastOpen - (n - 1) * barMs)
        if (!(first <= lastOpen)) return
        const rows: OHLCV[] = []
        for (let start = first; start <= lastOpen; start += this.pageBars * barMs) {
          const count = Math.min(this.pageBars, (lastOpen - start) / barMs + 1)
          rows.push(...(await this.s.retry('fetchOHLCV', () => this.s.ex.fetchOHLCV(market.symbol, this.timeframe, start, count, {until: start + count * barMs}))))
        }

        const bars = closedBars(rows, after, lastOpen).slice(-n)
        if (bars.length > 0) out.set(symbol, bars)
      }))
      // In the order asked, whatever order the requests answered in.
      return batchOf([...since.keys()].filter((s) => out.has(s)).map((s) => [s, out.get(s)!]))
    })
  }

  /** The exchange's clock; also updates the skew estimate that decides which bars have closed. */
  time(): Promise<number> {
    return this.port('time', () => this.s.serverTime())
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private port<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ExchangeError(`${this.id} market data is closed`, 'fatal', 'VENUE_CLOSED'))
    return this.s.call(operation, fn)
  }

  /** The account's fee rates per ccxt symbol, where the exchange has a call for them and markets do not carry them. */
  private async accountFees(): Promise<Record<string, FeeRates> | undefined> {
    const {ex, profile} = this.s
    if (!this.s.hasCredentials || profile.accountFeesInMarkets || !ex.has.fetchTradingFees) return undefined
    const fees = await this.s.retry('fetchTradingFees', () => ex.fetchTradingFees())
    const out: Record<string, FeeRates> = {}
    for (const [symbol, f] of Object.entries(fees)) {
      if (typeof f?.maker === 'number' && typeof f.taker === 'number') out[symbol] = {maker: f.maker, taker: f.taker}
    }

    return out
  }

  private async oneByOne(ids: string[]): Promise<Tickers> {
    const list = await Promise.all(ids.map((id) => this.s.retry('fetchTicker', () => this.s.ex.fetchTicker(id))))
    return Object.fromEntries(ids.map((id, i) => [id, list[i]]))
  }
}

/** Well-formed bars with open time in (after, lastOpen], oldest first, one per time. */
function closedBars(rows: OHLCV[], after: number, lastOpen: number): Candle[] {
  const byTime = new Map<number, Candle>()
  for (const [time, open, high, low, close, volume] of rows) {
    if (typeof time !== 'number' || time <= after || time > lastOpen) continue
    if (![open, high, low, close, volume].every((x) => typeof x === 'number' && Number.isFinite(x))) continue
    byTime.set(time, {time, open: open!, high: high!, low: low!, close: close!, volume: volume!})
  }

  return [...byTime.values()].sort((a, b) => a.time - b.time)
}
