import type {Exchange, MarketInterface as Market} from 'ccxt'

import {ExchangeError} from '../ports.js'
import {classifyError, type Scrub, secretScrubber} from './errors.js'
import {loadExchange, type PrecisionModes} from './load.js'
import {profileConfig, profileFor, type VenueProfile} from './profile.js'
import {RequestCounter} from './requests.js'
import {type BreakerOptions, DEFAULT_BREAKER, DEFAULT_RETRY, MarketsLoader, Resilience, type RetryOptions} from './resilience.js'

/**
 * One ccxt exchange instance and everything shared by the market data and the broker built on it: one
 * rate limiter, one markets cache, one circuit breaker, one request counter, one clock-skew estimate.
 */

export interface Credentials {
  apiKey: string
  secret: string
}

export interface SessionOptions {
  exchangeId: string
  /** Replaces the scheme and host of every REST URL of the exchange (tests: the loopback server). */
  restUrl?: string
  credentials: Credentials | null
  timeoutMs: number
  retry?: Partial<RetryOptions>
  breaker?: Partial<BreakerOptions>
  /** Loaded markets are trusted this long before they are reloaded (default 1 h). */
  marketsTtlMs?: number
  /** ccxt's rate limiter, which paces requests to the exchange's published limits (default on). */
  rateLimit?: boolean
}

/** Bot's BASE-QUOTE symbols and ccxt's spot markets, both ways. */
export interface SymbolMap {
  toCcxt: ReadonlyMap<string, Market>
  toBot: ReadonlyMap<string, string>
}

const HOUR = 3_600_000

/** A PEM pasted into an environment variable often arrives with literal "\n" sequences; ccxt then cannot sign. */
function normalizeSecret(secret: string): string {
  return secret.startsWith('-----BEGIN') && secret.includes('\\n') ? secret.replaceAll('\\n', '\n') : secret
}

/** Every string in ccxt's `urls.api` (nested), with its scheme and host replaced by `origin`. */
function pointAt(api: unknown, origin: string): unknown {
  if (typeof api === 'string') return api.replace(/^https?:\/\/[^/]+/, origin)
  if (api && typeof api === 'object') return Object.fromEntries(Object.entries(api).map(([k, v]) => [k, pointAt(v, origin)]))
  return api
}

function allUrls(api: unknown): string[] {
  if (typeof api === 'string') return [api]
  return api && typeof api === 'object' ? Object.values(api).flatMap(allUrls) : []
}

export class CcxtSession {
  readonly requests = new RequestCounter()
  readonly resilience: Resilience
  readonly markets: MarketsLoader
  readonly profile: VenueProfile
  readonly scrub: Scrub
  readonly hasCredentials: boolean
  private skewMs = 0
  private skewKnown = false
  private symbolCache: {generation: number; map: SymbolMap} | null = null

  private constructor(readonly id: string, readonly ex: Exchange, readonly precisionModes: PrecisionModes, readonly loadedVia: 'class-file' | 'package', options: SessionOptions) {
    this.hasCredentials = options.credentials !== null
    this.scrub = secretScrubber(options.credentials && {apiKey: options.credentials.apiKey, secret: normalizeSecret(options.credentials.secret)})
    this.profile = profileFor(id, ex)
    this.resilience = new Resilience({
      exchangeId: id,
      retry: {...DEFAULT_RETRY, ...options.retry},
      breaker: {...DEFAULT_BREAKER, ...options.breaker},
      classify: (error, operation) => classifyError(error, {exchangeId: id, operation}, this.scrub),
    })
    this.markets = new MarketsLoader((reload) => ex.loadMarkets(reload), options.marketsTtlMs ?? HOUR)
    this.countRequests()
  }

