import type {AppConfig} from '../../config/schema/app.js'
import {type Balances, candleMap, type ConvertQuote, type ConvertResult, type OrderRequest, type OrderState} from '../../domain.js'
import {type Broker, type BrokerCapabilities, type Clock, ExchangeError, type MarketData} from '../ports.js'
import {mulberry32} from '../replay/candle-files.js'
import {OrderBook} from './book.js'
import {commitConvert, convertTerms, orderProblem, publicState, reservationFor, type SimFill, type SimOrder} from './fill-model.js'
import {openSimStore, type SimCounters, type SimIdentity, type SimRun, type SimStore} from './store.js'

export type SimSettings = AppConfig['exchange']['sim']

export interface SimBrokerOptions {
  /** Where prices, bars and market rules come from: a replay, or an exchange's live data (paper trading). */
  market: MarketData
  clock: Clock
  settings: SimSettings
  /** The account's quote currency (USD): converts go through it, it is always in balances(). */
  quote: string
  tierOf: (symbol: string) => string | undefined
  /** SQLite file holding the whole account; null = in memory (unit tests). */
  stateFile: string | null
  identity: SimIdentity
  run: SimRun
  /** A look that changes nothing on disk (a dry run beside a running bot). */
  readOnly?: boolean
}

/** A quote stays good this long on the venue's clock (a replay's clock stands still within a cycle). */
const QUOTE_TTL_MS = 30_000
/** Bars fetched at most per catch-up: far more than one cycle ever needs. */
const MAX_CATCH_UP_BARS = 100_000

/**
 * A simulated account on whichever market data it is given: balances, orders filled against the bars that
 * follow them (spread, slippage, fees, a volume cap), convert, and seeded fault injection. Orders fill when
 * the broker is next asked anything, against every bar since, in bar order, so the result never depends on
 * when that is. With a state file it behaves like a remote account: whatever it did survives bot being killed
 * at any instant.
 */
export class SimBroker implements Broker {
  readonly capabilities: BrokerCapabilities
  private readonly book: OrderBook
  private counters: SimCounters
  private readonly shownCurrencies: Set<string>
  private broken: string | null = null

  private constructor(private readonly opts: SimBrokerOptions, private readonly store: SimStore, snap: {counters: SimCounters; book: OrderBook}) {
    this.capabilities = {
      convert: (from, to) => opts.settings.convert_supported && (from === opts.quote) !== (to === opts.quote),
      fetchByClientOrderId: true,
    }
    this.counters = snap.counters
    this.book = snap.book
    this.shownCurrencies = new Set([opts.quote, ...Object.keys(opts.settings.start_balances)])
  }

  static open(opts: SimBrokerOptions): SimBroker {
    const initial = {
      counters: {rng: opts.settings.faults.seed >>> 0, orderSeq: 0, quoteSeq: 0},
      balances: new Map(Object.entries(opts.settings.start_balances)),
      openOrders: [],
    }
    const {store, snapshot} = openSimStore(opts.stateFile, opts.identity, initial, opts.run, opts.readOnly)
    const book = new OrderBook(snapshot, store, splitSymbol)
    return new SimBroker(opts, store, {counters: {...snapshot.counters}, book})
  }

  async balances(): Promise<Balances> {
    await this.sync()
    const out: Balances = {}
    const {ledger} = this.book
    for (const cur of new Set([...this.shownCurrencies, ...ledger.currencies()])) {
      const total = ledger.total(cur)
      if (total !== 0 || this.shownCurrencies.has(cur)) out[cur] = {free: ledger.free(cur), total}
    }

    return out
  }

  /** Executions with seq > afterSeq, oldest first (seq starts at 1). */
  async fills(afterSeq: number): Promise<SimFill[]> {
    await this.sync()
    return this.store.fills(afterSeq)
  }

