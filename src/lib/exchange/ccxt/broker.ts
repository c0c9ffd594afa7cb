import type {MarketInterface as Market, Order} from 'ccxt'

import type {Balances, ConvertQuote, ConvertResult, OrderRequest, OrderState} from '../../domain.js'
import {type Broker, type BrokerCapabilities, ExchangeError} from '../ports.js'
import {Converter} from './convert.js'
import {orderStateOf} from './mapping.js'
import type {CcxtSession, SymbolMap} from './session.js'

/**
 * A real account through ccxt: balances, orders placed with bot's client order id, order lookups, cancel,
 * convert. createOrder is never retried: when its outcome is unknown it says so (ORDER_OUTCOME_UNKNOWN),
 * and the loop finds the order by its client order id.
 */

export interface CcxtBrokerOptions {
  /** The account's quote currency: always in balances(). */
  quote: string
  /** Between two reads of a committed convert (default 500 ms). */
  convertPollMs?: number
  /** How long convertCommit waits for a committed convert to settle (default 15 s). */
  convertSettleMs?: number
}

/** recentOrders also asks this far before `since`: the exchange's clock may stamp an order earlier than ours. */
export const RECENT_ORDERS_MARGIN_MS = 5 * 60_000
/** Pages read at most per list (balances, orders). */
const MAX_PAGES = 20
/** Requested amounts remembered for quote-sized buys, whose exchange record has no base amount. */
const REMEMBERED_ORDERS = 1000

/** The code of an order that may or may not have reached the exchange. */
export const ORDER_OUTCOME_UNKNOWN = 'ORDER_OUTCOME_UNKNOWN'

export class CcxtBroker implements Broker {
  readonly capabilities: BrokerCapabilities
  private readonly converter: Converter
  private readonly requested = new Map<string, number>()
  private closed = false

  constructor(private readonly s: CcxtSession, private readonly options: CcxtBrokerOptions) {
    const pairs = s.profile.convertPairs
    this.capabilities = {
      convert: (from, to) => pairs.some(([a, b]) => (a === from && b === to) || (a === to && b === from)),
      fetchByClientOrderId: s.profile.fetchByClientOrderId,
    }
    this.converter = new Converter(s, {
      offered: this.capabilities.convert,
      accountsPage: () => this.balancePages(),
      pollMs: options.convertPollMs ?? 500,
      settleMs: options.convertSettleMs ?? 15_000,
    })
  }

  /** Free and total per currency (pages followed where the exchange pages accounts); zero balances left out but the quote's. */
  balances(): Promise<Balances> {
    return this.port('balances', async () => {
      const out: Balances = {}
      for (const page of await this.balancePages()) {
        for (const [currency, total] of Object.entries(page.total)) {
          if (!(total > 0) && currency !== this.options.quote) continue
          const free = page.free[currency] ?? total
          const prev = out[currency] ?? {free: 0, total: 0}
          out[currency] = {free: prev.free + free, total: prev.total + total}
        }
      }

      out[this.options.quote] ??= {free: 0, total: 0}
      return out
    })
  }

  createOrder(req: OrderRequest): Promise<OrderState> {
    return this.port('createOrder', async () => {
      const map = await this.s.symbols()
      const market = map.toCcxt.get(req.symbol)
      if (!market) throw new ExchangeError(`${this.s.id} has no market ${req.symbol}`, 'rejected', 'UNKNOWN_SYMBOL')
      if (!(req.amount > 0) || !Number.isFinite(req.amount)) throw new ExchangeError(`order amount must be > 0, got ${req.amount}`, 'rejected', 'INVALID_AMOUNT')
      if (req.type === 'limit' && !(typeof req.price === 'number' && req.price > 0)) throw new ExchangeError('a limit order needs a price > 0', 'rejected', 'INVALID_PRICE')
      const {ex, profile} = this.s
      const params: Record<string, unknown> = {[profile.clientOrderIdParam]: req.clientOrderId}
      let price = req.type === 'limit' ? req.price : undefined
      if (req.type === 'market' && req.side === 'buy') {
        const ask = await this.askOf(market)
        // Coinbase spends quote_size with the fee inside it: amount at the ask plus the taker fee buys `amount`.
        if (profile.marketBuy === 'quote_with_fee') params.cost = req.amount * ask * (1 + this.takerRate(market))
        else price = ask
      }

      this.remember(req.clientOrderId, req.amount)
      const created = await this.s.once('createOrder', () => ex.createOrder(market.symbol, req.type, req.side, req.amount, price, params)).catch((error: ExchangeError) => {
        throw error.kind === 'retryable' ? unknownOutcome(req, error.message) : error
      })
      const createdId = created.id
      if (typeof createdId !== 'string' || createdId === '') throw unknownOutcome(req, `${this.s.id} answered without an order id`)
      if (created.clientOrderId !== undefined && created.clientOrderId !== req.clientOrderId) {
        throw new ExchangeError(`${this.s.id} placed order ${created.id} under client order id ${created.clientOrderId}, not ${req.clientOrderId}: bot could not reconcile it`, 'fatal', 'CLIENT_ORDER_ID_LOST')
      }

      // Some answers to a create carry ids only (Coinbase's): the state is read back; failing that, the
      // order is reported open as placed, and the loop reads it by its id later.
      const state = await this.s.retry('fetchOrder', () => ex.fetchOrder(createdId, market.symbol)).catch((error: ExchangeError) => {
        if (error.kind === 'fatal') throw error
        return null
      })
      return state ? this.stateOf(state, map, req.symbol) : placed(req, createdId, this.s.exchangeNow())
    })
  }

