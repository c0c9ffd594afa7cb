import assert from 'node:assert/strict'

import {ExchangeError, ExchangeNotAvailable, NetworkError, RateLimitExceeded, RequestTimeout} from 'ccxt'

import type {FaultKind} from './faults.js'
import {type HarnessOptions, rejectsExactly, useCoinbase} from './fixture.js'

const ORDERS = '/api/v3/brokerage/orders'
const MARKET_BUY = {createMarketBuyOrderRequiresPrice: false}

describe('loopback Coinbase: injected faults and what the real ccxt client makes of them', () => {
  const startWith = useCoinbase()
  const start = async (over: HarnessOptions = {}) => {
    const h = await startWith({startBalances: {USD: 10_000, BTC: 0.5}, ...over})
    await h.ex.loadMarkets()
    h.server.clearRequests()
    return h
  }

  it('a JSON 429 on a v3 path is a plain ExchangeError; on a v2 path (errors[].id) it is RateLimitExceeded', async () => {
    const {server, ex} = await start()
    server.faults.inject({kind: 'rate_limit_json', path: `${ORDERS}/historical/batch`})
    await rejectsExactly(ex.fetchOpenOrders('BTC/USD'), ExchangeError, /RATE_LIMIT_EXCEEDED/)
    server.faults.inject({kind: 'rate_limit_json', path: '/v2/time'})
    await rejectsExactly(ex.fetchTime(), RateLimitExceeded, /rate_limit_exceeded/)
    assert.deepEqual(server.requests.map((r) => [r.path, r.status, r.fault]), [
      [`${ORDERS}/historical/batch`, 429, 'rate_limit_json'],
      ['/v2/time', 429, 'rate_limit_json'],
    ])
  })

  it('a 429 HTML page is RateLimitExceeded', async () => {
    const {server, ex} = await start()
    server.faults.inject({kind: 'rate_limit_html', method: 'GET', path: '/api/v3/brokerage/accounts'})
    await rejectsExactly(ex.fetchBalance({v3: true}), RateLimitExceeded, /429/)
  })

  for (const status of [500, 502, 503] as const) {
    it(`a ${status} with a text body is ExchangeNotAvailable`, async () => {
      const {server, ex} = await start()
      server.faults.inject({kind: 'server_error', status})
      await rejectsExactly(ex.fetchBidsAsks(['BTC/USD']), ExchangeNotAvailable, new RegExp(`${status}`))
      assert.equal(server.requests.at(-1)?.status, status)
    })
  }

  it('a request held open past the client timeout is RequestTimeout; the server keeps serving', async () => {
    const {server, ex} = await start({client: {timeout: 300}})
    server.faults.inject({kind: 'timeout', path: '/v2/accounts'})
    const t0 = Date.now()
    await rejectsExactly(ex.fetchBalance(), RequestTimeout, /timed out \(300 ms\)/)
    assert.ok(Date.now() - t0 < 3000, 'ccxt gave up within its timeout (with margin)')
    assert.deepEqual([server.requests.at(-1)?.status, server.requests.at(-1)?.fault], [null, 'timeout'])
    assert.equal((await ex.fetchBalance()).USD.total, 10_000)
  })

  it('a 200 with a non-JSON body raises nothing: lists come back empty, createOrder returns an order without id', async () => {
    const {server, ex} = await start()
    await ex.createOrder('BTC/USD', 'limit', 'buy', 0.001, 1000, {client_order_id: 'resting'})
    server.faults.inject({kind: 'non_json', count: 3})
    assert.deepEqual(await ex.fetchOpenOrders('BTC/USD'), [])
    assert.deepEqual((await ex.fetchBalance()).total, {})
    const order = await ex.createOrder('BTC/USD', 'market', 'buy', 50, undefined, {...MARKET_BUY, client_order_id: 'lost-in-html'})
    assert.equal(order.id, undefined)
    // The page replaced the answer before the API saw the request: no order was created.
    assert.deepEqual(server.orders().map((o) => o.clientOrderId), ['resting'])
  })

  const lostModes: Array<['destroy' | 'bad_gateway' | 'hang', new (...args: never[]) => Error]> = [
    ['destroy', NetworkError],
    ['bad_gateway', ExchangeNotAvailable],
    ['hang', RequestTimeout],
  ]
  for (const [lose, errorClass] of lostModes) {
    it(`an order executed but its response lost (${lose}): ${errorClass.name}, yet exactly one order exists and is found later`, async () => {
      const {server, ex} = await start({client: {timeout: 500}})
      server.faults.inject({kind: 'response_lost', method: 'POST', path: ORDERS, lose})
      await rejectsExactly(ex.createOrder('BTC/USD', 'market', 'buy', 100, undefined, {...MARKET_BUY, client_order_id: 'bot-lost-1'}), errorClass)
      const held = server.orders().filter((o) => o.clientOrderId === 'bot-lost-1')
      assert.deepEqual(held.map((o) => o.status), ['FILLED'])
      const usdAfter = server.balances().USD.available

      const found = (await ex.fetchClosedOrders('BTC/USD')).filter((o) => o.clientOrderId === 'bot-lost-1')
      assert.deepEqual(found.map((o) => [o.id, o.status]), [[held[0].orderId, 'closed']])
      assert.equal((await ex.fetchOrder(held[0].orderId)).clientOrderId, 'bot-lost-1')
      // Resending with the same client_order_id is safe: the existing order comes back, nothing new is placed.
      const resent = await ex.createOrder('BTC/USD', 'market', 'buy', 100, undefined, {...MARKET_BUY, client_order_id: 'bot-lost-1'})
      assert.equal(resent.id, held[0].orderId)
      assert.equal(server.orders().length, 1)
      assert.equal(server.balances().USD.available, usdAfter)
    })
  }

  it("ccxt's maxRetriesOnFailure resends a lost createOrder with the same client_order_id: still one order", async () => {
    const {server, ex} = await start({client: {options: {maxRetriesOnFailure: 1}}})
    server.faults.inject({kind: 'response_lost', method: 'POST', path: ORDERS})
    const order = await ex.createOrder('BTC/USD', 'market', 'sell', 0.01)
    const posts = server.requests.filter((r) => r.path === ORDERS)
    assert.equal(posts.length, 2)
    assert.deepEqual(posts[0].body, posts[1].body)
    assert.deepEqual(server.orders().map((o) => o.orderId), [order.id])
  })

  it('an injected rule hits only the next N requests matching its method and path', async () => {
    const {server, ex} = await start()
    server.faults.inject({kind: 'server_error', count: 2, method: 'GET', path: /^\/api\/v3\/brokerage\/best_bid_ask$/})
    assert.equal(server.faults.pending(), 2)
    await ex.fetchTime()
    await rejectsExactly(ex.fetchBidsAsks(), ExchangeNotAvailable)
    await ex.fetchBalance()
    await rejectsExactly(ex.fetchBidsAsks(), ExchangeNotAvailable)
    assert.equal(server.faults.pending(), 0)
    assert.equal(Object.keys(await ex.fetchBidsAsks()).length, 2)
    assert.deepEqual(server.requests.map((r) => r.fault), [null, 'server_error', null, 'server_error', null])
  })

  it('a seeded random rate over all requests: the same seed gives the same faults; null turns it off', async () => {
    const kinds: FaultKind[] = ['rate_limit_html', 'server_error']
    const run = async () => {
      const {server, ex} = await start()
      server.faults.random({rate: 0.3, seed: 42, kinds})
      for (let i = 0; i < 40; i++) await ex.fetchTime().catch(() => undefined)
      server.faults.random(null)
      await ex.fetchTime()
      return server.requests.map((r) => r.fault)
    }

    const first = await run()
    assert.deepEqual(await run(), first)
    const faulted = first.filter((f) => f !== null).length
    assert.ok(faulted >= 4 && faulted <= 24, `${faulted} of 40 requests faulted at rate 0.3`)
    assert.deepEqual(new Set(first.filter((f) => f !== null)), new Set(kinds))
    assert.equal(first.at(-1), null)
  })

  it('a failed loadMarkets sticks in ccxt until loadMarkets(true), even after the server recovers', async () => {
    const {server, ex} = await startWith({startBalances: {USD: 10_000}})
    server.faults.inject({kind: 'server_error', path: '/api/v3/brokerage/market/products'})
    const failure = await rejectsExactly(ex.loadMarkets(), ExchangeNotAvailable)
    server.clearRequests()
    const again = await rejectsExactly(ex.fetchBalance(), ExchangeNotAvailable)
    assert.equal(again, failure, 'the cached rejection is rethrown')
    assert.equal(server.requests.length, 0)
    await ex.loadMarkets(true)
    assert.equal((await ex.fetchBalance()).USD.total, 10_000)
  })
})
