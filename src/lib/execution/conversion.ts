import type {PolicyConfig} from '../config/schema/policy.js'
import type {MarketInfo} from '../domain.js'
import type {Denial} from '../risk/checks.js'
import {addOrders, type DeniedOrder, type ExtraOrder, type PlanInput} from './plan.js'
import {type MarketLeg, nextSlice, planRoute, type Route} from './route.js'

/** `bot convert FROM TO --amount X|all`, as asked. */
export interface ConvertRequest {
  from: string
  to: string
  /** Of `from`; 'all' = everything of it that is free. */
  amount: number | 'all'
}

/** A conversion sized from one snapshot: its route, and the first leg's order once it passed the checks. */
export interface PlannedConversion {
  /** Of `from`, resolved ('all' = what is free). */
  amount: number
  route: Route
  /** The first leg's order (a coin-to-coin second leg waits for the first's proceeds). Empty when denied. */
  orders: ExtraOrder[]
  /** A leg the pre-trade checks refused: nothing of the conversion is sent. */
  denied: DeniedOrder[]
  /** Why no route exists, or why there is nothing to convert. */
  problem: string | null
}

export interface ConversionInput {
  request: ConvertRequest
  /** What the loop's checks see (PlanInput of an empty decision). */
  plan: PlanInput
  quote: string
  tierOf: (symbol: string) => string | undefined
  convertOffered: boolean
}

/**
 * Sizes and routes a conversion from one snapshot and runs its legs through the loop's pre-trade checks,
 * all legs at once (a sell frees room for the buy after it): when any leg would be denied, nothing is sent,
 * so a coin-to-coin conversion never stops half-way on a check it could have known. Pure.
 */
export function planConversion(input: ConversionInput): PlannedConversion {
  const {request, plan, quote} = input
  const {portfolio, market, policy} = plan
  const free = request.from === quote ? portfolio.cashFree : portfolio.holdings.get(`${request.from}-${quote}`)?.free ?? 0
  const amount = request.amount === 'all' ? free : request.amount
  const route = planRoute({
    from: request.from, to: request.to, amount, quote, markets: market.markets, tickers: market.tickers,
    tierOf: input.tierOf, policy, convertOffered: input.convertOffered,
  })
  const none = (problem: string | null, denied: DeniedOrder[] = []): PlannedConversion => ({amount, route, orders: [], denied, problem})
  if (request.amount === 'all' && !(free > 0)) return none(`no free ${request.from} to convert`)
  if (route.problem) return none(route.problem)
  if (route.legs.length === 0) {
    // Convert only (a coin with no market): no order check applies, but never more than is free.
    const coin = request.from === quote ? request.to : request.from
    const order: ExtraOrder = {symbol: `${coin}-${quote}`, tier: 'default', side: request.from === quote ? 'buy' : 'sell', amount, price: 0, action: 'convert', reason: `bot convert ${request.from} -> ${request.to}`, convertOnly: {from: request.from, to: request.to}}
    if (amount > free * (1 + 1e-9)) return none(null, [{...order, denial: {code: 'INSUFFICIENT_FUNDS', message: `converts ${amount} ${request.from}, ${free} free`}}])
    return {amount, route, orders: [order], denied: [], problem: null}
  }

  const legs = route.legs.map((l) => legOrder(l, request))
  const checked = addOrders({orders: [], denied: [], exposureAfterPct: 0}, legs, plan)
  if (checked.denied.length > 0) return none(null, checked.denied)
  return {amount, route, orders: legs.slice(0, 1), denied: [], problem: null}
}

/** A leg as an order for the checks: the route's size at the route's price. */
export function legOrder(leg: MarketLeg, request: ConvertRequest): ExtraOrder {
  return {symbol: leg.symbol, tier: leg.tier, side: leg.side, amount: leg.amount, price: leg.price, action: 'convert', reason: `bot convert ${request.from} -> ${request.to}`}
}

/** The slices a TWAP leg would be cut into at today's price (for a dry run): amounts, and dust left if any. */
export function previewSlices(leg: MarketLeg, market: MarketInfo, policy: PolicyConfig): {amounts: number[]; dust: number} {
  const amounts: number[] = []
  let remaining = leg.amount
  for (let left = leg.slices; left > 0 && remaining > 0; left--) {
    const slice = nextSlice({remaining, slicesLeft: left, price: leg.price, market, minSliceNotional: policy.execution.min_slice_notional})
    if (slice.dust) return {amounts, dust: remaining}
    amounts.push(slice.amount)
    remaining = Math.max(0, remaining - slice.amount)
  }

  return {amounts, dust: 0}
}

/** The first denial of a planned conversion, for its one-line answer. */
export const denialOf = (c: PlannedConversion): Denial | null => c.denied[0]?.denial ?? null
