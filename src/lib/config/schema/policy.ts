import {z} from 'zod'

import {NonNegative, NonNegativeInt, PositiveInt, PositivePct, Symbol, TierName} from './common.js'

const Risk = z.strictObject({
  max_total_at_risk_pct: PositivePct.default(25).describe('Exposure cap: value of non-cash holdings (plus open buys) as % of equity; no buy may take exposure above it'),
  max_position_pct_by_tier: z.record(TierName, PositivePct).default({}).describe('Largest single position per tier, % of equity; each <= max_total_at_risk_pct'),
  max_position_pct_by_symbol: z.record(Symbol, PositivePct).default({}).describe('Per-symbol override of the tier position cap'),
  position_drift_tolerance_pct: z.number().min(0).max(100).default(10).describe('A position that prices push more than this % above its cap is sold back to the cap'),
  min_order_notional: NonNegative.default(10).describe('Smallest order in quote currency (the exchange minimum applies too)'),
  max_order_notional: z.number().gt(0).default(5000).describe('Largest single order in quote currency (fat-finger limit)'),
  price_collar_pct: z.number().gt(0).max(50).default(2).describe('An order price further than this from the mid price is denied'),
  max_orders_per_cycle: PositiveInt.default(10).describe('Order budget per cycle'),
  duplicate_window_seconds: NonNegativeInt.default(300).describe('Same symbol, side and size within this window is denied as a duplicate'),
  max_quote_age_seconds: PositiveInt.default(7200).describe('Market data older than this is stale; no order is placed on it'),
})

const Portfolio = z.strictObject({
  auto_trim_to_risk_cap: z.boolean().default(true).describe('Sell back under the cap when prices push exposure over it'),
  trim_buffer_pct: z.number().gt(0).default(2).describe('Trim to max_total_at_risk_pct minus this, so the next tick does not re-trigger'),
  max_trim_failures_before_alert: PositiveInt.default(3).describe('Consecutive failed trims before one CRITICAL alert'),
})

const Twap = z.strictObject({
  slices: PositiveInt.max(100).default(1),
  spacing_seconds: NonNegative.default(0),
})

const Execution = z.strictObject({
  prefer_convert: z.boolean().default(true).describe('Sell through the exchange convert API where supported; fall back to market/TWAP'),
  convert_max_attempts: PositiveInt.max(10).default(2),
  twap_by_tier: z.record(TierName, Twap).default({}).describe('TWAP slicing for market sells per tier; a tier not listed sells in one order'),
  min_slice_notional: NonNegative.default(10).describe('TWAP never slices below this (quote currency)'),
})

export const PolicyConfig = z.strictObject({
  risk: Risk.default(Risk.parse({})),
  portfolio_management: Portfolio.default(Portfolio.parse({})),
  execution: Execution.default(Execution.parse({})),
})

export type PolicyConfig = z.infer<typeof PolicyConfig>
