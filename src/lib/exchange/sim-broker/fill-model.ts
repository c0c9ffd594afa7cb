import type {Candle, ConvertQuote, ConvertResult, MarketInfo, OrderState} from '../../domain.js'
import {addTidy, stepsOf, tidy} from '../precision.js'
import type {Ledger} from './ledger.js'

/** An order as the simulated broker keeps it: the public state plus what the fill model needs. */
export interface SimOrder extends OrderState {
  seq: number
  /** Still reserved for this order: quote currency for a buy, base currency for a sell. */
  reserved: number
  /** Half the bid/ask spread when it was placed, in bps: a market order crosses it when it fills. */
  halfSpreadBps: number
  /** Open time of the last bar it was matched against (createdAt - 1 before any). */
  lastBar: number
}

/** One execution, as the simulated broker records it. */
export interface SimFill {
  seq: number
  orderId: string
  clientOrderId: string
  symbol: string
  side: 'buy' | 'sell'
  amount: number
  price: number
  /** Quote currency. */
  fee: number
  time: number
}

export interface Execution {
  amount: number
  price: number
  fee: number
}

/** The price this order trades at on `bar` and its fee rate, or null when the bar does not reach the limit. */
export function fillTerms(order: SimOrder, bar: Candle, market: MarketInfo, slippageBps: number): {price: number; feeBps: number} | null {
  const buy = order.side === 'buy'
  if (order.type === 'market') {
    const m = (order.halfSpreadBps + slippageBps) / 1e4
    return {price: bar.open * (buy ? 1 + m : 1 - m), feeBps: market.takerBps}
  }

  const limit = order.price!
  if (buy) return bar.low <= limit ? {price: Math.min(bar.open, limit), feeBps: market.makerBps} : null
  return bar.high >= limit ? {price: Math.max(bar.open, limit), feeBps: market.makerBps} : null
}

/** Whole amount steps a buy can pay for out of its reservation plus free quote. */
function affordableSteps(order: SimOrder, step: number, price: number, feeBps: number, freeQuote: number): number {
  const perStep = step * price * (1 + feeBps / 1e4)
  return Math.floor((order.reserved + freeQuote) / perStep + 1e-9)
}

/**
 * Executes up to `capSteps` amount steps of `order` at `price`: moves balances, consumes its reservation
 * and updates its cumulative figures. Returns what executed (null if nothing could) and whether a buy ran
 * out of funds.
 */
export function execute(order: SimOrder, market: MarketInfo, capSteps: number, terms: {price: number; feeBps: number}, ledger: Ledger): {exec: Execution | null; starved: boolean} {
  const step = market.amountStep
  const remainingSteps = Math.round((order.amount - order.filled) / step)
  let n = Math.min(remainingSteps, capSteps)
  let starved = false
  if (order.side === 'buy') {
    const afford = affordableSteps(order, step, terms.price, terms.feeBps, ledger.free(market.quote))
    if (afford < n) [n, starved] = [afford, true]
  }

  if (n <= 0) return {exec: null, starved}
  const amount = n === remainingSteps ? tidy(order.amount - order.filled) : tidy(n * step)
  const value = amount * terms.price
  // A fee never exceeds what the fill is worth: a sell can never take the quote balance down.
  const fee = Math.min(value, (value * terms.feeBps) / 1e4)
  if (order.side === 'buy') {
    const fromReserve = Math.min(order.reserved, value + fee)
    order.reserved = addTidy(order.reserved, -fromReserve)
    ledger.hold(market.quote, -fromReserve)
    ledger.move(market.quote, -(value + fee))
    ledger.move(market.base, amount)
  } else {
    order.reserved = addTidy(order.reserved, -amount)
    ledger.hold(market.base, -amount)
    ledger.move(market.base, -amount)
    ledger.move(market.quote, value - fee)
  }

  const before = order.filled
  order.filled = n === remainingSteps ? order.amount : tidy(before + amount)
  order.averagePrice = ((order.averagePrice ?? 0) * before + terms.price * amount) / (before + amount)
  order.fee += fee
  return {exec: {amount, price: terms.price, fee}, starved}
}

/** Ends an order (closed or canceled) and gives back whatever it still holds. */
export function finish(order: SimOrder, status: 'closed' | 'canceled', reason: string | null, ledger: Ledger, market: {base: string; quote: string}, now: number): void {
  ledger.hold(order.side === 'buy' ? market.quote : market.base, -order.reserved)
  order.reserved = 0
  order.status = status
  order.reason = reason
  order.updatedAt = now
}

/** Why the exchange refuses this order outright (null = acceptable); `last` prices a market order. */
export function orderProblem(o: SimOrder, info: MarketInfo, last: number): string | null {
  if (!(o.amount > 0) || !Number.isFinite(o.amount) || stepsOf(o.amount, info.amountStep) < 1) return 'INVALID_AMOUNT'
  if (o.type === 'limit' && (o.price === null || !(o.price > 0) || stepsOf(o.price, info.priceStep) < 1)) {
    return 'INVALID_PRICE'
  }

  return o.amount * (o.price ?? last) < info.minNotional ? 'BELOW_MIN_NOTIONAL' : null
}

/** Quote a buy may spend (at the ask, with slippage and fee), or the base a sell delivers. */
export function reservationFor(o: SimOrder, ask: number, info: MarketInfo, slippageBps: number): number {
  if (o.side === 'sell') return o.amount
  if (o.type === 'limit') return o.amount * o.price! * (1 + info.makerBps / 1e4)
  return o.amount * ask * (1 + (slippageBps + info.takerBps) / 1e4)
}

export function publicState(o: SimOrder): OrderState {
  const {seq: _seq, reserved: _reserved, halfSpreadBps: _spread, lastBar: _lastBar, ...state} = o
  return state
}

/** A convert at the mid less the fee; the fee is in quote currency either way. */
export function convertTerms(fromAmount: number, fromQuote: boolean, mid: number, feeBps: number): {toAmount: number; fee: number} {
  const grossQuote = fromQuote ? fromAmount : fromAmount * mid
  const fee = (grossQuote * feeBps) / 1e4
  return {toAmount: fromQuote ? (grossQuote - fee) / mid : grossQuote - fee, fee}
}

/** The outcome of committing `q` now; moves the balances when it completes. Failed results moved nothing. */
export function commitConvert(q: ConvertQuote, now: number, fault: boolean, ledger: Ledger): ConvertResult {
  const failed = (reason: string): ConvertResult => ({quoteId: q.id, status: 'failed', fromAmount: 0, toAmount: 0, reason})
  if (fault) return failed('SIM_FAULT')
  if (now > q.expiresAt) return failed('QUOTE_EXPIRED')
  if (q.fromAmount > ledger.free(q.from)) return failed('INSUFFICIENT_FUNDS')
  ledger.move(q.from, -q.fromAmount)
  ledger.move(q.to, q.toAmount)
  return {quoteId: q.id, status: 'completed', fromAmount: q.fromAmount, toAmount: q.toAmount, reason: null}
}
