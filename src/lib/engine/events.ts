import type {Delivery, Severity} from '../alerts/index.js'
import type {Denial} from '../risk/checks.js'
import type {AuditHead} from '../state/audit.js'
import type {TrimCycleOutcome} from '../trim/escalation.js'
import type {TrimSkip} from '../trim/plan.js'
import type {ScheduleRow} from '../state/routes.js'

/** One line of `bot run` output: what a cycle did. */
export interface CycleReport {
  cycle: number
  time: number
  equity: number
  cash: number
  exposurePct: number
  /** Exposure once this cycle's orders are on the book. */
  exposureAfterPct: number
  capPct: number
  orders: number
  denied: number
  fills: number
  halted: boolean
  resumed: boolean
  /** Change of equity since the first cycle, in quote currency. */
  pnl: number
  eligible: number
  forced: number
  excluded: number
  /** Holdings at the cycle's prices (quote currency); tier "(untiered)" for a coin in no tier. */
  positions: {symbol: string; tier: string; amount: number; value: number}[]
  /** Cycles in a row that needed a trim and got no sell out (see trim/escalation.ts). */
  trimFailures: number
  /** The audit chain's head once this cycle is recorded: compare it later with the log to prove nothing was cut or rewritten. */
  audit: AuditHead
}

export type EngineEvent =
  | {type: 'cycle'; report: CycleReport}
  | {type: 'order'; cycle: number; clientOrderId: string; symbol: string; side: string; amount: number; price: number; status: string; reason: string}
  | {type: 'denied'; cycle: number; symbol: string; side: string; denial: Denial}
  | {type: 'universe'; cycle: number; symbol: string; status: 'eligible' | 'forced' | 'excluded'; reason: string}
  | {type: 'kill_switch'; cycle: number; active: boolean; cancelled: number}
  | {type: 'reconciled'; clientOrderId: string; status: string; note: string}
  | {type: 'notice'; level: 'info' | 'warning' | 'critical'; message: string}
  | {type: 'trim'; cycle: number; outcome: TrimCycleOutcome; exposurePct: number; capPct: number; targetPct: number; excess: number; shortfall: number; sells: {symbol: string; tier: string; amount: number; value: number; reason: string}[]; skipped: TrimSkip[]; accepted: number; trimFailures: number}
  | {type: 'convert'; cycle: number; id: string; from: string; to: string; amount: number; route: 'convert' | 'market' | 'twap'; status: 'completed' | 'fell_back' | 'abandoned'; attempts: number; received: number; fee: number; reason: string | null}
  | {type: 'twap'; cycle: number; id: string; status: ScheduleRow['status']; note: string}
  | {type: 'adopted'; clientOrderId: string; symbol: string; side: string; amount: number; status: string}
  | {type: 'alert'; status: 'firing' | 'resolved'; severity: Severity; code: string; key: string; message: string; deliveries: Omit<Delivery, 'ms'>[]}

export type EngineObserver = (event: EngineEvent) => void
