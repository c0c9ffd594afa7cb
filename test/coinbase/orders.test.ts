import assert from 'node:assert/strict'

import {BadRequest, ExchangeError, InsufficientFunds, InvalidOrder} from 'ccxt'

import {approx, csvRows, type HarnessOptions, rejectsExactly, useCoinbase} from './fixture.js'

const BTC_RULES = {baseIncrement: 1e-8, priceIncrement: 0.01, quoteIncrement: 0.01, baseMinSize: 1e-8, baseMaxSize: 3400, quoteMinSize: 1, quoteMaxSize: 150_000_000}
const BAR = 400
const FEES = {maker: 0.004, taker: 0.006}
const cents = (x: number, round: (v: number) => number) => round(x * 100) / 100
const MARKET_BUY = {createMarketBuyOrderRequiresPrice: false}

describe('loopback Coinbase: orders through the real ccxt client', () => {
  const startWith = useCoinbase()
  const start = (over: HarnessOptions = {}) =>
    startWith({startBar: BAR, fees: FEES, halfSpread: 0.0005, productRules: {'BTC-USD': BTC_RULES}, startBalances: {USD: 10_000, BTC: 0.5}, ...over})
  const rows = csvRows('BTC-USD')
  const bid = cents(rows[BAR].close * 0.9995, Math.floor)
  const ask = cents(rows[BAR].close * 1.0005, Math.ceil)

  it('a market buy by quote_size carries params.client_order_id exactly and fills at the ask, fee included in the size', async () => {
    const {server, ex} = await start()
    await ex.loadMarkets()
    const order = await ex.createOrder('BTC/USD', 'market', 'buy', 250, undefined, {...MARKET_BUY, client_order_id: 'bot-0001'})
    const post = server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v3/brokerage/orders')
    assert.deepEqual(post.map((r) => r.body), [{client_order_id: 'bot-0001', product_id: 'BTC-USD', side: 'BUY', order_configuration: {market_market_ioc: {quote_size: '250'}}}])
    // createOrder's answer carries ids only: the outcome has to be fetched.
    assert.deepEqual([order.clientOrderId, order.status, order.filled], ['bot-0001', undefined, undefined])

    const fetched = await ex.fetchOrder(order.id!, 'BTC/USD')
    const value = 250 / (1 + FEES.taker)
    assert.deepEqual([fetched.id, fetched.clientOrderId, fetched.status, fetched.type, fetched.side], [order.id, 'bot-0001', 'closed', 'market', 'buy'])
    approx(fetched.average, ask, 1e-12)
    approx(fetched.filled, value / ask)
    assert.equal(typeof fetched.fee?.cost, 'string', 'ccxt leaves fee.cost a string')
    approx(Number(fetched.fee?.cost), 250 - value)
    assert.equal(fetched.fee?.currency, 'USD')

    const balance = await ex.fetchBalance({v3: true})
    approx(balance.USD.free, 10_000 - 250)
    approx(balance.BTC.free, 0.5 + value / ask)
  })

  it('params.clientOrderId is silently replaced by a ccxt-<uuid> id: only client_order_id reaches Coinbase', async () => {
    const {server, ex} = await start()
    await ex.createOrder('BTC/USD', 'market', 'buy', 20, undefined, {...MARKET_BUY, clientOrderId: 'mine'})
    const [sent] = server.orders()
    assert.match(sent.clientOrderId, /^ccxt-[0-9a-f-]{36}$/)
  })

  it('a market sell by base_size fills at the bid, the taker fee taken from the proceeds', async () => {
    const {server, ex} = await start()
    const order = await ex.createOrder('BTC/USD', 'market', 'sell', 0.1, undefined, {client_order_id: 'sell-1'})
    const fetched = await ex.fetchOrder(order.id!)
    assert.deepEqual([fetched.status, fetched.amount, fetched.filled], ['closed', 0.1, 0.1])
    approx(fetched.average, bid, 1e-12)
    approx(server.balances().USD.available, 10_000 + 0.1 * bid * (1 - FEES.taker))
    approx(server.balances().BTC.available, 0.4)
  })

  it('a resting limit buy holds quote (v3 balances show it as used; v2 reports it as free), lists as open, cancels', async () => {
    const {server, ex} = await start()
    const price = cents(rows[BAR].close * 0.9, Math.floor)
    const order = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, price, {client_order_id: 'rest-1'})
    const hold = 0.01 * price * (1 + FEES.maker)
    const v3 = await ex.fetchBalance({v3: true})
    approx(v3.USD.used, hold)
    approx(v3.USD.free, 10_000 - hold)
    const v2 = await ex.fetchBalance()
    assert.equal(v2.USD.free, v2.USD.total, 'the v2 accounts endpoint has no hold: ccxt reports free = total')
    approx(v2.USD.total, 10_000)

    const open = await ex.fetchOpenOrders('BTC/USD')
    assert.deepEqual(open.map((o) => [o.id, o.clientOrderId, o.status, o.price, o.amount, o.filled]), [[order.id, 'rest-1', 'open', price, 0.01, 0]])
    const canceled = await ex.cancelOrder(order.id!, 'BTC/USD')
    assert.equal(canceled.id, order.id)
    assert.equal((await ex.fetchOrder(order.id!)).status, 'canceled')
    assert.deepEqual(await ex.fetchOpenOrders('BTC/USD'), [])
    assert.deepEqual(server.balances().USD, {available: 10_000, hold: 0, total: 10_000})
  })

  it('a resting limit buy fills on the first later bar whose low reaches it, at its price, as maker', async () => {
    const {server, ex} = await start()
    const price = Number((cents(Math.min(...rows.slice(BAR + 1, BAR + 41).map((r) => r.low)), Math.floor) + 0.01).toFixed(2))
    assert.ok(price < ask, 'precondition: the order rests when placed')
    const fillBar = rows.findIndex((r, i) => i > BAR && r.low <= price)
    const order = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, price, {client_order_id: 'dip-1'})
    let advances = 0
    while ((await ex.fetchOrder(order.id!)).status === 'open') {
      server.advance()
      advances++
    }

    assert.equal(advances, fillBar - BAR)
    const filled = await ex.fetchOrder(order.id!)
    assert.deepEqual([filled.status, filled.filled, filled.average], ['closed', 0.01, price])
    approx(Number(filled.fee?.cost), 0.01 * price * FEES.maker)
    const balances = server.balances()
    approx(balances.USD.available, 10_000 - 0.01 * price * (1 + FEES.maker))
    assert.deepEqual([balances.USD.hold, balances.BTC.available], [0, 0.51])
  })

  it('a limit order that crosses the book fills at once at bid/ask as taker', async () => {
    const {ex} = await start()
    const order = await ex.createOrder('BTC/USD', 'limit', 'sell', 0.05, cents(bid * 0.99, Math.floor), {client_order_id: 'cross-1'})
    const fetched = await ex.fetchOrder(order.id!)
    assert.deepEqual([fetched.status, fetched.filled, fetched.average], ['closed', 0.05, bid])
    approx(Number(fetched.fee?.cost), 0.05 * bid * FEES.taker)
  })

  it('a market buy by base_size (not something ccxt sends) pays base * ask plus the taker fee; other order types are refused', async () => {
    const {server, ex} = await start()
    const body = {client_order_id: 'base-buy', product_id: 'BTC-USD', side: 'BUY', order_configuration: {market_market_ioc: {base_size: '0.02'}}}
    const created = await ex.v3PrivatePostBrokerageOrders(body)
    assert.equal(created.success, true)
    approx(server.balances().USD.available, 10_000 - 0.02 * ask * (1 + FEES.taker))
    approx(server.balances().BTC.available, 0.52)
    // Fill-or-kill, IOC limits, stops and GTD are not served: Coinbase's refusal for an unknown configuration.
    await rejectsExactly(ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, bid, {timeInForce: 'FOK'}), ExchangeError, /PREVIEW_INVALID_ORDER_CONFIG/)
    assert.equal(server.orders().length, 1)
  })

  it('a repeated client_order_id returns the existing order and creates nothing', async () => {
    const {server, ex} = await start()
    const first = await ex.createOrder('BTC/USD', 'market', 'buy', 100, undefined, {...MARKET_BUY, client_order_id: 'dup-1'})
    const after = server.balances()
    const again = await ex.createOrder('BTC/USD', 'market', 'buy', 300, undefined, {...MARKET_BUY, client_order_id: 'dup-1'})
    assert.equal(again.id, first.id)
    assert.equal(again.clientOrderId, 'dup-1')
    assert.equal(server.orders().length, 1)
    assert.deepEqual(server.balances(), after)
    assert.equal(server.orders()[0].quoteSize, 100)
  })

  it('refuses orders over the free balance with success:false + PREVIEW_INSUFFICIENT_FUND: ccxt raises InsufficientFunds', async () => {
    const {server, ex} = await start()
    await rejectsExactly(ex.createOrder('BTC/USD', 'market', 'buy', 10_001, undefined, MARKET_BUY), InsufficientFunds)
    await rejectsExactly(ex.createOrder('BTC/USD', 'limit', 'sell', 0.6, cents(ask * 2, Math.floor)), InsufficientFunds)
    // Funds held by a resting order are not free.
    await ex.createOrder('BTC/USD', 'limit', 'sell', 0.4, cents(ask * 2, Math.floor))
    await rejectsExactly(ex.createOrder('BTC/USD', 'market', 'sell', 0.2), InsufficientFunds)
    assert.equal(server.orders().length, 1)
    const refused = server.requests.filter((r) => r.path === '/api/v3/brokerage/orders')
    assert.deepEqual(refused.map((r) => r.status), [200, 200, 200, 200], 'Coinbase answers a refused order with HTTP 200')
  })

  it('refuses sizes below the product minimums: ccxt raises a plain ExchangeError, not InvalidOrder', async () => {
    const {server, ex} = await start({productRules: {'BTC-USD': {...BTC_RULES, baseMinSize: 0.0001, quoteMinSize: 5}}})
    await rejectsExactly(ex.createOrder('BTC/USD', 'limit', 'buy', 0.00005, cents(bid, Math.floor)), ExchangeError, /PREVIEW_INVALID_BASE_SIZE_TOO_SMALL/)
    await rejectsExactly(ex.createOrder('BTC/USD', 'market', 'buy', 4.99, undefined, MARKET_BUY), ExchangeError, /PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL/)
    await rejectsExactly(ex.createOrder('BTC/USD', 'limit', 'buy', 0.0001, 100), ExchangeError, /PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL/)
    await rejectsExactly(ex.createOrder('BTC/USD', 'limit', 'buy', 0.001, ask, {postOnly: true}), ExchangeError, /PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY/)
    // Off-increment sizes never leave ccxt (it truncates to the precision), except below one increment:
    server.clearRequests()
    await rejectsExactly(ex.createOrder('BTC/USD', 'market', 'sell', 0.000000001), InvalidOrder, /minimum amount precision/)
    assert.equal(server.requests.length, 0)
    // ...so the server's own precision check is reached through ccxt's raw endpoint.
    const raw = {client_order_id: 'raw-1', product_id: 'BTC-USD', side: 'SELL', order_configuration: {market_market_ioc: {base_size: '0.000123456789'}}}
    await rejectsExactly(ex.v3PrivatePostBrokerageOrders(raw), ExchangeError, /PREVIEW_INVALID_SIZE_PRECISION/)
    assert.deepEqual(server.orders(), [])
  })

  it('lists by status and product, newest first, and pages with a cursor', async () => {
    const {ex} = await start({startBalances: {USD: 10_000, BTC: 0.5, ETH: 5}})
    const low = cents(rows[BAR].close * 0.8, Math.floor)
    const resting = []
    for (let i = 1; i <= 3; i++) resting.push((await ex.createOrder('BTC/USD', 'limit', 'buy', 0.001, low, {client_order_id: `list-${i}`})).id)
    const ethPrice = Math.floor(csvRows('ETH-USD')[BAR].close * 2)
    await ex.createOrder('ETH/USD', 'limit', 'sell', 1, ethPrice, {client_order_id: 'list-eth'})
    await ex.createOrder('BTC/USD', 'market', 'sell', 0.01, undefined, {client_order_id: 'list-done'})

    const ids = (orders: Array<{clientOrderId?: string}>) => orders.map((o) => o.clientOrderId).sort()
    assert.deepEqual(ids(await ex.fetchOpenOrders('BTC/USD')), ['list-1', 'list-2', 'list-3'])
    assert.deepEqual(ids(await ex.fetchOpenOrders()), ['list-1', 'list-2', 'list-3', 'list-eth'])
    assert.deepEqual(ids(await ex.fetchClosedOrders('BTC/USD')), ['list-done'])

    const first = await ex.v3PrivateGetBrokerageOrdersHistoricalBatch({order_status: 'OPEN', product_id: 'BTC-USD', limit: 2})
    const second = await ex.v3PrivateGetBrokerageOrdersHistoricalBatch({order_status: 'OPEN', product_id: 'BTC-USD', limit: 2, cursor: first.cursor})
    const page = (r: Record<string, unknown>) => (r.orders as Array<{order_id: string}>).map((o) => o.order_id)
    assert.deepEqual([first.has_next, first.cursor, second.has_next, second.cursor], [true, '2', false, ''])
    assert.deepEqual([...page(first), ...page(second)], resting.reverse())
  })

  it('an unknown order id is a plain ExchangeError on fetch (not OrderNotFound) and a BadRequest on cancel', async () => {
    const {ex} = await start()
    await ex.loadMarkets()
    await rejectsExactly(ex.fetchOrder('no-such-order'), ExchangeError, /order with this orderID was not found/)
    await rejectsExactly(ex.cancelOrder('no-such-order'), BadRequest)
    const done = await ex.createOrder('BTC/USD', 'market', 'sell', 0.01)
    await rejectsExactly(ex.cancelOrder(done.id!), BadRequest)
  })
})
