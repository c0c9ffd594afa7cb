import type {PolicyConfig} from '../config/schema/policy.js'
import type {MarketSnapshot, PortfolioSnapshot} from '../market/snapshot.js'
import {positionCapPct} from '../risk/caps.js'
import {buyCostRate, type Denial, evaluateOrder, type ProposedOrder, type RiskContext} from '../risk/checks.js'
import {roomUnderCap} from '../risk/exposure.js'
import type {Target} from '../signals/targets.js'
import {floorToStep} from './amounts.js'

/** Why an order is planned: a target's action, or a trim back under the exposure cap. */
export type OrderAction = Target['action'] | 'trim'

export interface PlannedOrder extends ProposedOrder {
  action: OrderAction
  reason: string
}

export interface DeniedOrder extends ProposedOrder {
  action: OrderAction
  denial: Denial
}

export interface RecentIntent {
  clientOrderId: string
  symbol: string
  side: 'buy' | 'sell'
  amount: number
  time: number
}

export interface PlanInput {
  targets: readonly Target[]
  market: MarketSnapshot
  portfolio: PortfolioSnapshot
  committed: ReadonlyMap<string, number>
  atRisk: number
  policy: PolicyConfig
  recentIntents: readonly RecentIntent[]
}

export interface OrderPlan {
  orders: PlannedOrder[]
  denied: DeniedOrder[]
  /** Exposure (% of equity) once every planned order is on the book. */
  exposureAfterPct: number
}

/**
 * Targets -> orders that pass every pre-trade check. Sells first (they only reduce risk), then buys sized
 * to the room left under the total cap, the position cap, the order limit and free cash. Pure.
 */
export function planOrders(input: PlanInput): OrderPlan {
  const {portfolio, market, policy} = input
  const orders: PlannedOrder[] = []
  const denied: DeniedOrder[] = []
  const room = {atRisk: input.atRisk, cashFree: portfolio.cashFree}
  const context = (o: ProposedOrder) => riskContext(input, o, room, orders.length)
  const submit = (target: Target, order: ProposedOrder, fallback?: ProposedOrder) => {
    const denial = evaluateOrder(order, context(order))
    if (!denial) {
      orders.push({...order, action: target.action, reason: target.reason})
      if (order.side === 'buy') {
        room.atRisk += order.amount * order.price
        room.cashFree -= order.amount * order.price * (1 + market.markets.get(order.symbol)!.takerBps / 1e4)
      }

      return
    }

    const shown = fallback ?? order
    denied.push({...shown, action: target.action, denial: fallback ? evaluateOrder(fallback, context(fallback)) ?? denial : denial})
  }

  for (const target of input.targets) {
    if (target.action !== 'exit' && target.action !== 'reduce') continue
    const sell = sizeSell(target, input)
    if (sell) submit(target, sell)
  }

  for (const target of input.targets) {
    if (target.action !== 'enter') continue
    const buy = sizeBuy(target, input, room.atRisk, room.cashFree)
    if (buy) submit(target, buy.clipped, buy.clipped.amount * buy.clipped.price < policy.risk.min_order_notional ? buy.wanted : undefined)
  }

  return {orders, denied, exposureAfterPct: portfolio.equity > 0 ? (room.atRisk / portfolio.equity) * 100 : 0}
}

/** What the pre-trade checks see for `o`, given the room the orders planned before it have left. */
function riskContext(input: PlanInput, o: ProposedOrder, room: {atRisk: number; cashFree: number}, ordersThisCycle: number): RiskContext {
  const {market, portfolio, policy} = input
  return {
    policy, now: market.time, equity: portfolio.equity, atRisk: room.atRisk, cashFree: room.cashFree,
    positionValue: input.committed.get(o.symbol) ?? 0, positionCapPct: positionCapPct(policy, o.symbol, o.tier),
    ordersThisCycle, market: market.markets.get(o.symbol), ticker: market.tickers.get(o.symbol),
    duplicateOf: duplicateOf(o, input), unpriced: portfolio.unpriced, suspect: market.suspect.get(o.symbol) ?? null,
  }
}