  fetchOrder(id: string, symbol: string): Promise<OrderState> {
    return this.port('fetchOrder', async () => {
      const map = await this.s.symbols()
      const order = await this.s.retry('fetchOrder', () => this.s.ex.fetchOrder(id, map.toCcxt.get(symbol)?.symbol))
      return this.stateOf(order, map, symbol)
    })
  }

  /** Not offered where capabilities.fetchByClientOrderId is false: reconciliation uses recentOrders. */
  fetchOrderByClientId(clientOrderId: string, _symbol: string): Promise<OrderState | null> {
    return Promise.reject(new ExchangeError(`${this.s.id} cannot look order ${clientOrderId} up by client order id; use recentOrders`, 'fatal', 'NOT_SUPPORTED'))
  }

  /** Orders on `symbol` created since `since` (minus RECENT_ORDERS_MARGIN_MS), open or done, oldest first. */
  recentOrders(symbol: string, since: number): Promise<OrderState[]> {
    return this.port('recentOrders', async () => {
      const map = await this.s.symbols()
      const market = map.toCcxt.get(symbol)
      if (!market) return []
      const {ex} = this.s
      const from = since - RECENT_ORDERS_MARGIN_MS
      const lists = await Promise.all([
        this.orderPages('fetchOpenOrders', (p) => ex.fetchOpenOrders(market.symbol, from, undefined, p)),
        ex.has.fetchOrders
          ? this.orderPages('fetchOrders', (p) => ex.fetchOrders(market.symbol, from, undefined, p))
          : this.orderPages('fetchClosedOrders', (p) => ex.fetchClosedOrders(market.symbol, from, undefined, p)),
        ex.has.fetchOrders || !ex.has.fetchCanceledOrders ? [] : this.orderPages('fetchCanceledOrders', (p) => ex.fetchCanceledOrders(market.symbol, from, undefined, p)),
      ])
      const byId = new Map<string, OrderState>()
      for (const o of lists.flat()) {
        const state = this.stateOf(o, map, symbol)
        byId.set(state.id, state)
      }

      return [...byId.values()].sort((a, b) => a.createdAt - b.createdAt)
    })
  }

  /** Cancels an open order and returns its state; an order already done comes back unchanged. */
  cancelOrder(id: string, symbol: string): Promise<OrderState> {
    return this.port('cancelOrder', async () => {
      const map = await this.s.symbols()
      const ccxtSymbol = map.toCcxt.get(symbol)?.symbol
      // Cancelling twice is harmless: a repeat after a lost answer is refused, and the state below tells.
      const refusal = await this.s.retry('cancelOrder', () => this.s.ex.cancelOrder(id, ccxtSymbol)).then(
        () => null,
        (error: ExchangeError) => {
          if (error.kind !== 'rejected') throw error
          return error
        },
      )
      const state = this.stateOf(await this.s.retry('fetchOrder', () => this.s.ex.fetchOrder(id, ccxtSymbol)), map, symbol)
      if (refusal !== null && state.status === 'open') throw refusal
      return state
    })
  }

  openOrders(symbol?: string): Promise<OrderState[]> {
    return this.port('openOrders', async () => {
      const map = await this.s.symbols()
      const market = symbol === undefined ? undefined : map.toCcxt.get(symbol)
      if (symbol !== undefined && !market) return []
      const orders = await this.orderPages('fetchOpenOrders', (p) => this.s.ex.fetchOpenOrders(market?.symbol, undefined, undefined, p))
      return orders.map((o) => this.stateOf(o, map, symbol))
    })
  }

