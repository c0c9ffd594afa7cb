import {ExchangeError} from '../ports.js'

/**
 * How calls to a real exchange survive a bad minute: retries with exponential backoff and jitter for
 * transient failures, a circuit breaker that stops hammering an exchange that keeps failing, and markets
 * reloaded after a failed load (ccxt caches a failed loadMarkets until it is told to reload).
 */

export interface RetryOptions {
  /** Tries per request, the first included (1 = no retry). */
  attempts: number
  /** First backoff after a transient failure; doubles each time, up to maxDelayMs. */
  baseDelayMs: number
  /** First backoff after a rate limit (the exchange asked us to slow down). */
  rateLimitDelayMs: number
  maxDelayMs: number
  /** No retry starts once this much time has passed since the first try. */
  budgetMs: number
}

export interface BreakerOptions {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number
  /** How long an open circuit fails calls fast before letting one trial through. */
  cooldownMs: number
}

export const DEFAULT_RETRY: RetryOptions = {attempts: 4, baseDelayMs: 250, rateLimitDelayMs: 1000, maxDelayMs: 8000, budgetMs: 20_000}
export const DEFAULT_BREAKER: BreakerOptions = {failureThreshold: 5, cooldownMs: 30_000}

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitSnapshot {
  state: CircuitState
  /** Failed calls in a row (transient failures only: a refusal or an answer is not a failure of the exchange). */
  consecutiveFailures: number
  /** When it last opened, epoch ms (null while it never has). */
  openedAt: number | null
  /** While open: when the next trial call is let through. */
  retryAt: number | null
  /** The error that last counted as a failure. */
  lastError: string | null
}

/** The code of the error an open circuit answers with, instead of calling the exchange. */
export const CIRCUIT_OPEN = 'CIRCUIT_OPEN'

const isTransient = (e: ExchangeError) => e.kind === 'retryable' || e.kind === 'rate_limited'

export class CircuitBreaker {
  private state: CircuitState = 'closed'
  private failures = 0
  private openedAt: number | null = null
  private retryAt: number | null = null
  private lastError: string | null = null
  private trialInFlight = false
  private readonly listeners: Array<(s: CircuitSnapshot) => void> = []

  constructor(private readonly options: BreakerOptions, private readonly now: () => number = Date.now) {}

  snapshot(): CircuitSnapshot {
    return {state: this.state, consecutiveFailures: this.failures, openedAt: this.openedAt, retryAt: this.state === 'open' ? this.retryAt : null, lastError: this.lastError}
  }

  /** Called on every change of state (closed -> open -> half-open -> closed or open). */
  onChange(listener: (s: CircuitSnapshot) => void): void {
    this.listeners.push(listener)
  }

  /** Lets a call through, or throws CIRCUIT_OPEN (kind retryable) without touching the exchange. */
  admit(exchangeId: string): void {
    if (this.state === 'open' && this.retryAt !== null && this.now() >= this.retryAt) this.move('half-open')
    if (this.state === 'closed') return
    if (this.state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true
      return
    }

    const wait = this.state === 'open' && this.retryAt !== null ? `; next try in ${Math.max(0, Math.ceil((this.retryAt - this.now()) / 1000))} s` : '; a trial call is under way'
    throw new ExchangeError(`${exchangeId}: circuit open after ${this.failures} failed calls in a row${wait} (last: ${this.lastError ?? 'unknown'})`, 'retryable', CIRCUIT_OPEN)
  }

  /**
   * An admitted call that did not reach the exchange (answered from a cache): no evidence either way, so the
   * count of failures stands; a trial call's slot is freed.
   */
  release(): void {
    this.trialInFlight = false
  }

  /** The outcome of an admitted call: only transient failures count against the exchange. */
  record(error: ExchangeError | null): void {
    this.trialInFlight = false
    if (error === null || !isTransient(error)) {
      this.failures = 0
      if (this.state !== 'closed') this.move('closed')
      return
    }

    this.failures++
    this.lastError = `${error.code}: ${error.message}`
    if (this.state === 'half-open' || (this.state === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now()
      this.retryAt = this.openedAt + this.options.cooldownMs
      this.move('open')
    }
  }

