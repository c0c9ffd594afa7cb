import type {PolicyConfig} from '../config/schema/policy.js'
import type {Side} from '../domain.js'
import type {MarketSnapshot, PortfolioSnapshot} from '../market/snapshot.js'
import {positionCapPct} from '../risk/caps.js'
import {buyCostRate, type Denial, evaluateOrder, type ProposedOrder, type RiskContext} from '../risk/checks.js'
import {roomUnderCap} from '../risk/exposure.js'
import type {Target} from '../signals/targets.js'
import {floorToStep} from './amounts.js'

/** Why an order is planned: a target's action, a trim back under the exposure cap, or `bot convert`. */
export type OrderAction = Target['action'] | 'trim' | 'convert'

export interface PlannedOrder extends ProposedOrder {
  action: OrderAction
  reason: string
  /** A slice of this TWAP schedule (already routed: it goes out as a market order). */
  scheduleId?: string
  /** Not an order: a convert between a coin with no market and the quote currency; `amount` is of `from`. */
  convertOnly?: {from: string; to: string}
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
function riskContext(input: PlanInput, o: ProposedOrder, room: {atRisk: number; cashFree: number}, ordersThisCycle: number, reserved = 0): RiskContext {
  const {market, portfolio, policy} = input
  return {
    policy, now: market.time, equity: portfolio.equity, atRisk: room.atRisk, cashFree: room.cashFree, freeToSell: freeToSell(portfolio, o.symbol, reserved),
    positionValue: input.committed.get(o.symbol) ?? 0, positionCapPct: positionCapPct(policy, o.symbol, o.tier),
    ordersThisCycle, market: market.markets.get(o.symbol), ticker: market.tickers.get(o.symbol),
    duplicateOf: duplicateOf(o, input), unpriced: portfolio.unpriced, suspect: market.suspect.get(o.symbol) ?? null,
  }
}

/** A sell may take what is free, plus what was held back for it (never more than the exchange has free). */
function freeToSell(portfolio: PortfolioSnapshot, symbol: string, reserved: number): number {
  const h = portfolio.holdings.get(symbol)
  return h ? h.free + Math.min(reserved, h.heldBack) : 0
}

/** An order of a known size to add to a plan: a trim's sell, a TWAP slice, the legs of `bot convert`. */
export interface ExtraOrder {
  symbol: string
  tier: string
  side: Side
  amount: number
  price: number
  action: OrderAction
  reason: string
  /** The TWAP schedule this sell is a slice of. */
  scheduleId?: string
  /** Base units held back from `free` for this sell (what its schedule has not sent yet). */
  reserved?: number
  /** See PlannedOrder.convertOnly: no market, so none of the order checks applies; the caller checked the funds. */
  convertOnly?: {from: string; to: string}
}

/**
 * Orders of a known size added to a plan (a trim's sells, TWAP slices, a conversion's legs): each through the
 * same pre-trade checks, after the plan's own orders (the order budget counts them all). Unlike the
 * strategy's buys they are not clipped to the room left: one that does not fit is denied with the check's
 * code. A sell added here frees its room for a buy after it (a conversion's second leg). Pure.
 */
export function addOrders(plan: OrderPlan, extra: readonly ExtraOrder[], input: PlanInput): OrderPlan {
  const orders = [...plan.orders]
  const denied = [...plan.denied]
  // What the plan's own buys already took.
  const taker = (symbol: string) => (input.market.markets.get(symbol)?.takerBps ?? 0) / 1e4
  const planBuys = plan.orders.filter((o) => o.side === 'buy')
  const room = {
    atRisk: input.atRisk + planBuys.reduce((n, o) => n + o.amount * o.price, 0),
    cashFree: input.portfolio.cashFree - planBuys.reduce((n, o) => n + o.amount * o.price * (1 + taker(o.symbol)), 0),
  }
  for (const x of extra) {
    const order: ProposedOrder = {symbol: x.symbol, tier: x.tier, side: x.side, amount: x.amount, price: x.price}
    if (x.convertOnly) {
      orders.push({...order, action: x.action, reason: x.reason, convertOnly: x.convertOnly})
      continue
    }

    const denial = evaluateOrder(order, riskContext(input, order, room, orders.length, x.reserved))
    if (denial) {
      denied.push({...order, action: x.action, denial})
      continue
    }

    orders.push({...order, action: x.action, reason: x.reason, ...(x.scheduleId ? {scheduleId: x.scheduleId} : {})})
    const value = x.amount * x.price
    const fee = taker(x.symbol)
    room.atRisk += x.side === 'buy' ? value : -value
    room.cashFree += x.side === 'buy' ? -value * (1 + fee) : value * (1 - fee)
  }

  // As in planOrders: buys add to the exposure after the plan, sells are not counted until they fill.
  const bought = orders.slice(plan.orders.length).reduce((n, o) => n + (o.side === 'buy' ? o.amount * o.price : 0), 0)
  const {equity} = input.portfolio
  return {orders, denied, exposureAfterPct: plan.exposureAfterPct + (equity > 0 ? (bought / equity) * 100 : 0)}
}

function sizeSell(target: Target, input: PlanInput): ProposedOrder | null {
  const holding = input.portfolio.holdings.get(target.symbol)
  const m = input.market.markets.get(target.symbol)
  const t = input.market.tickers.get(target.symbol)
  if (!holding || !m || !t) return null
  const {min_order_notional: min, max_order_notional: max} = input.policy.risk
  // A reduce counts only what no sell already on its way (an open order, a TWAP schedule) will take.
  const wanted = target.action === 'exit' ? holding.free : (holding.free * holding.price - target.value) / t.bid
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
