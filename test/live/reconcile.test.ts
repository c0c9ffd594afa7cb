import assert from 'node:assert/strict'

import type {OrderState} from '../../src/lib/domain.js'
import {BotError} from '../../src/lib/errors.js'
import {openCcxtVenue} from '../../src/lib/exchange/ccxt/index.js'
import {applyOrderState, reconcileOrders} from '../../src/lib/execution/reconcile.js'
import {StateStore} from '../../src/lib/state/store.js'
import {testKey} from '../coinbase/keys.js'
import {startCoinbaseServer} from '../coinbase/server.js'
import {tempDir} from '../helpers/fixtures.js'

/** Reconciliation of a market buy an exchange sized in quote (Coinbase's quote_size): only what compares. */
describe('reconcile: a market buy sized in quote', () => {
  let cleanup: () => void
  let store: StateStore
  beforeEach(() => {
    const t = tempDir('bot-live-reconcile-')
    cleanup = t.cleanup
    store = StateStore.open(t.dir)
  })
  afterEach(() => {
    store.close()
    cleanup()
  })

  const row = (id: string, side: 'buy' | 'sell', amount: number) => {
    store.insertOrder({client_order_id: id, cycle: 1, leg: 0, time: 1000, symbol: 'BTC-USD', side, type: 'market', amount, price: 40_000, action: 'enter', reason: 't', status: 'sent', schedule_id: null})
    return store.liveOrders().find((r) => r.client_order_id === id)!
  }

  const remote = (over: Partial<OrderState>): OrderState => ({
    id: 'x1', clientOrderId: 'c1', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.01, price: null, filled: 0.01,
    averagePrice: 40_000, fee: 2.4, status: 'closed', reason: null, createdAt: 1000, updatedAt: 1000, ...over,
  })

  const mismatch = (fn: () => unknown) => assert.throws(fn, (e: unknown) => e instanceof BotError && e.code === 'ORDER_MISMATCH')

  it('books a market buy whose exchange amount is what filled, not what bot stored', () => {
    const r = row('c1', 'buy', 0.01)
    const fills = store.transaction(() => applyOrderState(store, r, remote({amount: 0.009_87, filled: 0.009_87}), 2000))
    assert.equal(fills, 1)
    const [fill] = store.fills()
    assert.equal(fill.amount, 0.009_87)
    assert.equal(store.liveOrders().length, 0, 'closed')
    const [stored] = store.cycleOrders(1)
    assert.equal(stored.amount, 0.01, 'bot keeps the amount it asked for')
  })

  it('still refuses another symbol, another side, or another client order id on a market buy', () => {
    const r = row('c1', 'buy', 0.01)
    mismatch(() => applyOrderState(store, r, remote({symbol: 'ETH-USD'}), 2000))
    mismatch(() => applyOrderState(store, r, remote({side: 'sell'}), 2000))
    mismatch(() => applyOrderState(store, r, remote({clientOrderId: 'someone-else'}), 2000))
    assert.equal(store.fills().length, 0)
  })

  it('compares the amount of a market sell (sized in base everywhere)', () => {
    const r = row('c1', 'sell', 0.01)
    mismatch(() => applyOrderState(store, r, remote({side: 'sell', amount: 0.009_87, filled: 0.009_87}), 2000))
    assert.equal(store.transaction(() => applyOrderState(store, r, remote({side: 'sell', amount: 0.01, filled: 0.01}), 2000)), 1)
  })

  it('after a restart, a market buy placed through the real ccxt client on the loopback Coinbase reconciles without ORDER_MISMATCH', async () => {
    const key = testKey()
    const server = await startCoinbaseServer({key, symbols: ['BTC-USD'], startBalances: {USD: 10_000}})
    const open = () => openCcxtVenue({exchangeId: 'coinbase', restUrl: server.url, credentials: {apiKey: key.name, secret: key.privateKeyPem}, timeoutMs: 2000, quote: 'USD', timeframe: '1h', rateLimit: false})
    try {
      const before = await open()
      const placed = await before.broker!.createOrder({clientOrderId: 'c1', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.01})
      assert.equal(placed.amount, 0.01, 'the process that placed it knows what it asked for')
      await before.close()
      // bot was killed before it stored the answer: only the intent's client order id is known.
      row('c1', 'buy', 0.01)
      const after = await open()
      const seen = await after.broker!.recentOrders('BTC-USD', Date.now() - 60_000)
      assert.notEqual(seen[0].amount, 0.01, 'a new process sees the exchange\'s own figure (this is what used to mismatch)')
      const result = await reconcileOrders(after.broker!, store, Date.now(), {resumable: () => false, unknownGraceMs: 60_000})
      await after.close()
      assert.equal(result.fills, 1)
      assert.deepEqual(result.changed.map((c) => [c.clientOrderId, c.status]), [['c1', 'closed']])
      const [order] = server.orders()
      assert.equal(store.fills()[0].amount, order.filledSize)
      assert.equal(server.orders().length, 1)
    } finally {
      await server.close()
    }
  })
})
