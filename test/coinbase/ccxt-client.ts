import {coinbase} from 'ccxt'

import type {TestKey} from './keys.js'

/**
 * A real ccxt `coinbase` instance pointed at the loopback server. `urls.api.rest` is the only base URL
 * ccxt's coinbase class builds requests from (public and private, v2 and v3), so overriding it keeps every
 * request on 127.0.0.1; the helper checks that before returning.
 */

export interface CoinbaseClientOptions {
  /** The key to sign with; null for a client without credentials (public endpoints only). */
  key: TestKey | null
  /** ccxt's request timeout in ms (default 3000; ccxt's own default is 10000). */
  timeout?: number
  /**
   * ccxt's client-side rate limiter (default off here: it spaces v2 calls ~350 ms apart, which only slows
   * tests down; the server's rate-limit faults are how tests meet 429s).
   */
  enableRateLimit?: boolean
  /** Extra ccxt options, e.g. {fetchBalance: 'v3PrivateGetBrokerageAccounts'}. */
  options?: Record<string, unknown>
}

const LOOPBACK = /^http:\/\/127\.0\.0\.1:\d+$/

export function coinbaseClient(server: {url: string}, opts: CoinbaseClientOptions): coinbase {
  if (!LOOPBACK.test(server.url)) throw new Error(`refusing a ccxt client for ${server.url}: only http://127.0.0.1:<port> is allowed`)
  const exchange = new coinbase({
    ...(opts.key && {apiKey: opts.key.name, secret: opts.key.privateKeyPem}),
    timeout: opts.timeout ?? 3000,
    enableRateLimit: opts.enableRateLimit ?? false,
    urls: {api: {rest: server.url}},
    options: opts.options ?? {},
  })
  const rest: unknown = (exchange.urls as {api?: {rest?: unknown}}).api?.rest
  if (rest !== server.url) throw new Error(`ccxt would send requests to ${String(rest)}, not to ${server.url}`)
  return exchange
}