  private move(state: CircuitState): void {
    this.state = state
    const snap = this.snapshot()
    for (const listener of this.listeners) listener(snap)
  }
}

export interface ResilienceOptions {
  exchangeId: string
  retry: RetryOptions
  breaker: BreakerOptions
  /** Turns anything thrown into an ExchangeError (see errors.ts). */
  classify: (error: unknown, operation: string) => ExchangeError
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  now?: () => number
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class Resilience {
  readonly breaker: CircuitBreaker
  private readonly sleep: (ms: number) => Promise<void>
  private readonly random: () => number
  private readonly now: () => number

  constructor(private readonly options: ResilienceOptions) {
    this.now = options.now ?? Date.now
    this.breaker = new CircuitBreaker(options.breaker, this.now)
    this.sleep = options.sleep ?? realSleep
    this.random = options.random ?? Math.random
  }

  /**
   * One port call: refused fast while the circuit is open; its outcome moves the breaker. `reached` says
   * whether it sent a request: a success answered from a cache proves nothing about the exchange, and would
   * otherwise reset the count of failures every cycle, so the breaker would never open.
   */
  async call<T>(operation: string, fn: () => Promise<T>, reached: () => boolean = () => true): Promise<T> {
    this.breaker.admit(this.options.exchangeId)
    try {
      const result = await fn()
      if (reached()) this.breaker.record(null)
      else this.breaker.release()
      return result
    } catch (error) {
      const classified = this.options.classify(error, operation)
      this.breaker.record(classified)
      throw classified
    }
  }

  /** One request that is safe to repeat, retried while it fails transiently, within the attempts and time budget. */
  async retry<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const {attempts, budgetMs} = this.options.retry
    const started = this.now()
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn()
      } catch (error) {
        const e = this.options.classify(error, operation)
        if (!isTransient(e) || attempt >= attempts) throw attempt > 1 ? new ExchangeError(`${e.message} (after ${attempt} tries)`, e.kind, e.code) : e
        const delay = this.backoff(e, attempt)
        if (this.now() - started + delay > budgetMs) throw new ExchangeError(`${e.message} (gave up after ${attempt} tries, time budget ${budgetMs} ms)`, e.kind, e.code)
        await this.sleep(delay)
      }
    }
  }

  /** One request that must never be repeated blindly (an order): classified, not retried. */
  async once<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw this.options.classify(error, operation)
    }
  }

  /** Exponential backoff with jitter: base * 2^(n-1), capped, times a random factor in [0.5, 1). */
  private backoff(e: ExchangeError, attempt: number): number {
    const {baseDelayMs, rateLimitDelayMs, maxDelayMs} = this.options.retry
    const base = e.kind === 'rate_limited' ? rateLimitDelayMs : baseDelayMs
    const ceiling = Math.min(maxDelayMs, base * 2 ** (attempt - 1))
    return Math.round(ceiling * (0.5 + this.random() / 2))
  }
}

/**
 * Markets as ccxt holds them, loaded on first use and again once they are older than `ttlMs`. After a
 * failed load the next one asks ccxt to reload: otherwise ccxt hands back the cached failure forever. A
 * failed refresh keeps the markets already loaded (still good for trading) and is tried again a minute later.
 */
export class MarketsLoader {
  private loaded = false
  private failed = false
  private reloadAt = 0
  private pending: Promise<void> | null = null
  /** Bumped on every successful load, so derived caches know when to rebuild. */
  generation = 0

  constructor(private readonly load: (reload: boolean) => Promise<unknown>, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  async ensure(): Promise<void> {
    if (this.loaded && this.now() < this.reloadAt) return
    const had = this.loaded
    this.pending ??= this.reload(had || this.failed).finally(() => {
      this.pending = null
    })
    try {
      await this.pending
    } catch (error) {
      if (!had) throw error
    }
  }

  private async reload(force: boolean): Promise<void> {
    try {
      await this.load(force)
    } catch (error) {
      this.failed = true
      this.reloadAt = this.now() + Math.min(this.ttlMs, 60_000)
      throw error
    }

    this.loaded = true
    this.failed = false
    this.reloadAt = this.now() + this.ttlMs
    this.generation++
  }
}
