import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {alertmanagerHoldMs} from '../../src/lib/alerts/index.js'
import {type Daemon, requireBinary, startDaemon} from '../helpers/daemons.js'
import {harness, T0} from './support.js'

interface AmAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
  endsAt: string
  status: {state: string}
}

/** A real Alertmanager with one do-nothing receiver, clustering off. */
async function startAlertmanager(binary: string): Promise<Daemon> {
  return startDaemon(binary, {
    prepare: (dir) => writeFileSync(path.join(dir, 'alertmanager.yml'), 'route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n'),
    args: (port, dir) => [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=',
    ],
    readyPath: '/-/ready',
  })
}

async function listed(am: Daemon): Promise<AmAlert[]> {
  const response = await fetch(`${am.url}/api/v2/alerts`)
  assert.equal(response.status, 200)
  return (await response.json()) as AmAlert[]
}

describe('alerts: a real Alertmanager', function () {
  let am: Daemon

  before(async function () {
    const binary = requireBinary(this, 'prometheus-alertmanager', 'prometheus-alertmanager', 'alertmanager')
    am = await startAlertmanager(binary)
  })

  after(async () => {
    await am?.stop()
  })

  it('lists a raised alert with its labels, annotations and a deliberate endsAt, and drops it on resolve', async () => {
    const {service} = harness({dedup_seconds: 3600, sinks: [{type: 'alertmanager', url: am.url, min_severity: 'warning'}]})
    const before = Date.now()
    const report = await service.raise({
      code: 'OVER_CAP', severity: 'critical', summary: 'exposure 31.2% is over the 25% cap', action: 'check auto-trim',
      key: 'OVER_CAP:total', context: {exposure_pct: 31.2, 'cap-pct': 25, excess: null}, time: T0,
    })
    assert.deepEqual(report.deliveries.map((d) => [d.sink, d.outcome, d.error]), [['alertmanager#0', 'sent', undefined]])
    const alerts = await listed(am)
    assert.equal(alerts.length, 1)
    const [a] = alerts
    assert.deepEqual(a.labels, {alertname: 'OVER_CAP', severity: 'critical', key: 'OVER_CAP:total', instance: 'test-bot'})
    assert.deepEqual(a.annotations, {summary: 'exposure 31.2% is over the 25% cap', action: 'check auto-trim', exposure_pct: '31.2', cap_pct: '25', excess: 'null'})
    assert.equal(a.status.state, 'active')
    // Firing alerts carry endsAt = wall clock + 2 x dedup_seconds, not the virtual T0, and not Alertmanager's 5 min resolve_timeout.
    const ends = Date.parse(a.endsAt)
    assert.ok(ends >= before + alertmanagerHoldMs(3_600_000) - 1000 && ends <= Date.now() + alertmanagerHoldMs(3_600_000) + 1000, `endsAt ${a.endsAt}`)
    assert.equal(alertmanagerHoldMs(3_600_000), 7_200_000)

    const resolved = await service.resolve('OVER_CAP:total', 'exposure back under the cap', T0 + 60_000)
    assert.equal(resolved?.deliveries[0].outcome, 'sent')
    assert.deepEqual(await listed(am), [])
    await service.close()
  })

  it('an escalation replaces the lower-severity alert instead of leaving both active', async () => {
    const {service} = harness({sinks: [{type: 'alertmanager', url: `${am.url}/`, min_severity: 'info'}]})
    const trim = {code: 'TRIM_ESCALATION', summary: 'trim failed 3 cycles in a row', key: 'TRIM_ESCALATION', time: T0}
    await service.raise({...trim, severity: 'warning'})
    assert.deepEqual((await listed(am)).map((a) => a.labels.severity), ['warning'])
    await service.raise({...trim, severity: 'critical', time: T0 + 60_000})
    assert.deepEqual((await listed(am)).map((a) => a.labels.severity), ['critical'])
    await service.resolve('TRIM_ESCALATION', 'trim succeeded', T0 + 120_000)
    assert.deepEqual(await listed(am), [])
    await service.close()
  })

  it('a short dedup window still holds the alert for at least 15 minutes', async () => {
    const {service} = harness({dedup_seconds: 0, sinks: [{type: 'alertmanager', url: am.url, min_severity: 'info'}]})
    await service.raise({code: 'EXPORTER_DISABLED', severity: 'info', summary: 'metrics exporter disabled', time: T0})
    const [a] = await listed(am)
    assert.ok(Date.parse(a.endsAt) - Date.now() > 14 * 60_000, `endsAt ${a.endsAt}`)
    await service.resolve('EXPORTER_DISABLED', 'metrics exporter enabled', T0)
    assert.deepEqual(await listed(am), [])
    await service.close()
  })
})
