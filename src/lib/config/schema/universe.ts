import * as z from 'zod/mini'

import {NonNegative, num, opt, Symbol, TierName} from './common.js'

const Tier = z.strictObject({
  symbols: z.array(Symbol).check(z.minLength(1)),
  min_24h_quote_volume: opt(NonNegative(), 0, '24 h volume in quote currency below which a symbol is excluded'),
  max_spread_pct: opt(num({gt: 0, max: 100}), 1, 'Bid/ask spread (% of mid) above which a symbol is excluded'),
})

export const UniverseConfig = z.strictObject({
  tiers: z.record(TierName, Tier).check(z.refine((t) => Object.keys(t).length > 0, 'at least one tier')),
  force_eligible_symbols: opt(z.array(Symbol), [], 'Always eligible: bypass the liquidity filters (still subject to risk checks)'),
  excluded_symbols: opt(z.array(Symbol), [], 'Never traded, whatever the filters say'),
  hysteresis_pct: opt(num({min: 0, max: 100}), 10, 'A symbol dropped by a liquidity filter re-enters only once this % clear of the threshold, so one hovering at it does not flip in and out'),
})

export type UniverseConfig = z.infer<typeof UniverseConfig>
