import assert from 'node:assert/strict'

import type {CcxtBroker, CcxtMarketData, CcxtVenue, CcxtVenueOptions} from '../../src/lib/exchange/ccxt/index.js'
import {openCcxtVenue} from '../../src/lib/exchange/ccxt/index.js'
import {ExchangeError, type ExchangeErrorKind} from '../../src/lib/exchange/ports.js'
import {type TestKey, testKey} from '../coinbase/keys.js'
import {type CoinbaseServer, type CoinbaseServerOptions, startCoinbaseServer} from '../coinbase/server.js'

/** Shared pieces of the ccxt adapter tests: a loopback Coinbase and the adapter pointed at it. */

export const HOUR = 3_600_000
export const BTC_RULES = {baseIncrement: 1e-8, priceIncrement: 0.01, quoteIncrement: 0.01, baseMinSize: 1e-8, baseMaxSize: 3400, quoteMinSize: 1, quoteMaxSize: 150_000_000}
/** Short backoffs, so retries cost milliseconds in tests; the shape is the production one. */
export const FAST_RETRY = {attempts: 3, baseDelayMs: 20, rateLimitDelayMs: 60, maxDelayMs: 200, budgetMs: 5000}

export interface VenueHarness {
  server: CoinbaseServer
  venue: CcxtVenue
  market: CcxtMarketData
  /** Throws when the venue was opened without credentials. */
  broker: CcxtBroker
  key: TestKey
}

export interface HarnessOptions {
  server?: CoinbaseServerOptions
  venue?: Partial<CcxtVenueOptions>
  /** Open the adapter without credentials (public market data only). */
  publicOnly?: boolean
  /** Sign with this key instead of the server's (a wrong key). */
  clientKey?: TestKey
}

/**
 * Call inside a describe(): returns a starter for server + adapter pairs, and closes every one a test
 * started after that test, pass or fail.
 */
export function useVenue(): (options?: HarnessOptions) => Promise<VenueHarness> {
  const started: Array<{server: CoinbaseServer; venue: CcxtVenue | null}> = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map(async ({server, venue}) => {
      await venue?.close()
      await server.close()
    }))
  })
  return async (options = {}) => {
    const key = testKey()
    const server = await startCoinbaseServer({key, symbols: ['BTC-USD', 'ETH-USD'], ...options.server})
    const entry: {server: CoinbaseServer; venue: CcxtVenue | null} = {server, venue: null}
    started.push(entry)
    const signer = options.clientKey ?? key
    const venue = await openCcxtVenue({
      exchangeId: 'coinbase',
      restUrl: server.url,
      credentials: options.publicOnly ? null : {apiKey: signer.name, secret: signer.privateKeyPem},
      timeoutMs: 2000,
      quote: 'USD',
      timeframe: '1h',
      retry: FAST_RETRY,
      ...options.venue,
    })
    entry.venue = venue
    const {broker} = venue
    const harness = {server, venue, market: venue.market, key} as VenueHarness
    Object.defineProperty(harness, 'broker', {
      get() {
        assert.ok(broker, 'this venue was opened without credentials')
        return broker
      },
    })
    return harness
  }
}

/** Awaits a rejection and checks it is an ExchangeError of this kind (and code, when given). */
export async function rejectsWith(promise: Promise<unknown>, kind: ExchangeErrorKind, code?: string, message?: RegExp): Promise<ExchangeError> {
  const error = await promise.then(
    (value) => assert.fail(`expected an ExchangeError (${kind}), but it resolved to ${JSON.stringify(value)}`),
    (e: unknown) => e,
  )
  assert.ok(error instanceof ExchangeError, `expected an ExchangeError, got ${String(error)}`)
  assert.equal(error.kind, kind, `kind of "${error.message}" (${error.code})`)
  if (code) assert.equal(error.code, code, `code of "${error.message}"`)
  if (message) assert.match(error.message, message)
  assert.ok(!error.message.includes('\n'), 'one line')
  return error
}

export function approx(actual: number | null | undefined, expected: number, tolerance: number, what = 'value'): void {
  assert.ok(typeof actual === 'number', `${what}: expected ~${expected}, got ${String(actual)}`)
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} != ${expected} (tolerance ${tolerance})`)
}

/** Floors `x` to whole cents, in decimal (what ccxt's TICK_SIZE truncation does). */
export function floorCents(x: number): number {
  return Math.floor(Number((x * 100).toPrecision(12))) / 100
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Requests the server saw on `path` (and method, when given). */
export function hits(server: CoinbaseServer, path: string | RegExp, method?: string) {
  return server.requests.filter((r) => (typeof path === 'string' ? r.path === path : path.test(r.path)) && (method === undefined || r.method === method))
}
