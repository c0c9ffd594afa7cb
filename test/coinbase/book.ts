import {createHash, randomUUID} from 'node:crypto'

import {addTidy, tidy} from '../../src/lib/exchange/precision.js'
import {isMultipleOf, parseDecimal} from './decimal.js'
import type {MarketReplay, ProductRules, ServedBar} from './market.js'

/**
 * The account behind the loopback Coinbase: balances (available and on hold), orders and their fills.
 * Market orders fill at once at bid/ask; resting limit orders fill when a later bar reaches their price.
 * A repeated client_order_id returns the existing order and creates nothing, as Coinbase documents.
 */

export type Side = 'BUY' | 'SELL'
export type OrderStatus = 'OPEN' | 'FILLED' | 'CANCELLED'

export interface OrderRecord {
  orderId: string
  clientOrderId: string
  productId: string
  side: Side
  /** order_configuration exactly as the client sent it. */
  configuration: Record<string, Record<string, unknown>>
  type: 'MARKET' | 'LIMIT'
  baseSize: number | null
  quoteSize: number | null
  limitPrice: number | null
  status: OrderStatus
  createdAt: number
  lastFillAt: number | null
  filledSize: number
  /** Quote value of the fills, fees excluded. */
  filledValue: number
  fees: number
  /** Funds a resting order holds (released on fill or cancel). */
  hold: {currency: string; amount: number} | null
}

export interface Account {
  uuid: string
  currency: string
  available: number
  hold: number
}

/** Why Coinbase refuses an order: error_response.error, its preview_failure_reason and a message. */
export interface Rejection {
  error: string
  previewFailureReason: string
  message: string
}

export type CreateOutcome =
  | {kind: 'created' | 'duplicate'; order: OrderRecord}
  | {kind: 'rejected'; rejection: Rejection; configuration: unknown}
  /** Not an order request at all: Coinbase answers 400 INVALID_ARGUMENT. */
  | {kind: 'invalid'; message: string}

export interface FeeRates {
  maker: number
  taker: number
}

export interface OrderFilter {
  statuses: string[]
  productIds: string[]
  side?: string
  startMs?: number
  endMs?: number
}

/** A stable UUID per name, so a currency's account id is the same on every run. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(name).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const reject = (error: string, previewFailureReason: string, message: string): Rejection => ({error, previewFailureReason, message})
const tooSmall = (what: string, min: number) => `${what} is below the minimum of ${min}`

interface Sizes {
  baseSize: number | null
  quoteSize: number | null
  limitPrice: number | null
}

/** The first rule an order's sizes break, checked in Coinbase's order: precision, then minimum, then maximum. */
function sizeRejection(rules: ProductRules, order: Sizes, price: number): Rejection | null {
  const {baseSize, quoteSize, limitPrice} = order
  if (limitPrice !== null && !isMultipleOf(limitPrice, rules.priceIncrement)) {
    return reject('INVALID_PRICE_PRECISION', 'PREVIEW_INVALID_PRICE_PRECISION', `limit_price must be a multiple of ${rules.priceIncrement}`)
  }

  if (baseSize !== null) {
    if (!isMultipleOf(baseSize, rules.baseIncrement)) {
      return reject('INVALID_SIZE_PRECISION', 'PREVIEW_INVALID_SIZE_PRECISION', `base_size must be a multiple of ${rules.baseIncrement}`)
    }

    if (baseSize < rules.baseMinSize || baseSize === 0) {
      return reject('UNKNOWN_FAILURE_REASON', 'PREVIEW_INVALID_BASE_SIZE_TOO_SMALL', tooSmall('base_size', rules.baseMinSize))
    }

    if (baseSize > rules.baseMaxSize) {
      return reject('UNKNOWN_FAILURE_REASON', 'PREVIEW_INVALID_BASE_SIZE_TOO_LARGE', `base_size is above the maximum of ${rules.baseMaxSize}`)
    }
  }

  // A base-sized order is held to the minimum notional too: it is the limit Coinbase quotes for every product.
  const notional = quoteSize ?? (baseSize ?? 0) * (limitPrice ?? price)
  if (quoteSize !== null && !isMultipleOf(quoteSize, rules.quoteIncrement)) {
    return reject('INVALID_SIZE_PRECISION', 'PREVIEW_INVALID_QUOTE_SIZE_PRECISION', `quote_size must be a multiple of ${rules.quoteIncrement}`)
  }

  if (notional < rules.quoteMinSize || notional === 0) {
    return reject('UNKNOWN_FAILURE_REASON', 'PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL', tooSmall('order value', rules.quoteMinSize))
  }

  if (notional > rules.quoteMaxSize) {
    return reject('UNKNOWN_FAILURE_REASON', 'PREVIEW_INVALID_QUOTE_SIZE_TOO_LARGE', `order value is above the maximum of ${rules.quoteMaxSize}`)
  }

  return null
}

