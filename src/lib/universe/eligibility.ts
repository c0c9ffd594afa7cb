import type {UniverseConfig} from '../config/schema/universe.js'
import type {MarketSnapshot} from '../market/snapshot.js'

export type ExclusionCode = 'EXCLUDED_BY_CONFIG' | 'NOT_LISTED' | 'NO_QUOTE' | 'LOW_VOLUME' | 'WIDE_SPREAD'
export type EligibilityStatus = 'eligible' | 'forced' | ExclusionCode

export interface EligibleSymbol {
  readonly symbol: string
  readonly tier: string
  /** In force_eligible_symbols: skipped the liquidity filters. */
  readonly forced: boolean
}

export interface ExcludedSymbol {
  symbol: string
  tier: string
  code: ExclusionCode
  /** The measure and the threshold it failed (LOW_VOLUME, WIDE_SPREAD), for the reason. */
  value?: number
  limit?: number
}

export interface Universe {
  eligible: EligibleSymbol[]
  excluded: ExcludedSymbol[]
  /** The symbols whose status differs from `previous`'s (what is audited): the eligible ones first. */
  changed: (EligibleSymbol | ExcludedSymbol)[]
}

/** symbol -> tier name, from universe.yaml (the validator guarantees each symbol is in exactly one tier). */
export function tierMap(config: UniverseConfig): Map<string, string> {
  const tierOf = new Map<string, string>()
  for (const [tier, def] of Object.entries(config.tiers)) for (const symbol of def.symbols) tierOf.set(symbol, tier)
  return tierOf
}

type TierConfig = UniverseConfig['tiers'][string]

/** A configured symbol with what the config says of it, worked out once per config (not per symbol per cycle). */
interface RosterRow {
  symbol: string
  def: TierConfig
  banned: boolean
  /** The same object every cycle it is eligible. */
  entry: EligibleSymbol
}

const rosters = new WeakMap<UniverseConfig, RosterRow[]>()

function rosterOf(config: UniverseConfig): RosterRow[] {
  let roster = rosters.get(config)
  if (!roster) {
    const forced = new Set(config.force_eligible_symbols)
    const banned = new Set(config.excluded_symbols)
    roster = Object.entries(config.tiers).flatMap(([tier, def]) => def.symbols.map((symbol) => ({symbol, def, banned: banned.has(symbol), entry: {symbol, tier, forced: forced.has(symbol)}})))
    rosters.set(config, roster)
  }

  return roster
}

/**
 * Which configured symbols may be traded now, and why each other one may not. Pure. A symbol the liquidity
 * filters excluded last time (`previous`) must clear them by `hysteresis_pct` to come back.
 */
export function selectUniverse(config: UniverseConfig, market: MarketSnapshot, previous: (symbol: string) => EligibilityStatus | undefined = () => undefined): Universe {
  const band = config.hysteresis_pct / 100
  const eligible: EligibleSymbol[] = []
  const excluded: ExcludedSymbol[] = []
  const changed: EligibleSymbol[] = []
  const changedOut: ExcludedSymbol[] = []
  for (const {symbol, def, banned, entry} of rosterOf(config)) {
    const was = previous(symbol)
    const t = market.tickers.get(symbol)
    let code: ExclusionCode | null = null
    let value: number | undefined
    let limit: number | undefined
    if (banned) code = 'EXCLUDED_BY_CONFIG'
    else if (!market.markets.has(symbol)) code = 'NOT_LISTED'
    else if (!t || !(t.last > 0) || !(t.bid > 0) || !(t.ask >= t.bid)) code = 'NO_QUOTE'
    else if (!entry.forced) {
      const strict = was === 'LOW_VOLUME' || was === 'WIDE_SPREAD' ? band : 0
      const spreadPct = ((t.ask - t.bid) / ((t.ask + t.bid) / 2)) * 100
      if (t.quoteVolume24h < def.min_24h_quote_volume * (1 + strict)) [code, value, limit] = ['LOW_VOLUME', t.quoteVolume24h, def.min_24h_quote_volume * (1 + strict)]
      else if (spreadPct > def.max_spread_pct * (1 - strict)) [code, value, limit] = ['WIDE_SPREAD', spreadPct, def.max_spread_pct * (1 - strict)]
    }

    if (code === null) {
      eligible.push(entry)
      if (was !== (entry.forced ? 'forced' : 'eligible')) changed.push(entry)
    } else {
      const x = {symbol, tier: entry.tier, code, value, limit}
      excluded.push(x)
      if (was !== code) changedOut.push(x)
    }
  }

  return {eligible, excluded, changed: [...changed, ...changedOut]}
}

/** Why a symbol is excluded, in words (built only when it is shown or audited). */
export function exclusionReason(x: ExcludedSymbol): string {
  switch (x.code) {
    case 'EXCLUDED_BY_CONFIG': return 'listed in excluded_symbols'
    case 'NOT_LISTED': return 'the exchange does not list it'
    case 'NO_QUOTE': return 'no usable price'
    case 'LOW_VOLUME': return `24h volume ${compact(x.value!)} < ${compact(x.limit!)}`
    case 'WIDE_SPREAD': return `spread ${x.value!.toFixed(3)}% > ${Number(x.limit!.toFixed(4))}%`
  }
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return n.toFixed(0)
}
