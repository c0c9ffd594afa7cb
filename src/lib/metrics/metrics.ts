import {collectDefaultMetrics, Counter, Gauge, Histogram, type Registry} from 'prom-client'

import type {AppConfig} from '../config/schema/app.js'
import type {Side} from '../domain.js'
import type {Broker, ExchangeErrorKind, MarketData} from '../exchange/ports.js'
import type {DenialCode} from '../risk/checks.js'

/**
 * Every metric bot exports, declared once (Lodestar style). Code outside src/lib/metrics never imports
 * prom-client: it receives `Metrics | null` and calls it, through record.ts where that is simpler.
 *
 * Conventions: prefix `bot_`; base units in names; proportions are `_ratio` (0..1), not `_percent`, because
 * the Prometheus naming guide makes the ratio the base unit of a proportion, and PromQL then compares
 * exposure with its cap, or multiplies by equity, without a /100 anywhere. Money is in the quote currency
 * (bot_info's `quote_currency` label) and has no unit suffix: the currency is configuration, not a fixed unit.
 * `_total` only on counters. Label values come from the closed sets below; a symbol or tier is bounded by
 * universe.yaml.
 */

export type UniverseStatus = 'eligible' | 'forced' | 'excluded'
/** What became of an order bot decided to place. */
export type OrderOutcome =
  | 'filled' //    closed: fully filled
  | 'partial' //   some filled, the rest open or canceled
  | 'open' //      resting on the book, nothing filled yet
  | 'canceled' //  canceled with nothing filled
  | 'rejected' //  refused by the exchange
  | 'unknown' //   the send failed without an answer; reconciled later by client order id
  | 'abandoned' // its intent was never sent (kill switch)
export type TrimOutcome = 'succeeded' | 'partial' | 'failed'
export type ConvertRoute = 'convert' | 'market' | 'twap'
export type ConvertOutcome = 'succeeded' | 'failed' | 'unsupported'
/** Why a cycle was given up between two of its steps (its stored intents are reconciled by the next one). */
export type AbandonReason = 'overrun' | 'exchange_error'
type AlertSink = AppConfig['alerts']['sinks'][number]
export type AlertSeverity = AlertSink['min_severity']
export type AlertSinkType = AlertSink['type']
export type AlertOutcome = 'sent' | 'failed' | 'timed_out' | 'deduplicated'
/** A call through the MarketData or Broker port. */
export type ExchangeOperation = Exclude<keyof MarketData, 'id' | 'barMs' | 'close'> | Exclude<keyof Broker, 'capabilities' | 'close'>

/** Every member of a closed union; the compiler rejects a missing or an extra member. */
const members = <T extends string>(set: Record<T, true>): readonly T[] => Object.freeze(Object.keys(set) as T[])

export const SIDES = members<Side>({buy: true, sell: true})
export const UNIVERSE_STATUSES = members<UniverseStatus>({eligible: true, forced: true, excluded: true})
export const ORDER_OUTCOMES = members<OrderOutcome>({filled: true, partial: true, open: true, canceled: true, rejected: true, unknown: true, abandoned: true})
export const TRIM_OUTCOMES = members<TrimOutcome>({succeeded: true, partial: true, failed: true})
export const CONVERT_ROUTES = members<ConvertRoute>({convert: true, market: true, twap: true})
export const CONVERT_OUTCOMES = members<ConvertOutcome>({succeeded: true, failed: true, unsupported: true})
export const ALERT_SEVERITIES = members<AlertSeverity>({info: true, warning: true, critical: true})
export const ALERT_SINK_TYPES = members<AlertSinkType>({console: true, webhook: true, slack: true, alertmanager: true})
export const ALERT_OUTCOMES = members<AlertOutcome>({sent: true, failed: true, timed_out: true, deduplicated: true})
export const EXCHANGE_ERROR_KINDS = members<ExchangeErrorKind>({retryable: true, rate_limited: true, rejected: true, fatal: true})
export const ABANDON_REASONS = members<AbandonReason>({overrun: true, exchange_error: true})
export const DENIAL_CODES = members<DenialCode>({
  EXPOSURE_CAP: true, TIER_POSITION_CAP: true, MIN_NOTIONAL: true, MAX_ORDER_NOTIONAL: true, PRICE_COLLAR: true, ORDER_BUDGET: true,
  DUPLICATE_ORDER: true, STALE_QUOTE: true, INSUFFICIENT_FUNDS: true, PRECISION: true, NO_MARKET: true, UNPRICED_HOLDINGS: true, SUSPECT_PRICE: true,
})
export const EXCHANGE_OPERATIONS = members<ExchangeOperation>({
  markets: true, tickers: true, candles: true, time: true, balances: true, createOrder: true, fetchOrder: true,
  fetchOrderByClientId: true, recentOrders: true, cancelOrder: true, openOrders: true, convertQuote: true, convertCommit: true,
})

