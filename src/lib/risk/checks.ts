import type {PolicyConfig} from '../config/schema/policy.js'
import type {MarketInfo, Side, Ticker} from '../domain.js'
import {isMultipleOf} from '../execution/amounts.js'
import {exposureAfterBuyPct} from './exposure.js'

/** Stable denial codes: the same strings appear in the audit log, the output and metric labels. */
export type DenialCode =
  | 'EXPOSURE_CAP' | 'TIER_POSITION_CAP' | 'MIN_NOTIONAL' | 'MAX_ORDER_NOTIONAL' | 'PRICE_COLLAR'
  | 'ORDER_BUDGET' | 'DUPLICATE_ORDER' | 'STALE_QUOTE' | 'INSUFFICIENT_FUNDS' | 'PRECISION' | 'NO_MARKET' | 'UNPRICED_HOLDINGS'
  | 'SUSPECT_PRICE'

export interface Denial {
  code: DenialCode
  message: string
}

export interface ProposedOrder {
  symbol: string
  tier: string
  side: Side
  amount: number
  /** Expected execution price (ask for buys, bid for sells). */
  price: number
}

/** Everything a check may look at; `atRisk`, `orders` and `cashFree` already include orders approved earlier this cycle. */
export interface RiskContext {
  policy: PolicyConfig
  now: number
  equity: number
  atRisk: number
  /** This symbol's holding value plus its open buys. */
  positionValue: number
  positionCapPct: number
  ordersThisCycle: number
  cashFree: number
  /** Base units a sell may take: the free holding, plus what was held back for it (a TWAP schedule's). */
  freeToSell: number
  market: MarketInfo | undefined
  ticker: Ticker | undefined
  /** Open orders or recent intents on the same symbol and side with this amount, or any open order on it. */
  duplicateOf: string | null
  /** Held currencies without a price (see PortfolioSnapshot.unpriced). */
  unpriced: readonly string[]
  /** Why this symbol's price is suspect this cycle, or null. */
  suspect: string | null
}

type Check = (o: ProposedOrder, c: RiskContext) => Denial | null
const deny = (code: DenialCode, message: string): Denial => ({code, message})
const notional = (o: ProposedOrder) => o.amount * o.price
const money = (n: number) => n.toFixed(2)

export const checkMarket: Check = (o, c) => (c.market && c.ticker ? null : deny('NO_MARKET', `${o.symbol} has no market or price`))

export const checkSuspectPrice: Check = (o, c) => (c.suspect ? deny('SUSPECT_PRICE', `${o.symbol}: ${c.suspect}`) : null)

export const checkOrderBudget: Check = (_o, c) =>
  c.ordersThisCycle >= c.policy.risk.max_orders_per_cycle ? deny('ORDER_BUDGET', `already ${c.ordersThisCycle} orders this cycle (max_orders_per_cycle)`) : null

export const checkPrecision: Check = (o, c) =>
  !(o.amount > 0) || !isMultipleOf(o.amount, c.market!.amountStep) || o.amount < c.market!.minAmount
    ? deny('PRECISION', `amount ${o.amount} is not a positive multiple of ${c.market!.amountStep} >= ${c.market!.minAmount}`)
    : null

export const checkMinNotional: Check = (o, c) => {
  const min = Math.max(c.policy.risk.min_order_notional, c.market!.minNotional)
  return notional(o) < min ? deny('MIN_NOTIONAL', `notional ${money(notional(o))} < minimum ${money(min)}`) : null
}

export const checkMaxNotional: Check = (o, c) =>
  notional(o) > c.policy.risk.max_order_notional ? deny('MAX_ORDER_NOTIONAL', `notional ${money(notional(o))} > max_order_notional ${c.policy.risk.max_order_notional}`) : null

export const checkStaleQuote: Check = (_o, c) => {
  const age = (c.now - c.ticker!.timestamp) / 1000
  return age > c.policy.risk.max_quote_age_seconds ? deny('STALE_QUOTE', `price is ${age.toFixed(0)} s old (max_quote_age_seconds ${c.policy.risk.max_quote_age_seconds})`) : null
}

export const checkPriceCollar: Check = (o, c) => {
  const mid = (c.ticker!.bid + c.ticker!.ask) / 2
  const off = (Math.abs(o.price - mid) / mid) * 100
  return off > c.policy.risk.price_collar_pct ? deny('PRICE_COLLAR', `price ${o.price} is ${off.toFixed(2)}% from mid ${mid} (price_collar_pct ${c.policy.risk.price_collar_pct})`) : null
}

/** Fees and the spread paid leave equity after a buy: part of a buy's cost that is not held afterwards. */
export function buyCostRate(price: number, last: number, takerFeeBps: number): number {
  return takerFeeBps / 1e4 + Math.max(0, (price - last) / price)
}

/** Buys only (sells always reduce exposure), measured against equity after the buy's own costs. */
export const checkExposureCap: Check = (o, c) => {
  if (o.side !== 'buy') return null
  const after = exposureAfterBuyPct(c.atRisk, c.equity, notional(o), buyCostRate(o.price, c.ticker!.last, c.market!.takerBps))
  const cap = c.policy.risk.max_total_at_risk_pct
  return !(after >= 0 && after <= cap) ? deny('EXPOSURE_CAP', `exposure would be ${after.toFixed(2)}% > cap ${cap}%`) : null
}

export const checkUnpriced: Check = (o, c) =>
  o.side === 'buy' && c.unpriced.length > 0 ? deny('UNPRICED_HOLDINGS', `no price for held ${c.unpriced.join(', ')}: exposure cannot be measured, so buys wait`) : null

export const checkPositionCap: Check = (o, c) => {
  if (o.side !== 'buy') return null
  const after = ((c.positionValue + notional(o)) / c.equity) * 100
  return after > c.positionCapPct ? deny('TIER_POSITION_CAP', `${o.symbol} would be ${after.toFixed(2)}% of equity > its ${c.positionCapPct}% cap`) : null
}

export const checkFunds: Check = (o, c) => {
  if (o.side === 'sell') return o.amount > c.freeToSell * (1 + 1e-9) ? deny('INSUFFICIENT_FUNDS', `sells ${o.amount} ${c.market!.base}, ${c.freeToSell} free`) : null
  const cost = notional(o) * (1 + c.market!.takerBps / 1e4)
  return cost > c.cashFree ? deny('INSUFFICIENT_FUNDS', `needs ${money(cost)} ${c.market!.quote}, ${money(c.cashFree)} free`) : null
}

export const checkDuplicate: Check = (_o, c) => (c.duplicateOf ? deny('DUPLICATE_ORDER', `same as ${c.duplicateOf}`) : null)

/**
 * In order: the first denial wins. Nothing reaches the exchange without passing all of them. (The kill switch
 * is not one of them: it stops planning altogether and is checked again before every send.)
 */
export const PRE_TRADE_CHECKS: readonly Check[] = [
  checkMarket, checkSuspectPrice, checkOrderBudget, checkDuplicate, checkPrecision, checkMinNotional, checkMaxNotional,
  checkStaleQuote, checkPriceCollar, checkUnpriced, checkExposureCap, checkPositionCap, checkFunds,
]

export function evaluateOrder(order: ProposedOrder, context: RiskContext): Denial | null {
  for (const check of PRE_TRADE_CHECKS) {
    const denial = check(order, context)
    if (denial) return denial
  }

  return null
}
