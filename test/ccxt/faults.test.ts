import assert from 'node:assert/strict'

import {type CircuitSnapshot, openCcxtVenue} from '../../src/lib/exchange/ccxt/index.js'
import {ExchangeError} from '../../src/lib/exchange/ports.js'
import {testKey} from '../coinbase/keys.js'
import {startCoinbaseServer} from '../coinbase/server.js'
import {BTC_RULES, FAST_RETRY, hits, rejectsWith, sleep, useVenue} from './helpers.js'
import {startRecordingProxy} from './proxy.js'

const ORDERS = '/api/v3/brokerage/orders'
const TIME = '/api/v3/brokerage/time'
const PRODUCTS = '/api/v3/brokerage/market/products'
const NO_RETRY = {...FAST_RETRY, attempts: 1}

describe('ccxt adapter: faults of the loopback Coinbase, classified once and survived', () => {
  const startWith = useVenue()
  const start = async (over: Parameters<typeof startWith>[0] = {}) => {
    const h = await startWith({...over, server: {productRules: {'BTC-USD': BTC_RULES}, startBalances: {USD: 10_000, BTC: 0.5}, ...over.server}, venue: {retry: NO_RETRY, ...over.venue}})
    await h.market.markets()
    h.server.clearRequests()
    return h
  }

  it('429 as JSON (v3, a plain ExchangeError in ccxt) and as an HTML page: rate_limited', async () => {
    const {server, broker, market} = await start()
    server.faults.inject({kind: 'rate_limit_json', path: `${ORDERS}/historical/batch`})
    await rejectsWith(broker.openOrders('BTC-USD'), 'rate_limited', 'RATE_LIMITED', /RATE_LIMIT_EXCEEDED/)
    server.faults.inject({kind: 'rate_limit_html', path: TIME})
    await rejectsWith(market.time(), 'rate_limited', 'RATE_LIMITED')
  })

  for (const status of [500, 502, 503] as const) {
    it(`a ${status} text answer: retryable`, async () => {
      const {server, market} = await start()
      server.faults.inject({kind: 'server_error', status, path: TIME})
      await rejectsWith(market.time(), 'retryable', 'EXCHANGE_UNAVAILABLE', new RegExp(`${status}`))
    })
  }

  it('a request unanswered past timeout_ms: retryable TIMEOUT, within the timeout', async () => {
    const {server, broker} = await start({venue: {timeoutMs: 300}})
    server.faults.inject({kind: 'timeout', path: '/api/v3/brokerage/accounts'})
    const t0 = Date.now()
    await rejectsWith(broker.balances(), 'retryable', 'TIMEOUT', /timed out \(300 ms\)/)
    assert.ok(Date.now() - t0 < 3000)
  })

  it('a 200 that is not JSON on a list call is an error (retryable), never an empty list', async () => {
    const {server, broker} = await start()
    await broker.createOrder({clientOrderId: 'resting', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.001, price: 1000})
    server.faults.inject({kind: 'non_json'})
    await rejectsWith(broker.openOrders('BTC-USD'), 'retryable', 'BAD_RESPONSE', /not JSON \("Down for maintenance"\)/)
    assert.deepEqual((await broker.openOrders('BTC-USD')).map((o) => o.clientOrderId), ['resting'])
  })

  it('a 200 that is not JSON on createOrder: outcome unknown (retryable), never an order without id', async () => {
    const {server, broker} = await start()
    server.faults.inject({kind: 'non_json', method: 'POST', path: ORDERS})
    await rejectsWith(broker.createOrder({clientOrderId: 'html-1', symbol: 'BTC-USD', side: 'sell', type: 'market', amount: 0.01}), 'retryable', 'ORDER_OUTCOME_UNKNOWN', /html-1.*reconcile by client order id/)
    assert.equal(hits(server, ORDERS, 'POST').length, 1, 'sent once, never resent')
  })

  for (const lose of ['destroy', 'bad_gateway', 'hang'] as const) {
    it(`an order executed but its answer lost (${lose}): outcome unknown, not resent, then found by recentOrders`, async () => {
      const {server, broker} = await start({venue: {timeoutMs: 500, retry: FAST_RETRY}})
      const since = server.now()
      server.faults.inject({kind: 'response_lost', method: 'POST', path: ORDERS, lose})
      await rejectsWith(broker.createOrder({clientOrderId: 'lost-1', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.01}), 'retryable', 'ORDER_OUTCOME_UNKNOWN')
      assert.equal(hits(server, ORDERS, 'POST').length, 1, 'createOrder is never retried, even with retries on')
      const [held] = server.orders()
      const found = (await broker.recentOrders('BTC-USD', since)).filter((o) => o.clientOrderId === 'lost-1')
      assert.deepEqual(found.map((o) => [o.id, o.status, o.amount]), [[held.orderId, 'closed', 0.01]])
    })
  }

  it('an order accepted whose read-back fails is reported open as placed (not an error): its id finds it later', async () => {
    const {server, broker} = await start({venue: {retry: FAST_RETRY}})
    server.faults.inject({kind: 'server_error', count: 3, method: 'GET', path: /^\/api\/v3\/brokerage\/orders\/historical\/(?!batch$)/})
    const state = await broker.createOrder({clientOrderId: 'unread-1', symbol: 'BTC-USD', side: 'sell', type: 'market', amount: 0.01})
    const [held] = server.orders()
    assert.deepEqual([state.id, state.clientOrderId, state.status, state.filled, state.amount], [held.orderId, 'unread-1', 'open', 0, 0.01])
    assert.equal((await broker.fetchOrder(state.id, 'BTC-USD')).status, 'closed')
  })

  it('transient failures are retried with growing, jittered delays, then succeed', async () => {
    const {server, market, venue} = await start({venue: {retry: {...FAST_RETRY, attempts: 4, baseDelayMs: 60}}})
    venue.resetRequests()
    server.faults.inject({kind: 'server_error', count: 2, path: TIME})
    server.faults.inject({kind: 'rate_limit_html', count: 1, path: TIME})
    assert.ok(await market.time() > 0)
    const at = hits(server, TIME).map((r) => r.at)
    assert.deepEqual(hits(server, TIME).map((r) => r.status), [503, 503, 429, 200])
    const gaps = at.slice(1).map((t, i) => t - at[i])
    // base 60 ms doubling, times [0.5, 1): >= 30, >= 60; after the rate limit its own base (60 ms) x 4 x 0.5.
    assert.ok(gaps[0] >= 28 && gaps[1] >= 58 && gaps[2] >= 118, `gaps ${gaps.join(', ')} ms`)
    assert.deepEqual(venue.requests().byOperation.time, {calls: 1, requests: 4})
  })

  it('retries stop at the attempt limit and say how many were made', async () => {
    const {server, market} = await start({venue: {retry: FAST_RETRY}})
    server.faults.inject({kind: 'server_error', count: 5, path: TIME})
    await rejectsWith(market.time(), 'retryable', 'EXCHANGE_UNAVAILABLE', /after 3 tries/)
    assert.equal(hits(server, TIME).length, 3)
  })

  it('the circuit opens after N failed calls in a row, fails fast without a request, half-opens after the cool-down and closes on a success', async () => {
    const {server, market, venue} = await start({venue: {breaker: {failureThreshold: 3, cooldownMs: 300}}})
    const seen: CircuitSnapshot[] = []
    venue.onCircuitChange((s) => seen.push(s))
    server.faults.inject({kind: 'server_error', count: 4, path: TIME})
    for (let i = 0; i < 3; i++) await rejectsWith(market.time(), 'retryable', 'EXCHANGE_UNAVAILABLE')
    assert.deepEqual([venue.circuit().state, venue.circuit().consecutiveFailures], ['open', 3])
    const fast = await rejectsWith(market.time(), 'retryable', 'CIRCUIT_OPEN', /circuit open after 3 failed calls/)
    assert.notEqual(fast.kind, 'fatal')
    await rejectsWith(venue.broker!.balances(), 'retryable', 'CIRCUIT_OPEN')
    assert.equal(hits(server, TIME).length, 3, 'no request while open')
    await sleep(320)
    // The trial call fails (one fault left): open again, a new cool-down.
    await rejectsWith(market.time(), 'retryable', 'EXCHANGE_UNAVAILABLE')
    assert.equal(venue.circuit().state, 'open')
    await sleep(320)
    assert.ok(await market.time() > 0)
    const closed = venue.circuit()
    assert.deepEqual([closed.state, closed.consecutiveFailures, closed.retryAt], ['closed', 0, null])
    assert.match(closed.lastError ?? '', /^EXCHANGE_UNAVAILABLE: /)
    assert.deepEqual(seen.map((s) => s.state), ['open', 'half-open', 'open', 'half-open', 'closed'])
  })

  it('refusals do not count against the exchange: the circuit stays closed', async () => {
    const {broker, venue} = await start({venue: {breaker: {failureThreshold: 2, cooldownMs: 60_000}}})
    for (let i = 0; i < 4; i++) await rejectsWith(broker.fetchOrder(`nope-${i}`, 'BTC-USD'), 'rejected', 'ORDER_NOT_FOUND')
    assert.equal(venue.circuit().state, 'closed')
  })

  it('a failed loadMarkets is reloaded on the next call (ccxt alone would keep failing)', async () => {
    const {server, market, broker} = await startWith({venue: {retry: NO_RETRY}})
    server.faults.inject({kind: 'server_error', path: PRODUCTS})
    await rejectsWith(market.markets(), 'retryable', 'EXCHANGE_UNAVAILABLE')
    assert.deepEqual([...(await market.markets()).keys()].sort(), ['BTC-USD', 'ETH-USD'])
    assert.equal((await broker.balances()).USD.total, 10_000)
  })

  it('with retries on, a failed loadMarkets is reloaded within the same call', async () => {
    const {server, broker} = await startWith({venue: {retry: FAST_RETRY}})
    server.faults.inject({kind: 'non_json', path: PRODUCTS})
    assert.equal((await broker.balances()).USD.total, 10_000)
    assert.deepEqual(hits(server, PRODUCTS).map((r) => [r.query, r.status]).filter(([q]) => q === ''), [['', 200], ['', 200]])
  })

  it('a key the exchange does not accept is fatal (401 as text or as JSON), and says nothing of the key', async () => {
    for (const unauthorizedBody of ['text', 'json'] as const) {
      const wrong = testKey()
      const {broker} = await startWith({clientKey: wrong, server: {unauthorizedBody}})
      const e = await rejectsWith(broker.balances(), 'fatal', 'AUTH_FAILED')
      for (const secret of [wrong.name, ...wrong.privateKeyPem.split('\n').filter((l) => l.length > 20)]) assert.ok(!e.message.includes(secret))
    }
  })

  it('no error message carries the API key, the secret or a JWT, also when a gateway echoes them back', async () => {
    const key = testKey()
    const server = await startCoinbaseServer({key, symbols: ['BTC-USD'], startBalances: {USD: 1000}})
    const proxy = await startRecordingProxy(server.url)
    const venue = await openCcxtVenue({exchangeId: 'coinbase', restUrl: proxy.url, credentials: {apiKey: key.name, secret: key.privateKeyPem}, timeoutMs: 400, quote: 'USD', timeframe: '1h', retry: NO_RETRY, breaker: {failureThreshold: 1000}})
    const messages: string[] = []
    const collect = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => messages.push(e instanceof ExchangeError ? e.message : String(e)))
    try {
      const broker = venue.broker!
      await venue.market.markets()
      for (const kind of ['rate_limit_json', 'rate_limit_html', 'server_error', 'timeout', 'non_json', 'response_lost'] as const) {
        server.faults.inject({kind})
        await collect(broker.balances())
        server.faults.inject({kind, method: 'POST', path: ORDERS})
        await collect(broker.createOrder({clientOrderId: `scan-${kind}`, symbol: 'BTC-USD', side: 'sell', type: 'market', amount: 1}))
      }

      await collect(broker.fetchOrder('no-such', 'BTC-USD'))
      for (const reflect of ['text', 'json'] as const) {
        proxy.reflect = reflect
        await collect(broker.balances())
        await collect(broker.createOrder({clientOrderId: `scan-reflect-${reflect}`, symbol: 'BTC-USD', side: 'sell', type: 'market', amount: 0.001}))
      }
    } finally {
      await venue.close()
      await proxy.close()
      await server.close()
    }

    assert.ok(messages.length >= 15, `${messages.length} errors collected`)
    assert.ok(messages.some((m) => m.includes('[redacted]')), 'the echoed credentials were met, and removed')
    const jwts = proxy.authorizations.map((a) => a.replace(/^Bearer /, ''))
    assert.ok(jwts.length > 10)
    const secrets = [key.name, key.privateKeyPem, ...key.privateKeyPem.split('\n').filter((l) => l.length > 20), ...jwts, ...jwts.flatMap((j) => j.split('.'))]
    for (const m of messages) for (const s of secrets) assert.ok(!m.includes(s), `"${m}" contains a credential`)
  })
})
