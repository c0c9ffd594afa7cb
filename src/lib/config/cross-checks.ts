import type {PathSegment} from './issues.js'
import {checkLookbacks} from './lookbacks.js'
import type {AppInput} from './schema/app.js'
import type {PolicyConfig} from './schema/policy.js'
import type {SignalsInput} from './schema/signals.js'
import type {UniverseConfig} from './schema/universe.js'

export type ConfigFileKey = 'app' | 'policy' | 'universe' | 'signals'
export type Report = (file: ConfigFileKey, path: PathSegment[], message: string, code?: string) => void
/** A value as messages may show it: a value that came from the environment is named by its variable instead. */
export type Show = (file: ConfigFileKey, path: PathSegment[], value: string) => string

/** The files that passed their own schema, as written (look-backs not yet in bars). */
export interface PartialConfig {
  app?: AppInput
  policy?: PolicyConfig
  universe?: UniverseConfig
  signals?: SignalsInput
}

/** Rules that span fields or files; each runs only when the files it needs passed their schema. */
export function crossCheck(c: PartialConfig, show: Show, report: Report): void {
  if (c.app) checkApp(c.app, report)
  if (c.app) checkLookbacks(c.app, c.signals, report)
  if (c.policy) checkPolicy(c.policy, report)
  if (c.universe) {
    const tierOf = checkUniverse(c.universe, c.app?.exchange.quote_currency, show, report)
    if (c.signals) checkSignalSymbols(c.signals, tierOf, show, report)
    if (c.policy) checkPolicyAgainstUniverse(c.policy, c.universe, tierOf, report)
    if (c.app) checkSimCosts(c.app, c.universe, report)
  }
}