/** HTTP requests one cycle sends to a real exchange: about 4 plus 1 to 3 per order (see bench/live.js). */
export const REQUESTS_PER_CYCLE_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100]

/** 1 ms (a sim cycle) to 120 s (loop.max_cycle_seconds' default). */
export const CYCLE_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

/**
 * prom-client's Node gauges named `*_total` (promtool flags a gauge with that suffix); each is the sum of
 * its per-type sibling (nodejs_active_handles{type}), which stays.
 */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

type Labels = Record<string, string>

/** Series with label values checked by the compiler, not only label names. */
export interface LabeledCounter<L extends Labels> {
  inc(labels: L, value?: number): void
}

export interface LabeledGauge<L extends Labels> {
  set(labels: L, value: number): void
  /** Drop every series (e.g. before setting the positions held now). */
  reset(): void
}

export interface PlainCounter {
  inc(value?: number): void
}

export interface PlainGauge {
  set(value: number): void
}

export interface PlainHistogram {
  observe(value: number): void
}

interface Definition {
  name: string
  help: string
}

/**
 * The latest values, or the increments not yet handed over, by label set. Updates land here as plain numbers
 * and reach prom-client when the registry is read (each metric's `collect` hook, run by every scrape and
 * push): the loop's updates cost no label hashing, and whoever reads the registry sees the same values.
 */
class Tally<L extends Labels> {
  private readonly entries = new Map<string, {labels: L; value: number}>()

  constructor(private readonly labelNames: readonly string[]) {}

  set(labels: L, value: number): void {
    this.entry(labels).value = value
  }

  add(labels: L, value: number): void {
    this.entry(labels).value += value
  }

  clear(): void {
    this.entries.clear()
  }

  values(): IterableIterator<{labels: L; value: number}> {
    return this.entries.values()
  }

  private entry(labels: L): {labels: L; value: number} {
    let key = ''
    for (const name of this.labelNames) key += `${labels[name]}\u0000`
    let entry = this.entries.get(key)
    if (!entry) {
      entry = {labels: {...labels}, value: 0}
      this.entries.set(key, entry)
    }

    return entry
  }
}