/**
 * A trim's sells added to a plan: each through the same pre-trade checks, after the plan's own orders (the
 * order budget counts them all). Sells take no room, so what the plan left is unchanged. Pure.
 */
export function addTrimSells(plan: OrderPlan, sells: readonly {symbol: string; tier: string; amount: number; price: number; reason: string}[], input: PlanInput): OrderPlan {
  const orders = [...plan.orders]
  const denied = [...plan.denied]
  const room = {atRisk: input.atRisk, cashFree: input.portfolio.cashFree}
  for (const s of sells) {
    const order: ProposedOrder = {symbol: s.symbol, tier: s.tier, side: 'sell', amount: s.amount, price: s.price}
    const denial = evaluateOrder(order, riskContext(input, order, room, orders.length))
    if (denial) denied.push({...order, action: 'trim', denial})
    else orders.push({...order, action: 'trim', reason: s.reason})
  }

  return {...plan, orders, denied}
}

function sizeSell(target: Target, input: PlanInput): ProposedOrder | null {
  const holding = input.portfolio.holdings.get(target.symbol)
  const m = input.market.markets.get(target.symbol)
  const t = input.market.tickers.get(target.symbol)
  if (!holding || !m || !t) return null
  const {min_order_notional: min, max_order_notional: max} = input.policy.risk
  const wanted = target.action === 'exit' ? holding.free : (holding.value - target.value) / t.bid
  let amount = Math.min(wanted, holding.free)
  // Never leave a remainder too small to sell later.
  if ((holding.free - amount) * t.bid < min) amount = holding.free
  // The order size limit binds sells too: a large exit goes out one max_order_notional slice per cycle.
  if (amount * t.bid > max) amount = Math.min(max / t.bid, Math.max(0, holding.free - min / t.bid))
  amount = floorToStep(amount, m.amountStep)
  return amount > 0 ? {symbol: target.symbol, tier: target.tier, side: 'sell', amount, price: t.bid} : null
}

function sizeBuy(target: Target, input: PlanInput, atRisk: number, cashFree: number): {wanted: ProposedOrder; clipped: ProposedOrder} | null {
  const m = input.market.markets.get(target.symbol)
  const t = input.market.tickers.get(target.symbol)
  if (!m || !t) return null
  const {policy, portfolio} = input
  const equity = portfolio.equity
  const want = Math.min(target.value - (input.committed.get(target.symbol) ?? 0), policy.risk.max_order_notional)
  if (want <= 0) return null
  const rooms = [
    want,
    roomUnderCap(policy.risk.max_total_at_risk_pct, atRisk, equity, buyCostRate(t.ask, t.last, m.takerBps)),
    (positionCapPct(policy, target.symbol, target.tier) / 100) * equity - (input.committed.get(target.symbol) ?? 0),
    cashFree / (1 + m.takerBps / 1e4),
  ]
  const notional = Math.max(0, Math.min(...rooms))
  const order = (n: number): ProposedOrder => ({symbol: target.symbol, tier: target.tier, side: 'buy', amount: floorToStep(n / t.ask, m.amountStep), price: t.ask})
  return {wanted: order(want), clipped: order(notional)}
}

function duplicateOf(o: ProposedOrder, input: PlanInput): string | null {
  const open = input.portfolio.openOrders.find((x) => x.symbol === o.symbol && x.status === 'open')
  if (open) return `open ${open.side} order ${open.clientOrderId}`
  const windowMs = input.policy.risk.duplicate_window_seconds * 1000
  const recent = input.recentIntents.find((i) => i.symbol === o.symbol && i.side === o.side && Math.abs(i.amount - o.amount) <= o.amount * 1e-9 && input.market.time - i.time < windowMs)
  return recent ? `order ${recent.clientOrderId} sent ${((input.market.time - recent.time) / 1000).toFixed(0)} s ago` : null
}