  /**
   * Places an order. Same clientOrderId again = the stored order, unchanged. Invalid amounts, prices, short
   * funds and injected faults come back as status 'rejected' with a reason; only an unknown symbol throws.
   */
  async createOrder(req: OrderRequest): Promise<OrderState> {
    await this.sync()
    const known = this.book.getByClientId(req.clientOrderId)
    if (known) return publicState(known)
    const info = (await this.opts.market.markets()).get(req.symbol)
    const ticker = (await this.opts.market.tickers([req.symbol])).get(req.symbol)
    if (!info || !ticker) throw new ExchangeError(`the sim has no market ${req.symbol}`, 'rejected', 'UNKNOWN_SYMBOL')
    const now = this.opts.clock.now()
    const {clientOrderId, symbol, side, type, amount} = req
    const mid = (ticker.bid + ticker.ask) / 2
    const o: SimOrder = {
      ...{id: '', seq: 0, clientOrderId, symbol, side, type, amount, price: type === 'limit' ? (req.price ?? null) : null, filled: 0, averagePrice: null, fee: 0},
      ...{status: 'open', reason: null, createdAt: now, updatedAt: now, reserved: 0, halfSpreadBps: mid > 0 ? ((ticker.ask - ticker.bid) / 2 / mid) * 1e4 : 0, lastBar: now - 1},
    }
    let reason = orderProblem(o, info, ticker.last)
    const rate = this.opts.settings.faults.reject_order_rate
    if (reason === null && rate > 0 && this.draw() < rate) reason = 'SIM_FAULT'
    if (reason === null) {
      o.reserved = reservationFor(o, ticker.ask, info, this.slippageBps(symbol))
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
    await this.sync()
    const o = this.book.get(id)
    if (!o) throw new ExchangeError(`the sim has no order ${id}`, 'rejected', 'ORDER_NOT_FOUND')
    return publicState(o)
  }

  async fetchOrderByClientId(clientOrderId: string, _symbol?: string): Promise<OrderState | null> {
    await this.sync()
    const o = this.book.getByClientId(clientOrderId)
    return o ? publicState(o) : null
  }

  async recentOrders(symbol: string, since: number): Promise<OrderState[]> {
    await this.sync()
    return this.store.recentOrders(symbol, since).map(publicState)
  }

  async openOrders(symbol?: string): Promise<OrderState[]> {
    await this.sync()
    return this.book.openOrders(symbol).map(publicState)
  }

  /** Open -> canceled (its reservation released); any other status is returned unchanged. */
  async cancelOrder(id: string, symbol?: string): Promise<OrderState> {
    const state = await this.fetchOrder(id, symbol)
    const o = this.book.openOrders().find((x) => x.id === id)
    if (!o) return state
    this.mutate(() => this.book.cancel(o, this.opts.clock.now()))
    return publicState(o)
  }

  /** A quote at the mid price less convert_fee_bps. One side must be the quote currency. */
  async convertQuote(from: string, to: string, fromAmount: number): Promise<ConvertQuote> {
    await this.sync()
    const {settings, quote} = this.opts
    if (!this.capabilities.convert(from, to)) {
      throw new ExchangeError(settings.convert_supported ? `convert needs ${quote} on one side (${from} -> ${to})` : 'the sim is set to offer no convert', 'rejected', 'CONVERT_UNSUPPORTED')
    }

    const symbol = `${from === quote ? to : from}-${quote}`
    const ticker = (await this.opts.market.tickers([symbol])).get(symbol)
    if (!ticker) throw new ExchangeError(`the sim has no market ${symbol}`, 'rejected', 'UNKNOWN_SYMBOL')
    if (!(fromAmount > 0) || !Number.isFinite(fromAmount)) {
      throw new ExchangeError(`convert amount must be > 0, got ${fromAmount}`, 'rejected', 'INVALID_AMOUNT')
    }

    const free = this.book.ledger.free(from)
    if (fromAmount > free) throw new ExchangeError(`convert needs ${fromAmount} ${from}, ${free} free`, 'rejected', 'INSUFFICIENT_FUNDS')
    const {toAmount, fee} = convertTerms(fromAmount, from === quote, ticker.last, settings.convert_fee_bps)
    const q: ConvertQuote = {id: '', from, to, fromAmount, toAmount, fee, expiresAt: this.opts.clock.now() + QUOTE_TTL_MS}
    this.mutate(() => {
      q.id = `simq-${++this.counters.quoteSeq}`
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
    await this.sync()
    const done = this.store.convert(quote.id)
    if (done) return done
    const q = this.store.quote(quote.id)
    if (!q) return {quoteId: quote.id, status: 'failed', fromAmount: 0, toAmount: 0, reason: 'QUOTE_NOT_FOUND'}
    const rate = this.opts.settings.faults.convert_failure_rate
    return this.mutate(() => {
      const r = commitConvert(q, this.opts.clock.now(), rate > 0 && this.draw() < rate, this.book.ledger)
      this.store.saveConvert(r)
      this.store.saveCounters(this.counters)
      return r
    })
  }

  async close(): Promise<void> {
    if (this.broken === 'closed') return
    this.broken = 'closed'
    this.store.close()
  }

  /** Fills open orders against every bar their market data has shown since they last met one. */
  private async sync(): Promise<void> {
    if (this.broken !== null) throw new ExchangeError(`sim unavailable (${this.broken})`, 'fatal', 'SIM_UNAVAILABLE')
    const since = this.book.pendingSince()
    if (since.size === 0) return
    const bars = candleMap(await this.opts.market.candles(since, MAX_CATCH_UP_BARS))
    if (bars.size === 0) return
    const markets = await this.opts.market.markets()
    const ctx = {market: (s: string) => markets.get(s), slippageBps: (s: string) => this.slippageBps(s), capFraction: this.opts.settings.max_fill_pct_of_bar_volume / 100}
    this.mutate(() => this.book.fill(bars, ctx, this.opts.market.barMs))
  }

  private slippageBps(symbol: string): number {
    const table = this.opts.settings.costs.slippage_bps
    return table[this.opts.tierOf(symbol) ?? 'default'] ?? table.default ?? 0
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
}

function splitSymbol(symbol: string): {base: string; quote: string} {
  const [base, quote] = symbol.split('-')
  return {base, quote}
}
