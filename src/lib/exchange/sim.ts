import type {AppConfig} from '../config/schema/app.js'
import {BotError} from '../errors.js'
import {BarCursor, type CandleSet, lastAtOrBefore, mulberry32, type Series, timelineOf} from './candle-files.js'
import {
  type Balances,
  type Candle,
  type ConvertQuote,
  type ConvertResult,
  type Exchange,
  type ExchangeCapabilities,
  ExchangeError,
  type MarketInfo,
  type OrderRequest,
  type OrderState,
  type Ticker,
} from './port.js'
import {marketInfoOf} from './precision.js'
import {
  type BarContext,
  commitConvert,
  convertTerms,
  type FillCosts,
  OrderBook,
  orderProblem,
  publicState,
  reservationFor,
} from './sim-fills.js'
import {identityOf, openSimStore, type SimCounters, type SimFill, type SimOrder, type SimRun, type SimSnapshot, type SimStore} from './sim-store.js'

export type SimSettings = AppConfig['exchange']['sim']
export type {SimFill} from './sim-store.js'

export interface SimOpenOptions {
  data: CandleSet
  settings: SimSettings
  /** The account's quote currency (USD): converts go through it, it is always in balances(). */
  quote: string
  tierOf: (symbol: string) => string | undefined
  /** SQLite file holding the whole exchange state; null = in memory (unit tests). */
  stateFile: string | null
  /** The run of the state dir the file belongs to (it pairs with bot.sqlite). */
  run?: SimRun
}

const DAY_MS = 86_400_000

/** Bars before index `end` with time > `since`, oldest first, at most `limit` (the newest); one new bar needs no search. */
function barsAfter(series: Series, end: number, since: number, limit: number): Candle[] {
  const {time, open, high, low, close, volume} = series
  const from = limit >= 1 && end >= 2 && time[end - 2] <= since && time[end - 1] > since
    ? end - 1
    : Math.max(lastAtOrBefore(time, since) + 1, end - Math.max(0, Math.floor(limit)))
  const bars: Candle[] = []
  for (let i = from; i < end; i++) bars.push({time: time[i], open: open[i], high: high[i], low: low[i], close: close[i], volume: volume[i]})
  return bars
}

/**
 * A simulated exchange replaying candle files on a virtual clock. Bar `t` of the timeline has closed at
 * now(); orders placed now fill on the next bar, with spread, slippage, fees and a volume cap. With a state
 * file it behaves like a remote exchange: whatever it did survives the bot being killed at any instant.
 */
export class SimExchange implements Exchange {
  readonly id = 'sim'
  readonly capabilities: ExchangeCapabilities
  readonly barMs: number
  /** Opened on a state file that already held a run (as opposed to a new account). */
  resumed = false

  private readonly symbols: string[]
  private readonly index = new Map<string, number>()
  private readonly series: Series[]
  private readonly info: MarketInfo[]
  private readonly spreadBps: Float64Array
  private readonly costs: FillCosts[]
  /** Per symbol: its latest bar at or before timeline[t] (-1 = not listed yet), and the first bar of 24 h. */
  private readonly bars: BarCursor
  private readonly cur: Int32Array
  private marketsCache: {listed: number; map: Map<string, MarketInfo>} | null = null
  private t: number
  private counters: SimCounters
  private readonly book: OrderBook
  private readonly quotes: Map<string, ConvertQuote>
  private readonly converts: Map<string, ConvertResult>
  private readonly shownCurrencies: Set<string>
  private broken: string | null = null

