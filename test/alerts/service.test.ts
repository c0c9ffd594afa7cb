import assert from 'node:assert/strict'

import {memoryAlertStore} from '../../src/lib/alerts/index.js'
import {startReceiver, type Receiver} from './receiver.js'
import {harness, json, T0} from './support.js'

const overCap = {code: 'OVER_CAP', severity: 'warning' as const, summary: 'exposure 31.2% is over the 25% cap', action: 'let auto-trim sell down, or lower positions by hand', context: {exposure_pct: 31.2, cap_pct: 25, excess: 6200.5}}
const outcomes = (r: {deliveries: {sink: string; outcome: string}[]}) => Object.fromEntries(r.deliveries.map((d) => [d.sink, d.outcome]))

describe('alerts: severity, dedup, resolve and restart', () => {
  let hook: Receiver
  beforeEach(async () => {
    hook = await startReceiver()
  })
  afterEach(async () => {
    await hook.close()
  })

  it('sends an alert only to sinks whose min_severity it reaches', async () => {
    const {service, lines} = harness({sinks: [
      {type: 'console', min_severity: 'info'},
      {type: 'webhook', url: `${hook.url}/warn`, min_severity: 'warning'},
      {type: 'webhook', url: `${hook.url}/crit`, min_severity: 'critical'},
    ]})
    const info = await service.raise({code: 'EXPORTER_DISABLED', severity: 'info', summary: 'metrics exporter is off', time: T0})
    assert.deepEqual(outcomes(info), {'console#0': 'sent', 'webhook#1': 'below_min_severity', 'webhook#2': 'below_min_severity'})
    assert.equal(hook.requests.length, 0)
    const warning = await service.raise({...overCap, time: T0})
    assert.deepEqual(outcomes(warning), {'console#0': 'sent', 'webhook#1': 'sent', 'webhook#2': 'below_min_severity'})
    const critical = await service.raise({code: 'KILL_SWITCH', severity: 'critical', summary: 'kill switch on', time: T0})
    assert.deepEqual(outcomes(critical), {'console#0': 'sent', 'webhook#1': 'sent', 'webhook#2': 'sent'})
    assert.deepEqual(hook.requests.map((r) => `${r.path} ${json(r.body).code}`), ['/warn OVER_CAP', '/warn KILL_SWITCH', '/crit KILL_SWITCH'])
    assert.deepEqual(lines.map((l) => l.severity), ['info', 'warning', 'critical'])
    await service.close()
  })

  it('does not resend within dedup_seconds, reminds after it, and sends an escalation at once', async () => {
    const {service} = harness({dedup_seconds: 600, sinks: [{type: 'webhook', url: hook.url, min_severity: 'info'}]})
    assert.equal((await service.raise({...overCap, time: T0})).deliveries[0].outcome, 'sent')
    const again = await service.raise({...overCap, time: T0 + 599_000})
    assert.deepEqual(again.deliveries, [{sink: 'webhook#0', outcome: 'deduplicated', attempts: 0, ms: 0}])
    assert.equal(hook.requests.length, 1)
    assert.equal((await service.raise({...overCap, time: T0 + 600_000})).deliveries[0].outcome, 'sent')
    assert.equal(hook.requests.length, 2)
    assert.equal(json(hook.requests[1].body).reminder, true)
    assert.equal(json(hook.requests[1].body).raisedAt, new Date(T0).toISOString())
    // Same key, higher severity, inside the window: a person must hear about it now.
    const worse = await service.raise({...overCap, severity: 'critical', time: T0 + 601_000})
    assert.equal(worse.deliveries[0].outcome, 'sent')
    assert.equal(json(hook.requests[2].body).severity, 'critical')
    assert.equal((await service.raise({...overCap, time: T0 + 602_000})).deliveries[0].outcome, 'deduplicated')
    await service.close()
  })

  it('keys separate conditions of the same code', async () => {
    const {service} = harness({sinks: [{type: 'webhook', url: hook.url, min_severity: 'info'}]})
    const trim = (symbol: string) => ({code: 'TRIM_ESCALATION', severity: 'critical' as const, summary: `trim of ${symbol} failed 3 times`, key: `TRIM_ESCALATION:${symbol}`, time: T0})
    await service.raise(trim('BTC-USD'))
    const eth = await service.raise(trim('ETH-USD'))
    assert.equal(eth.deliveries[0].outcome, 'sent')
    assert.deepEqual(service.active().sort(), ['TRIM_ESCALATION:BTC-USD', 'TRIM_ESCALATION:ETH-USD'])
    assert.deepEqual(hook.requests.map((r) => json(r.body).key), ['TRIM_ESCALATION:BTC-USD', 'TRIM_ESCALATION:ETH-USD'])
    await service.close()
  })

  it('resolves only an active key, once, to the sinks that got the alert', async () => {
    const {service, lines} = harness({sinks: [
      {type: 'console', min_severity: 'info'},
      {type: 'webhook', url: `${hook.url}/warn`, min_severity: 'warning'},
      {type: 'webhook', url: `${hook.url}/crit`, min_severity: 'critical'},
    ]})
    assert.equal(await service.resolve('OVER_CAP', 'never raised', T0), null)
    assert.equal(hook.requests.length, 0)
    await service.raise({...overCap, time: T0})
    const resolved = await service.resolve('OVER_CAP', 'exposure 24.1% is back under the cap', T0 + 5000)
    assert.ok(resolved)
    assert.equal(resolved.kind, 'resolved')
    assert.deepEqual(outcomes(resolved), {'console#0': 'sent', 'webhook#1': 'sent'})
    assert.deepEqual(hook.requests.map((r) => `${r.path} ${json(r.body).status}`), ['/warn firing', '/warn resolved'])
    const body = json(hook.requests[1].body)
    assert.equal(body.summary, 'exposure 24.1% is back under the cap')
    assert.equal(body.time, new Date(T0 + 5000).toISOString())
    assert.equal(lines.at(-1)?.line, 'RESOLVED OVER_CAP: exposure 24.1% is back under the cap')
    assert.equal(await service.resolve('OVER_CAP', 'again', T0 + 6000), null)
    assert.equal(hook.requests.length, 2)
    assert.deepEqual(service.active(), [])
    await service.close()
  })

  it('a restart over the same store neither repeats an alert inside its window nor forgets to resolve it', async () => {
    const store = memoryAlertStore()
    const section = {dedup_seconds: 3600, sinks: [{type: 'webhook', url: hook.url, min_severity: 'warning'}]}
    const first = harness(section, {store})
    await first.service.raise({code: 'KILL_SWITCH', severity: 'critical', summary: 'kill switch on', time: T0})
    await first.service.close()

    const second = harness(section, {store})
    assert.deepEqual(second.service.active(), ['KILL_SWITCH'])
    const repeat = await second.service.raise({code: 'KILL_SWITCH', severity: 'critical', summary: 'kill switch on', time: T0 + 60_000})
    assert.equal(repeat.deliveries[0].outcome, 'deduplicated')
    assert.equal(hook.requests.length, 1)
    const resolved = await second.service.resolve('KILL_SWITCH', 'kill switch removed', T0 + 120_000)
    assert.equal(resolved?.deliveries[0].outcome, 'sent')
    assert.deepEqual(hook.requests.map((r) => json(r.body).status), ['firing', 'resolved'])
    await second.service.close()

    const third = harness(section, {store})
    assert.deepEqual(third.service.active(), [])
    await third.service.close()
  })

  it('a sink that failed is tried again on the next raise instead of being deduplicated', async () => {
    let down = true
    await hook.close()
    hook = await startReceiver(() => (down ? 404 : 200))
    const {service} = harness({sinks: [{type: 'webhook', url: hook.url, min_severity: 'info'}]})
    assert.equal((await service.raise({...overCap, time: T0})).deliveries[0].outcome, 'failed')
    down = false
    assert.equal((await service.raise({...overCap, time: T0 + 1000})).deliveries[0].outcome, 'sent')
    assert.equal((await service.raise({...overCap, time: T0 + 2000})).deliveries[0].outcome, 'deduplicated')
    await service.close()
  })

  it('runs calls for one key in order, even when the caller does not wait', async () => {
    const {service} = harness({sinks: [{type: 'webhook', url: hook.url, min_severity: 'info'}]})
    const [a, b, c] = await Promise.all([
      service.raise({...overCap, time: T0}),
      service.raise({...overCap, time: T0 + 1000}),
      service.resolve('OVER_CAP', 'back under the cap', T0 + 2000),
    ])
    assert.deepEqual([a.deliveries[0].outcome, b.deliveries[0].outcome, c?.deliveries[0].outcome], ['sent', 'deduplicated', 'sent'])
    assert.deepEqual(hook.requests.map((r) => json(r.body).status), ['firing', 'resolved'])
    await service.close()
  })

  it('stands in the wall clock for a time that is not a number', async () => {
    const {service} = harness({sinks: [{type: 'webhook', url: hook.url, min_severity: 'info'}]})
    const before = Date.now()
    assert.equal((await service.raise({...overCap, time: Number.NaN})).deliveries[0].outcome, 'sent')
    const sent = Date.parse(String(json(hook.requests[0].body).time))
    assert.ok(sent >= before && sent <= Date.now())
    await service.close()
  })

  it('writes one console line per alert, severity first, with the action and the figures', async () => {
    const {service, lines} = harness({sinks: [{type: 'console', min_severity: 'info'}]})
    await service.raise({...overCap, summary: 'exposure over the cap\nsecond line\u001b[31m', time: T0})
    assert.deepEqual(lines, [{
      severity: 'warning',
      line: 'WARNING OVER_CAP: exposure over the cap second line [31m | action: let auto-trim sell down, or lower positions by hand | exposure_pct=31.2 cap_pct=25 excess=6200.5',
    }])
    await service.close()
  })

  it('reports a store that cannot save, and still delivers', async () => {
    const store = memoryAlertStore()
    store.save = () => {
      throw new Error('SQLITE_FULL: database or disk is full')
    }

    const {service} = harness({sinks: [{type: 'console', min_severity: 'info'}]}, {store})
    const report = await service.raise({...overCap, time: T0})
    assert.equal(report.deliveries[0].outcome, 'sent')
    assert.equal(report.error, 'alert state not saved: SQLITE_FULL: database or disk is full')
    await service.close()
  })

  it('after close, raises deliver nothing and an active key stays stored for the next process', async () => {
    const store = memoryAlertStore()
    const {service, lines} = harness({sinks: [{type: 'console', min_severity: 'info'}]}, {store})
    await service.raise({...overCap, time: T0})
    await service.close()
    const late = await service.raise({...overCap, time: T0 + 7_200_000})
    assert.deepEqual(late.deliveries, [{sink: 'console#0', outcome: 'failed', attempts: 0, ms: 0, error: 'alert service closed'}])
    assert.equal((await service.resolve('OVER_CAP', 'cleared', T0))?.deliveries[0].error, 'alert service closed')
    assert.equal(lines.length, 1)
    assert.deepEqual(store.load().map((a) => a.key), ['OVER_CAP'])
  })
})
