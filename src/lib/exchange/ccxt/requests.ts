import {AsyncLocalStorage} from 'node:async_hooks'

/**
 * HTTP requests sent to the exchange, in total and per port call, so a benchmark can report requests per
 * cycle. Each request is charged to the port call it was made for, also when calls run concurrently.
 */

export interface OperationRequests {
  /** Port calls made. */
  calls: number
  /** HTTP requests those calls sent, retries and market loads included. */
  requests: number
}

export interface RequestStats {
  requests: number
  byOperation: Record<string, OperationRequests>
}

/** Requests sent outside any port call (none are expected). */
const OUTSIDE = 'other'

export class RequestCounter {
  private readonly context = new AsyncLocalStorage<string>()
  private total = 0
  private readonly byOperation = new Map<string, OperationRequests>()

  /** Runs one port call; the requests it sends are charged to `operation`. */
  within<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    this.entry(operation).calls++
    return this.context.run(operation, fn)
  }

  /** One HTTP request leaving. */
  count(): void {
    this.total++
    this.entry(this.context.getStore() ?? OUTSIDE).requests++
  }

  snapshot(): RequestStats {
    return {requests: this.total, byOperation: Object.fromEntries([...this.byOperation].map(([op, n]) => [op, {...n}]))}
  }

  reset(): void {
    this.total = 0
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
