import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {testKey} from '../coinbase/keys.js'
import {type CoinbaseServer, startCoinbaseServer} from '../coinbase/server.js'
import {freePort} from '../helpers/daemons.js'
import {tempDir} from '../helpers/fixtures.js'
import {query} from '../helpers/run.js'
import {assertSameOrders, HOUR, keyEnv, laggingServer, liveConfig, runCliAsync, startCli} from './support.js'

const PRIVATE = /^\/api\/v3\/brokerage\/(accounts|orders|best_bid_ask|transaction_summary|convert|key_permissions)|^\/v2\/accounts/
const ORDER_LOOKUP = /^\/api\/v3\/brokerage\/orders\/historical\/[0-9a-f-]{36}$/

describe('bot run on the loopback Coinbase (CLI)', function () {
  let root: string
  let cleanup: () => void
  const servers: CoinbaseServer[] = []
  beforeEach(() => {
    const t = tempDir('bot-live-run-')
    root = t.dir
    cleanup = t.cleanup
  })
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()))
    cleanup()
  })

  it('--live with a test key: places, fills and reconciles orders over many cycles; bot.sqlite agrees with the exchange', async () => {
    const key = testKey()
    // New closed bars while it runs (10 behind the wall clock, one every 400 ms), so the strategy moves.
    const server = await laggingServer(key, {lagBars: 10, advanceMs: 400, startBalances: {USD: 100_000}})
    servers.push(server)
    // The first order is executed but its answer is lost: its outcome is unknown until reconciliation finds
    // it by its client order id. The next one's read-back fails every retry: it is reported open, and the
    // next cycle reads it again.
    server.faults.inject({kind: 'response_lost', count: 1, method: 'POST', path: '/api/v3/brokerage/orders'})
    server.faults.inject({kind: 'server_error', status: 503, count: 4, method: 'GET', path: ORDER_LOOKUP})
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'state')
    const cli = startCli(['run', '--live', '--json', '--cycles', '40', '--interval', '0.1', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    const r = await cli.done
    assert.equal(r.status, 0, r.stderr)
    const start = r.events.find((e) => e.type === 'start')!
    assert.match(start.description, /^LIVE trading on coinbase at http:\/\/127\.0\.0\.1:\d+: real orders \(1h bars, a cycle every 100 ms\)$/)
    const summary = r.events.at(-1)!
    assert.equal(summary.type, 'summary')
    assert.equal(summary.cyclesThisRun, 40)
    assert.equal(summary.auditOk, true)
    const {rows, remote} = assertSameOrders(stateDir, server)
    assert.ok(remote.length >= 3, `orders placed: ${remote.length}`)
    assert.ok(remote.some((o) => o.side === 'BUY') && remote.every((o) => o.filledSize > 0), 'market orders fill on the exchange')
    assert.ok(summary.trades >= remote.length, 'every fill is booked')
    assert.equal(server.faults.pending(), 0, 'both faults were met')
    const [lost, unread] = remote
    const events = (id: string) => r.events.filter((e) => e.clientOrderId === id).map((e) => `${e.type}:${e.status}`)
    assert.deepEqual(events(lost.clientOrderId), ['order:unknown', 'reconciled:closed'], 'the lost answer: outcome unknown, then found by its client order id')
    assert.deepEqual(events(unread.clientOrderId), ['order:open', 'reconciled:closed'], 'read back as open, reconciled as closed')
    assert.ok(rows.every((o) => o.client_order_id.startsWith(`${rows[0].client_order_id.split('-')[0]}-`)), 'one client-order-id namespace')
  })

  it('paper: trades on the public market data with no key set; no private endpoint is called, no real order placed', async () => {
    const server = await startCoinbaseServer({halfSpread: 0.0002})
    servers.push(server)
    // The sim broker fills an order on the bars after it: the exchange's clock (and its bars) move an hour
    // per step here, a skew the config allows, so bars close while the test runs.
    let offset = 0
    const timer = setInterval(() => {
      server.advance()
      offset += HOUR
      server.setClockOffset(offset)
    }, 300)
    try {
      const config = liveConfig(root, server, {mode: 'paper', app: [['  max_clock_skew_ms: 5000', '  max_clock_skew_ms: 1000000000']]})
      const stateDir = path.join(root, 'state')
      const r = await runCliAsync(['run', '--json', '--cycles', '30', '--interval', '0.1', '--config-dir', config, '--state-dir', stateDir], {BOT_API_KEY: undefined, BOT_API_SECRET: undefined})
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.events[0].description, /^paper trading on coinbase's public market data at http:\/\/127\.0\.0\.1:\d+: simulated fills, no credentials used/)
      const summary = r.events.at(-1)!
      assert.ok(summary.trades > 0, `paper fills: ${summary.trades}`)
      assert.ok(r.events.some((e) => e.type === 'order'))
      assert.deepEqual(server.orders(), [], 'no order reached the exchange')
      assert.deepEqual(server.requests.filter((q) => PRIVATE.test(q.path)).map((q) => q.path), [], 'only public endpoints')
      assert.ok(server.requests.every((q) => q.authProblem === null))
      assert.ok(existsSync(path.join(stateDir, 'sim-exchange.sqlite')), 'the paper account lives beside bot.sqlite')
      const simFills = query<{n: number}>(stateDir, 'sim-exchange.sqlite', 'SELECT count(*) AS n FROM sim_fills')[0].n
      assert.equal(simFills, summary.trades, 'bot booked what the paper account filled')
    } finally {
      clearInterval(timer)
    }
  })

  it('the test key\'s secret and name appear nowhere: stdout, stderr (debug included), the audit table, the metrics, --json, nor an authentication failure', async () => {
    const key = testKey()
    const server = await laggingServer(key, {lagBars: 10, advanceMs: 300, startBalances: {USD: 100_000}})
    servers.push(server)
    server.faults.random({rate: 0.1, seed: 7, kinds: ['server_error', 'non_json', 'rate_limit_json', 'rate_limit_html']})
    const port = await freePort()
    const config = liveConfig(root, server, {app: [['metrics:\n  enabled: false', 'metrics:\n  enabled: true'], ['  port: 9090', `  port: ${port}`], ['  port_retries: 3', '  port_retries: 0']]})
    const stateDir = path.join(root, 'state')
    const human = startCli(['run', '--live', '--verbose', '--cycles', '25', '--interval', '0.1', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    await human.waitForLine(/cycle 5\b/)
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const verbose = await human.done
    assert.equal(verbose.status, 0, verbose.stderr)
    const json = await runCliAsync(['run', '--live', '--json', '--cycles', '10', '--interval', '0.1', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    assert.equal(json.status, 0, json.stderr)
    const metricsCli = await runCliAsync(['metrics', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    // Signed with another key: the exchange refuses it, and the refusal is reported without the key.
    const wrong = testKey()
    const refused = await runCliAsync(['run', '--live', '--json', '--cycles', '1', '--config-dir', config, '--state-dir', path.join(root, 'other')], keyEnv(wrong))
    assert.equal(refused.status, 1)
    assert.match(refused.events.at(-1)!.error.message, /^exchange: coinbase .*(401|Unauthorized)/i)
    const refusedHuman = await runCliAsync(['run', '--live', '--cycles', '1', '--config-dir', config, '--state-dir', path.join(root, 'other')], keyEnv(wrong))
    assert.equal(refusedHuman.status, 1)

    const audit = query<{kind: string; data: string}>(stateDir, 'bot.sqlite', 'SELECT kind, data FROM audit').map((a) => `${a.kind} ${a.data}`).join('\n')
    assert.ok(audit.includes('order_intent'), 'the audit holds the run')
    assert.match(verbose.stdout, /cycle 3 snapshot \d+\.\d{3} ms/, 'debug lines were printed')
    assert.match(metrics, /^bot_exchange_http_requests_total \d+/m)
    const texts: [string, string][] = [
      ['stdout (debug)', verbose.rawStdout], ['stderr (debug)', verbose.rawStderr], ['--json', json.rawStdout], ['stderr (--json)', json.rawStderr],
      ['audit', audit], ['metrics', metrics], ['bot metrics', metricsCli.rawStdout + metricsCli.rawStderr], ['bot.sqlite', readFileSync(path.join(stateDir, 'bot.sqlite')).toString('latin1')],
      ['refused --json', refused.rawStdout + refused.rawStderr], ['refused', refusedHuman.rawStdout + refusedHuman.rawStderr],
    ]
    for (const k of [key, wrong]) {
      const pemLines = k.privateKeyPem.split('\n').filter((l) => l.length >= 12 && !l.startsWith('-----'))
      const needles = [k.name, k.name.split('/').at(-1)!, k.privateKeyPem, JSON.stringify(k.privateKeyPem).slice(1, -1), pemLines.join(''), ...pemLines]
      for (const [where, text] of texts) for (const needle of needles) assert.ok(!text.includes(needle), `${where} shows part of the key: ${needle.slice(0, 20)}...`)
    }
  })
})
