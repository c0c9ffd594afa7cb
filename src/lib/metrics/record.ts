import type {EngineEvent, EngineObserver} from '../engine/events.js'
import type {OrderStatus, Side} from '../domain.js'
import type {DenialCode} from '../risk/checks.js'
import type {ExchangeErrorKind} from '../exchange/ports.js'
import type {AbandonReason, AlertOutcome, AlertSeverity, AlertSinkType, ConvertOutcome, ConvertRoute, Metrics, OrderOutcome, TrimOutcome} from './metrics.js'

/**
 * The call sites' API: one function per thing that happened, each a no-op when metrics are off (null), so
 * callers never test for it. Percentages arrive as bot computes them (0..100) and leave as ratios.
 */

export interface Position {
  symbol: string
  tier: string
  /** At last price, in the quote currency. */
  value: number
}

export interface CycleFigures {
  equity: number
  cash: number
  /** Exposure as bot computes it (risk/exposure.ts), 0..100+. */
  exposurePct: number
  /** policy.yaml risk.max_total_at_risk_pct. */
  capPct: number
  universe: {eligible: number; forced: number; excluded: number}
}

export interface BotInfo {
  version: string
  /** sim, paper or live. */
  venue: string
  /** exchange.id */
  exchange: string
  quoteCurrency: string
}

export function setBotInfo(m: Metrics | null, info: BotInfo): void {
  if (!m) return
  m.info.reset()
  m.info.set({version: info.version, venue: info.venue, exchange: info.exchange, quote_currency: info.quoteCurrency}, 1)
}

/** The figures of a completed cycle; `completedAt` is wall-clock epoch ms (not the sim's market time), for staleness alerts. */
export function recordCycle(m: Metrics | null, f: CycleFigures, completedAt = Date.now()): void {
  if (!m) return
  m.equity.set(f.equity)
  m.cash.set(f.cash)
  m.exposureRatio.set(f.exposurePct / 100)
  m.exposureValue.set((f.exposurePct / 100) * f.equity)
  m.exposureCapRatio.set(f.capPct / 100)
  for (const status of ['eligible', 'forced', 'excluded'] as const) m.universeSymbols.set({status}, f.universe[status])
  m.lastCycleTimestamp.set(completedAt / 1000)
}

/** The holdings now; a position sold since the last call disappears (reset and set run in one tick, so no scrape sees a gap). */
export function recordPositions(m: Metrics | null, positions: readonly Position[]): void {
  if (!m) return
  m.positionValue.reset()
  for (const p of positions) m.positionValue.set({symbol: p.symbol, tier: p.tier}, p.value)
}

export function recordCycleDuration(m: Metrics | null, seconds: number): void {
  m?.cycleDuration.observe(seconds)
}

export function recordOrder(m: Metrics | null, side: Side, outcome: OrderOutcome): void {
  m?.orders.inc({side, outcome})
}

/** What the exchange's answer means for the orders metric. */
export function orderOutcome(order: {status: OrderStatus; filled: number; amount: number}): OrderOutcome {
  if (order.status === 'rejected') return 'rejected'
  if (order.status === 'closed') return order.filled < order.amount ? 'partial' : 'filled'
  if (order.filled > 0) return 'partial'
  return order.status === 'open' ? 'open' : 'canceled'
}

export function recordDenial(m: Metrics | null, code: DenialCode): void {
  m?.riskDenials.inc({code})
}

/** One trim attempt, and the failure count after it (0 once a trim succeeded). */
export function recordTrim(m: Metrics | null, outcome: TrimOutcome, failuresInARow: number): void {
  if (!m) return
  m.trims.inc({outcome})
  m.trimFailuresInARow.set(failuresInARow)
}

export function recordConvert(m: Metrics | null, route: ConvertRoute, outcome: ConvertOutcome): void {
  m?.convertAttempts.inc({route, outcome})
}

