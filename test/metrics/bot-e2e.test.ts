import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import type http from 'node:http'
import path from 'node:path'

import {BIN, runCli} from '../helpers/cli.js'
import {type Daemon, requireBinary, startDaemon} from '../helpers/daemons.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'
import {rallyConfig} from '../helpers/rally.js'
import {runJson} from '../helpers/run.js'
import {closeServer, freePortRun, holdPort} from './support.js'

/** Sets app.yaml's metrics section of a config copy. */
function metricsAt(config: string, port: number, extra = ''): void {
  const app = path.join(config, 'app.yaml')
  writeFileSync(app, readFileSync(app, 'utf8').replace('  port: 9090', `  port: ${port}`).replace('  pushgateway_url: null', `  pushgateway_url: ${extra || 'null'}`))
}

/** `bot run --json` in the background, paced, until stopped; resolves once it printed its first cycle. */
async function startBot(config: string, stateDir: string): Promise<{child: ChildProcess; out: () => string; stop: () => Promise<void>}> {
  const child = spawn(process.execPath, [BIN, 'run', '--json', '--interval', '0.5', '--config-dir', config, '--state-dir', stateDir], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  child.stdout!.on('data', (d) => { out += String(d) })
  child.stderr!.on('data', (d) => { out += String(d) })
  const deadline = Date.now() + 60_000
  while (!out.includes('"type":"cycle"')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`bot did not start: ${out}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  return {child, out: () => out, stop: async () => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    await new Promise((resolve) => child.on('exit', resolve))
  }}
}

async function promQuery(prometheus: Daemon, promql: string): Promise<string | null> {
  const r = await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json() as {data?: {result: {value: [number, string]}[]}}
  return r.data?.result[0]?.value[1] ?? null
}

describe('metrics of a running bot', function () {
  this.timeout(180_000)
  let t: ReturnType<typeof tempDir>
  const held: http.Server[] = []
  beforeEach(() => { t = tempDir() })
  afterEach(async () => {
    for (const s of held.splice(0)) await closeServer(s)
    t.cleanup()
  })

  it('with its port taken it binds the next; bot metrics finds it there, and a real Prometheus scrapes the exposure', async function () {
    const prometheusBinary = requireBinary(this, 'prometheus', 'prometheus')
    const base = await freePortRun(4)
    held.push(await holdPort(base))
    const config = configCopy(t.dir)
    metricsAt(config, base)
    const state = path.join(t.dir, 'state')
    const bot = await startBot(config, state)
    let prometheus: Daemon | undefined
    try {
      assert.match(bot.out(), new RegExp(`port ${base} .*in use.*${base + 1}`, 's'))
      assert.equal(JSON.parse(readFileSync(path.join(state, 'metrics.json'), 'utf8')).port, base + 1)
      const found = runCli(['metrics', '--json', '--config-dir', config, '--state-dir', state])
      assert.equal(found.status, 0, found.stderr)
      const doc = JSON.parse(found.stdout)
      assert.deepEqual([doc.host, doc.port], ['127.0.0.1', base + 1])
      const human = runCli(['metrics', '--config-dir', config, '--state-dir', state])
      assert.equal(human.status, 0)
      assert.match(human.stdout, /exposure/)
      const raw = runCli(['metrics', '--raw', '--config-dir', config, '--state-dir', state])
      assert.match(raw.stdout, /^bot_exposure_ratio \d/m)

      prometheus = await startDaemon(prometheusBinary, {
        readyPath: '/-/ready',
        prepare: (dir) => writeFileSync(path.join(dir, 'prometheus.yml'), `global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: bot\n    static_configs: [{targets: ['127.0.0.1:${base + 1}']}]\n`),
        args: (port, dir) => [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      })
      let seen: string | null = null
      for (const deadline = Date.now() + 30_000; seen === null && Date.now() < deadline;) {
        seen = await promQuery(prometheus, 'bot_exposure_ratio{job="bot"}')
        if (seen === null) await new Promise((resolve) => setTimeout(resolve, 300))
      }

      assert.ok(seen !== null, 'Prometheus has the exposure')
      // The same figure the bot published in its own cycle events (the ratio is the % / 100).
      const reported = bot.out().split('\n').filter((l) => l.includes('"type":"cycle"')).map((l) => JSON.parse(l).report.exposurePct / 100)
      assert.ok(reported.some((x) => Math.abs(x - Number(seen)) < 1e-9), `${seen} is one of the cycles' exposures`)
      assert.equal(await promQuery(prometheus, 'bot_info{job="bot"}'), '1')
    } finally {
      await prometheus?.stop()
      await bot.stop()
    }

    const gone = runCli(['metrics', '--config-dir', config, '--state-dir', state])
    assert.equal(gone.status, 1)
    assert.match(gone.stderr, /no bot is running/i)
  })

  it('with every port taken it warns, disables itself, and the loop completes its cycles', async () => {
    const base = await freePortRun(4)
    for (let i = 0; i < 4; i++) held.push(await holdPort(base + i))
    const config = configCopy(t.dir)
    metricsAt(config, base)
    const run = runJson(['--cycles', '5', '--config-dir', config, '--state-dir', path.join(t.dir, 'state')])
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.events.filter((e) => e.type === 'cycle').length, 5)
    const alert = run.events.find((e) => e.type === 'alert' && e.code === 'EXPORTER_DISABLED')
    assert.ok(alert, 'a warning alert says metrics are off')
    assert.match(String(alert.message), new RegExp(`${base}.*${base + 3}`))
  })

  it('bot trim pushes its metrics to a real Pushgateway', async function () {
    const binary = requireBinary(this, 'prometheus-pushgateway', 'prometheus-pushgateway', 'pushgateway')
    const gateway = await startDaemon(binary, {readyPath: '/-/ready', args: (port) => [`--web.listen-address=127.0.0.1:${port}`]})
    try {
      const config = rallyConfig(t.dir, {USD: 50_000, BTC: 4})
      metricsAt(config, await freePortRun(1), gateway.url)
      const trim = runCli(['trim', '--config-dir', config, '--state-dir', path.join(t.dir, 'state')])
      assert.equal(trim.status, 0, trim.stderr)
      const text = await (await fetch(`${gateway.url}/metrics`)).text()
      assert.match(text, /^bot_trims_total\{.*command="trim".*outcome="succeeded".*\} 1$/m)
      assert.match(text, /^bot_orders_total\{.*command="trim".*outcome="open".*side="sell".*\} [1-9]/m)
    } finally {
      await gateway.stop()
    }
  })
})