  private constructor(
    private readonly opts: SimOpenOptions,
    private readonly timeline: Float64Array,
    private readonly start: number,
    private readonly store: SimStore,
    snap: SimSnapshot,
  ) {
    const {data, settings, tierOf} = opts
    this.capabilities = {convert: settings.convert_supported, fetchByClientOrderId: true}
    this.barMs = data.barMs
    this.symbols = [...data.symbols]
    this.series = this.symbols.map((s) => data.series.get(s)!)
    this.symbols.forEach((s, i) => this.index.set(s, i))
    this.info = this.symbols.map((s, i) => marketInfoOf(s, this.series[i].close[0]))
    const bps = (table: Record<string, number>, tier: string | undefined) => table[tier ?? 'default'] ?? table.default ?? 0
    this.spreadBps = Float64Array.from(this.symbols, (s) => bps(settings.costs.spread_bps, tierOf(s)))
    this.costs = this.symbols.map((s, i) => ({
      marketCostBps: this.spreadBps[i] + bps(settings.costs.slippage_bps, tierOf(s)),
      makerBps: settings.fees_bps.maker,
      takerBps: settings.fees_bps.taker,
    }))
    this.counters = {...snap.counters}
    this.t = snap.counters.cursor
    this.bars = new BarCursor(this.series, DAY_MS, timeline[this.t])
    this.cur = this.bars.latest
    this.book = new OrderBook(snap, store, (symbol) => this.info[this.index.get(symbol)!])
    this.quotes = snap.quotes
    this.converts = snap.converts
    this.shownCurrencies = new Set([opts.quote, ...Object.keys(settings.start_balances)])
  }

  /** Opens a sim: fresh, or resumed from `stateFile` (refused if it was made for other data or balances). */
  static open(opts: SimOpenOptions): SimExchange {
    const {timeline, latestFirst} = timelineOf(opts.data)
    if (timeline.length === 0) throw new BotError('the sim has no market data to replay', 'MARKET_DATA_MISSING')
    const last = timeline.length - 1
    const start = Math.min(last, lastAtOrBefore(timeline, latestFirst) + opts.settings.warmup_bars)
    const initial: SimSnapshot = {
      counters: {cursor: start, rng: opts.settings.faults.seed >>> 0, orderSeq: 0, quoteSeq: 0},
      balances: new Map(Object.entries(opts.settings.start_balances)),
      orders: [],
      fills: [],
      quotes: new Map(),
      converts: new Map(),
    }
    const identity = identityOf(opts.data, timeline, opts.settings.start_balances)
    const {store, snapshot, resumed} = openSimStore(opts.stateFile, identity, initial, opts.run)
    const sim = new SimExchange(opts, timeline, start, store, snapshot)
    sim.resumed = resumed
    return sim
  }

  // ---- clock -------------------------------------------------------------------------------------------

  /** The virtual time: the close of bar t. */
  now(): number {
    return this.timeline[this.t] + this.barMs
  }

  /** Cycles from the first (after warm-up) to the last bar. */
  totalBars(): number {
    return this.timeline.length - this.start
  }

  remainingBars(): number {
    return this.timeline.length - 1 - this.t
  }

  /**
   * Moves the clock one bar and fills open orders against the new bar, committed together. False (and
   * nothing happens) at the end of the data.
   */
  async advance(): Promise<boolean> {
    this.check()
    if (this.t + 1 >= this.timeline.length) return false
    this.mutate(() => {
      this.t++
      this.counters.cursor = this.t
      this.bars.forward(this.timeline[this.t])
      if (this.book.openOrders().length > 0) this.fillBar()
      this.store.saveCounters(this.counters)
    })
    return true
  }

  async time(): Promise<number> {
    this.check()
    return this.now()
  }

  // ---- market data -------------------------------------------------------------------------------------

  async markets(): Promise<Map<string, MarketInfo>> {
    this.check()
    if (this.marketsCache?.listed !== this.bars.listed) {
      const map = new Map<string, MarketInfo>()
      for (let s = 0; s < this.symbols.length; s++) if (this.cur[s] >= 0) map.set(this.symbols[s], this.info[s])
      this.marketsCache = {listed: this.bars.listed, map}
    }

    return this.marketsCache.map
  }

