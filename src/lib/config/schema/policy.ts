import * as z from 'zod/mini'

import {NonNegative, NonNegativeInt, num, opt, Positive, PositiveInt, PositivePct, section, Symbol, TierName} from './common.js'

const Risk = z.strictObject({
  max_total_at_risk_pct: opt(PositivePct(), 25, 'Exposure cap: value of non-cash holdings (plus open buys) as % of equity; no buy may take exposure above it'),
  max_position_pct_by_tier: opt(z.record(TierName, PositivePct()), {}, 'Largest single position per tier, % of equity; each <= max_total_at_risk_pct'),
  max_position_pct_by_symbol: opt(z.record(Symbol, PositivePct()), {}, 'Per-symbol override of the tier position cap'),
  position_drift_tolerance_pct: opt(num({min: 0, max: 100}), 10, 'A position that prices push more than this % above its cap is sold back to the cap'),
  min_order_notional: opt(NonNegative(), 10, 'Smallest order in quote currency (the exchange minimum applies too)'),
  max_order_notional: opt(Positive(), 5000, 'Largest single order in quote currency (fat-finger limit)'),
  price_collar_pct: opt(num({gt: 0, max: 50}), 2, 'An order price further than this from the mid price is denied'),
  max_orders_per_cycle: opt(PositiveInt(), 10, 'Order budget per cycle'),
  duplicate_window_seconds: opt(NonNegativeInt(), 300, 'Same symbol, side and size within this window is denied as a duplicate'),
  max_quote_age_seconds: opt(PositiveInt(), 7200, 'Market data older than this is stale; no order is placed on it'),
  max_bar_move_pct: opt(num({gt: 0, max: 10000}), 30, 'A price that moves more than this % from the last good one is held as suspect: no order on that symbol and valuation at the last good price until the next bar confirms or clears it'),
})

const Portfolio = z.strictObject({
  auto_trim_to_risk_cap: opt(z.boolean(), true, 'Sell back under the cap when prices push exposure over it'),
  trim_buffer_pct: opt(Positive(), 2, 'Trim to max_total_at_risk_pct minus this, so the next tick does not re-trigger'),
  max_trim_failures_before_alert: opt(PositiveInt(), 3, 'Consecutive failed trims before one CRITICAL alert'),
  trim_order: opt(z.enum(['weakest_first', 'largest_first']), 'weakest_first', 'Which holdings a trim sells first: weakest_first (lowest signal score, no score counting as weakest; then the largest) or largest_first (largest position value; then the weakest)'),
})

const Twap = z.strictObject({
  slices: opt(PositiveInt(100), 1),
  spacing_seconds: opt(NonNegative(), 0),
})

const Execution = z.strictObject({
  prefer_convert: opt(z.boolean(), true, 'Sell through the exchange convert API where supported; fall back to market/TWAP'),
  convert_max_attempts: opt(PositiveInt(10), 2),
  twap_by_tier: opt(z.record(TierName, Twap), {}, 'TWAP slicing for market sells per tier; a tier not listed sells in one order'),
  min_slice_notional: opt(NonNegative(), 10, 'TWAP never slices below this (quote currency)'),
})

export const PolicyConfig = z.strictObject({
  risk: section(Risk),
  portfolio_management: section(Portfolio),
  execution: section(Execution),
})

export type PolicyConfig = z.infer<typeof PolicyConfig>
