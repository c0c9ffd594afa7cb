import assert from 'node:assert/strict'
import http from 'node:http'

import {Registry} from 'prom-client'

import {parseExposition, sampleValue} from '../../src/lib/metrics/exposition.js'
import {createMetrics} from '../../src/lib/metrics/metrics.js'
import {pushMetrics} from '../../src/lib/metrics/push.js'
import {recordCycle, recordTrim} from '../../src/lib/metrics/record.js'
import {type Daemon, freePort, requireBinary, startDaemon} from '../helpers/daemons.js'
import {closeServer} from './support.js'

/** What a one-shot `bot trim` would push. */
function trimRun(failures: number): Registry {
  const registry = new Registry()
  const m = createMetrics(registry, {processMetrics: false})
  recordCycle(m, {equity: 10_000, cash: 6_500, exposurePct: 35, capPct: 25, universe: {eligible: 5, forced: 1, excluded: 0}})
  recordTrim(m, 'failed', failures)
  return registry
}

describe('Pushgateway for one-shot commands', function () {
  describe('with a real Pushgateway', function () {
    let gateway: Daemon
    before(async function () {
      const binary = requireBinary(this, 'prometheus-pushgateway', 'prometheus-pushgateway', 'pushgateway')
      gateway = await startDaemon(binary, {args: (port) => [`--web.listen-address=127.0.0.1:${port}`], readyPath: '/-/ready'})
    })
    after(async () => gateway?.stop())

    it('receives the metrics under job="bot", command="<command>"; a second push replaces the group', async function () {
      assert.deepEqual(await pushMetrics({url: gateway.url, registry: trimRun(1), command: 'trim'}), {pushed: true})
      let e = parseExposition(await (await fetch(`${gateway.url}/metrics`)).text())
      assert.equal(sampleValue(e, 'bot_trim_consecutive_failures', {job: 'bot', command: 'trim'}), 1)
      assert.equal(sampleValue(e, 'bot_exposure_ratio', {job: 'bot', command: 'trim'}), 0.35)
      assert.equal(sampleValue(e, 'bot_trims_total', {job: 'bot', command: 'trim', outcome: 'failed'}), 1)
      assert.ok((sampleValue(e, 'push_time_seconds', {job: 'bot', command: 'trim'}) ?? 0) > 0, 'the gateway records when the run pushed')

      assert.deepEqual(await pushMetrics({url: gateway.url, registry: trimRun(2), command: 'trim'}), {pushed: true})
      e = parseExposition(await (await fetch(`${gateway.url}/metrics`)).text())
      assert.equal(sampleValue(e, 'bot_trim_consecutive_failures', {job: 'bot', command: 'trim'}), 2)

      const api = await (await fetch(`${gateway.url}/api/v1/metrics`)).json() as {data: {labels: Record<string, string>}[]}
      assert.deepEqual(api.data.map((g) => g.labels), [{job: 'bot', command: 'trim'}], 'one group, holding the last run')
    })

    it('a gateway that refuses the push (wrong path) is a one-line warning', async function () {
      const r = await pushMetrics({url: `${gateway.url}/not-here`, registry: trimRun(1), command: 'trim'})
      assert.equal(r.pushed, false)
      if (r.pushed) return
      assert.match(r.warning, new RegExp(`^metrics not pushed to the Pushgateway at http://127\\.0\\.0\\.1:${gateway.port}: push failed with status 404`))
      assert.doesNotMatch(r.warning, /\n/)
    })
  })

  it('nothing listening: a one-line warning, not a throw, and no credentials from the URL in it', async function () {
    const port = await freePort()
    const r = await pushMetrics({url: `http://bot:s3cret-token@127.0.0.1:${port}/`, registry: trimRun(1), command: 'trim'})
    assert.deepEqual(r, {pushed: false, warning: `metrics not pushed to the Pushgateway at http://127.0.0.1:${port}: ECONNREFUSED`})
  })

  it('a gateway that never answers: gives up within the timeout', async function () {
    const server = http.createServer(() => {})
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    try {
      const started = Date.now()
      const r = await pushMetrics({url: `http://127.0.0.1:${port}`, registry: trimRun(1), command: 'trim', timeoutMs: 300})
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`)
      assert.deepEqual(r, {pushed: false, warning: `metrics not pushed to the Pushgateway at http://127.0.0.1:${port}: no answer within 300 ms`})
    } finally {
      await closeServer(server)
    }
  })

  it('a URL that is not http(s) is a warning naming the setting', async function () {
    assert.deepEqual(await pushMetrics({url: 'ftp://x', registry: trimRun(1), command: 'trim'}), {pushed: false, warning: 'metrics not pushed: metrics.pushgateway_url in app.yaml is not an http(s) URL'})
    assert.deepEqual(await pushMetrics({url: 'not a url', registry: trimRun(1), command: 'trim'}), {pushed: false, warning: 'metrics not pushed: metrics.pushgateway_url in app.yaml is not an http(s) URL'})
  })
})