  /** Unknown or not yet listed symbols are left out. */
  async tickers(symbols: readonly string[]): Promise<Map<string, Ticker>> {
    this.check()
    const out = new Map<string, Ticker>()
    for (const symbol of symbols) {
      const s = this.index.get(symbol)
      if (s === undefined) continue
      const c = this.cur[s]
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

  async candles(symbol: string, since: number, limit: number): Promise<Candle[]> {
    this.check()
    const s = this.symbolIndex(symbol)
    const series = this.series[s]
    const end = this.cur[s] + 1
    return barsAfter(series, end, since, limit)
  }

  /** One pass for every symbol; the usual case (exactly one new bar) needs no search. */
  async newCandles(since: ReadonlyMap<string, number>, limit: number): Promise<Map<string, Candle[]>> {
    this.check()
    const out = new Map<string, Candle[]>()
    for (const [symbol, after] of since) {
      const s = this.index.get(symbol)
      if (s === undefined) continue
      const series = this.series[s]
      const end = this.cur[s] + 1
      if (end === 0 || series.time[end - 1] <= after) continue
      out.set(symbol, barsAfter(series, end, after, limit))
    }

    return out
  }

  private symbolIndex(symbol: string): number {
    const s = this.index.get(symbol)
    if (s === undefined) throw new ExchangeError(`the sim has no market ${symbol}`, 'rejected', 'UNKNOWN_SYMBOL')
    return s
  }

  // ---- account -----------------------------------------------------------------------------------------

  async balances(): Promise<Balances> {
    this.check()
    const out: Balances = {}
    const {ledger} = this.book
    for (const cur of new Set([...this.shownCurrencies, ...ledger.currencies()])) {
      const total = ledger.total(cur)
      if (total !== 0 || this.shownCurrencies.has(cur)) out[cur] = {free: ledger.free(cur), total}
    }

    return out
  }

  /** Executions with seq > afterSeq, oldest first (seq starts at 1). */
  fills(afterSeq: number): SimFill[] {
    return this.book.fills(afterSeq)
  }

  // ---- orders ------------------------------------------------------------------------------------------

  /**
   * Places an order. Same clientOrderId again = the stored order, unchanged. Invalid amounts, prices, short
   * funds and injected faults come back as status 'rejected' with a reason; only an unknown symbol throws.
   */
  async createOrder(req: OrderRequest): Promise<OrderState> {
    this.check()
    const known = this.book.getByClientId(req.clientOrderId)
    if (known) return publicState(known)
    const s = this.symbolIndex(req.symbol)
    if (this.cur[s] < 0) throw new ExchangeError(`${req.symbol} is not listed yet`, 'rejected', 'UNKNOWN_SYMBOL')
    const now = this.now()
    const {clientOrderId, symbol, side, type, amount} = req
    const price = type === 'limit' ? (req.price ?? null) : null
    const o: SimOrder = {
      ...{id: '', seq: 0, clientOrderId, symbol, side, type, amount, price, filled: 0, averagePrice: null, fee: 0},
      ...{status: 'open', reason: null, createdAt: now, updatedAt: now, reserved: 0},
    }
    const last = this.series[s].close[this.cur[s]]
    let reason = orderProblem(o, this.info[s], last)
    const rate = this.opts.settings.faults.reject_order_rate
    if (reason === null && rate > 0 && this.draw() < rate) reason = 'SIM_FAULT'
    if (reason === null) {
      o.reserved = reservationFor(o, last, this.spreadBps[s], this.costs[s])
      if (o.reserved > this.book.ledger.free(this.book.holdCurrency(o))) reason = 'INSUFFICIENT_FUNDS'
    }

    if (reason !== null) [o.status, o.reason, o.reserved] = ['rejected', reason, 0]
    this.mutate(() => {
      o.seq = ++this.counters.orderSeq
      o.id = `sim-${o.seq}`
      this.book.add(o)
      this.store.saveCounters(this.counters)
    })
    return publicState(o)
  }

  async fetchOrder(id: string, _symbol?: string): Promise<OrderState> {
    this.check()
    const o = this.book.get(id)
    if (!o) throw new ExchangeError(`the sim has no order ${id}`, 'rejected', 'ORDER_NOT_FOUND')
    return publicState(o)
  }

  async fetchOrderByClientId(clientOrderId: string, _symbol?: string): Promise<OrderState | null> {
    this.check()
    const o = this.book.getByClientId(clientOrderId)
    return o ? publicState(o) : null
  }

  async openOrders(symbol?: string): Promise<OrderState[]> {
    this.check()
    return this.book.openOrders(symbol).map(publicState)
  }

  /** Open -> canceled (its reservation released); any other status is returned unchanged. */
  async cancelOrder(id: string, symbol?: string): Promise<OrderState> {
    const state = await this.fetchOrder(id, symbol)
    const o = this.book.get(id)!
    if (o.status !== 'open') return state
    this.mutate(() => this.book.cancel(o, this.now()))
    return publicState(o)
  }

  /** Fills open orders against the bar each symbol printed at the new cursor (none if it has a gap). */
  private fillBar(): void {
    const at = this.timeline[this.t]
    const barOf = (symbol: string): BarContext | null => {
      const s = this.index.get(symbol)!
      const c = this.cur[s]
      const x = this.series[s]
      if (c < 0 || x.time[c] !== at) return null
      return {open: x.open[c], high: x.high[c], low: x.low[c], volume: x.volume[c], costs: this.costs[s]}
    }

    this.book.fillBar(this.now(), barOf, this.opts.settings.max_fill_pct_of_bar_volume / 100)
  }

  // ---- convert -----------------------------------------------------------------------------------------

  /** A quote at the mid price less convert_fee_bps, valid for one bar. One side must be the quote currency. */
  async convertQuote(from: string, to: string, fromAmount: number): Promise<ConvertQuote> {
    this.check()
    const {settings, quote} = this.opts
    if (!settings.convert_supported) throw new ExchangeError('the sim is set to offer no convert', 'rejected', 'CONVERT_UNSUPPORTED')
    const coin = from === quote ? to : to === quote ? from : null
    if (coin === null || coin === quote) {
      throw new ExchangeError(`convert needs ${quote} on one side (${from} -> ${to})`, 'rejected', 'CONVERT_UNSUPPORTED')
    }

    const s = this.symbolIndex(`${coin}-${quote}`)
    if (this.cur[s] < 0) throw new ExchangeError(`${coin}-${quote} is not listed yet`, 'rejected', 'UNKNOWN_SYMBOL')
    if (!(fromAmount > 0) || !Number.isFinite(fromAmount)) {
      throw new ExchangeError(`convert amount must be > 0, got ${fromAmount}`, 'rejected', 'INVALID_AMOUNT')
    }

    const free = this.book.ledger.free(from)
    if (fromAmount > free) {
      throw new ExchangeError(`convert needs ${fromAmount} ${from}, ${free} free`, 'rejected', 'INSUFFICIENT_FUNDS')
    }

    const mid = this.series[s].close[this.cur[s]]
    const {toAmount, fee} = convertTerms(fromAmount, from === quote, mid, settings.convert_fee_bps)
    const q: ConvertQuote = {id: '', from, to, fromAmount, toAmount, fee, expiresAt: this.now() + this.barMs}
    this.mutate(() => {
      q.id = `simq-${++this.counters.quoteSeq}`
      this.quotes.set(q.id, q)
      this.store.saveQuote(q)
      this.store.saveCounters(this.counters)
    })
    return {...q}
  }

  /**
   * Executes a quote this sim issued, atomically. Committing the same quote again returns the first result.
   * A failed result moved nothing: its amounts are 0.
   */
  async convertCommit(quote: ConvertQuote): Promise<ConvertResult> {
    this.check()
    const done = this.converts.get(quote.id)
    if (done) return {...done}
    const q = this.quotes.get(quote.id)
    if (!q) return {quoteId: quote.id, status: 'failed', fromAmount: 0, toAmount: 0, reason: 'QUOTE_NOT_FOUND'}
    const rate = this.opts.settings.faults.convert_failure_rate
    const result = this.mutate(() => {
      const r = commitConvert(q, this.now(), rate > 0 && this.draw() < rate, this.book.ledger)
      this.converts.set(q.id, r)
      this.store.saveConvert(r)
      this.store.saveCounters(this.counters)
      return r
    })
    return {...result}
  }

  // ---- plumbing ----------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.broken === 'closed') return
    this.broken = 'closed'
    this.store.close()
  }

  /** Next number of the persisted fault generator. */
  private draw(): number {
    const r = mulberry32(this.counters.rng)
    this.counters.rng = r.state
    return r.value
  }

  /** Runs a mutation as one transaction; if it fails, memory may be ahead of the file, so stop serving. */
  private mutate<T>(fn: () => T): T {
    try {
      return this.store.tx(fn)
    } catch (error) {
      this.broken = `state write failed: ${(error as Error).message}`
      throw new ExchangeError(`sim ${this.broken}; reopen the sim`, 'fatal', 'SIM_STATE_WRITE_FAILED')
    }
  }

  private check(): void {
    if (this.broken !== null) throw new ExchangeError(`sim unavailable (${this.broken})`, 'fatal', 'SIM_UNAVAILABLE')
  }
}
