import {type Exchange, ExchangeError} from '../exchange/port.js'
import type {ExchangeOperation, Metrics} from './metrics.js'

/**
 * The Exchange port with every call counted (bot_exchange_requests_total) and every classified failure
 * counted by kind (bot_exchange_errors_total). The composition root wraps the venue's exchange once; no
 * adapter knows about metrics. Errors pass through unchanged.
 */
export function instrumentExchange(inner: Exchange, m: Metrics | null): Exchange {
  if (!m) return inner
  const call = async <T>(operation: ExchangeOperation, run: () => Promise<T>): Promise<T> => {
    m.exchangeRequests.inc({operation})
    try {
      return await run()
    } catch (error) {
      if (error instanceof ExchangeError) m.exchangeErrors.inc({operation, kind: error.kind})
      throw error
    }
  }

  return {
    get id() { return inner.id },
    get capabilities() { return inner.capabilities },
    markets: () => call('markets', () => inner.markets()),
    balances: () => call('balances', () => inner.balances()),
    tickers: (symbols) => call('tickers', () => inner.tickers(symbols)),
    candles: (symbol, since, limit) => call('candles', () => inner.candles(symbol, since, limit)),
    newCandles: (since, limit) => call('newCandles', () => inner.newCandles(since, limit)),
    createOrder: (request) => call('createOrder', () => inner.createOrder(request)),
    fetchOrder: (id, symbol) => call('fetchOrder', () => inner.fetchOrder(id, symbol)),
    fetchOrderByClientId: (clientOrderId, symbol) => call('fetchOrderByClientId', () => inner.fetchOrderByClientId(clientOrderId, symbol)),
    cancelOrder: (id, symbol) => call('cancelOrder', () => inner.cancelOrder(id, symbol)),
    openOrders: (symbol) => call('openOrders', () => inner.openOrders(symbol)),
    convertQuote: (from, to, fromAmount) => call('convertQuote', () => inner.convertQuote(from, to, fromAmount)),
    convertCommit: (quote) => call('convertCommit', () => inner.convertCommit(quote)),
    time: () => call('time', () => inner.time()),
    close: () => inner.close(),
  }
}
