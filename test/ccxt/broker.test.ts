import assert from 'node:assert/strict'

import {openCcxtVenue} from '../../src/lib/exchange/ccxt/index.js'
import {csvRows} from '../coinbase/fixture.js'
import {BTC_RULES, approx, FAST_RETRY, floorCents, hits, rejectsWith, useVenue} from './helpers.js'

const ORDERS = '/api/v3/brokerage/orders'
const BAR = 400
const FEES = {maker: 0.004, taker: 0.006}

describe('ccxt adapter: the broker on the loopback Coinbase through the real ccxt client', () => {
  const startWith = useVenue()
  const start = (over: Parameters<typeof startWith>[0] = {}) =>
    startWith({...over, server: {startBar: BAR, fees: FEES, productRules: {'BTC-USD': BTC_RULES}, startBalances: {USD: 10_000, BTC: 0.5, USDC: 500}, ...over.server}})
  const close = csvRows('BTC-USD')[BAR].close

  it('capabilities: no fetch by client order id; convert only for the pairs Coinbase offers', async () => {
    const {broker} = await start()
    assert.equal(broker.capabilities.fetchByClientOrderId, false)
    assert.deepEqual([['USDC', 'USD'], ['USD', 'USDC'], ['PYUSD', 'USD'], ['EURC', 'EUR'], ['BTC', 'USD'], ['USD', 'EUR']].map(([a, b]) => broker.capabilities.convert(a, b)), [true, true, true, true, false, false])
    await rejectsWith(broker.fetchOrderByClientId('x', 'BTC-USD'), 'fatal', 'NOT_SUPPORTED')
  })

  it('balances from v3 accounts: free excludes what a resting order holds; empty currencies left out but the quote', async () => {
    const {broker, server} = await start({server: {startBalances: {USD: 10_000, BTC: 0.5}}})
    const price = floorCents(close * 0.8)
    await broker.createOrder({clientOrderId: 'rest-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.01, price})
    const hold = 0.01 * price * (1 + FEES.maker)
    const balances = await broker.balances()
    assert.deepEqual(Object.keys(balances).sort(), ['BTC', 'USD'])
    approx(balances.USD.free, 10_000 - hold, 1e-6, 'USD free')
    assert.equal(balances.USD.total, 10_000)
    assert.deepEqual(balances.BTC, {free: 0.5, total: 0.5})
    assert.equal(hits(server, '/v2/accounts').length, 0, 'never the v2 accounts (free = total there)')
  })

  it('balances follow the accounts cursor past one page of 250', async () => {
    const many = Object.fromEntries(Array.from({length: 300}, (_, i) => [`Z${String(i).padStart(3, '0')}`, i + 1]))
    const {broker, server, venue} = await start({server: {startBalances: {USD: 1, ...many}}})
    const balances = await broker.balances()
    assert.deepEqual([balances.Z000, balances.Z299], [{free: 1, total: 1}, {free: 300, total: 300}])
    assert.equal(hits(server, '/api/v3/brokerage/accounts').length, 2)
    assert.equal(venue.requests().byOperation.balances.requests, 2 + 4)
  })

  it('a market buy: quote_size = amount x ask x (1 + taker) to the cent, bot\'s client order id reaches Coinbase, the fill comes back', async () => {
    const {broker, server, venue} = await start()
    await venue.market.markets()
    venue.resetRequests()
    const {ask} = server.market.quote('BTC-USD')
    const state = await broker.createOrder({clientOrderId: 'bot-c1-0', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.01})
    const quoteSize = floorCents(0.01 * ask * (1 + FEES.taker))
    assert.deepEqual(hits(server, ORDERS, 'POST').map((r) => r.body), [
      {client_order_id: 'bot-c1-0', product_id: 'BTC-USD', side: 'BUY', order_configuration: {market_market_ioc: {quote_size: String(quoteSize)}}},
    ])
    const [placed] = server.orders()
    assert.equal(placed.clientOrderId, 'bot-c1-0')
    assert.deepEqual([state.id, state.clientOrderId, state.symbol, state.side, state.type, state.status], [placed.orderId, 'bot-c1-0', 'BTC-USD', 'buy', 'market', 'closed'])
    assert.equal(state.amount, 0.01, 'a quote-sized buy reports the base amount bot asked for')
    approx(state.filled, quoteSize / (1 + FEES.taker) / ask, 1e-12, 'filled')
    approx(state.filled, 0.01, 0.01 / ask, 'filled within a cent of the request')
    approx(state.averagePrice, ask, 1e-6, 'average')
    approx(state.fee, quoteSize - quoteSize / (1 + FEES.taker), 1e-9, 'fee')
    // One ask (best_bid_ask), the order, and the order read back (the create answer holds ids only).
    assert.deepEqual(venue.requests().byOperation.createOrder, {calls: 1, requests: 3})
  })

  it('a market sell by base size with bot\'s client order id, filled at the bid', async () => {
    const {broker, server} = await start()
    const state = await broker.createOrder({clientOrderId: 'bot-sell-1', symbol: 'BTC-USD', side: 'sell', type: 'market', amount: 0.1})
    assert.deepEqual(hits(server, ORDERS, 'POST').map((r) => r.body), [
      {client_order_id: 'bot-sell-1', product_id: 'BTC-USD', side: 'SELL', order_configuration: {market_market_ioc: {base_size: '0.1'}}},
    ])
    assert.deepEqual([state.status, state.amount, state.filled, state.averagePrice], ['closed', 0.1, 0.1, server.market.quote('BTC-USD').bid])
    approx(server.balances().BTC.available, 0.4, 1e-12)
  })

  it('a limit order rests, lists as open (by symbol and overall), is cancelled, and cancelling again returns it unchanged', async () => {
    const {broker, server} = await start()
    const price = floorCents(close * 0.9)
    const placed = await broker.createOrder({clientOrderId: 'lim-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.01, price})
    assert.deepEqual([placed.status, placed.type, placed.price, placed.amount, placed.filled, placed.averagePrice], ['open', 'limit', price, 0.01, 0, null])
    assert.deepEqual((await broker.openOrders('BTC-USD')).map((o) => [o.id, o.clientOrderId, o.status]), [[placed.id, 'lim-1', 'open']])
    assert.deepEqual((await broker.openOrders()).map((o) => o.clientOrderId), ['lim-1'])
    assert.deepEqual(await broker.openOrders('ETH-USD'), [])
    const canceled = await broker.cancelOrder(placed.id, 'BTC-USD')
    assert.deepEqual([canceled.id, canceled.status, canceled.filled], [placed.id, 'canceled', 0])
    assert.equal((await broker.cancelOrder(placed.id, 'BTC-USD')).status, 'canceled')
    assert.deepEqual(await broker.openOrders('BTC-USD'), [])
    assert.deepEqual(server.balances().USD, {available: 10_000, hold: 0, total: 10_000})
    assert.equal((await broker.fetchOrder(placed.id, 'BTC-USD')).status, 'canceled')
  })

  it('a resting order that fills on a later bar reads closed, at its price, with the maker fee', async () => {
    const {broker, server} = await start()
    const rows = csvRows('BTC-USD')
    const price = floorCents(Math.min(...rows.slice(BAR + 1, BAR + 30).map((r) => r.low)) + 0.01)
    const placed = await broker.createOrder({clientOrderId: 'dip-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.01, price})
    assert.equal(placed.status, 'open')
    server.advance(29)
    const filled = await broker.fetchOrder(placed.id, 'BTC-USD')
    assert.deepEqual([filled.status, filled.filled, filled.averagePrice], ['closed', 0.01, price])
    approx(filled.fee, 0.01 * price * FEES.maker, 1e-9, 'maker fee')
  })

  it('recentOrders lists open and done orders of a symbol since a time, each with bot\'s client order id', async () => {
    const {broker, server} = await start()
    const t0 = server.now()
    await broker.createOrder({clientOrderId: 'r-open', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.01, price: floorCents(close * 0.8)})
    await broker.createOrder({clientOrderId: 'r-sold', symbol: 'BTC-USD', side: 'sell', type: 'market', amount: 0.01})
    await broker.createOrder({clientOrderId: 'r-eth', symbol: 'ETH-USD', side: 'buy', type: 'market', amount: 0.01})
    const recent = await broker.recentOrders('BTC-USD', t0)
    assert.deepEqual(recent.map((o) => [o.clientOrderId, o.status]), [['r-open', 'open'], ['r-sold', 'closed']])
    assert.ok(recent.every((o) => o.symbol === 'BTC-USD' && o.createdAt >= t0))
    assert.deepEqual(await broker.recentOrders('NOPE-USD', t0), [])
  })

  it('a quote-sized buy read by a fresh process (no memory of the request) reports what filled as its amount', async () => {
    const {broker, server, key} = await start()
    const placed = await broker.createOrder({clientOrderId: 'restart-1', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.01})
    const fresh = await openCcxtVenue({exchangeId: 'coinbase', restUrl: server.url, credentials: {apiKey: key.name, secret: key.privateKeyPem}, timeoutMs: 2000, quote: 'USD', timeframe: '1h', retry: FAST_RETRY})
    try {
      const [seen] = await fresh.broker!.recentOrders('BTC-USD', placed.createdAt)
      assert.equal(seen.clientOrderId, 'restart-1')
      assert.equal(seen.amount, seen.filled)
      assert.notEqual(seen.amount, 0.01)
    } finally {
      await fresh.close()
    }
  })

  it('a PEM secret pasted with literal "\\n" sequences (as environment variables often carry it) still signs', async () => {
    const {server, key} = await start()
    const venue = await openCcxtVenue({exchangeId: 'coinbase', restUrl: server.url, credentials: {apiKey: key.name, secret: key.privateKeyPem.replaceAll('\n', '\\n')}, timeoutMs: 2000, quote: 'USD', timeframe: '1h', retry: FAST_RETRY})
    try {
      assert.equal((await venue.broker!.balances()).USD.total, 10_000)
    } finally {
      await venue.close()
    }
  })

  it('refusals are rejected, with the reason: unknown symbol (nothing sent), short funds, below the minimum', async () => {
    const {broker, server} = await start({server: {productRules: {'BTC-USD': {...BTC_RULES, quoteMinSize: 5}}}})
    await rejectsWith(broker.createOrder({clientOrderId: 'x1', symbol: 'NOPE-USD', side: 'buy', type: 'market', amount: 1}), 'rejected', 'UNKNOWN_SYMBOL')
    assert.equal(hits(server, ORDERS, 'POST').length, 0)
    await rejectsWith(broker.createOrder({clientOrderId: 'x2', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 10}), 'rejected', 'INSUFFICIENT_FUNDS')
    await rejectsWith(broker.createOrder({clientOrderId: 'x3', symbol: 'BTC-USD', side: 'sell', type: 'limit', amount: 0.00001, price: floorCents(close)}), 'rejected', 'INVALID_ORDER', /PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL/)
    await rejectsWith(broker.createOrder({clientOrderId: 'x4', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.01}), 'rejected', 'INVALID_PRICE')
    await rejectsWith(broker.fetchOrder('no-such-order', 'BTC-USD'), 'rejected', 'ORDER_NOT_FOUND')
    assert.deepEqual(server.orders(), [])
  })

  it('convert USDC -> USD: quote, commit, completed; balances move once; accounts named by their UUIDs', async () => {
    const {broker, server, venue} = await start()
    const quote = await broker.convertQuote('USDC', 'USD', 125.5)
    assert.deepEqual([quote.from, quote.to, quote.fromAmount, quote.toAmount, quote.fee], ['USDC', 'USD', 125.5, 125.5, 0])
    assert.ok(quote.expiresAt > Date.now())
    assert.deepEqual(hits(server, '/api/v3/brokerage/convert/quote').map((r) => r.body), [{from_account: server.accountId('USDC'), to_account: server.accountId('USD'), amount: '125.5'}])
    const result = await broker.convertCommit(quote)
    assert.deepEqual(result, {quoteId: quote.id, status: 'completed', fromAmount: 125.5, toAmount: 125.5, reason: null})
    assert.deepEqual([server.balances().USDC.available, server.balances().USD.available], [374.5, 10_125.5])
    // Committing the same quote again reads its outcome and moves nothing.
    assert.deepEqual(await broker.convertCommit(quote), result)
    assert.equal(server.balances().USD.available, 10_125.5)
    assert.deepEqual(server.convertTrades().map((t) => t.status), ['TRADE_STATUS_COMPLETED'])
    assert.ok(venue.requests().byOperation.convertCommit.requests <= 4)
  })

  it('a convert that fails after its commit is reported failed with the exchange\'s reason; nothing moved', async () => {
    const {broker, server} = await start()
    server.faults.inject({kind: 'convert_fail', tradeStatus: 'TRADE_STATUS_CANCELED'})
    const quote = await broker.convertQuote('USDC', 'USD', 100)
    const result = await broker.convertCommit(quote)
    assert.deepEqual([result.status, result.fromAmount, result.toAmount], ['failed', 0, 0])
    assert.match(result.reason ?? '', /conversion failed/)
    assert.deepEqual([server.balances().USDC.available, server.balances().USD.available], [500, 10_000])
    await rejectsWith(broker.convertQuote('BTC', 'USD', 0.01), 'rejected', 'CONVERT_UNSUPPORTED')
    await rejectsWith(broker.convertQuote('USDC', 'USD', 501), 'rejected', 'INSUFFICIENT_FUNDS')
  })

  it('a quote committed too late fails with the exchange\'s refusal', async () => {
    const {broker, server} = await start({server: {convertQuoteTtlMs: 50}})
    const quote = await broker.convertQuote('USDC', 'USD', 10)
    await new Promise((resolve) => setTimeout(resolve, 120))
    const result = await broker.convertCommit(quote)
    assert.equal(result.status, 'failed')
    assert.match(result.reason ?? '', /^BAD_REQUEST: .*expired/)
    assert.equal(server.balances().USDC.available, 500)
  })
})
