import type {AlertService} from '../alerts/index.js'
import type {BotConfig} from '../config/load.js'
import type {Broker, Clock, MarketData} from '../exchange/ports.js'
import type {PriceGuard} from '../market/price-guard.js'
import type {SignalBook} from '../signals/scores.js'
import type {AuditHeadFile} from '../state/audit-head.js'
import type {StateStore} from '../state/store.js'
import type {EngineObserver} from './events.js'

/** Everything a cycle's steps share: config, the venue's ports, the store and the long-lived market state. */
export interface Engine {
  config: BotConfig
  stateDir: string
  market: MarketData
  broker: Broker
  clock: Clock
  store: StateStore
  signals: SignalBook
  /** Judges each cycle's tickers (the indicators' bars have their own guard in `signals`). */
  prices: PriceGuard
  /** Universe symbols, in config order (the market data leaves out those it does not list). */
  symbols: string[]
  tierOf: Map<string, string>
  /** Prefix of every client order id: unique to this state dir's account. */
  idPrefix: string
  /** Held-all-along comparison for the summary (BTC where traded). */
  benchmark: string | null
  observe: EngineObserver
  /** Write-through cache of each symbol's last audited eligibility. */
  eligibility: Map<string, string>
  alerts: AlertService
  /** Hears each cycle step's duration (debug output); never part of the event stream. */
  timing: (cycle: number, step: string, ms: number) => void
  /** Where each completed cycle publishes the audit chain's head. */
  auditHead: AuditHeadFile
}

/** Which cycle this is and when, fixed as it starts. */
export interface CycleAt {
  cycle: number
  now: number
  /** Finishing a cycle whose plan was stored before a crash: its intents are sent, nothing is re-planned. */
  resumed: boolean
  /**
   * A loop cycle, or one of its steps run once by a command: `bot trim` (no strategy, only the trim), `bot
   * convert` (no strategy, no trim: the conversion's own orders, and TWAP slices due).
   */
  kind: 'loop' | 'trim' | 'convert'
}