const INSUFFICIENT = reject('INSUFFICIENT_FUND', 'PREVIEW_INSUFFICIENT_FUND', 'Insufficient balance in source account')

interface ParsedOrder {
  clientOrderId: string
  productId: string
  side: Side
  configuration: Record<string, Record<string, unknown>>
}

/** The request's envelope, or why it is not an order request at all. */
function parseEnvelope(body: unknown): ParsedOrder | string {
  const b = (body ?? {}) as Record<string, unknown>
  if (typeof b.client_order_id !== 'string' || b.client_order_id === '') return 'client_order_id is required'
  if (typeof b.product_id !== 'string' || b.product_id === '') return 'product_id is required'
  if (b.side !== 'BUY' && b.side !== 'SELL') return 'side must be BUY or SELL'
  const conf = b.order_configuration
  if (conf === null || typeof conf !== 'object' || Object.keys(conf).length !== 1) return 'order_configuration must hold exactly one order type'
  return {clientOrderId: b.client_order_id, productId: b.product_id, side: b.side, configuration: conf as ParsedOrder['configuration']}
}

/** The order type and sizes of an order_configuration; only market IOC and limit GTC are served. */
function orderShape(p: ParsedOrder): {type: OrderRecord['type']; sizes: Sizes; postOnly: boolean} | Rejection {
  const [key] = Object.keys(p.configuration)
  const conf = p.configuration[key] ?? {}
  const read = (v: unknown) => (v === undefined ? null : parseDecimal(v))
  const sizes = {baseSize: read(conf.base_size), quoteSize: read(conf.quote_size), limitPrice: read(conf.limit_price)}
  const given = [conf.base_size, conf.quote_size, conf.limit_price]
  if ([sizes.baseSize, sizes.quoteSize, sizes.limitPrice].some((v, i) => v === null && given[i] !== undefined)) {
    return reject('UNKNOWN_FAILURE_REASON', 'PREVIEW_NON_NUMERIC_ORDER_SIZE', 'sizes and prices must be decimal strings')
  }

  const {baseSize, quoteSize, limitPrice} = sizes
  // Coinbase sizes a market buy by quote or base, a market sell by base only.
  const market = key === 'market_market_ioc' && (baseSize === null) !== (quoteSize === null) && !(p.side === 'SELL' && quoteSize !== null)
  const limit = key === 'limit_limit_gtc' && baseSize !== null && limitPrice !== null && quoteSize === null
  if (!market && !limit) return reject('UNSUPPORTED_ORDER_CONFIGURATION', 'PREVIEW_INVALID_ORDER_CONFIG', `unsupported order_configuration ${key}`)
  return {type: market ? 'MARKET' : 'LIMIT', sizes, postOnly: conf.post_only === true}
}

export class Book {
  private readonly accounts = new Map<string, Account>()
  private readonly orders = new Map<string, OrderRecord>()
  private readonly byClientId = new Map<string, OrderRecord>()
  /** Quote value and fees of every fill so far (transaction_summary). */
  readonly totals = {volume: 0, fees: 0}

