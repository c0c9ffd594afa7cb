import type {UniverseConfig} from '../config/schema/universe.js'
import type {MarketSnapshot} from '../market/snapshot.js'

export type ExclusionCode = 'EXCLUDED_BY_CONFIG' | 'NOT_LISTED' | 'NO_QUOTE' | 'LOW_VOLUME' | 'WIDE_SPREAD'

export interface EligibleSymbol {
  symbol: string
  tier: string
  /** In force_eligible_symbols: skipped the liquidity filters. */
  forced: boolean
}

export interface ExcludedSymbol {
  symbol: string
  tier: string
  code: ExclusionCode
  reason: string
}

export interface Universe {
  eligible: EligibleSymbol[]
  excluded: ExcludedSymbol[]
}

/** symbol -> tier name, from universe.yaml (the validator guarantees each symbol is in exactly one tier). */
export function tierMap(config: UniverseConfig): Map<string, string> {
  const tierOf = new Map<string, string>()
  for (const [tier, def] of Object.entries(config.tiers)) for (const symbol of def.symbols) tierOf.set(symbol, tier)
  return tierOf
}

/** Which configured symbols may be traded now, and why each other one may not. Pure. */
export function selectUniverse(config: UniverseConfig, market: MarketSnapshot): Universe {
  const forced = new Set(config.force_eligible_symbols)
  const banned = new Set(config.excluded_symbols)
  const eligible: EligibleSymbol[] = []
  const excluded: ExcludedSymbol[] = []
  for (const [tier, def] of Object.entries(config.tiers)) {
    for (const symbol of def.symbols) {
      const exclude = (code: ExclusionCode, reason: string) => excluded.push({symbol, tier, code, reason})
      if (banned.has(symbol)) { exclude('EXCLUDED_BY_CONFIG', 'listed in excluded_symbols'); continue }
      if (!market.markets.has(symbol)) { exclude('NOT_LISTED', 'the exchange does not list it'); continue }
      const t = market.tickers.get(symbol)
      if (!t || !(t.last > 0) || !(t.bid > 0) || !(t.ask >= t.bid)) { exclude('NO_QUOTE', 'no usable price'); continue }
      if (forced.has(symbol)) { eligible.push({symbol, tier, forced: true}); continue }
      if (t.quoteVolume24h < def.min_24h_quote_volume) {
        exclude('LOW_VOLUME', `24h volume ${compact(t.quoteVolume24h)} < ${compact(def.min_24h_quote_volume)}`)
        continue
      }

      const spreadPct = ((t.ask - t.bid) / ((t.ask + t.bid) / 2)) * 100
      if (spreadPct > def.max_spread_pct) {
        exclude('WIDE_SPREAD', `spread ${spreadPct.toFixed(3)}% > ${def.max_spread_pct}%`)
        continue
      }

      eligible.push({symbol, tier, forced: false})
    }
  }

  return {eligible, excluded}
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return n.toFixed(0)
}
