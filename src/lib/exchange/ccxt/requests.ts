import {AsyncLocalStorage} from 'node:async_hooks'

import type {ExchangeErrorKind} from '../ports.js'

/**
 * HTTP requests sent to the exchange, in total and per port call, so a benchmark can report requests per
 * cycle, and the ones that failed by kind, so a fault a retry hid still shows in the metrics. Each request is
 * charged to the port call it was made for, also when calls run concurrently.
 */

export interface OperationRequests {
  /** Port calls made. */
  calls: number
  /** HTTP requests those calls sent, retries and market loads included. */
  requests: number
}

export interface RequestStats {
  requests: number
  /** Requests that failed: an error status, no answer, an answer that does not parse. */
  failed: number
  /** The same by the kind their error was classified as. */
  failedByKind: Partial<Record<ExchangeErrorKind, number>>
  byOperation: Record<string, OperationRequests>
}

/** Requests sent outside any port call (none are expected). */
const OUTSIDE = 'other'

export class RequestCounter {
  private readonly context = new AsyncLocalStorage<string>()
  private total = 0
  private everSent = 0
  private failed = 0
  private failedByKind: Partial<Record<ExchangeErrorKind, number>> = {}
  private readonly byOperation = new Map<string, OperationRequests>()

  /** Runs one port call; the requests it sends are charged to `operation`. */
  within<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    this.entry(operation).calls++
    return this.context.run(operation, fn)
  }

  /** Requests sent since this counter was made (reset() leaves it). */
  get sent(): number {
    return this.everSent
  }

  /** One HTTP request leaving. */
  count(): void {
    this.everSent++
    this.total++
    this.entry(this.context.getStore() ?? OUTSIDE).requests++
  }

  /** The request just counted failed. */
  fail(kind: ExchangeErrorKind): void {
    this.failed++
    this.failedByKind[kind] = (this.failedByKind[kind] ?? 0) + 1
  }

  snapshot(): RequestStats {
    return {requests: this.total, failed: this.failed, failedByKind: {...this.failedByKind}, byOperation: Object.fromEntries([...this.byOperation].map(([op, n]) => [op, {...n}]))}
  }

  reset(): void {
    this.total = 0
    this.failed = 0
    this.failedByKind = {}
    this.byOperation.clear()
  }

  private entry(operation: string): OperationRequests {
    let e = this.byOperation.get(operation)
    if (!e) {
      e = {calls: 0, requests: 0}
      this.byOperation.set(operation, e)
    }

    return e
  }
}