  constructor(
    private readonly market: MarketReplay,
    readonly fees: FeeRates,
    startBalances: Readonly<Record<string, number>>,
    private readonly clock: () => number,
  ) {
    for (const productId of market.listed()) for (const cur of productId.split('-')) this.account(cur)
    for (const [cur, amount] of Object.entries(startBalances)) {
      if (!(Number.isFinite(amount) && amount >= 0)) throw new Error(`startBalances.${cur}: ${amount} is not a non-negative number`)
      this.account(cur).available = amount
    }
  }

  /** The account of a currency; every currency has one (empty until funded), like a Coinbase user. */
  account(currency: string): Account {
    let acct = this.accounts.get(currency)
    if (!acct) {
      acct = {uuid: stableUuid(`account:${currency}`), currency, available: 0, hold: 0}
      this.accounts.set(currency, acct)
    }

    return acct
  }

  accountByUuid(uuid: string): Account | undefined {
    return [...this.accounts.values()].find((a) => a.uuid === uuid)
  }

  listAccounts(): Account[] {
    return [...this.accounts.values()].sort((a, b) => a.currency.localeCompare(b.currency))
  }

  order(orderId: string): OrderRecord | undefined {
    return this.orders.get(orderId)
  }

  allOrders(): OrderRecord[] {
    return [...this.orders.values()]
  }

  /** Orders matching the filter, newest first (Coinbase's order for /orders/historical/batch). */
  list(filter: OrderFilter): OrderRecord[] {
    return this.allOrders()
      .filter((o) => filter.statuses.length === 0 || filter.statuses.includes(o.status))
      .filter((o) => filter.productIds.length === 0 || filter.productIds.includes(o.productId))
      .filter((o) => filter.side === undefined || o.side === filter.side)
      .filter((o) => (filter.startMs === undefined || o.createdAt >= filter.startMs) && (filter.endMs === undefined || o.createdAt <= filter.endMs))
      .reverse()
  }

  create(body: unknown): CreateOutcome {
    const parsed = parseEnvelope(body)
    if (typeof parsed === 'string') return {kind: 'invalid', message: parsed}
    const existing = this.byClientId.get(parsed.clientOrderId)
    if (existing) return {kind: 'duplicate', order: existing}
    const outcome = this.place(parsed)
    if ('error' in outcome) return {kind: 'rejected', rejection: outcome, configuration: parsed.configuration}
    this.orders.set(outcome.orderId, outcome)
    this.byClientId.set(outcome.clientOrderId, outcome)
    return {kind: 'created', order: outcome}
  }

  /** Cancels an open order; returns Coinbase's failure reason, or null on success. */
  cancel(orderId: string): string | null {
    const order = this.orders.get(orderId)
    if (!order) return 'UNKNOWN_CANCEL_ORDER'
    if (order.status !== 'OPEN') return 'INVALID_CANCEL_REQUEST'
    this.releaseHold(order)
    order.status = 'CANCELLED'
    return null
  }

  /** A new bar of `productId`: resting limit orders whose price it reached fill at their price, as makers. */
  onBar(productId: string, bar: ServedBar): void {
    for (const order of this.orders.values()) {
      if (order.status !== 'OPEN' || order.productId !== productId || order.limitPrice === null) continue
      const reached = order.side === 'BUY' ? bar.low <= order.limitPrice : bar.high >= order.limitPrice
      if (!reached) continue
      this.releaseHold(order)
      this.fill(order, order.baseSize!, order.limitPrice, this.fees.maker)
    }
  }

