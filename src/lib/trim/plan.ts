import type {PolicyConfig} from '../config/schema/policy.js'
import {floorToStep} from '../execution/amounts.js'
import type {MarketSnapshot, PortfolioSnapshot} from '../market/snapshot.js'
import {exposurePct, sellToTarget} from '../risk/exposure.js'
import {
  type Candidate, type HoldingView, maxSellAmount, minSellAmount, orderCandidates, sellCostRate, skipReason, type TrimSkip, UNTIERED,
} from './candidates.js'

export {type TrimOrder, type TrimSkip, type TrimSkipCode, UNTIERED} from './candidates.js'

export interface TrimInput {
  market: MarketSnapshot
  portfolio: PortfolioSnapshot
  /** Exposure in quote currency (atRiskValue): holdings plus open buys. */
  atRisk: number
  policy: PolicyConfig
  tierOf: ReadonlyMap<string, string>
  /** excluded_symbols of universe.yaml. */
  excluded: ReadonlySet<string>
  /** The signal score, null while warming up. */
  score: (symbol: string) => number | null
}

export interface TrimSell {
  symbol: string
  /** The holding's tier, or UNTIERED. */
  tier: string
  amount: number
  /** Expected execution price: the bid. */
  price: number
  /** Exposure this sell removes: amount at the price the holding is valued at (same unit as excess). */
  value: number
  reason: string
}

export interface TrimPlan {
  needed: boolean
  exposurePct: number
  capPct: number
  targetPct: number
  /** Value to sell (quote currency, at valuation prices) for exposure to land at the target, costs counted. */
  excess: number
  sells: TrimSell[]
  skipped: TrimSkip[]
  /** Part of the excess the planned sells do not cover; 0 when they do. */
  shortfall: number
  /** Exposure expected once every planned sell has filled at its price. */
  exposureAfterPct: number
}

/**
 * The auto-trim plan: when prices have pushed exposure over `max_total_at_risk_pct`, which holdings to sell,
 * and how much, to bring it back to the cap minus `trim_buffer_pct`. Pure: the caller passes the snapshot and
 * runs every sell through the pre-trade checks as usual.
 *
 * The excess is solved exactly (sellToTarget in risk/exposure.ts): selling value X of a holding takes X off
 * exposure and X times its cost rate (fee, and the bid below the valuation price) off equity, so
 * X = (atRisk - target * equity) / (1 - target * costRate). Each sell solves it again from what the sells
 * before it left, with its own holding's cost rate; `excess` and `shortfall` use the first candidate's rate.
 * An amount floored to the step can leave exposure above the target by less than one step, never above the
 * cap; a need below the minimum order is sold at the minimum (a slightly deeper trim rather than none).
 *
 * Holdings in no tier of universe.yaml (a coin a person deposited) are candidates: they count toward
 * exposure, so a cap that could not sell them could be held over forever by them. They are sold only after
 * every tiered holding, whatever `trim_order` says, because bot's own positions are what it manages;
 * untiered coins usually have no score and would otherwise count as the weakest and go first. To keep a
 * coin out of every trim, put it in a tier and in excluded_symbols.
 */
export function planTrim(input: TrimInput): TrimPlan {
  const {policy, portfolio} = input
  const capPct = policy.risk.max_total_at_risk_pct
  const targetPct = capPct - policy.portfolio_management.trim_buffer_pct
  const exposure = exposurePct(input.atRisk, portfolio.equity)
  const head = {exposurePct: exposure, capPct, targetPct}
  if (!policy.portfolio_management.auto_trim_to_risk_cap || !(exposure > capPct)) {
    return {needed: false, ...head, excess: 0, sells: [], skipped: [], shortfall: 0, exposureAfterPct: exposure}
  }

  const {candidates, skipped} = selectCandidates(input)
  const rate = candidates[0]?.costRate ?? 0
  const excess = Math.max(0, sellToTarget(targetPct, input.atRisk, portfolio.equity, rate))
  const why = `trim: exposure ${pct(exposure)} > cap ${pct(capPct)}, target ${pct(targetPct)}`
  const run = sizeSells(candidates, input, targetPct, why)
  const unreached = candidates.filter((c) => !run.sold.has(c.symbol))
  if (!run.covered && run.sells.length >= policy.risk.max_orders_per_cycle) {
    for (const c of unreached) skipped.push({symbol: c.symbol, code: 'ORDER_BUDGET', reason: `max_orders_per_cycle (${policy.risk.max_orders_per_cycle}) used up before ${c.symbol} was reached`})
  }

  const shortfall = run.covered ? 0 : Math.max(0, sellToTarget(targetPct, run.atRisk, run.equity, rate))
  return {needed: true, ...head, excess, sells: run.sells, skipped, shortfall, exposureAfterPct: exposurePct(run.atRisk, run.equity)}
}

