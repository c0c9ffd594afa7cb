import type {OrderState} from '../exchange/port.js'
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
