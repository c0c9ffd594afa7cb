import assert from 'node:assert/strict'
import {createHmac, timingSafeEqual} from 'node:crypto'

import {BotError} from '../../src/lib/errors.js'
import {freePort} from '../helpers/daemons.js'
import {startReceiver, type Received, type Receiver} from './receiver.js'
import {harness, json, T0} from './support.js'

const SECRET = 'hmac-key-5f1d0c9e'
const killSwitch = {code: 'KILL_SWITCH', severity: 'critical' as const, summary: 'kill switch is on: trading halted', action: 'remove data/KILL_SWITCH to resume', time: T0}

/** What a receiver does: recompute the HMAC over the raw body with its own copy of the key, reject stale stamps. */
function verify(r: Received, secret: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const header = String(r.headers['x-bot-signature'] ?? '')
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
  if (!m) return false
  if (Math.abs(nowSeconds - Number(m[1])) > toleranceSeconds) return false
  const expected = createHmac('sha256', secret).update(`${m[1]}.${r.body}`).digest()
  return timingSafeEqual(expected, Buffer.from(m[2], 'hex'))
}

describe('alerts: HTTP sinks', () => {
  const receivers: Receiver[] = []
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args)
    receivers.push(r)
    return r
  }

  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()))
  })

  it('signs a webhook so a receiver can verify it, and a tampered body or an old stamp fails', async () => {
    const hook = await receiver()
    const {service} = harness({sinks: [{type: 'webhook', url: `${hook.url}/alert`, min_severity: 'info', hmac_secret_env: 'BOT_TEST_HMAC'}]}, {env: {BOT_TEST_HMAC: SECRET}})
    const report = await service.raise({...killSwitch, context: {cancelled: 3}})
    assert.equal(report.deliveries[0].outcome, 'sent')
    const [r] = hook.requests
    assert.equal(r.method, 'POST')
    assert.equal(r.headers['content-type'], 'application/json')
    const now = Math.floor(Date.now() / 1000)
    assert.ok(verify(r, SECRET, now), `signature ${r.headers['x-bot-signature']} does not verify`)
    assert.ok(!verify({...r, body: r.body.replace('"critical"', '"info"')}, SECRET, now), 'a tampered body verified')
    assert.ok(!verify(r, 'another-key', now), 'a wrong key verified')
    assert.ok(!verify(r, SECRET, now + 3600), 'an hour-old signature was accepted')
    assert.deepEqual(json(r.body), {
      status: 'firing', code: 'KILL_SWITCH', severity: 'critical', summary: 'kill switch is on: trading halted',
      action: 'remove data/KILL_SWITCH to resume', key: 'KILL_SWITCH', context: {cancelled: 3},
      time: '2023-11-15T00:00:00.000Z', raisedAt: '2023-11-15T00:00:00.000Z', reminder: false, instance: 'test-bot', version: '9.9.9',
    })
    assert.ok(!JSON.stringify(report).includes(SECRET))
    await service.close()
  })

  it('sends no signature header without hmac_secret_env', async () => {
    const hook = await receiver()
    const {service} = harness({sinks: [{type: 'webhook', url: hook.url, min_severity: 'info'}]})
    await service.raise(killSwitch)
    assert.equal(hook.requests[0].headers['x-bot-signature'], undefined)
    await service.close()
  })

  it('refuses to start when the HMAC variable is unset, naming the variable in one line', () => {
    assert.throws(
      () => harness({sinks: [{type: 'console'}, {type: 'webhook', url: 'http://127.0.0.1:9/x', hmac_secret_env: 'BOT_TEST_HMAC_UNSET'}]}, {env: {BOT_TEST_HMAC: SECRET}}),
      (error: unknown) => {
        assert.ok(error instanceof BotError)
        assert.equal(error.code, 'ALERT_SECRET_UNSET')
        assert.equal(error.message, 'alerts.sinks[1].hmac_secret_env: environment variable BOT_TEST_HMAC_UNSET is not set (webhook#1 would send unsigned alerts)')
        return true
      },
    )
  })

  it('posts a Slack-style body with text and blocks, and a resolve', async () => {
    const hook = await receiver()
    const {service} = harness({sinks: [{type: 'slack', url: `${hook.url}/services/T000/B000/XXX`, min_severity: 'warning'}]})
    await service.raise({code: 'OVER_CAP', severity: 'warning', summary: 'exposure 31% > cap 25% <b>', action: 'trim', context: {exposure_pct: 31}, time: T0})
    await service.resolve('OVER_CAP', 'exposure back to 24%', T0 + 1000)
    const [firing, resolved] = hook.requests.map((r) => json(r.body) as {text: string; blocks: {type: string; text?: {type: string; text: string}}[]})
    assert.equal(firing.text, ':warning: *WARNING* OVER_CAP: exposure 31% &gt; cap 25% &lt;b&gt; *Action:* trim')
    assert.equal(firing.blocks[0].type, 'section')
    assert.equal(firing.blocks[0].text?.type, 'mrkdwn')
    assert.match(firing.blocks[0].text?.text ?? '', /^:warning: \*WARNING\* OVER_CAP\nexposure 31% &gt; cap 25% &lt;b&gt;\n\*Action:\* trim$/)
    assert.equal(firing.blocks[1].type, 'context')
    assert.equal(resolved.text, ':white_check_mark: *RESOLVED* OVER_CAP: exposure back to 24%')
    await service.close()
  })

  it('retries a 5xx and succeeds; never retries a 4xx', async () => {
    const flaky = await receiver((_r, n) => (n < 2 ? 503 : 200))
    const rejecting = await receiver(() => 400)
    const {service} = harness({sinks: [
      {type: 'webhook', url: flaky.url, min_severity: 'info'},
      {type: 'webhook', url: rejecting.url, min_severity: 'info'},
    ]})
    const [ok, bad] = (await service.raise(killSwitch)).deliveries
    assert.deepEqual({...ok, ms: 0}, {sink: 'webhook#0', outcome: 'sent', attempts: 3, ms: 0})
    assert.equal(flaky.requests.length, 3)
    assert.equal(new Set(flaky.requests.map((r) => r.body)).size, 1)
    assert.deepEqual({...bad, ms: 0}, {sink: 'webhook#1', outcome: 'failed', attempts: 1, ms: 0, error: 'HTTP 400'})
    assert.equal(rejecting.requests.length, 1)
    await service.close()
  })

  it('gives up after 3 attempts of a 5xx, and treats a redirect as a failure without following it', async () => {
    const down = await receiver(() => 503)
    const target = await receiver()
    const mover = await receiver(() => ({status: 307, headers: {location: `${target.url}/elsewhere`}}))
    const {service} = harness({sinks: [{type: 'webhook', url: down.url, min_severity: 'info'}, {type: 'webhook', url: mover.url, min_severity: 'info'}]})
    const [five, moved] = (await service.raise(killSwitch)).deliveries
    assert.deepEqual([five.outcome, five.attempts, five.error], ['failed', 3, 'HTTP 503'])
    assert.deepEqual([moved.outcome, moved.attempts, moved.error], ['failed', 1, 'HTTP 307'])
    assert.equal(target.requests.length, 0)
    await service.close()
  })

  it('a sink that never answers costs at most its timeout; a closed port fails fast; the other sinks still get the alert', async function () {
    const hanging = await receiver(() => 'hang')
    const good = await receiver()
    const closed = await freePort()
    const {service, lines} = harness({timeout_ms: 3000, sinks: [
      {type: 'console', min_severity: 'info'},
      {type: 'webhook', url: hanging.url, min_severity: 'info', timeout_ms: 800},
      {type: 'slack', url: `http://127.0.0.1:${closed}/hook`, min_severity: 'info'},
      {type: 'webhook', url: good.url, min_severity: 'info'},
    ]})
    const start = performance.now()
    const report = await service.raise(killSwitch)
    const took = performance.now() - start
    // Margin: 400 ms over the largest timeout that applies (800 ms), for a loaded 2-core machine.
    assert.ok(took >= 780 && took < 1200, `raise took ${took.toFixed(0)} ms with an 800 ms sink timeout`)
    const by = Object.fromEntries(report.deliveries.map((d) => [d.sink, d]))
    assert.equal(by['console#0'].outcome, 'sent')
    assert.deepEqual([by['webhook#1'].outcome, by['webhook#1'].attempts, by['webhook#1'].error], ['failed', 1, 'timeout after 800 ms'])
    assert.deepEqual([by['slack#2'].outcome, by['slack#2'].attempts, by['slack#2'].error], ['failed', 3, 'ECONNREFUSED'])
    // Fast: three refused connects and two short pauses, far inside its 3000 ms.
    assert.ok(by['slack#2'].ms < 1000, `closed port took ${by['slack#2'].ms} ms`)
    assert.equal(by['webhook#3'].outcome, 'sent')
    assert.equal(hanging.requests.length, 1)
    assert.equal(good.requests.length, 1)
    assert.equal(lines.length, 1)
    await service.close()
  })

  it('the section timeout_ms applies to a sink without its own', async () => {
    const hanging = await receiver(() => 'hang')
    const {service} = harness({timeout_ms: 300, sinks: [{type: 'alertmanager', url: hanging.url, min_severity: 'info'}]})
    const start = performance.now()
    const [d] = (await service.raise(killSwitch)).deliveries
    assert.equal(d.error, 'timeout after 300 ms')
    assert.ok(performance.now() - start < 800)
    await service.close()
  })

  it('never shows a sink URL (nor its token or password) in a delivery, report or console line, even on failure', async () => {
    const TOKEN = 'tok3n-9c2e7d41aa'
    const PASSWORD = 'pa55-77e1b0'
    const hanging = await receiver(() => 'hang')
    const failing = await receiver(() => 503)
    const notFound = await receiver(() => 404)
    const fine = await receiver()
    const closed = await freePort()
    const secretUrl = (base: string) => `${base}/hooks/${TOKEN}?token=${TOKEN}`
    const {service, lines} = harness({timeout_ms: 500, sinks: [
      {type: 'console', min_severity: 'info'},
      {type: 'webhook', url: secretUrl(hanging.url), min_severity: 'info'},
      {type: 'slack', url: secretUrl(failing.url), min_severity: 'info'},
      {type: 'alertmanager', url: secretUrl(notFound.url), min_severity: 'info'},
      {type: 'webhook', url: secretUrl(`http://127.0.0.1:${closed}`), min_severity: 'info'},
      {type: 'webhook', url: secretUrl(fine.url.replace('http://', `http://bot:${PASSWORD}@`)), min_severity: 'info'},
    ]})
    const raised = await service.raise(killSwitch)
    const resolved = await service.resolve('KILL_SWITCH', 'kill switch removed', T0 + 1000)
    assert.deepEqual(raised.deliveries.map((d) => `${d.sink} ${d.outcome} ${d.error ?? ''}`.trim()), [
      'console#0 sent', 'webhook#1 failed timeout after 500 ms', 'slack#2 failed HTTP 503', 'alertmanager#3 failed HTTP 404',
      'webhook#4 failed ECONNREFUSED', 'webhook#5 sent',
    ])
    // Credentials in the URL travel as a Basic header, not in the request line.
    assert.equal(fine.requests[0].headers.authorization, `Basic ${Buffer.from(`bot:${PASSWORD}`).toString('base64')}`)
    assert.equal(fine.requests[0].path, `/hooks/${TOKEN}?token=${TOKEN}`)
    // Alertmanager's URL is a base: the API path goes under its path, its query is kept.
    assert.equal(notFound.requests[0].path, `/hooks/${TOKEN}/api/v2/alerts?token=${TOKEN}`)
    const everything = JSON.stringify({raised, resolved, lines})
    for (const secret of [TOKEN, PASSWORD, '/hooks/', '127.0.0.1']) assert.ok(!everything.includes(secret), `${secret} leaked: ${everything}`)
    await service.close()
  })
})
