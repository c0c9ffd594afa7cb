import {ExchangeError} from '../../exchange/ports.js'
import type {Metrics} from '../../metrics/metrics.js'
import {recordExchangeTraffic, setCircuit} from '../../metrics/record.js'
import {raiseAlert, resolveAlert} from '../alerting.js'
import type {Engine} from '../context.js'
import type {ExchangeLink} from '../venue.js'

export const CIRCUIT_ALERT = 'EXCHANGE_CIRCUIT'

/** A failure the exchange may get over by itself (network, timeout, rate limit, 5xx, open circuit): worth another cycle. */
export function isTransient(error: unknown): error is ExchangeError {
  return error instanceof ExchangeError && (error.kind === 'retryable' || error.kind === 'rate_limited')
}

/** `run`, tried again after `pauseMs` while it fails transiently, `tries` times in all. */
export async function retryTransient<T>(run: () => Promise<T>, tries: number, pauseMs: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (!isTransient(error) || attempt >= tries) throw error
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
}

/**
 * What the loop watches of a real exchange's connection (paper and live; on the sim every call does
 * nothing): HTTP requests per cycle and their failures as metrics, and the circuit breaker as a gauge and
 * the EXCHANGE_CIRCUIT alert, raised when it opens and resolved once it has closed again.
 */
export class ExchangeWatch {
  private openedSinceLook = false

  constructor(private readonly link: ExchangeLink | undefined, private readonly metrics: Metrics | null) {
    link?.onCircuitChange((s) => {
      if (s.state === 'open') this.openedSinceLook = true
      setCircuit(metrics, s.state !== 'closed', s.state === 'open')
    })
  }

  /** Before a cycle: requests sent since the last one (start-up, warm-up, the pause) go to the totals only. */
  beginCycle(): void {
    this.take(false)
  }

  /** After a cycle, completed or not: its requests, also as one observation of requests per cycle. Returns them. */
  endCycle(): number {
    return this.take(true)
  }

  /** Before closing: what is left goes to the totals. */
  settle(): void {
    this.take(false)
  }

  /** Raises EXCHANGE_CIRCUIT while the breaker is open (or opened since the last look), resolves it once closed. */
  async alert(engine: Engine, time: number): Promise<void> {
    if (!this.link) return
    const snap = this.link.circuit()
    if (this.openedSinceLook || snap.state !== 'closed') {
      this.openedSinceLook = false
      const retry = snap.retryAt === null ? '' : `; next try at ${new Date(snap.retryAt).toISOString()}`
      await raiseAlert(engine, {
        code: CIRCUIT_ALERT, severity: 'critical', time,
        summary: `the exchange failed ${snap.consecutiveFailures} calls in a row: calls are paused (circuit ${snap.state})${retry}; last error: ${snap.lastError ?? 'unknown'}`,
        action: 'check the exchange\'s status page and this machine\'s network; bot tries again by itself and resolves this alert once a call succeeds',
        context: {state: snap.state, failures: snap.consecutiveFailures},
      })
    }

    if (snap.state === 'closed' && engine.alerts.active().includes(CIRCUIT_ALERT)) {
      await resolveAlert(engine, CIRCUIT_ALERT, 'the exchange answers again: circuit closed', time)
    }
  }

  private take(cycle: boolean): number {
    if (!this.link) return 0
    const stats = this.link.requests()
    this.link.resetRequests()
    recordExchangeTraffic(this.metrics, stats, cycle)
    return stats.requests
  }
}
