import type {PolicyConfig} from '../config/schema/policy.js'

/** Largest position for a symbol, % of equity: its own override, else its tier's cap, never above the total cap. */
export function positionCapPct(policy: PolicyConfig, symbol: string, tier: string): number {
  const pct = policy.risk.max_position_pct_by_symbol[symbol] ?? policy.risk.max_position_pct_by_tier[tier] ?? 0
  return Math.min(pct, policy.risk.max_total_at_risk_pct)
}
