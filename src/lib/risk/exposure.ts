import type {OrderState} from '../domain.js'
import type {PortfolioSnapshot} from '../market/snapshot.js'

/**
 * The one definition of exposure: value of non-cash holdings plus the unfilled part of open buys, as % of
 * equity. Open buys count because they become holdings without another decision.
 */
export function atRiskValue(portfolio: PortfolioSnapshot, priceOf: (symbol: string) => number | undefined): number {
  let value = 0
  for (const h of portfolio.holdings.values()) value += h.value
  for (const o of portfolio.openOrders) value += openBuyNotional(o, priceOf)
  return value
}

export function openBuyNotional(order: OrderState, priceOf: (symbol: string) => number | undefined): number {
  if (order.side !== 'buy' || order.status !== 'open') return 0
  const price = order.price ?? priceOf(order.symbol) ?? 0
  return Math.max(0, order.amount - order.filled) * price
}

export function exposurePct(atRisk: number, equity: number): number {
  return equity > 0 ? (atRisk / equity) * 100 : atRisk > 0 ? Number.POSITIVE_INFINITY : 0
}

/**
 * The exposure cap's inequality, in one place. A buy of notional n costs fees and spread (costRate of n) that
 * leave equity, so afterwards exposure is (atRisk + n) / (equity - n * costRate).
 */
export function exposureAfterBuyPct(atRisk: number, equity: number, notional: number, costRate: number): number {
  return ((atRisk + notional) / (equity - notional * costRate)) * 100
}

/** The largest buy notional that keeps exposure at or under `capPct`: the same inequality solved for n. */
export function roomUnderCap(capPct: number, atRisk: number, equity: number, costRate: number): number {
  const cap = capPct / 100
  return (cap * equity - atRisk) / (1 + cap * costRate)
}

/**
 * A sell takes `value` (the holding's valuation of what is sold) off exposure, and its fee and the gap
 * between the bid and that valuation (costRate of value) leave equity: (atRisk - value) / (equity - value * costRate).
 */
export function exposureAfterSellPct(atRisk: number, equity: number, value: number, costRate: number): number {
  return ((atRisk - value) / (equity - value * costRate)) * 100
}

/** The sell value that brings exposure down to exactly `targetPct`: the same inequality solved for value. */
export function sellToTarget(targetPct: number, atRisk: number, equity: number, costRate: number): number {
  const target = targetPct / 100
  return (atRisk - target * equity) / (1 - target * costRate)
}
