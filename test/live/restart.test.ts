import assert from 'node:assert/strict'
import path from 'node:path'

import {testKey} from '../coinbase/keys.js'
import type {CoinbaseServer} from '../coinbase/server.js'
import {waitFor} from '../coinbase/fixture.js'
import {tempDir} from '../helpers/fixtures.js'
import {assertSameOrders, keyEnv, laggingServer, liveConfig, runCliAsync, startCli, storedOrders} from './support.js'

const ORDERS = '/api/v3/brokerage/orders'

/**
 * An order the exchange executed but whose answer never came back, then bot killed (SIGKILL) and started
 * again: the restart finds the order by its client order id and never sends a second one. Through the CLI.
 */
describe('live: a lost answer, a kill, a restart (CLI)', function () {
  let root: string
  let cleanup: () => void
  let server: CoinbaseServer
  const key = testKey()
  beforeEach(async () => {
    const t = tempDir('bot-live-restart-')
    root = t.dir
    cleanup = t.cleanup
    server = await laggingServer(key, {lagBars: 0, startBalances: {USD: 100_000}})
  })
  afterEach(async () => {
    await server.close()
    cleanup()
  })

  const posts = () => server.requests.filter((r) => r.method === 'POST' && r.path === ORDERS)

  async function killWhen(args: string[], ready: () => boolean): Promise<void> {
    const cli = startCli(args, keyEnv(key))
    await waitFor(ready, 30_000, 'the moment to kill bot')
    cli.child.kill('SIGKILL')
    const r = await cli.done
    assert.equal(r.status, null, 'killed')
  }

  async function restart(config: string, stateDir: string) {
    const r = await runCliAsync(['run', '--live', '--json', '--cycles', '3', '--interval', '0.1', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    assert.equal(r.status, 0, r.stderr)
    return r
  }

  it('killed while the executed order\'s answer hangs (its intent stored, nothing known): the restart finds it, no second order', async () => {
    server.faults.inject({kind: 'response_lost', lose: 'hang', count: 1, method: 'POST', path: ORDERS})
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'state')
    await killWhen(['run', '--live', '--json', '--interval', '0.1', '--config-dir', config, '--state-dir', stateDir], () => posts().some((p) => p.fault === 'response_lost'))
    const [executed] = server.orders()
    assert.ok(executed, 'the exchange executed the order')
    const before = storedOrders(stateDir).find((o) => o.client_order_id === executed.clientOrderId)!
    assert.deepEqual([before.status, before.exchange_order_id], ['intent', null], 'bot knew nothing of it')
    const sentBefore = posts().length

    const r = await restart(config, stateDir)
    assert.equal(r.events.find((e) => e.type === 'cycle')!.report.resumed, true, 'the cycle it was killed in is finished first')
    const found = r.events.find((e) => e.type === 'reconciled' && e.clientOrderId === executed.clientOrderId)
    assert.deepEqual(found, {type: 'reconciled', clientOrderId: executed.clientOrderId, status: 'closed', note: 'found on the exchange by client order id'})
    assert.ok(!posts().slice(sentBefore).some((p) => (p.body as {client_order_id: string}).client_order_id === executed.clientOrderId), 'never sent again')
    assert.equal(server.orders().filter((o) => o.clientOrderId === executed.clientOrderId).length, 1)
    assertSameOrders(stateDir, server)
  })

  it('killed after the send failed without an answer (outcome unknown, stored as sent): the restart finds it, no second order', async () => {
    server.faults.inject({kind: 'response_lost', lose: 'destroy', count: 1, method: 'POST', path: ORDERS})
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'state')
    let unknown: string | null = null
    await killWhen(['run', '--live', '--json', '--interval', '30', '--config-dir', config, '--state-dir', stateDir], () => {
      // Only once the send failed: before, bot.sqlite may not exist yet.
      if (!server.requests.some((q) => q.fault === 'response_lost')) return false
      unknown = storedOrders(stateDir).find((o) => o.status === 'sent')?.client_order_id ?? null
      return unknown !== null && server.requests.some((q) => q.path === ORDERS && q.method === 'POST' && q.fault === null)
    })
    assert.ok(unknown)
    assert.equal(server.orders().filter((o) => o.clientOrderId === unknown).length, 1, 'the exchange executed it')
    const sentBefore = posts().length

    const r = await restart(config, stateDir)
    const found = r.events.find((e) => e.type === 'reconciled' && e.clientOrderId === unknown)
    assert.equal(found?.status, 'closed')
    assert.ok(!posts().slice(sentBefore).some((p) => (p.body as {client_order_id: string}).client_order_id === unknown), 'never sent again')
    assert.equal(server.orders().filter((o) => o.clientOrderId === unknown).length, 1)
    assertSameOrders(stateDir, server)
  })
})