  convertQuote(from: string, to: string, fromAmount: number): Promise<ConvertQuote> {
    return this.port('convertQuote', () => this.converter.quote(from, to, fromAmount))
  }

  convertCommit(quote: ConvertQuote): Promise<ConvertResult> {
    return this.port('convertCommit', () => this.converter.commit(quote))
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private port<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ExchangeError(`${this.s.id} broker is closed`, 'fatal', 'VENUE_CLOSED'))
    return this.s.call(operation, fn)
  }

  /** Every page of accounts, as ccxt parses them (free and total per currency, numbers). */
  private async balancePages(): Promise<Array<{free: Record<string, number>; total: Record<string, number>}>> {
    await this.s.symbols()
    const {ex, profile} = this.s
    const pages = []
    let params: Record<string, unknown> = {...profile.balanceParams}
    for (let n = 0; n < MAX_PAGES; n++) {
      const b = await this.s.retry('fetchBalance', () => ex.fetchBalance(params))
      this.converter.noteAccounts(profile.accountIds(b.info))
      pages.push({free: numbers(b.free), total: numbers(b.total)})
      const next = profile.nextBalancePage(b.info)
      if (!next) break
      params = {...profile.balanceParams, ...next}
    }

    return pages
  }

  /** Every page of an order list (read again on a transient failure: lists are safe to repeat). */
  private async orderPages(operation: string, fetch: (params: Record<string, unknown>) => Promise<Order[]>): Promise<Order[]> {
    const all: Order[] = []
    let params: Record<string, unknown> = {}
    for (let n = 0; n < MAX_PAGES; n++) {
      const page = await this.s.retry(operation, () => fetch(params))
      all.push(...page)
      const next = this.s.profile.nextOrdersPage(page)
      if (!next || page.length === 0) break
      params = next
    }

    return all
  }

  private async askOf(market: Market): Promise<number> {
    const {ex} = this.s
    const ticker = this.s.hasCredentials && ex.has.fetchBidsAsks
      ? (await this.s.retry('fetchBidsAsks', () => ex.fetchBidsAsks([market.symbol])))[market.symbol]
      : await this.s.retry('fetchTicker', () => ex.fetchTicker(market.symbol))
    const ask = ticker?.ask
    if (typeof ask !== 'number' || !(ask > 0)) throw new ExchangeError(`${this.s.id} has no ask for ${market.symbol}: market buy not sent`, 'retryable', 'NO_PRICE')
    return ask
  }

  private takerRate(market: Market): number {
    const fallback = (this.s.ex.fees as {trading?: {taker?: number}} | undefined)?.trading?.taker
    return market.taker ?? fallback ?? 0
  }

  private stateOf(o: Order, map: SymbolMap, fallback: string | undefined): OrderState {
    const symbol = (o.symbol && map.toBot.get(o.symbol)) || fallback || (o.symbol ?? '').replace('/', '-')
    const base = map.toCcxt.get(symbol)?.base ?? symbol.split('-')[0]
    const requestedAmount = o.clientOrderId === undefined ? undefined : this.requested.get(o.clientOrderId)
    return orderStateOf(o, {symbol, base, profile: this.s.profile, requestedAmount, now: this.s.exchangeNow()})
  }

  private remember(clientOrderId: string, amount: number): void {
    this.requested.delete(clientOrderId)
    this.requested.set(clientOrderId, amount)
    if (this.requested.size > REMEMBERED_ORDERS) this.requested.delete(this.requested.keys().next().value!)
  }
}

/** An order the exchange accepted but bot could not read back yet: open, nothing filled. */
function placed(req: OrderRequest, id: string, now: number): OrderState {
  const price = req.type === 'limit' ? (req.price ?? null) : null
  return {id, clientOrderId: req.clientOrderId, symbol: req.symbol, side: req.side, type: req.type, amount: req.amount, price, filled: 0, averagePrice: null, fee: 0, status: 'open', reason: null, createdAt: now, updatedAt: now}
}

function unknownOutcome(req: OrderRequest, detail: string): ExchangeError {
  return new ExchangeError(`order ${req.clientOrderId} (${req.side} ${req.amount} ${req.symbol}): outcome unknown, reconcile by client order id (${detail})`, 'retryable', ORDER_OUTCOME_UNKNOWN)
}

function numbers(dict: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries((dict ?? {}) as Record<string, unknown>)) {
    const n = typeof v === 'string' ? Number(v) : v
    if (typeof n === 'number' && Number.isFinite(n)) out[k] = n
  }

  return out
}
