import {mulberry32} from '../../src/lib/exchange/replay/candle-files.js'
import type {FailedTradeStatus} from './convert.js'

/**
 * Failures on demand, in the shapes a client meets on the real Coinbase: rate limits (JSON and the HTML page
 * v3 sometimes sends), 5xx text, a request never answered, a 200 that is not JSON, a convert that fails after
 * its commit, and a request that is executed but whose response is lost. Each is injected either for the
 * next N requests matching a method/path, or at a seeded random rate over all requests.
 */

export type FaultKind = 'rate_limit_json' | 'rate_limit_html' | 'server_error' | 'timeout' | 'non_json' | 'convert_fail' | 'response_lost'

export const FAULT_KINDS: readonly FaultKind[] = ['rate_limit_json', 'rate_limit_html', 'server_error', 'timeout', 'non_json', 'convert_fail', 'response_lost']

export interface FaultRule {
  kind: FaultKind
  /** How many matching requests it hits (default 1). */
  count?: number
  /** HTTP method to match (any when omitted). */
  method?: string
  /** Exact path without the query string, or a pattern tested against it (any when omitted). */
  path?: string | RegExp
  /** server_error: the status sent (default 503). */
  status?: 500 | 502 | 503
  /** response_lost: after executing, reset the connection (default), answer 502, or never answer. */
  lose?: 'destroy' | 'bad_gateway' | 'hang'
  /** convert_fail: the status the trade ends in (default TRADE_STATUS_FAILED). */
  tradeStatus?: FailedTradeStatus
}

export interface RandomFaults {
  /** Probability, per request, of a fault (0..1). */
  rate: number
  seed?: number
  /** The kinds drawn from, uniformly (default: all). */
  kinds?: readonly FaultKind[]
}

/** A fault chosen for one request, with every option resolved. */
export interface Fault {
  kind: FaultKind
  status: 500 | 502 | 503
  lose: 'destroy' | 'bad_gateway' | 'hang'
  tradeStatus: FailedTradeStatus
}

/** A convert fault only makes sense on a commit; anywhere else it is no fault. */
const COMMIT_PATH = /^\/api\/v3\/brokerage\/convert\/trade\/[^/]+$/

function applies(kind: FaultKind, method: string, path: string): boolean {
  return kind !== 'convert_fail' || (method === 'POST' && COMMIT_PATH.test(path))
}

function resolve(rule: FaultRule): Fault {
  return {kind: rule.kind, status: rule.status ?? 503, lose: rule.lose ?? 'destroy', tradeStatus: rule.tradeStatus ?? 'TRADE_STATUS_FAILED'}
}

export class FaultControl {
  private rules: Array<FaultRule & {left: number}> = []
  private randomSettings: (RandomFaults & {state: number}) | null = null

  /** Hits the next `count` requests matching `method`/`path` (rules are consumed in the order given). */
  inject(rule: FaultRule): void {
    if (!FAULT_KINDS.includes(rule.kind)) throw new Error(`unknown fault kind ${String(rule.kind)}`)
    const left = rule.count ?? 1
    if (!Number.isInteger(left) || left < 1) throw new Error(`fault count ${rule.count} must be a positive integer`)
    this.rules.push({...rule, left})
  }

  /** Faults at a seeded random rate over all requests, on top of injected ones; null turns it off. */
  random(settings: RandomFaults | null): void {
    if (settings && !(settings.rate >= 0 && settings.rate <= 1)) throw new Error(`fault rate ${settings.rate} must be within 0..1`)
    this.randomSettings = settings && {...settings, state: (settings.seed ?? 1) >>> 0}
  }

  clear(): void {
    this.rules = []
    this.randomSettings = null
  }

  /** Injected hits not used yet. */
  pending(): number {
    return this.rules.reduce((n, r) => n + r.left, 0)
  }

  /** The fault for this request, if any; consumes one hit of the matching rule. */
  take(method: string, path: string): Fault | null {
    const rule = this.rules.find((r) => this.matches(r, method, path))
    if (rule) {
      rule.left--
      if (rule.left === 0) this.rules = this.rules.filter((r) => r !== rule)
      return resolve(rule)
    }

    const rnd = this.randomSettings
    if (!rnd) return null
    const draw = () => {
      const r = mulberry32(rnd.state)
      rnd.state = r.state
      return r.value
    }

    if (draw() >= rnd.rate) return null
    const kinds = rnd.kinds ?? FAULT_KINDS
    const kind = kinds[Math.floor(draw() * kinds.length)]
    return applies(kind, method, path) ? resolve({kind}) : null
  }

  private matches(rule: FaultRule, method: string, path: string): boolean {
    if (rule.method && rule.method.toUpperCase() !== method) return false
    if (typeof rule.path === 'string' && rule.path !== path) return false
    if (rule.path instanceof RegExp && !rule.path.test(path)) return false
    return applies(rule.kind, method, path)
  }
}
