import type {Timeframe} from '../../domain.js'
import type {MarketData} from '../ports.js'
import {CcxtBroker} from './broker.js'
import {CcxtMarketData} from './market-data.js'
import type {RequestStats} from './requests.js'
import type {BreakerOptions, CircuitSnapshot, RetryOptions} from './resilience.js'
import {CcxtSession, type Credentials} from './session.js'

export interface CcxtVenueOptions {
  /** A ccxt exchange id, e.g. "coinbase". */
  exchangeId: string
  /** Replaces the scheme and host of the exchange's REST URLs (tests point it at 127.0.0.1); omit for the real exchange. */
  restUrl?: string
  /** null: market data only (paper trading); no broker is built. */
  credentials: Credentials | null
  /** Per HTTP request (exchange.timeout_ms). */
  timeoutMs: number
  /** The account's quote currency (exchange.quote_currency). */
  quote: string
  /** Bar length of candles (exchange.timeframe). */
  timeframe: Timeframe
  retry?: Partial<RetryOptions>
  breaker?: Partial<BreakerOptions>
  /** Loaded markets are trusted this long before a reload (default 1 h). */
  marketsTtlMs?: number
  /** ccxt's rate limiter (default on): off only for a server on this machine, which is not the exchange. */
  rateLimit?: boolean
  convert?: {pollMs?: number; settleMs?: number}
}

export interface CcxtVenue {
  market: CcxtMarketData
  /** null without credentials. */
  broker: CcxtBroker | null
  /** How ccxt was loaded: the exchange's class file alone, or the whole package. */
  loadedVia: 'class-file' | 'package'
  /** The circuit breaker shared by market and broker, for alerts and metrics. */
  circuit(): CircuitSnapshot
  onCircuitChange(listener: (s: CircuitSnapshot) => void): void
  /** HTTP requests sent so far, in total and per port call (e.g. {tickers: {calls: 1, requests: 2}}). */
  requests(): RequestStats
  resetRequests(): void
  close(): Promise<void>
}

/**
 * Opens market data (and, with credentials, a broker) on a real exchange through ccxt. This is the moment
 * ccxt is loaded; no request is sent until the first call. Rejects with a fatal ExchangeError for an
 * unknown exchange id, a timeframe the exchange lacks or a REST URL that cannot be applied.
 */
export async function openCcxtVenue(options: CcxtVenueOptions): Promise<CcxtVenue> {
  const session = await CcxtSession.open(options)
  const market = new CcxtMarketData(session, options.timeframe)
  const broker = options.credentials ? new CcxtBroker(session, {quote: options.quote, convertPollMs: options.convert?.pollMs, convertSettleMs: options.convert?.settleMs}) : null
  return {
    market,
    broker,
    loadedVia: session.loadedVia,
    circuit: () => session.resilience.breaker.snapshot(),
    onCircuitChange: (listener) => session.resilience.breaker.onChange(listener),
    requests: () => session.requests.snapshot(),
    resetRequests: () => session.requests.reset(),
    async close() {
      await Promise.all([market.close(), broker?.close()])
    },
  }
}

/**
 * Exchange time minus local time, in ms (positive: the exchange is ahead), taken at the midpoint of the
 * request: for the loop's guard against trading on a skewed clock (loop.max_clock_skew_ms).
 */
export async function measureSkew(market: MarketData): Promise<number> {
  const sentAt = Date.now()
  const server = await market.time()
  return Math.round(server - (sentAt + Date.now()) / 2)
}
