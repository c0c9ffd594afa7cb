import type {PolicyConfig} from '../config/schema/policy.js'
import type {MarketInfo, Side, Ticker} from '../domain.js'
import {ceilToStep, floorToStep} from './amounts.js'

/**
 * How "turn amount X of A into B" is done, the predecessor's feature 3: the exchange's convert where it is
 * offered for the pair (retried up to convert_max_attempts), else a market order on the A/B market, or two
 * legs through the quote currency when there is none; a market sell in a tier with `slices > 1` is cut into
 * TWAP slices spaced on the venue's clock. Pure: the caller executes the steps and falls back when a
 * convert fails.
 */
export type RouteKind = 'convert' | 'market' | 'twap'

export interface MarketLeg {
  symbol: string
  side: Side
  /** Base amount; for a buy leg fed by an earlier sell, sized from what that sell brings. */
  amount: number
  price: number
  tier: string
  /** TWAP: how many slices and how far apart; 1 = one market order. */
  slices: number
  spacingMs: number
}

export interface Route {
  from: string
  to: string
  /** Of `from`. */
  amount: number
  route: RouteKind
  /** Try convert first (then `legs` when every attempt fails). */
  convert: boolean
  /** The market legs: the whole route when `convert` is false, the fallback when it is true (none for a coin
   * with no market, that only converts). */
  legs: MarketLeg[]
  /** Why no route exists (unknown market, no price, nothing to sell), or null. */
  problem: string | null
}

export interface RouteInput {
  from: string
  to: string
  amount: number
  quote: string
  markets: ReadonlyMap<string, MarketInfo>
  tickers: ReadonlyMap<string, Ticker>
  tierOf: (symbol: string) => string | undefined
  policy: PolicyConfig
  /** The broker offers convert for this pair (capabilities.convert). */
  convertOffered: boolean
}

export function planRoute(input: RouteInput): Route {
  const {from, to, amount, quote, policy} = input
  const base: Omit<Route, 'route' | 'legs' | 'convert' | 'problem'> = {from, to, amount}
  const fail = (problem: string): Route => ({...base, route: 'market', convert: false, legs: [], problem})
  if (from === to) return fail(`${from} -> ${to} converts nothing`)
  if (!(amount > 0)) return fail(`amount must be > 0, got ${amount}`)
  const legs: MarketLeg[] = []
  const leg = (coin: string, side: Side, amountOfCoin: number | null, quoteAmount: number | null): string | null => {
    const symbol = `${coin}-${quote}`
    const m = input.markets.get(symbol)
    const t = input.tickers.get(symbol)
    if (!m) return `no market ${symbol}`
    if (!t || !(t.bid > 0) || !(t.ask > 0)) return `no price for ${symbol}`
    const tier = input.tierOf(symbol) ?? 'default'
    const twap = side === 'sell' ? policy.execution.twap_by_tier[tier] : undefined
    const price = side === 'sell' ? t.bid : t.ask
    // A buy of a quote amount: what that amount pays for once the taker fee is taken on top.
    const size = amountOfCoin ?? floorToStep(quoteAmount! / (price * (1 + m.takerBps / 1e4)), m.amountStep)
    legs.push({symbol, side, amount: size, price, tier, slices: twap?.slices ?? 1, spacingMs: (twap?.spacing_seconds ?? 0) * 1000})
    return null
  }

  let problem: string | null
  if (to === quote) problem = leg(from, 'sell', amount, null)
  else if (from === quote) problem = leg(to, 'buy', null, amount)
  else {
    // No direct market between two coins: through the quote currency, the buy sized by what the sell brings.
    problem = leg(from, 'sell', amount, null)
    if (!problem) {
      const sell = legs[0]
      const fee = input.markets.get(sell.symbol)!.takerBps / 1e4
      problem = leg(to, 'buy', null, sell.amount * sell.price * (1 - fee))
    }
  }

  // A coin-to-coin convert is not tried: exchanges offer convert against the quote currency (stablecoins).
  const convert = policy.execution.prefer_convert && input.convertOffered && (from === quote || to === quote)
  // A stablecoin often has no market against the quote currency, only convert: then convert is the whole
  // route, with nothing to fall back to.
  if (problem && convert && legs.length === 0 && !input.markets.has(`${from === quote ? to : from}-${quote}`)) {
    return {...base, route: 'convert', convert: true, legs: [], problem: null}
  }

  if (problem) return fail(problem)
  const route: RouteKind = convert ? 'convert' : legs.some((l) => l.slices > 1) ? 'twap' : 'market'
  return {...base, route, convert, legs, problem: null}
}

export interface SliceInput {
  /** Base amount still to sell: the schedule's total less what its slices filled. */
  remaining: number
  /** Slices not sent yet, this one included. */
  slicesLeft: number
  price: number
  market: MarketInfo
  minSliceNotional: number
}

export type Slice = {amount: number; dust: false} | {amount: number; dust: true; reason: string}

/**
 * The next TWAP slice: an even share of what remains, floored to the step, never below min_slice_notional
 * (fewer, larger slices instead) and never leaving a remainder below the exchange minimum (the last slice
 * takes it). A remainder too small for the exchange is dust: reported, never retried.
 */
export function nextSlice(input: SliceInput): Slice {
  const {remaining, price, market} = input
  const floor = (x: number) => floorToStep(x, market.amountStep)
  const minimum = Math.max(market.minAmount, market.amountStep, market.minNotional / price)
  const all = floor(remaining)
  if (all < minimum) return {amount: all, dust: true, reason: `${remaining} left is below the exchange minimum (${Number(minimum.toPrecision(6))} at ${price})`}
  const floorNotional = Math.max(input.minSliceNotional / price, minimum)
  let amount = floor(remaining / Math.max(1, input.slicesLeft))
  if (amount < floorNotional) amount = Math.min(all, ceilToStep(floorNotional, market.amountStep))
  // Never leave a remainder the exchange would refuse: the last slice takes it.
  if (all - amount < minimum || input.slicesLeft <= 1) amount = all
  return {amount, dust: false}
}
