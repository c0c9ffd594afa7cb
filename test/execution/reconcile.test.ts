import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {Broker} from '../../src/lib/exchange/ports.js'
import {applyOrderState, reconcileOrders} from '../../src/lib/execution/reconcile.js'
import {StateStore} from '../../src/lib/state/store.js'
import {marketOrder} from '../helpers/sim.js'
import {openSimVenue, type SimVenue} from '../helpers/sim-venue.js'

/** `inner`, as a venue that cannot look orders up by client order id; counts the lookups it is asked for. */
function withoutClientIdLookup(inner: Broker): {broker: Broker; calls: {byClientId: number; recent: number}} {
  const calls = {byClientId: 0, recent: 0}
  const broker: Broker = {
    capabilities: {convert: (from, to) => inner.capabilities.convert(from, to), fetchByClientOrderId: false},
    balances: () => inner.balances(),
    createOrder: (req) => inner.createOrder(req),
    fetchOrder: (id, symbol) => inner.fetchOrder(id, symbol),
    fetchOrderByClientId(clientOrderId, symbol) {
      calls.byClientId++
      return inner.fetchOrderByClientId(clientOrderId, symbol)
    },
    recentOrders(symbol, since) {
      calls.recent++
      return inner.recentOrders(symbol, since)
    },
    cancelOrder: (id, symbol) => inner.cancelOrder(id, symbol),
    openOrders: (symbol) => inner.openOrders(symbol),
    convertQuote: (from, to, amount) => inner.convertQuote(from, to, amount),
    convertCommit: (quote) => inner.convertCommit(quote),
    close: () => inner.close(),
  }
  return {broker, calls}
}

describe('reconciliation', () => {
  let dir: string
  let store: StateStore
  let venue: SimVenue
  const now = () => venue.replay.now()
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-reconcile-'))
    store = StateStore.open(dir)
    venue = openSimVenue({tierOf: () => 'tier1'})
  })
  afterEach(async () => {
    await venue.broker.close()
    store.close()
    fs.rmSync(dir, {recursive: true, force: true})
  })

  const row = (id: string, status: 'intent' | 'sent', time: number, leg = 0) => store.insertOrder({
    client_order_id: id, cycle: 1, leg, time, symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.01, price: 40000, action: 'enter', reason: 't', status,
  })
  const policy = {resumable: () => false, unknownGraceMs: 300_000}

  it('finds a sent order by its client order id and books its fill once', async () => {
    await venue.broker.createOrder(marketOrder('c1', 'BTC-USD', 'buy', 0.01))
    await venue.step()
    row('c1', 'sent', now())
    const first = await reconcileOrders(venue.broker, store, now(), policy)
    const again = await reconcileOrders(venue.broker, store, now(), policy)
    assert.equal(first.fills, 1)
    assert.equal(again.fills, 0, 'a closed order is not looked up or booked again')
    assert.equal(store.fills().length, 1)
    assert.equal(store.liveOrders().length, 0)
  })

  it('finds it among the recent orders where the venue cannot look up client order ids', async () => {
    const {broker, calls} = withoutClientIdLookup(venue.broker)
    const placedAt = now()
    await broker.createOrder(marketOrder('c1', 'BTC-USD', 'buy', 0.01))
    row('c1', 'sent', placedAt)
    await venue.step()
    row('lost', 'sent', now(), 1) // a later submit that timed out
    const first = await reconcileOrders(broker, store, now(), policy)
    assert.equal(first.fills, 1)
    assert.deepEqual(first.changed, [{clientOrderId: 'c1', status: 'closed', note: 'now closed'}])
    assert.deepEqual(calls, {byClientId: 0, recent: 2}, 'both rows were looked for among recent orders')
    const [fill] = store.fills()
    const remote = (await venue.broker.fetchOrderByClientId('c1', 'BTC-USD'))!
    assert.deepEqual([fill.client_order_id, fill.amount, fill.price, fill.fee], ['c1', 0.01, remote.averagePrice, remote.fee])
    assert.deepEqual(store.liveOrders().map((o) => [o.client_order_id, o.status]), [['lost', 'sent']], 'not found, still within its grace period')
    assert.equal(store.db.prepare("SELECT exchange_order_id FROM orders WHERE client_order_id = 'c1'").pluck().get(), remote.id)

    await reconcileOrders(broker, store, now() + 300_000, policy)
    assert.equal(store.liveOrders().length, 0)
    assert.equal(calls.byClientId, 0)
  })

  it('keeps an order of unknown outcome (timed-out submit) for the grace period, then gives it up', async () => {
    row('lost', 'sent', now())
    await reconcileOrders(venue.broker, store, now() + 60_000, policy)
    assert.deepEqual(store.liveOrders().map((o) => o.status), ['sent'], 'still unknown: kept, counted as committed')
    await reconcileOrders(venue.broker, store, now() + 300_000, policy)
    assert.equal(store.liveOrders().length, 0)
    assert.equal(store.audit.verify().entries, 1, 'the abandonment is audited')
  })

  it('refuses to book an exchange order that does not match what bot recorded under that id', async () => {
    const remote = await venue.broker.createOrder(marketOrder('c2', 'ETH-USD', 'sell', 1))
    row('c2', 'sent', now())
    const [ours] = store.liveOrders()
    assert.throws(() => applyOrderState(store, ours, remote, now()), /returned sell 1 ETH-USD for client order id c2, which bot recorded as buy 0\.01 BTC-USD/)
  })
})
