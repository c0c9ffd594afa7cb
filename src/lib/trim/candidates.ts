import type {PolicyConfig} from '../config/schema/policy.js'
import type {MarketInfo, OrderState, Ticker} from '../domain.js'
import {ceilToStep, floorToStep} from '../execution/amounts.js'
import type {Holding} from '../market/snapshot.js'

/** Which holdings a trim sells first (`portfolio_management.trim_order`). */
export type TrimOrder = PolicyConfig['portfolio_management']['trim_order']

/**
 * Stable codes for a holding a trim cannot sell; the same strings go to the audit log, the output and alerts.
 * ORDER_BUDGET marks a holding that could be sold but was not reached before max_orders_per_cycle ran out.
 */
export type TrimSkipCode =
  | 'EXCLUDED' | 'NO_MARKET' | 'NO_PRICE' | 'SUSPECT_PRICE' | 'LOCKED' | 'OPEN_ORDER' | 'DUST' | 'ORDER_LIMITS'
  | 'ORDER_BUDGET'

export interface TrimSkip {
  symbol: string
  code: TrimSkipCode
  reason: string
}

/** The tier reported for a holding in no tier of universe.yaml (no tier name can contain parentheses). */
export const UNTIERED = '(untiered)'

/** What the skip checks see of one holding. */
export interface HoldingView {
  holding: Holding
  market: MarketInfo | undefined
  ticker: Ticker | undefined
  suspect: string | null
  excluded: boolean
  /** An open order on the symbol, if any. */
  openOrder: OrderState | undefined
  policy: PolicyConfig
}

/** A holding a trim may sell, with what sizing its sells needs. */
export interface Candidate {
  symbol: string
  tier: string
  tiered: boolean
  score: number | null
  /** Position value as the portfolio counts it (total amount at the valuation price). */
  value: number
  free: number
  /** The price the holding is valued at (the ticker's last): what a sold unit takes off exposure. */
  price: number
  bid: number
  step: number
  /** Smallest sellable amount: minAmount, one step and the minimum notional at the bid, on the step grid. */
  minSell: number
  /** Largest amount one sell may have under max_order_notional, on the step grid. */
  maxSell: number
  costRate: number
}

type SkipCheck = (h: HoldingView) => TrimSkip | null
const skip = (h: HoldingView, code: TrimSkipCode, reason: string): TrimSkip => ({symbol: h.holding.symbol, code, reason})
const money = (n: number) => n.toFixed(2)

/**
 * Part of a sell's value (at the valuation price) that leaves equity: the fee, and the gap between the bid
 * and the price the holding is valued at (half the spread when last sits at mid). Never negative: a bid
 * above last is not counted as a gain.
 */
export function sellCostRate(bid: number, last: number, takerBps: number): number {
  return Math.max(0, 1 - (bid / last) * (1 - takerBps / 1e4))
}

export function minNotional(h: HoldingView): number {
  return Math.max(h.policy.risk.min_order_notional, h.market!.minNotional)
}

export function minSellAmount(h: HoldingView): number {
  const m = h.market!
  return Math.max(ceilToStep(m.minAmount, m.amountStep), m.amountStep, ceilToStep(minNotional(h) / h.ticker!.bid, m.amountStep))
}

export function maxSellAmount(h: HoldingView): number {
  return floorToStep(h.policy.risk.max_order_notional / h.ticker!.bid, h.market!.amountStep)
}

export const skipExcluded: SkipCheck = (h) => (h.excluded ? skip(h, 'EXCLUDED', `${h.holding.symbol} is in excluded_symbols: bot never trades it`) : null)

export const skipNoMarket: SkipCheck = (h) => (h.market ? null : skip(h, 'NO_MARKET', `no ${h.holding.symbol} market to sell it on`))

export const skipNoPrice: SkipCheck = (h) =>
  h.ticker && h.ticker.bid > 0 && h.holding.price > 0 ? null : skip(h, 'NO_PRICE', `${h.holding.symbol} has no price (bid or last) this cycle`)

export const skipSuspect: SkipCheck = (h) => (h.suspect ? skip(h, 'SUSPECT_PRICE', `${h.holding.symbol} price is suspect this cycle: ${h.suspect}`) : null)

export const skipLocked: SkipCheck = (h) =>
  h.holding.free > 0 ? null : skip(h, 'LOCKED', `all ${h.holding.amount} ${h.holding.symbol} is reserved by open orders: nothing free to sell`)

// The pre-trade duplicate check denies any order on a symbol with an open order: planning one would only be denied.
export const skipOpenOrder: SkipCheck = (h) =>
  h.openOrder ? skip(h, 'OPEN_ORDER', `open ${h.openOrder.side} order ${h.openOrder.clientOrderId} on ${h.holding.symbol}: a trim sell waits until it is done`) : null

export const skipDust: SkipCheck = (h) => {
  const free = floorToStep(h.holding.free, h.market!.amountStep)
  const min = minSellAmount(h)
  return free < min
    ? skip(h, 'DUST', `free ${h.holding.free} ${h.holding.symbol} (${money(h.holding.free * h.ticker!.bid)} at the bid) is below the smallest sellable order ${min} (minimum ${money(minNotional(h))}, min amount ${h.market!.minAmount}, step ${h.market!.amountStep})`)
    : null
}

export const skipOrderLimits: SkipCheck = (h) =>
  maxSellAmount(h) < minSellAmount(h)
    ? skip(h, 'ORDER_LIMITS', `max_order_notional ${h.policy.risk.max_order_notional} is below the smallest ${h.holding.symbol} order (${money(minSellAmount(h) * h.ticker!.bid)})`)
    : null

/** In order: the first reason wins, so each skipped holding carries the most basic one. */
export const TRIM_SKIP_CHECKS: readonly SkipCheck[] = [
  skipExcluded, skipNoMarket, skipNoPrice, skipSuspect, skipLocked, skipOpenOrder, skipDust, skipOrderLimits,
]

export function skipReason(view: HoldingView): TrimSkip | null {
  for (const check of TRIM_SKIP_CHECKS) {
    const s = check(view)
    if (s) return s
  }

  return null
}

type Compare = (a: Candidate, b: Candidate) => number

/** Lower is weaker; no score (still warming up) is the weakest of all. */
const byWeakest: Compare = (a, b) => (a.score === b.score ? 0 : a.score === null ? -1 : b.score === null ? 1 : a.score - b.score)
const byLargest: Compare = (a, b) => b.value - a.value
// bot's own positions go before coins it does not manage (see plan.ts).
const byTieredFirst: Compare = (a, b) => Number(b.tiered) - Number(a.tiered)
const bySymbol: Compare = (a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0)

export const TRIM_ORDERS: Record<TrimOrder, readonly Compare[]> = {
  weakest_first: [byWeakest, byLargest],
  largest_first: [byLargest, byWeakest],
}

/** Candidates in the order a trim sells them: tiered before untiered, then by `order`, then by symbol. */
export function orderCandidates(candidates: readonly Candidate[], order: TrimOrder): Candidate[] {
  const rules = [byTieredFirst, ...TRIM_ORDERS[order], bySymbol]
  return [...candidates].sort((a, b) => {
    for (const rule of rules) {
      const c = rule(a, b)
      if (c !== 0) return c
    }

    return 0
  })
}
