import assert from 'node:assert/strict'
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {startExporter, type RunningExporter} from '../../src/lib/metrics/exporter.js'
import {recordCycle} from '../../src/lib/metrics/record.js'
import {ROOT} from '../helpers/cli.js'
import {type Daemon, freePort, requireBinary, startDaemon} from '../helpers/daemons.js'
import {tempDir} from '../helpers/fixtures.js'
import {captureLog, populatedMetrics} from './support.js'

interface QueryResult {
  status: string
  error?: string
  data: {resultType: string; result: {metric: Record<string, string>; value: [number, string]}[]}
}

async function query(prometheus: Daemon, promql: string): Promise<QueryResult> {
  const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`)
  return await r.json() as QueryResult
}

/** Polls until `promql` returns `expected` (Prometheus needs a scrape or two first). */
async function waitForValue(prometheus: Daemon, promql: string, expected: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const r = await query(prometheus, promql)
    last = JSON.stringify(r.data?.result ?? r)
    if (r.status === 'success' && r.data.result.length === 1 && r.data.result[0].value[1] === expected) return
    if (Date.now() > deadline) throw new Error(`${promql} did not become ${expected} within ${timeoutMs} ms; last: ${last}\n${prometheus.output().slice(-2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe('a real Prometheus scrapes the exporter', function () {
  let prometheus: Daemon
  let exporter: RunningExporter
  let state: ReturnType<typeof tempDir>
  const {registry, metrics} = populatedMetrics()

  before(async function () {
    const binary = requireBinary(this, 'prometheus', 'prometheus')
    state = tempDir('bot-prometheus-')
    exporter = await startExporter({host: '127.0.0.1', port: await freePort(), portRetries: 3, registry, stateDir: state.dir, log: captureLog()}) as RunningExporter
    assert.equal(exporter.enabled, true)
    prometheus = await startDaemon(binary, {
      readyPath: '/-/ready',
      prepare: (dir) => {
        copyFileSync(path.join(ROOT, 'ops', 'prometheus', 'bot.rules.yml'), path.join(dir, 'bot.rules.yml'))
        writeFileSync(path.join(dir, 'prometheus.yml'), [
          'global: {scrape_interval: 1s, evaluation_interval: 1s}',
          'rule_files: [bot.rules.yml]',
          'scrape_configs:',
          '  - job_name: bot',
          `    static_configs: [{targets: ['127.0.0.1:${exporter.port}']}]`,
          '',
        ].join('\n'))
      },
      args: (port, dir) => [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    })
  })

  after(async function () {
    await prometheus?.stop()
    await exporter?.close()
    state?.cleanup()
  })

  it('its query API returns the exposure the test set, then the new one after it changes', async function () {
    await waitForValue(prometheus, 'bot_exposure_ratio{job="bot"}', '0.316')
    await waitForValue(prometheus, 'up{job="bot"}', '1')
    recordCycle(metrics, {equity: 90_000, cash: 80_000, exposurePct: 11.1, capPct: 25, universe: {eligible: 18, forced: 3, excluded: 5}})
    await waitForValue(prometheus, 'bot_exposure_ratio{job="bot"}', '0.111')
    await waitForValue(prometheus, 'bot_equity{job="bot"}', '90000')
    await waitForValue(prometheus, 'sum(bot_risk_denials_total{job="bot"})', '3')
    await waitForValue(prometheus, 'bot_position_value{job="bot",symbol="BTC-USD",tier="core"}', '20000.5')
  })

  it('loads the alerting rules, and every rule evaluates without an error', async function () {
    await waitForValue(prometheus, 'bot_kill_switch_active{job="bot"}', '1')
    const deadline = Date.now() + 20_000
    for (;;) {
      const body = await (await fetch(`${prometheus.url}/api/v1/rules`)).json() as {data: {groups: {rules: {name: string; health: string; lastError?: string}[]}[]}}
      const rules = body.data.groups.flatMap((g) => g.rules)
      assert.equal(rules.length, 6)
      if (rules.every((r) => r.health === 'ok')) break
      assert.ok(rules.every((r) => r.health !== 'err'), JSON.stringify(rules.filter((r) => r.health === 'err')))
      if (Date.now() > deadline) throw new Error(`rules not evaluated: ${JSON.stringify(rules)}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }

    // the kill switch is on in this registry: its alert is pending (for: 1m) or firing
    const alerts = await query(prometheus, 'ALERTS{alertname="BotKillSwitchOn"}')
    assert.equal(alerts.data.result.length, 1, JSON.stringify(alerts))
  })

  it('every query of the Grafana dashboard is valid PromQL and finds data (except the ones that hide idle series)', async function () {
    const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'ops', 'grafana', 'bot-dashboard.json'), 'utf8')) as {panels: {title: string; targets: {expr: string}[]}[]}
    await waitForValue(prometheus, 'count(bot_info{job="bot"})', '1')
    // rate() needs two scrapes inside the window
    await new Promise((resolve) => setTimeout(resolve, 2500))
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const promql = target.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*')
        const r = await query(prometheus, promql)
        assert.equal(r.status, 'success', `${panel.title}: ${promql}: ${r.error}`)
        // `... > 0` panels hide idle series, and nothing here moves the counters
        if (!promql.endsWith('> 0')) assert.ok(r.data.result.length > 0, `${panel.title}: ${promql} found nothing`)
      }
    }
  })
})
