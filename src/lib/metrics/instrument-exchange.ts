import {type Broker, ExchangeError, type MarketData} from '../exchange/ports.js'
import type {ExchangeOperation, Metrics} from './metrics.js'

type Counted = <T>(operation: ExchangeOperation, run: () => Promise<T>) => Promise<T>

/** Counts a call (bot_exchange_requests_total) and a classified failure by kind (bot_exchange_errors_total). */
function counter(m: Metrics): Counted {
  return async (operation, run) => {
    m.exchangeRequests.inc({operation})
    try {
      return await run()
    } catch (error) {
      if (error instanceof ExchangeError) m.exchangeErrors.inc({operation, kind: error.kind})
      throw error
    }
  }
}

/**
 * The MarketData port with every call counted, and each reading of the exchange's clock as bot_clock_skew_seconds. The composition root wraps the venue's ports once; no adapter
 * knows about metrics. Errors pass through unchanged.
 */
export function instrumentMarketData(inner: MarketData, m: Metrics | null): MarketData {
  if (!m) return inner
  const call = counter(m)
  return {
    get id() { return inner.id },
    get barMs() { return inner.barMs },
    markets: () => call('markets', () => inner.markets()),
    tickers: (symbols) => call('tickers', () => inner.tickers(symbols)),
    candles: (since, limit) => call('candles', () => inner.candles(since, limit)),
    time: () => call('time', async () => {
      const sentAt = Date.now()
      const time = await inner.time()
      // Taken at the request's midpoint, as measureSkew does (exchange/ccxt/venue.ts).
      m.clockSkewSeconds.set((time - (sentAt + Date.now()) / 2) / 1000)
      return time
    }),
    close: () => inner.close(),
  }
}

/** The Broker port with every call counted, the same way. */
export function instrumentBroker(inner: Broker, m: Metrics | null): Broker {
  if (!m) return inner
  const call = counter(m)
  return {
    get capabilities() { return inner.capabilities },
    balances: () => call('balances', () => inner.balances()),
    createOrder: (request) => call('createOrder', () => inner.createOrder(request)),
    fetchOrder: (id, symbol) => call('fetchOrder', () => inner.fetchOrder(id, symbol)),
    fetchOrderByClientId: (clientOrderId, symbol) => call('fetchOrderByClientId', () => inner.fetchOrderByClientId(clientOrderId, symbol)),
    recentOrders: (symbol, since) => call('recentOrders', () => inner.recentOrders(symbol, since)),
    cancelOrder: (id, symbol) => call('cancelOrder', () => inner.cancelOrder(id, symbol)),
    openOrders: (symbol) => call('openOrders', () => inner.openOrders(symbol)),
    convertQuote: (from, to, fromAmount) => call('convertQuote', () => inner.convertQuote(from, to, fromAmount)),
    convertCommit: (quote) => call('convertCommit', () => inner.convertCommit(quote)),
    close: () => inner.close(),
  }
}
