import assert from 'node:assert/strict'
import path from 'node:path'

import {parseExposition, sampleValue} from '../../src/lib/metrics/exposition.js'
import type {FaultKind} from '../coinbase/faults.js'
import {testKey} from '../coinbase/keys.js'
import type {CoinbaseServer} from '../coinbase/server.js'
import {freePort} from '../helpers/daemons.js'
import {tempDir} from '../helpers/fixtures.js'
import {assertSameOrders, keyEnv, laggingServer, liveConfig, startCli} from './support.js'

const CYCLES = 300
const RATE_LIMITED: readonly FaultKind[] = ['rate_limit_json', 'rate_limit_html']
const RETRYABLE: readonly FaultKind[] = ['server_error', 'timeout', 'non_json', 'response_lost']

/**
 * 20 % of all requests faulted (every kind the loopback Coinbase injects: rate limits as JSON and HTML, 5xx,
 * requests never answered, 200s that are not JSON, orders executed whose answer is lost) from the start for
 * at least 300 cycles of `bot run --live`: it never crashes, never fills a client order id twice, never buys
 * past the exposure cap, and every fault shows in its metrics.
 */
describe('live under 20 % faulted requests (CLI)', function () {
  let root: string
  let cleanup: () => void
  let server: CoinbaseServer
  const key = testKey()
  beforeEach(async () => {
    const t = tempDir('bot-live-faults-')
    root = t.dir
    cleanup = t.cleanup
    // Prices move every 200 ms (new closed bars for the first ten), so the strategy keeps buying and selling.
    server = await laggingServer(key, {lagBars: 10, advanceMs: 200, startBalances: {USD: 100_000}})
  })
  afterEach(async () => {
    await server.close()
    cleanup()
  })

  it(`${CYCLES} cycles: no crash, no client order id filled twice, the cap kept, every fault in the metrics`, async () => {
    // Every kind but convert_fail, which acts only on a convert's commit (none here): 20 % of all requests.
    server.faults.random({rate: 0.2, seed: 20, kinds: [...RATE_LIMITED, ...RETRYABLE]})
    // Orders are few among the requests: one executed order's answer is lost for sure, on top of the draw.
    server.faults.inject({kind: 'response_lost', count: 1, method: 'POST', path: '/api/v3/brokerage/orders'})
    const port = await freePort()
    const config = liveConfig(root, server, {app: [
      ['  timeout_ms: 400', '  timeout_ms: 250'],
      ['metrics:\n  enabled: false', 'metrics:\n  enabled: true'], ['  port: 9090', `  port: ${port}`], ['  port_retries: 3', '  port_retries: 0'],
    ]})
    const stateDir = path.join(root, 'state')
    const cli = startCli(['run', '--live', '--json', '--interval', '0.03', '--config-dir', config, '--state-dir', stateDir], keyEnv(key), 100_000)
    const cycleLine = (n: number) => new RegExp(`^\\{"type":"cycle","report":\\{"cycle":${n},`)
    await cli.waitForLine(cycleLine(CYCLES), 90_000)
    // Faults off; two more cycles account for every request already faulted; then the counts can be compared.
    server.faults.random(null)
    const faulted = server.requests.filter((r) => r.fault !== null)
    await cli.waitForLine(cycleLine(CYCLES + 2), 20_000)
    const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
    cli.child.kill('SIGTERM')
    const r = await cli.done
    assert.equal(r.status, 0, `stopped by SIGTERM after finishing its cycle: ${r.stderr.slice(-2000)}`)
    const summary = r.events.at(-1)!
    assert.equal(summary.type, 'summary', 'it ended with its summary, not an error')
    assert.equal(summary.stoppedBy, 'signal')
    assert.equal(summary.auditOk, true)

    // The faults happened, at about the rate asked for.
    const share = faulted.length / server.requests.length
    assert.ok(share > 0.17 && share < 0.23, `faulted share ${share}`)
    const kinds = new Set(faulted.map((f) => f.fault))
    for (const kind of [...RATE_LIMITED, ...RETRYABLE]) assert.ok(kinds.has(kind), `${kind} was injected`)
    assert.ok(faulted.some((f) => f.method === 'POST' && f.fault === 'response_lost'), 'an order was executed and its answer lost')

    // Never a client order id sent or filled twice; bot.sqlite agrees with the exchange.
    const {remote} = assertSameOrders(stateDir, server)
    assert.ok(remote.filter((o) => o.side === 'BUY').length >= 3 && remote.some((o) => o.side === 'SELL'), `orders: ${remote.length}`)

    // The cap: every cycle that bought ended, with its own orders on the book, at or under the cap; and what it
    // bought (amount x expected price) fits into the room the cap left at the cycle's equity.
    const reports = r.events.filter((e) => e.type === 'cycle').map((e) => e.report)
    assert.ok(reports.length >= CYCLES, `${reports.length} cycles completed`)
    const orders = r.events.filter((e) => e.type === 'order')
    for (const report of reports) {
      const buys = orders.filter((o) => o.cycle === report.cycle && o.side === 'buy')
      if (buys.length === 0) continue
      assert.ok(report.exposureAfterPct <= report.capPct + 1e-9, `cycle ${report.cycle}: ${report.exposureAfterPct} > ${report.capPct}`)
      const spent = buys.reduce((n, o) => n + o.amount * o.price, 0)
      assert.ok(spent <= ((report.capPct - report.exposurePct) / 100) * report.equity + 1e-6, `cycle ${report.cycle} bought ${spent}`)
    }

    // Every fault shows: each one is a failed request of its kind (a rate limit, or a transient failure).
    const failed = (kind: string) => sampleValue(metrics, 'bot_exchange_http_failures_total', {kind}) ?? 0
    const count = (set: readonly FaultKind[]) => faulted.filter((f) => set.includes(f.fault!)).length
    assert.equal(failed('rate_limited'), count(RATE_LIMITED), 'rate limits')
    // A request that timed out on a busy machine without a fault would add one: never fewer.
    assert.ok(failed('retryable') >= count(RETRYABLE) && failed('retryable') <= count(RETRYABLE) + 3, `retryable ${failed('retryable')} vs ${count(RETRYABLE)} faults`)
    assert.ok(sampleValue(metrics, 'bot_exchange_http_requests_total')! >= faulted.length)
    const portErrors = ['retryable', 'rate_limited'].reduce((n, kind) => n + (sampleValue(metrics, 'bot_exchange_errors_total', {operation: 'createOrder', kind}) ?? 0), 0)
    assert.ok(portErrors >= 1, 'an order whose outcome was unknown is a failed createOrder call')
    const abandoned = r.events.filter((e) => e.type === 'notice' && /^cycle \d+ abandoned/.test(e.message)).length
    assert.equal(sampleValue(metrics, 'bot_cycles_abandoned_total', {reason: 'exchange_error'}), abandoned)
  })
})