  /** Builds and executes a new order, or says why Coinbase would refuse it. */
  private place(p: ParsedOrder): OrderRecord | Rejection {
    if (!this.market.isListed(p.productId)) return reject('INVALID_PRODUCT_ID', 'PREVIEW_INVALID_PRODUCT_ID', `unknown product ${p.productId}`)
    const shape = orderShape(p)
    if ('error' in shape) return shape
    const quote = this.market.quote(p.productId)
    const problem = sizeRejection(this.market.rules(p.productId), shape.sizes, quote.price)
    if (problem) return problem
    const order: OrderRecord = {
      orderId: randomUUID(),
      ...p,
      type: shape.type,
      ...shape.sizes,
      status: 'OPEN',
      createdAt: this.clock(),
      lastFillAt: null,
      filledSize: 0,
      filledValue: 0,
      fees: 0,
      hold: null,
    }
    return shape.type === 'MARKET' ? this.executeMarket(order, quote) : this.placeLimit(order, quote, shape.postOnly)
  }

  private executeMarket(order: OrderRecord, quote: {bid: number; ask: number}): OrderRecord | Rejection {
    const [base, quoteCur] = order.productId.split('-')
    const {taker} = this.fees
    if (order.side === 'SELL') {
      if (order.baseSize! > this.account(base).available) return INSUFFICIENT
      this.fill(order, order.baseSize!, quote.bid, taker)
    } else if (order.quoteSize !== null) {
      // quote_size is what the buyer spends, fee included (size_inclusive_of_fees).
      if (order.quoteSize > this.account(quoteCur).available) return INSUFFICIENT
      const value = order.quoteSize / (1 + taker)
      this.fill(order, value / quote.ask, quote.ask, taker, order.quoteSize - value)
    } else {
      if (order.baseSize! * quote.ask * (1 + taker) > this.account(quoteCur).available) return INSUFFICIENT
      this.fill(order, order.baseSize!, quote.ask, taker)
    }

    return order
  }

  /** A limit order that crosses the book fills at once at bid/ask as a taker; otherwise it rests and holds funds. */
  private placeLimit(order: OrderRecord, quote: {bid: number; ask: number}, postOnly: boolean): OrderRecord | Rejection {
    const [base, quoteCur] = order.productId.split('-')
    const size = order.baseSize!
    const price = order.limitPrice!
    const crosses = order.side === 'BUY' ? price >= quote.ask : price <= quote.bid
    if (crosses && postOnly) return reject('INVALID_LIMIT_PRICE_POST_ONLY', 'PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY', 'post-only limit price would cross the book')
    if (crosses) {
      const at = order.side === 'BUY' ? quote.ask : quote.bid
      const need = order.side === 'BUY' ? size * at * (1 + this.fees.taker) : size
      if (need > this.account(order.side === 'BUY' ? quoteCur : base).available) return INSUFFICIENT
      this.fill(order, size, at, this.fees.taker)
      return order
    }

    const hold = order.side === 'BUY' ? {currency: quoteCur, amount: tidy(size * price * (1 + this.fees.maker))} : {currency: base, amount: size}
    const acct = this.account(hold.currency)
    if (hold.amount > acct.available) return INSUFFICIENT
    acct.available = addTidy(acct.available, -hold.amount)
    acct.hold = addTidy(acct.hold, hold.amount)
    order.hold = hold
    return order
  }

  private releaseHold(order: OrderRecord): void {
    if (!order.hold) return
    const acct = this.account(order.hold.currency)
    acct.hold = addTidy(acct.hold, -order.hold.amount)
    acct.available = addTidy(acct.available, order.hold.amount)
    order.hold = null
  }

  /** One complete fill: moves the balances and records it on the order. `fee` defaults to value * rate. */
  private fill(order: OrderRecord, size: number, price: number, rate: number, fee = size * price * rate): void {
    const [base, quoteCur] = order.productId.split('-')
    const value = size * price
    const sign = order.side === 'BUY' ? 1 : -1
    const b = this.account(base)
    const q = this.account(quoteCur)
    b.available = addTidy(b.available, sign * size)
    q.available = addTidy(q.available, -sign * value - fee)
    order.filledSize = tidy(size)
    order.filledValue = tidy(value)
    order.fees = tidy(fee)
    order.status = 'FILLED'
    order.lastFillAt = this.clock()
    this.totals.volume = addTidy(this.totals.volume, value)
    this.totals.fees = addTidy(this.totals.fees, fee)
  }
}