/** prom-client refuses these when handed over; refused here, where the caller is. */
function checkIncrement(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} cannot be increased by ${value}`)
}

/** A counter whose label values are closed sets: every combination exists from the start, at 0. */
function closedCounter<L extends Labels>(registry: Registry, def: Definition & {labels: {[K in keyof L]: readonly L[K][]}}): LabeledCounter<L> {
  const labelNames = Object.keys(def.labels)
  const pending = new Tally<L>(labelNames)
  const counter = new Counter({name: def.name, help: def.help, labelNames, registers: [registry], collect() {
    for (const e of pending.values()) {
      if (e.value > 0) this.inc(e.labels, e.value)
      e.value = 0
    }
  }})
  for (const labels of combinations(def.labels)) counter.inc(labels, 0)
  return {inc: (labels, value = 1) => {
    checkIncrement(def.name, value)
    pending.add(labels, value)
  }}
}

function closedGauge<L extends Labels>(registry: Registry, def: Definition & {labels: {[K in keyof L]: readonly L[K][]}}): LabeledGauge<L> {
  const gauge = labeledGauge<L>(registry, def, Object.keys(def.labels))
  for (const labels of combinations(def.labels)) gauge.set(labels, 0)
  return gauge
}

/** A gauge whose label values are bounded by configuration (symbols, tiers), so not known here. */
function openGauge<K extends string>(registry: Registry, def: Definition & {labelNames: readonly K[]}): LabeledGauge<Record<K, string>> {
  return labeledGauge(registry, def, def.labelNames)
}

function labeledGauge<L extends Labels>(registry: Registry, def: Definition, labelNames: readonly string[]): LabeledGauge<L> {
  const latest = new Tally<L>(labelNames)
  new Gauge({name: def.name, help: def.help, labelNames, registers: [registry], collect() {
    this.reset()
    for (const e of latest.values()) this.set(e.labels, e.value)
  }})
  return {set: (labels, value) => latest.set(labels, value), reset: () => latest.clear()}
}

function gauge(registry: Registry, def: Definition): PlainGauge {
  let latest = 0
  new Gauge({...def, registers: [registry], collect() {
    this.set(latest)
  }})
  return {set: (value) => {
    latest = value
  }}
}

function counter(registry: Registry, def: Definition): PlainCounter {
  let pending = 0
  new Counter({...def, registers: [registry], collect() {
    if (pending > 0) this.inc(pending)
    pending = 0
  }})
  return {inc: (value = 1) => {
    checkIncrement(def.name, value)
    pending += value
  }}
}

function combinations<L extends Labels>(sets: {[K in keyof L]: readonly L[K][]}): L[] {
  let out: Labels[] = [{}]
  for (const [name, values] of Object.entries(sets) as [string, readonly string[]][]) {
    out = out.flatMap((partial) => values.map((value) => ({...partial, [name]: value})))
  }

  return out as L[]
}

export interface CreateMetricsOptions {
  /** prom-client's process and Node metrics; off for a one-shot push, where they describe nothing useful. */
  processMetrics?: boolean
}

/** Declares every bot metric on `registry` and returns them, typed. */
export function createMetrics(registry: Registry, options: CreateMetricsOptions = {}) {
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({register: registry})
    for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name)
  }

  return {
    info: openGauge(registry, {name: 'bot_info', help: 'Always 1; labels say which bot version trades on which venue and exchange, and the quote currency of every money metric', labelNames: ['version', 'venue', 'exchange', 'quote_currency']}),
    equity: gauge(registry, {name: 'bot_equity', help: 'Portfolio value (cash plus holdings at last price), in the quote currency'}),
    cash: gauge(registry, {name: 'bot_cash', help: 'Quote-currency balance'}),
    exposureRatio: gauge(registry, {name: 'bot_exposure_ratio', help: 'Value of non-cash holdings plus open buys, as a fraction of equity'}),
    exposureValue: gauge(registry, {name: 'bot_exposure_value', help: 'Value of non-cash holdings plus open buys, in the quote currency'}),
    exposureCapRatio: gauge(registry, {name: 'bot_exposure_cap_ratio', help: 'The exposure cap (policy.yaml risk.max_total_at_risk_pct) as a fraction of equity'}),
    positionValue: openGauge(registry, {name: 'bot_position_value', help: 'Value of a holding at last price, in the quote currency', labelNames: ['symbol', 'tier']}),
    universeSymbols: closedGauge<{status: UniverseStatus}>(registry, {name: 'bot_universe_symbols', help: 'Universe symbols by eligibility in the last cycle', labels: {status: UNIVERSE_STATUSES}}),
    orders: closedCounter<{side: Side; outcome: OrderOutcome}>(registry, {name: 'bot_orders_total', help: 'Orders bot decided to place, by side and what became of them', labels: {side: SIDES, outcome: ORDER_OUTCOMES}}),
    riskDenials: closedCounter<{code: DenialCode}>(registry, {name: 'bot_risk_denials_total', help: 'Orders refused by the pre-trade risk checks, by denial code', labels: {code: DENIAL_CODES}}),
    trimFailuresInARow: gauge(registry, {name: 'bot_trim_consecutive_failures', help: 'Cycles in a row that had to trim back under the cap and could not (0 after a successful trim)'}),
    trims: closedCounter<{outcome: TrimOutcome}>(registry, {name: 'bot_trims_total', help: 'Auto-trim attempts back under the exposure cap, by outcome', labels: {outcome: TRIM_OUTCOMES}}),
    convertAttempts: closedCounter<{route: ConvertRoute; outcome: ConvertOutcome}>(registry, {name: 'bot_convert_attempts_total', help: 'Attempts to sell a holding into the quote currency, by route and outcome', labels: {route: CONVERT_ROUTES, outcome: CONVERT_OUTCOMES}}),
    alerts: closedCounter<{severity: AlertSeverity; sink: AlertSinkType; outcome: AlertOutcome}>(registry, {name: 'bot_alerts_total', help: 'Alert deliveries by severity, sink type and outcome', labels: {severity: ALERT_SEVERITIES, sink: ALERT_SINK_TYPES, outcome: ALERT_OUTCOMES}}),
    exchangeRequests: closedCounter<{operation: ExchangeOperation}>(registry, {name: 'bot_exchange_requests_total', help: 'Calls to the exchange, by operation', labels: {operation: EXCHANGE_OPERATIONS}}),
    exchangeErrors: closedCounter<{operation: ExchangeOperation; kind: ExchangeErrorKind}>(registry, {name: 'bot_exchange_errors_total', help: 'Failed calls to the exchange, by operation and error kind', labels: {operation: EXCHANGE_OPERATIONS, kind: EXCHANGE_ERROR_KINDS}}),
    cycleDuration: new Histogram({name: 'bot_cycle_duration_seconds', help: 'Wall-clock time of one completed cycle', buckets: CYCLE_DURATION_BUCKETS, registers: [registry]}) as PlainHistogram,
    lastCycleTimestamp: gauge(registry, {name: 'bot_last_cycle_completed_timestamp_seconds', help: 'Unix time (wall clock) at which the last cycle completed'}),
    killSwitchActive: gauge(registry, {name: 'bot_kill_switch_active', help: '1 while <state dir>/KILL_SWITCH halts trading, else 0'}),
    cyclesAbandoned: closedCounter<{reason: AbandonReason}>(registry, {name: 'bot_cycles_abandoned_total', help: 'Cycles given up between two steps: over loop.max_cycle_seconds, or the exchange failing after retries', labels: {reason: ABANDON_REASONS}}),
    // Paper and live only: a real exchange's connection.
    httpRequests: counter(registry, {name: 'bot_exchange_http_requests_total', help: 'HTTP requests sent to the exchange, retries and failures included'}),
    httpFailures: closedCounter<{kind: ExchangeErrorKind}>(registry, {name: 'bot_exchange_http_failures_total', help: 'Failed HTTP requests to the exchange (an error status, no answer, an answer that does not parse) by error kind, also those a retry recovered from', labels: {kind: EXCHANGE_ERROR_KINDS}}),
    httpRequestsPerCycle: new Histogram({name: 'bot_exchange_http_requests_per_cycle', help: 'HTTP requests one cycle sent to the exchange, retries included', buckets: REQUESTS_PER_CYCLE_BUCKETS, registers: [registry]}) as PlainHistogram,
    circuitOpen: gauge(registry, {name: 'bot_exchange_circuit_open', help: '1 while the circuit breaker stops calls to the exchange after failures in a row (open or trying again), else 0'}),
    circuitOpens: counter(registry, {name: 'bot_exchange_circuit_opens_total', help: 'Times the circuit breaker opened'}),
    clockSkewSeconds: gauge(registry, {name: 'bot_clock_skew_seconds', help: 'The exchange\'s clock minus this machine\'s at the last reading (positive: the exchange is ahead)'}),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
