import type {BotConfig} from '../config/load.js'
import type {Exchange, MarketInfo} from '../exchange/port.js'
import type {PriceGuard} from '../market/price-guard.js'
import type {MarketSnapshot, PortfolioSnapshot} from '../market/snapshot.js'
import type {OrderPlan} from '../execution/plan.js'
import type {SignalBook} from '../signals/scores.js'
import type {Target} from '../signals/targets.js'
import type {AuditHeadFile} from '../state/audit-head.js'
import type {StateStore} from '../state/store.js'
import type {Universe} from '../universe/eligibility.js'
import type {Clock} from './clock.js'
import type {EngineObserver} from './events.js'

/** Everything a cycle's steps share: config, adapters and the long-lived indicator state. */
export interface Engine {
  config: BotConfig
  stateDir: string
  exchange: Exchange
  clock: Clock
  store: StateStore
  signals: SignalBook
  markets: Map<string, MarketInfo>
  /** Universe symbols the exchange lists, in config order. */
  symbols: string[]
  tierOf: Map<string, string>
  /** Prefix of every client order id: unique to this state dir's account. */
  idPrefix: string
  takerFeeBps: number
  /** Held-all-along comparison for the summary (BTC where traded). */
  benchmark: string | null
  observe: EngineObserver
  /** Write-through caches of small tables read every cycle. */
  anchors: Map<string, number>
  eligibility: Map<string, string>
  /** Judges each cycle's tickers (the indicators' bars have their own guard in `signals`). */
  prices: PriceGuard
  /** Where each completed cycle publishes the audit chain's head. */
  auditHead: AuditHeadFile
}

/** What one cycle has learned so far; each step reads the fields the earlier steps filled. */
export interface CycleState {
  cycle: number
  now: number
  /** Re-entering a cycle whose plan was stored before a crash: its intents are sent, not re-planned. */
  resumed: boolean
  halted: boolean
  fills: number
  market?: MarketSnapshot
  portfolio?: PortfolioSnapshot
  atRisk?: number
  universe?: Universe
  targets?: Target[]
  plan?: OrderPlan
}
