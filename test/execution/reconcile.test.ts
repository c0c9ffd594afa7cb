import assert from 'node:assert/strict'

import {BUNDLED_DATA_DIR, loadCandleDir} from '../../src/lib/exchange/candle-files.js'
import {SimExchange} from '../../src/lib/exchange/sim.js'
import {applyOrderState, reconcileOrders} from '../../src/lib/execution/reconcile.js'
import {StateStore} from '../../src/lib/state/store.js'
import {defaultConfig, tempDir} from '../helpers/fixtures.js'
import {marketOrder} from '../helpers/sim.js'

describe('reconciliation', () => {
  let t: ReturnType<typeof tempDir>
  let store: StateStore
  let sim: SimExchange
  beforeEach(() => {
    t = tempDir()
    store = StateStore.open(t.dir)
    sim = SimExchange.open({data: loadCandleDir(BUNDLED_DATA_DIR, ['BTC-USD', 'ETH-USD']), settings: defaultConfig().app.exchange.sim, quote: 'USD', tierOf: () => 'tier1', stateFile: null})
  })
  afterEach(async () => {
    await sim.close()
    store.close()
    t.cleanup()
  })

  const row = (id: string, status: 'intent' | 'sent', time: number) => store.insertOrder({
    client_order_id: id, cycle: 1, leg: 0, time, symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.01, price: 40000, action: 'enter', reason: 't', status,
  })
  const policy = {resumable: () => false, unknownGraceMs: 300_000}

  it('finds a sent order by its client order id and books its fill once', async () => {
    await sim.createOrder(marketOrder('c1', 'BTC-USD', 'buy', 0.01))
    await sim.advance()
    row('c1', 'sent', sim.now())
    const first = await reconcileOrders(sim, store, sim.now(), policy)
    const again = await reconcileOrders(sim, store, sim.now(), policy)
    assert.equal(first.fills, 1)
    assert.equal(again.fills, 0, 'a closed order is not looked up or booked again')
    assert.equal(store.fills().length, 1)
    assert.equal(store.liveOrders().length, 0)
  })

  it('keeps an order of unknown outcome (timed-out submit) for the grace period, then gives it up', async () => {
    row('lost', 'sent', sim.now())
    await reconcileOrders(sim, store, sim.now() + 60_000, policy)
    assert.deepEqual(store.liveOrders().map((o) => o.status), ['sent'], 'still unknown: kept, counted as committed')
    await reconcileOrders(sim, store, sim.now() + 300_000, policy)
    assert.equal(store.liveOrders().length, 0)
    assert.equal(store.audit.verify().entries, 1, 'the abandonment is audited')
  })

  it('refuses to book an exchange order that does not match what bot recorded under that id', async () => {
    const remote = await sim.createOrder(marketOrder('c2', 'ETH-USD', 'sell', 1))
    row('c2', 'sent', sim.now())
    const [ours] = store.liveOrders()
    assert.throws(() => applyOrderState(store, ours, remote, sim.now()), /returned sell 1 ETH-USD for client order id c2, which bot recorded as buy 0\.01 BTC-USD/)
  })
})
