import type {AppConfig} from '../config/schema/app.js'

export type Severity = 'info' | 'warning' | 'critical'

/** info < warning < critical: a sink receives an alert at or above its min_severity. */
export const SEVERITY_RANK: Record<Severity, number> = {info: 0, warning: 1, critical: 2}

export type AlertsConfig = AppConfig['alerts']
export type SinkConfig = AlertsConfig['sinks'][number]
export type SinkType = SinkConfig['type']

export type ContextValue = string | number | boolean | null

export interface Alert {
  /** Stable SCREAMING_SNAKE code: TRIM_ESCALATION, KILL_SWITCH, OVER_CAP, AUDIT_CHAIN_BROKEN, EXPORTER_DISABLED ... */
  code: string
  severity: Severity
  /** One line for a person. */
  summary: string
  /** What a person can do about it. */
  action?: string
  /** Same key = same ongoing condition, for dedup and resolve; default = code. */
  key?: string
  /** Figures (exposure %, cap %, excess ...). */
  context?: Record<string, ContextValue>
  /** Epoch ms from the caller's clock (virtual during a replay); dedup windows are measured on it. */
  time: number
}

export interface Delivery {
  /** `<type>#<index in alerts.sinks>`, e.g. `slack#2`: never the URL. */
  sink: string
  outcome: 'sent' | 'failed' | 'deduplicated' | 'below_min_severity'
  attempts: number
  ms: number
  /** A cause without the URL: `HTTP 503`, `timeout after 3000 ms`, `ECONNREFUSED`. */
  error?: string
}

export interface AlertReport {
  kind: 'raised' | 'resolved'
  code: string
  key: string
  severity: Severity
  summary: string
  deliveries: Delivery[]
  /** Set when the state store failed: the alerts went out, but a restart may repeat or forget them. */
  error?: string
}

export interface AlertService {
  /**
   * Raise (or keep raising) a condition. Call it whenever the condition is seen, e.g. every cycle: within
   * dedup_seconds a sink that already got it is skipped; after that it gets a reminder. Never throws.
   */
  raise(alert: Alert): Promise<AlertReport>
  /** The condition cleared: tells the sinks that got it, once. Null when the key is not active. Never throws. */
  resolve(key: string, summary: string, time: number): Promise<AlertReport | null>
  /** Keys currently raised. */
  active(): string[]
  /** Waits for deliveries in flight; later calls deliver nothing. */
  close(): Promise<void>
}
