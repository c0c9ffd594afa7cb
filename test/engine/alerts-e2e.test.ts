import assert from 'node:assert/strict'
import {createHmac} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {EngineEvent} from '../../src/lib/engine/events.js'
import {runBot} from '../../src/lib/engine/loop.js'
import {startReceiver} from '../alerts/receiver.js'
import {tempDir} from '../helpers/fixtures.js'
import {rallyConfig} from '../helpers/rally.js'

const SECRET = 'webhook-signing-secret-for-tests'

/** The loop's alerts reach real sinks, signed where asked, and a sink that never answers costs a cycle no more than its timeout. */
describe('alerts from the loop to real sinks', function () {
  this.timeout(120_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('a failing trim escalates to a signed webhook and a Slack-style sink; a hanging sink delays each alerting cycle by at most its timeout', async () => {
    const webhook = await startReceiver()
    const slack = await startReceiver()
    const hanging = await startReceiver(() => 'hang')
    try {
      const config = rallyConfig(t.dir, {USD: 50_000, BTC: 4}, ({app}) => {
        const sinks = [
          '  sinks:',
          '    - type: console',
          '      min_severity: info',
          `    - {type: webhook, url: "${webhook.url}/hook", min_severity: critical, hmac_secret_env: BOT_TEST_HMAC}`,
          `    - {type: slack, url: "${slack.url}/services/T0/B0/x", min_severity: warning}`,
          `    - {type: webhook, url: "${hanging.url}/never", min_severity: warning, timeout_ms: 300}`,
        ].join('\n')
        writeFileSync(app, readFileSync(app, 'utf8').replace('reject_order_rate: 0', 'reject_order_rate: 1').replace(/ {2}sinks:\n {4}- type: console\n {6}min_severity: info/, sinks))
      })
      const events: EngineEvent[] = []
      const started: number[] = []
      await runBot({
        configDir: config, stateDir: path.join(t.dir, 'state'), cycles: 4, stop: new AbortController().signal,
        env: {...process.env, BOT_TEST_HMAC: SECRET}, observe: (e) => {
          events.push(e)
          if (e.type === 'cycle') started.push(performance.now())
        },
      })

      // The signed webhook got the CRITICAL escalation, and the signature verifies with the secret.
      await webhook.waitFor(1)
      const hook = webhook.requests.find((r) => JSON.parse(r.body).code === 'TRIM_ESCALATION')!
      assert.ok(hook, 'the escalation reached the webhook')
      const [, stamp, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hook.headers['x-bot-signature']))!
      assert.equal(mac, createHmac('sha256', SECRET).update(`${stamp}.${hook.body}`).digest('hex'))
      assert.equal(JSON.parse(hook.body).severity, 'critical')
      assert.ok(slack.requests.some((r) => /TRIM_ESCALATION/.test(JSON.parse(r.body).text)), 'the Slack-style sink got it as text')
      assert.ok(slack.requests.some((r) => /OVER_CAP/.test(JSON.parse(r.body).text)), 'and the over-cap warning')

      // Every cycle raised at least one alert the hanging sink waited on: each cost at most its 300 ms (+ margin).
      const gaps = started.slice(1).map((x, i) => x - started[i])
      assert.ok(gaps.every((g) => g < 300 + 700), `cycle gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`)
      const deliveries = events.flatMap((e) => (e.type === 'alert' ? e.deliveries : []))
      assert.ok(deliveries.some((d) => d.sink === 'webhook#3' && d.outcome === 'failed' && d.error === 'timeout after 300 ms'))
      const all = JSON.stringify(events)
      for (const url of [webhook.url, slack.url, hanging.url]) assert.ok(!all.includes(url), 'sink URLs never appear in events')
      assert.ok(!all.includes(SECRET))
    } finally {
      await Promise.all([webhook.close(), slack.close(), hanging.close()])
    }
  })
})