  /** Loads the exchange's ccxt class (nothing of ccxt is loaded before) and builds the instance. No request is sent. */
  static async open(options: SessionOptions): Promise<CcxtSession> {
    const {exchangeId, credentials, restUrl} = options
    const loaded = await loadExchange(exchangeId)
    const ex = new loaded.Exchange({
      ...profileConfig(exchangeId),
      enableRateLimit: options.rateLimit ?? true,
      timeout: options.timeoutMs,
      ...(credentials && {apiKey: credentials.apiKey, secret: normalizeSecret(credentials.secret)}),
      options: {warnOnFetchOpenOrdersWithoutSymbol: false},
    })
    if (restUrl !== undefined) {
      const url = URL.canParse(restUrl) ? new URL(restUrl) : null
      if (!url || !/^https?:$/.test(url.protocol)) throw new ExchangeError(`${exchangeId}: the REST URL must be an http(s) URL`, 'fatal', 'BAD_REST_URL')
      const {origin} = url
      ex.urls.api = pointAt(ex.urls.api, origin) as typeof ex.urls.api
      const stray = allUrls(ex.urls.api).filter((u) => /^https?:/.test(u) && !u.startsWith(origin))
      if (stray.length > 0) throw new ExchangeError(`${exchangeId}: could not point every REST URL at ${origin}`, 'fatal', 'BAD_REST_URL')
    }

    return new CcxtSession(exchangeId, ex, loaded.precisionModes, loaded.via, options)
  }

  /**
   * One port call: its requests counted under `operation`, refused while the circuit is open, errors
   * classified; a success moves the breaker only if it reached the exchange.
   */
  call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const before = this.requests.sent
    return this.requests.within(operation, () => this.resilience.call(operation, fn, () => this.requests.sent > before))
  }

  retry<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.resilience.retry(operation, fn)
  }

  once<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.resilience.once(operation, fn)
  }

  /** Markets loaded (reloaded when stale or after a failure), as bot's symbols. */
  async symbols(): Promise<SymbolMap> {
    await this.retry('loadMarkets', () => this.markets.ensure())
    let cache = this.symbolCache
    if (cache?.generation !== this.markets.generation) {
      cache = {generation: this.markets.generation, map: this.buildSymbols()}
      this.symbolCache = cache
    }

    return cache.map
  }

  /** The exchange's clock as last measured: the local clock plus the skew seen by the last time(). */
  exchangeNow(): number {
    return Date.now() + this.skewMs
  }

  /** Records a server time read between local instants `sentAt` and `receivedAt`. */
  private noteServerTime(serverMs: number, sentAt: number, receivedAt: number): void {
    this.skewMs = Math.round(serverMs - (sentAt + receivedAt) / 2)
    this.skewKnown = true
  }

  /** The exchange's clock, read now (retried); the skew estimate follows it. */
  serverTime(): Promise<number> {
    return this.retry('time', async () => {
      const sentAt = Date.now()
      const server = await this.profile.serverTime(this.ex)
      this.noteServerTime(server, sentAt, Date.now())
      return server
    })
  }

  /** Reads the exchange's clock once if nothing has yet: candle windows are cut on it. */
  async knowSkew(): Promise<void> {
    if (!this.skewKnown) await this.serverTime()
  }

  private buildSymbols(): SymbolMap {
    const toCcxt = new Map<string, Market>()
    const toBot = new Map<string, string>()
    for (const m of Object.values(this.ex.markets ?? {})) {
      if (!m || m.spot !== true || m.contract === true) continue
      const symbol = `${m.base}-${m.quote}`
      toCcxt.set(symbol, m)
      toBot.set(m.symbol, symbol)
    }

    return {toCcxt, toBot}
  }

  /**
   * Counts every HTTP request and each that fails (by kind), and refuses an answer whose body is not JSON: ccxt would hand it on as a
   * string, which reads as an empty list or an order without id.
   */
  private countRequests(): void {
    const ex = this.ex as unknown as {fetch: (url: string, method?: string, headers?: unknown, body?: unknown) => Promise<unknown>}
    const original = ex.fetch.bind(this.ex)
    ex.fetch = async (url, method = 'GET', headers, body) => {
      this.requests.count()
      let response: unknown
      try {
        response = await original(url, method, headers, body)
      } catch (error) {
        this.requests.fail(classifyError(error, {exchangeId: this.id, operation: method}, this.scrub).kind)
        throw error
      }

      if (typeof response === 'string' && response.trim() !== '') {
        this.requests.fail('retryable')
        const path = url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '')
        const sample = response.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 60)
        throw new ExchangeError(`${this.id} ${method} ${path}: the answer is not JSON ("${sample}")`, 'retryable', 'BAD_RESPONSE')
      }

      return response
    }
  }
}