function selectCandidates(input: TrimInput): {candidates: Candidate[]; skipped: TrimSkip[]} {
  const {market, portfolio, policy} = input
  const candidates: Candidate[] = []
  const skipped: TrimSkip[] = []
  for (const holding of portfolio.holdings.values()) {
    const view: HoldingView = {
      holding, policy, market: market.markets.get(holding.symbol), ticker: market.tickers.get(holding.symbol),
      suspect: market.suspect.get(holding.symbol) ?? null, excluded: input.excluded.has(holding.symbol),
      openOrder: portfolio.openOrders.find((o) => o.symbol === holding.symbol && o.status === 'open'),
    }
    const s = skipReason(view)
    if (s) {
      skipped.push(s)
      continue
    }

    const tier = input.tierOf.get(holding.symbol)
    const score = input.score(holding.symbol)
    const bid = view.ticker!.bid
    candidates.push({
      symbol: holding.symbol, tier: tier ?? UNTIERED, tiered: tier !== undefined, score: Number.isFinite(score) ? score : null,
      value: holding.value, free: holding.free, price: holding.price, bid, step: view.market!.amountStep,
      minSell: minSellAmount(view), maxSell: maxSellAmount(view), costRate: sellCostRate(bid, holding.price, view.market!.takerBps),
    })
  }

  return {candidates: orderCandidates(candidates, policy.portfolio_management.trim_order), skipped}
}

interface SellRun {
  sells: TrimSell[]
  sold: Set<string>
  covered: boolean
  atRisk: number
  equity: number
}

/** Sells in candidate order, sliced by max_order_notional, until the target is reached or the order budget is spent. */
function sizeSells(candidates: readonly Candidate[], input: TrimInput, targetPct: number, why: string): SellRun {
  const run: SellRun = {sells: [], sold: new Set(), covered: false, atRisk: input.atRisk, equity: input.portfolio.equity}
  const budget = input.policy.risk.max_orders_per_cycle
  for (const c of candidates) {
    let free = c.free
    while (!run.covered && run.sells.length < budget && floorToStep(free, c.step) >= c.minSell) {
      const need = sellToTarget(targetPct, run.atRisk, run.equity, c.costRate)
      if (!(need > 0)) {
        run.covered = true
        break
      }

      const slice = sizeSlice(c, free, need / c.price)
      if (!slice) break
      const value = slice.amount * c.price
      run.sells.push({symbol: c.symbol, tier: c.tier, amount: slice.amount, price: c.bid, value, reason: `${why}; ${rank(c, input)}`})
      run.sold.add(c.symbol)
      run.atRisk -= value
      run.equity -= value * c.costRate
      free -= slice.amount
      if (slice.covers) run.covered = true
    }

    if (run.covered || run.sells.length >= budget) break
  }

  return run
}

/**
 * One sell of `want` units of a candidate with `free` units left, on the step grid: at least the minimum
 * order, never leaving a remainder below it (the whole free amount instead), at most max_order_notional
 * (leaving a sellable remainder where it can). `covers` when only the step floor kept it below `want`.
 */
function sizeSlice(c: Candidate, free: number, want: number): {amount: number; covers: boolean} | null {
  let amount = Math.max(want, c.minSell)
  let covers = amount <= free
  if (free - amount < c.minSell) amount = free
  if (amount > c.maxSell) {
    amount = free - c.minSell >= c.minSell ? Math.min(c.maxSell, free - c.minSell) : c.maxSell
    covers = false
  }

  amount = floorToStep(amount, c.step)
  return amount >= c.minSell ? {amount, covers} : null
}

function rank(c: Candidate, input: TrimInput): string {
  const score = c.score === null ? 'no score yet' : `score ${c.score.toFixed(2)}`
  const value = `position ${c.value.toFixed(2)} ${input.portfolio.quote}`
  const order = input.policy.portfolio_management.trim_order === 'weakest_first' ? `weakest first: ${score}, ${value}` : `largest first: ${value}, ${score}`
  return c.tiered ? order : `${order}; in no tier, sold after tiered holdings`
}

function pct(n: number): string {
  return Number.isFinite(n) ? `${Number(n.toFixed(2))}%` : 'unbounded'
}
