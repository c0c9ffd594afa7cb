import {z} from 'zod'

import {NonNegative, Symbol, TierName} from './common.js'

const Tier = z.strictObject({
  symbols: z.array(Symbol).min(1),
  min_24h_quote_volume: NonNegative.default(0).describe('24 h volume in quote currency below which a symbol is excluded'),
  max_spread_pct: z.number().gt(0).max(100).default(1).describe('Bid/ask spread (% of mid) above which a symbol is excluded'),
})

export const UniverseConfig = z.strictObject({
  tiers: z.record(TierName, Tier).refine((t) => Object.keys(t).length > 0, 'at least one tier'),
  force_eligible_symbols: z.array(Symbol).default([]).describe('Always eligible: bypass the liquidity filters (still subject to risk checks)'),
  excluded_symbols: z.array(Symbol).default([]).describe('Never traded, whatever the filters say'),
})

export type UniverseConfig = z.infer<typeof UniverseConfig>