function checkApp(app: AppInput, report: Report): void {
  if (app.mode === 'live' && app.exchange.id === 'sim') {
    report('app', ['mode'], 'mode "live" needs a real exchange: exchange.id is "sim"; set exchange.id (e.g. coinbase) or use mode "paper"', 'live_needs_exchange')
  }

  const last = app.metrics.port + app.metrics.port_retries
  if (last > 65535) {
    report('app', ['metrics', 'port_retries'], `port ${app.metrics.port} plus ${app.metrics.port_retries} retries reaches ${last}; ports end at 65535`, 'port_range')
  }

  if (app.metrics.pushgateway_url !== null && !isHttpUrl(app.metrics.pushgateway_url)) {
    report('app', ['metrics', 'pushgateway_url'], 'expected an http(s) URL', 'invalid_url')
  }

  for (const [i, sink] of app.alerts.sinks.entries()) {
    if ('url' in sink && !isHttpUrl(sink.url)) {
      report('app', ['alerts', 'sinks', i, 'url'], 'expected an http(s) URL (write ${ENV_VAR} to keep it out of the file)', 'invalid_url')
    }
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

function checkPolicy(policy: PolicyConfig, report: Report): void {
  const cap = policy.risk.max_total_at_risk_pct
  for (const [tier, pct] of Object.entries(policy.risk.max_position_pct_by_tier)) {
    if (pct > cap) report('policy', ['risk', 'max_position_pct_by_tier', tier], `position cap ${pct}% is above max_total_at_risk_pct ${cap}%`, 'cap_above_total')
  }

  for (const [symbol, pct] of Object.entries(policy.risk.max_position_pct_by_symbol)) {
    if (pct > cap) report('policy', ['risk', 'max_position_pct_by_symbol', symbol], `position cap ${pct}% is above max_total_at_risk_pct ${cap}%`, 'cap_above_total')
  }

  if (policy.portfolio_management.trim_buffer_pct >= cap) {
    report('policy', ['portfolio_management', 'trim_buffer_pct'], `trim target ${cap}% - ${policy.portfolio_management.trim_buffer_pct}% must stay above 0 and below the cap`, 'trim_target')
  }

  if (policy.risk.min_order_notional >= policy.risk.max_order_notional) {
    report('policy', ['risk', 'min_order_notional'], `min_order_notional ${policy.risk.min_order_notional} must be below max_order_notional ${policy.risk.max_order_notional}`, 'min_above_max')
  }
}

/** Returns symbol -> tier; reports symbols listed twice and symbols in another quote currency. */
function checkUniverse(u: UniverseConfig, quote: string | undefined, show: Show, report: Report): Map<string, string> {
  const tierOf = new Map<string, string>()
  for (const [tier, def] of Object.entries(u.tiers)) {
    for (const [i, symbol] of def.symbols.entries()) {
      const at = ['tiers', tier, 'symbols', i]
      const prev = tierOf.get(symbol)
      if (prev !== undefined) {
        report('universe', at, `${show('universe', at, symbol)} is already in tier ${prev}; each symbol belongs to exactly one tier`, 'symbol_in_two_tiers')
        continue
      }

      tierOf.set(symbol, tier)
      if (quote && !symbol.endsWith(`-${quote}`)) {
        report('universe', at, `${show('universe', at, symbol)} is not quoted in ${quote} (exchange.quote_currency in app.yaml)`, 'wrong_quote')
      }
    }
  }

  const excluded = new Set(u.excluded_symbols)
  for (const [i, symbol] of u.force_eligible_symbols.entries()) {
    const at = ['force_eligible_symbols', i]
    if (!tierOf.has(symbol)) report('universe', at, `${show('universe', at, symbol)} is not in any tier`, 'unknown_symbol')
    if (excluded.has(symbol)) report('universe', at, `${show('universe', at, symbol)} is also in excluded_symbols; remove it from one list`, 'forced_and_excluded')
  }

  for (const [i, symbol] of u.excluded_symbols.entries()) {
    const at = ['excluded_symbols', i]
    if (!tierOf.has(symbol)) report('universe', at, `${show('universe', at, symbol)} is not in any tier`, 'unknown_symbol')
  }

  return tierOf
}

function checkSignalSymbols(s: SignalsInput, tierOf: Map<string, string>, show: Show, report: Report): void {
  for (const [i, sig] of s.signals.entries()) {
    for (const [j, symbol] of sig.symbols.entries()) {
      const at = ['signals', i, 'symbols', j]
      if (!tierOf.has(symbol)) report('signals', at, `${show('signals', at, symbol)} is not in any tier of universe.yaml`, 'unknown_symbol')
    }
  }
}

function checkPolicyAgainstUniverse(p: PolicyConfig, u: UniverseConfig, tierOf: Map<string, string>, report: Report): void {
  const tiers = Object.keys(u.tiers)
  for (const symbol of Object.keys(p.risk.max_position_pct_by_symbol)) {
    if (!tierOf.has(symbol)) report('policy', ['risk', 'max_position_pct_by_symbol', symbol], `${symbol} is not in any tier of universe.yaml`, 'unknown_symbol')
  }

  for (const section of [['risk', 'max_position_pct_by_tier'], ['execution', 'twap_by_tier']] as const) {
    const map = (p as unknown as Record<string, Record<string, Record<string, unknown>>>)[section[0]][section[1]]
    for (const tier of Object.keys(map)) {
      if (!tiers.includes(tier)) report('policy', [...section, tier], `tier ${JSON.stringify(tier)} is not defined in universe.yaml (tiers: ${tiers.join(', ')})`, 'unknown_tier')
    }
  }

  for (const tier of tiers) {
    if (!Object.hasOwn(p.risk.max_position_pct_by_tier, tier)) {
      report('policy', ['risk', 'max_position_pct_by_tier'], `tier ${JSON.stringify(tier)} of universe.yaml has no position cap here`, 'missing_tier_cap')
    }
  }
}

function checkSimCosts(app: AppInput, u: UniverseConfig, report: Report): void {
  const names = [...Object.keys(u.tiers), 'default']
  for (const kind of ['spread_bps', 'slippage_bps'] as const) {
    for (const tier of Object.keys(app.exchange.sim.costs[kind])) {
      if (!names.includes(tier)) report('app', ['exchange', 'sim', 'costs', kind, tier], `tier ${JSON.stringify(tier)} is not defined in universe.yaml (tiers: ${names.join(', ')})`, 'unknown_tier')
    }
  }
}
