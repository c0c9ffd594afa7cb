import type {PolicyConfig} from '../config/schema/policy.js'
import type {SignalsConfig} from '../config/schema/signals.js'
import type {PortfolioSnapshot} from '../market/snapshot.js'
import {positionCapPct} from '../risk/caps.js'
import type {Universe} from '../universe/eligibility.js'

export type TargetAction = 'enter' | 'hold' | 'reduce' | 'exit'

export interface Target {
  symbol: string
  tier: string
  action: TargetAction
  /** Wanted position value in quote currency. */
  value: number
  score: number | null
  reason: string
}

export interface TargetInput {
  universe: Universe
  /** A symbol's score, or null while its signals warm up; asked only for the symbols that matter. */
  score: (symbol: string) => number | null
  portfolio: PortfolioSnapshot
  /** Value already held or on order per symbol (holding + open buys). */
  committed: ReadonlyMap<string, number>
  tierOf: ReadonlyMap<string, string>
  policy: PolicyConfig
  signals: SignalsConfig
}

/**
 * Scores -> wanted positions. Held positions stay until their score falls to exit_threshold (hysteresis, so
 * a score hovering at the entry line does not churn); free slots go to the best new scores. Pure; scores
 * are asked for lazily, so with every slot taken only the held symbols are scored.
 */
export function chooseTargets(input: TargetInput): Target[] {
  const held = heldTargets(input)
  return [...held.targets, ...entryTargets(input, input.signals.max_positions - held.kept)]
}

/** What to do with each position held (exit, reduce, hold), and how many are kept. Scores held symbols only. */
export function heldTargets(input: TargetInput): {targets: Target[]; kept: number} {
  const {portfolio, policy, signals, committed} = input
  const equity = portfolio.equity
  const dust = policy.risk.min_order_notional
  const targets: Target[] = []
  let kept = 0
  for (const [symbol, value] of [...committed].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const tier = input.tierOf.get(symbol)
    if (tier === undefined || value < dust) continue // not ours to manage, or dust
    const score = input.score(symbol)
    if (score !== null && score <= signals.exit_threshold) {
      targets.push({symbol, tier, action: 'exit', value: 0, score, reason: `score ${score.toFixed(3)} <= exit ${signals.exit_threshold}`})
      continue
    }

    kept++
    const capValue = (positionCapPct(policy, symbol, tier) / 100) * equity
    const limit = Math.max(capValue * (1 + policy.risk.position_drift_tolerance_pct / 100), capValue + dust)
    if (value > limit) targets.push({symbol, tier, action: 'reduce', value: capValue, score, reason: `position above its ${positionCapPct(policy, symbol, tier)}% cap`})
    else targets.push({symbol, tier, action: 'hold', value, score, reason: 'held'})
  }

  return {targets, kept}
}

/** Entries for `slots` free slots: the best eligible scores at or above entry_threshold. Scores only if a slot is free. */
export function entryTargets(input: TargetInput, slots: number): Target[] {
  if (slots <= 0) return []
  const {portfolio, policy, signals, committed} = input
  const dust = policy.risk.min_order_notional
  const candidates: {symbol: string; tier: string; score: number}[] = []
  for (const e of input.universe.eligible) {
    if ((committed.get(e.symbol) ?? 0) >= dust) continue
    const score = input.score(e.symbol)
    if (score !== null && score >= signals.entry_threshold) candidates.push({symbol: e.symbol, tier: e.tier, score})
  }

  candidates.sort((a, b) => b.score - a.score || (a.symbol < b.symbol ? -1 : 1))
  const perPosition = policy.risk.max_total_at_risk_pct / signals.max_positions
  return candidates.slice(0, slots).map((c) => {
    const pct = Math.min(perPosition, positionCapPct(policy, c.symbol, c.tier))
    return {symbol: c.symbol, tier: c.tier, action: 'enter', value: (pct / 100) * portfolio.equity, score: c.score, reason: `score ${c.score.toFixed(3)} >= entry ${signals.entry_threshold}`}
  })
}