/** One delivery of one alert to one sink. */
export function recordAlert(m: Metrics | null, severity: AlertSeverity, sink: AlertSinkType, outcome: AlertOutcome): void {
  m?.alerts.inc({severity, sink, outcome})
}

export function setKillSwitch(m: Metrics | null, active: boolean): void {
  m?.killSwitchActive.set(active ? 1 : 0)
}

/** HTTP requests a real exchange was sent, and those that failed by kind (exchange/ccxt/requests.ts). */
export interface ExchangeTraffic {
  requests: number
  failedByKind: Partial<Record<ExchangeErrorKind, number>>
}

/** Requests since the last call; `cycle`: they are one cycle's (the requests-per-cycle histogram). */
export function recordExchangeTraffic(m: Metrics | null, traffic: ExchangeTraffic, cycle: boolean): void {
  if (!m) return
  m.httpRequests.inc(traffic.requests)
  for (const [kind, n] of Object.entries(traffic.failedByKind) as [ExchangeErrorKind, number][]) m.httpFailures.inc({kind}, n)
  if (cycle) m.httpRequestsPerCycle.observe(traffic.requests)
}

/** The circuit breaker moved: `open` while it stops calls (open or half-open); `opened` when it just opened. */
export function setCircuit(m: Metrics | null, open: boolean, opened: boolean): void {
  if (!m) return
  m.circuitOpen.set(open ? 1 : 0)
  if (opened) m.circuitOpens.inc()
}

export function recordAbandonedCycle(m: Metrics | null, reason: AbandonReason): void {
  m?.cyclesAbandoned.inc({reason})
}

/**
 * The engine's events as metrics: cycle figures and positions, orders, denials, trims, alerts and the kill
 * switch. What the events do not carry is recorded by the composition root and the loop (cycle duration,
 * HTTP requests, the circuit breaker, abandoned cycles) and by instrument-exchange.ts (exchange calls, the
 * clock's skew).
 */
export function metricsObserver(m: Metrics | null): EngineObserver {
  return (event: EngineEvent) => {
    if (!m) return
    switch (event.type) {
      case 'cycle': {
        const r = event.report
        recordCycle(m, {equity: r.equity, cash: r.cash, exposurePct: r.exposurePct, capPct: r.capPct, universe: {eligible: r.eligible, forced: r.forced, excluded: r.excluded}})
        recordPositions(m, r.positions)
        // Not from r.halted: a cycle is also halted while the exchange's clock is off (CLOCK_SKEW); the
        // kill switch's own events and its state at start (engine/open.ts) set this gauge.
        m.trimFailuresInARow.set(r.trimFailures)
        break
      }

      case 'order': return recordOrder(m, event.side as Side, statusOutcome(event.status))
      case 'denied': return recordDenial(m, event.denial.code)
      case 'kill_switch': return setKillSwitch(m, event.active)
      case 'convert': return event.status === 'abandoned' ? undefined : recordConvert(m, 'convert', event.status === 'completed' ? 'succeeded' : 'failed')
      case 'trim': return recordTrim(m, event.outcome === 'not_needed' ? 'succeeded' : event.outcome, event.trimFailures)
      case 'alert': {
        for (const d of event.deliveries) {
          if (d.outcome === 'below_min_severity') continue
          const outcome = d.outcome === 'failed' && d.error?.startsWith('timeout') ? 'timed_out' : d.outcome
          recordAlert(m, event.severity, d.sink.split('#')[0] as AlertSinkType, outcome)
        }

        break
      }

      default:
    }
  }
}

/** The order event carries the status but not the filled amount, so a partial fill cannot be told apart here. */
function statusOutcome(status: string): OrderOutcome {
  switch (status) {
    case 'closed': return 'filled'
    case 'open': return 'open'
    case 'canceled': return 'canceled'
    case 'rejected': return 'rejected'
    case 'abandoned': return 'abandoned'
    default: return 'unknown'
  }
}
