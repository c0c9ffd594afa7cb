import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import path from 'node:path'

import {testKey} from '../coinbase/keys.js'
import {type CoinbaseServer, startCoinbaseServer} from '../coinbase/server.js'
import {tempDir} from '../helpers/fixtures.js'
import {assertSameOrders, keyEnv, liveConfig, runCliAsync, storedOrders} from './support.js'

/**
 * `bot trim --live` on the loopback Coinbase: an account over the exposure cap from its start balances is
 * sold back to the cap minus the buffer with real (loopback) orders; --dry-run looks without trading.
 */
describe('bot trim --live (CLI)', function () {
  let root: string
  let cleanup: () => void
  let server: CoinbaseServer
  const key = testKey()
  beforeEach(async () => {
    const t = tempDir('bot-live-trim-')
    root = t.dir
    cleanup = t.cleanup
    server = await startCoinbaseServer({key, halfSpread: 0.0002, startBalances: {USD: 10_000, BTC: 0.3, ETH: 3}})
  })
  afterEach(async () => {
    await server.close()
    cleanup()
  })

  it('sells back under the cap with orders the exchange fills; --dry-run first places and writes nothing', async () => {
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'state')
    const held = (currency: string) => server.balances()[currency].total
    const value = held('BTC') * server.market.quote('BTC-USD').price + held('ETH') * server.market.quote('ETH-USD').price
    const exposure = (value / (value + held('USD'))) * 100
    assert.ok(exposure > 50, `starts over the 25 % cap: ${exposure}`)

    const preview = await runCliAsync(['trim', '--live', '--dry-run', '--json', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    assert.equal(preview.status, 0, preview.stderr)
    const plan = preview.events[0]
    assert.deepEqual([plan.dryRun, plan.needed, plan.outcome], [true, true, 'preview'])
    assert.ok(plan.exposureAfterPct <= plan.capPct, 'the plan would bring it under the cap')
    assert.ok(plan.sells.length > 0 && plan.sells.every((s: {status: string}) => s.status === 'would send'))
    assert.deepEqual(server.orders(), [])
    assert.ok(!existsSync(stateDir), 'nothing written')

    const r = await runCliAsync(['trim', '--live', '--json', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    assert.equal(r.status, 0, r.stderr + r.stdout)
    const result = r.events[0]
    assert.deepEqual([result.dryRun, result.needed], [false, true])
    assert.ok(Math.abs(result.exposurePct - exposure) < 0.5, `${result.exposurePct} vs ${exposure}`)
    assert.ok(result.exposureAfterPct <= result.capPct, `${result.exposureAfterPct} > ${result.capPct}`)
    const remote = server.orders()
    assert.ok(remote.length > 0 && remote.every((o) => o.side === 'SELL' && o.status === 'FILLED'))
    assert.deepEqual(remote.map((o) => o.clientOrderId).sort(), result.sells.map((s: {clientOrderId: string}) => s.clientOrderId).sort())
    for (const s of result.sells) assert.equal(remote.find((o) => o.clientOrderId === s.clientOrderId)!.baseSize, s.amount)
    assert.ok(storedOrders(stateDir).every((o) => o.action === 'trim'))
    assertSameOrders(stateDir, server)

    // Measured on the exchange itself, at its prices: back under the cap.
    const after = held('BTC') * server.market.quote('BTC-USD').price + held('ETH') * server.market.quote('ETH-USD').price
    const afterPct = (after / (after + held('USD'))) * 100
    assert.ok(afterPct <= result.capPct, `on the exchange: ${afterPct}`)
    assert.ok(afterPct >= result.capPct - 2 * 2, `not sold far below the target (cap minus the 2 % buffer): ${afterPct}`)
  })
})
