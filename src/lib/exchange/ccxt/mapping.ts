import type {MarketInterface as Market, Order} from 'ccxt'

import type {MarketInfo, OrderState, Side} from '../../domain.js'
import {ExchangeError} from '../ports.js'
import {pow10, tidy} from '../precision.js'
import type {PrecisionModes} from './load.js'
import type {VenueProfile} from './profile.js'

/** ccxt's markets and orders as bot's value types. */

/** A precision as a step: ccxt's TICK_SIZE mode gives the step itself, DECIMAL_PLACES a number of decimals. */
function stepOf(precision: number | undefined, mode: number, modes: PrecisionModes): number | null {
  if (typeof precision !== 'number' || !Number.isFinite(precision)) return null
  if (mode === modes.tickSize) return precision > 0 ? precision : null
  if (mode === modes.decimalPlaces) return Number.isInteger(precision) && precision >= 0 ? pow10(-precision) : null
  // SIGNIFICANT_DIGITS has no fixed step: bot cannot floor amounts to it.
  return null
}

const finite = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined)
const num = (x: unknown): number | undefined => finite(typeof x === 'string' && x.trim() !== '' ? Number(x) : x)

export interface FeeRates {
  maker: number
  taker: number
}

/**
 * A tradable spot market as MarketInfo, or null when bot cannot trade it (inactive, or no usable step).
 * Fees: the account's rates where known (`fees`), else the market's, else the exchange's defaults.
 */
export function marketInfoOf(symbol: string, m: Market, precisionMode: number, modes: PrecisionModes, fees: FeeRates | undefined, defaults: Partial<FeeRates>): MarketInfo | null {
  if (m.active === false) return null
  const amountStep = stepOf(m.precision?.amount, precisionMode, modes)
  const priceStep = stepOf(m.precision?.price, precisionMode, modes)
  if (amountStep === null || priceStep === null) return null
  const maker = fees?.maker ?? finite(m.maker) ?? defaults.maker ?? 0
  const taker = fees?.taker ?? finite(m.taker) ?? defaults.taker ?? 0
  return {
    symbol,
    base: m.base,
    quote: m.quote,
    amountStep,
    priceStep,
    minAmount: finite(m.limits?.amount?.min) ?? amountStep,
    minNotional: finite(m.limits?.cost?.min) ?? 0,
    maxAmount: finite(m.limits?.amount?.max) ?? null,
    makerBps: tidy(maker * 1e4),
    takerBps: tidy(taker * 1e4),
  }
}

export interface OrderContext {
  /** Bot's symbol of the order (ccxt's is mapped by the caller). */
  symbol: string
  base: string
  profile: VenueProfile
  /** What bot asked for, when this process placed the order: a quote-sized buy has no base amount. */
  requestedAmount?: number
  /** Local stand-in for a missing creation time. */
  now: number
}

/** Fees in quote currency: ccxt gives a cost (sometimes a string) per currency; base fees are valued at the fill price. */
function feeInQuote(o: Order, base: string, average: number | null): number {
  const listed = (o as {fees?: Order['fee'][]}).fees
  const fees = listed && listed.length > 0 ? listed : o.fee ? [o.fee] : []
  let total = 0
  for (const f of fees) {
    const cost = num(f?.cost) ?? 0
    total += f?.currency === base ? cost * (average ?? 0) : cost
  }

  return tidy(total)
}

/**
 * An order as bot's OrderState. An order without id or side is a broken answer (retryable), never an
 * order: bot would file it under a wrong or empty id.
 */
export function orderStateOf(o: Order, ctx: OrderContext): OrderState {
  if (typeof o.id !== 'string' || o.id === '') throw new ExchangeError(`the exchange returned an order without an id for ${ctx.symbol}`, 'retryable', 'BAD_RESPONSE')
  const side = o.side as Side | undefined
  if (side !== 'buy' && side !== 'sell') throw new ExchangeError(`the exchange returned order ${o.id} without a side`, 'retryable', 'BAD_RESPONSE')
  const status = ctx.profile.orderStatus(o)
  const filled = num(o.filled) ?? 0
  const cost = num(o.cost)
  const reported = num(o.average)
  const averagePrice = filled > 0 ? (reported !== undefined && reported > 0 ? reported : cost !== undefined ? cost / filled : null) : null
  // A quote-sized market buy has no base amount of its own (ccxt fills in what filled): what bot asked for.
  const amount = (ctx.profile.quoteSized(o) ? ctx.requestedAmount : undefined) ?? num(o.amount) ?? ctx.requestedAmount ?? filled
  const createdAt = num(o.timestamp) ?? ctx.now
  return {
    id: o.id,
    clientOrderId: o.clientOrderId ?? '',
    symbol: ctx.symbol,
    side,
    type: o.type === 'limit' ? 'limit' : 'market',
    amount,
    price: o.type === 'limit' ? (num(o.price) ?? null) : null,
    filled,
    averagePrice,
    fee: feeInQuote(o, ctx.base, averagePrice),
    status,
    reason: status === 'rejected' ? (ctx.profile.orderReason(o) ?? 'REJECTED') : null,
    createdAt,
    updatedAt: num(o.lastUpdateTimestamp) ?? num(o.lastTradeTimestamp) ?? createdAt,
  }
}
