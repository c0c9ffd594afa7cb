import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'

import {BotError} from '../../src/lib/errors.js'
import {addressFilePath} from '../../src/lib/metrics/address-file.js'
import {candidatePorts, type Exporter, type RunningExporter, startExporter} from '../../src/lib/metrics/exporter.js'
import {recordCycle} from '../../src/lib/metrics/record.js'
import {startMetrics} from '../../src/lib/metrics/runtime.js'
import {readRunningBot} from '../../src/lib/metrics/scrape.js'
import {freePort} from '../helpers/daemons.js'
import {tempDir} from '../helpers/fixtures.js'
import {captureLog, closeServer, freePortRun, holdPort, populatedMetrics} from './support.js'

function running(e: Exporter): RunningExporter {
  assert.equal(e.enabled, true, e.enabled ? '' : e.message)
  return e as RunningExporter
}

/** GET over a fresh connection; resolves with status, headers and body. */
function request(url: string, method = 'GET', agent?: http.Agent): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method, agent}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('metrics exporter', function () {
  let state: ReturnType<typeof tempDir>
  const cleanups: (() => Promise<void>)[] = []
  beforeEach(() => {
    state = tempDir('bot-exporter-')
  })
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
    state.cleanup()
  })

  async function start(port: number, portRetries: number, host = '127.0.0.1') {
    const log = captureLog()
    const {registry} = populatedMetrics()
    const exporter = await startExporter({host, port, portRetries, registry, stateDir: state.dir, log})
    cleanups.push(() => exporter.close())
    return {exporter, log, registry}
  }

  async function hold(port: number) {
    const server = await holdPort(port)
    cleanups.push(() => closeServer(server))
    return server
  }

  it('serves GET /metrics with prom-client\'s content type; 404 elsewhere, 405 for other methods', async function () {
    const {exporter, registry, log} = await start(await freePort(), 0)
    const e = running(exporter)
    assert.deepEqual(log.lines, [`info: metrics exporter listening on ${e.url} (recorded in ${addressFilePath(state.dir)})`])
    const ok = await request(e.url)
    assert.equal(ok.status, 200)
    assert.equal(ok.headers['content-type'], registry.contentType)
    assert.match(registry.contentType, /^text\/plain; version=0\.0\.4/)
    assert.match(ok.body, /^bot_exposure_ratio 0\.316$/m)
    assert.equal((await request(`http://127.0.0.1:${e.port}/`)).status, 404)
    assert.equal((await request(`http://127.0.0.1:${e.port}/metricsx`)).status, 404)
    assert.equal((await request(`${e.url}?name[]=bot_equity`)).status, 200)
    const post = await request(e.url, 'POST')
    assert.equal(post.status, 405)
    assert.equal(post.headers.allow, 'GET, HEAD')
    const head = await request(e.url, 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
  })

  it('records host, port, pid, process start and start time in <state dir>/metrics.json', async function () {
    const before = Date.now()
    const e = running((await start(await freePort(), 0)).exporter)
    const recorded = JSON.parse(readFileSync(addressFilePath(state.dir), 'utf8'))
    assert.deepEqual(Object.keys(recorded).sort(), ['host', 'pid', 'port', 'process_start_time', 'started_at', 'url'])
    assert.equal(recorded.host, '127.0.0.1')
    assert.equal(recorded.port, e.port)
    assert.equal(recorded.url, e.url)
    assert.equal(recorded.pid, process.pid)
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8')
    assert.equal(recorded.process_start_time, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    assert.ok(Date.parse(recorded.started_at) >= before - 1000 && Date.parse(recorded.started_at) <= Date.now())
  })

  it('with the first port held by another server it binds the next, warns naming the port, and bot metrics finds it there', async function () {
    const base = await freePortRun(4)
    await hold(base)
    const {exporter, log} = await start(base, 3)
    const e = running(exporter)
    assert.equal(e.port, base + 1)
    assert.deepEqual(log.lines, [`warn: metrics exporter: port ${base} on 127.0.0.1 is in use; listening on 127.0.0.1:${base + 1} instead (recorded in ${addressFilePath(state.dir)})`])
    assert.equal(JSON.parse(readFileSync(addressFilePath(state.dir), 'utf8')).port, base + 1)
    const found = await readRunningBot(state.dir)
    assert.equal(found.summary.port, base + 1)
    assert.equal(found.summary.host, '127.0.0.1')
    assert.equal(found.summary.exposurePct, 31.6)
  })

  it('with every port held it is disabled, does not throw, and reports every port tried', async function () {
    const base = await freePortRun(3)
    for (let p = base; p < base + 3; p++) await hold(p)
    const {exporter, log} = await start(base, 2)
    assert.equal(exporter.enabled, false)
    if (exporter.enabled) return
    assert.deepEqual(exporter.triedPorts, [base, base + 1, base + 2])
    const message = `metrics exporter disabled: ports ${base}, ${base + 1}, ${base + 2} on 127.0.0.1 are all in use; free one or change metrics.port / metrics.port_retries in app.yaml (trading continues without metrics)`
    assert.equal(exporter.message, message)
    assert.deepEqual(log.lines, [`error: ${message}`])
    assert.equal(existsSync(addressFilePath(state.dir)), false)
    await exporter.close()
  })

  it('a host that does not resolve is one clear error, not a retry', async function () {
    const port = await freePort()
    await assert.rejects(start(port, 3, 'nonexistent.invalid'), (error: BotError) => {
      assert.ok(error instanceof BotError)
      assert.equal(error.code, 'METRICS_BIND_FAILED')
      assert.match(error.message, new RegExp(`^the metrics exporter cannot bind nonexistent\\.invalid:${port}: host "nonexistent\\.invalid" does not resolve \\((ENOTFOUND|EAI_AGAIN)\\); set metrics\\.host in app\\.yaml`))
      assert.doesNotMatch(error.message, /\n/)
      return true
    })
  })

  it('an address that is not this machine\'s is one clear error, not a retry', async function () {
    const port = await freePort()
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a host
    await assert.rejects(start(port, 3, '192.0.2.1'), (error: BotError) => {
      assert.ok(error instanceof BotError)
      assert.equal(error.message, `the metrics exporter cannot bind 192.0.2.1:${port}: 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL); set metrics.host in app.yaml to one of its addresses, e.g. 127.0.0.1`)
      return true
    })
    assert.equal(existsSync(addressFilePath(state.dir)), false)
  })

  it('a privileged port is one clear error when bot is not root', async function () {
    if (process.getuid?.() === 0) {
      console.log('      skipped: running as root, which may bind port 80')
      this.skip()
    }

    await assert.rejects(start(80, 3), /cannot bind 127\.0\.0\.1:80: permission denied \(EACCES\); ports below 1024 need privileges/)
  })

  it('close() releases the port promptly with a keep-alive connection and a half-sent request open, and removes metrics.json', async function () {
    const e = running((await start(await freePort(), 0)).exporter)
    const agent = new http.Agent({keepAlive: true})
    cleanups.push(async () => agent.destroy())
    assert.equal((await request(e.url, 'GET', agent)).status, 200)
    // a scraper stuck mid-request: without closing it, close() would wait for the request timeout
    const stuck = net.connect(e.port, '127.0.0.1')
    cleanups.push(async () => void stuck.destroy())
    stuck.on('error', () => {})
    await new Promise((resolve) => stuck.once('connect', resolve))
    stuck.write('GET /metrics HTTP/1.1\r\nHost: x\r\n')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const started = Date.now()
    await e.close()
    assert.ok(Date.now() - started < 2000, `close() took ${Date.now() - started} ms`)
    assert.equal(existsSync(addressFilePath(state.dir)), false)
    // the port is free again: another server can take it
    const again = await holdPort(e.port)
    await closeServer(again)
    await e.close() // a second close is harmless
  })

  it('close() leaves a metrics.json that another exporter has since written', async function () {
    const e = running((await start(await freePort(), 0)).exporter)
    const theirs = {...JSON.parse(readFileSync(addressFilePath(state.dir), 'utf8')), pid: 1, started_at: '2030-01-01T00:00:00.000Z'}
    writeFileSync(addressFilePath(state.dir), JSON.stringify(theirs))
    await e.close()
    assert.deepEqual(JSON.parse(readFileSync(addressFilePath(state.dir), 'utf8')), theirs)
  })

  it('answers 500 in one line, and logs it, when collecting fails', async function () {
    const log = captureLog()
    const registry = {contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => { throw new Error('collector broke\nsecond line') }}
    const e = running(await startExporter({host: '127.0.0.1', port: await freePort(), portRetries: 0, registry, stateDir: null, log}))
    cleanups.push(() => e.close())
    const r = await request(e.url)
    assert.equal(r.status, 500)
    assert.equal(r.body, 'collecting metrics failed; see the bot log\n')
    assert.deepEqual(log.lines.slice(1), ['error: metrics exporter: collecting metrics failed: collector broke'])
  })

  it('tries no port past 65535', function () {
    assert.deepEqual(candidatePorts(65534, 3), [65534, 65535])
    assert.deepEqual(candidatePorts(9090, 0), [9090])
    assert.deepEqual(candidatePorts(9090, 3), [9090, 9091, 9092, 9093])
  })

  it('binds an IPv6 loopback and brackets it in the URL', async function () {
    const probe = net.createServer()
    const v6 = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false))
      probe.listen(0, '::1', () => probe.close(() => resolve(true)))
    })
    if (!v6) this.skip()
    const e = running((await start(await freePort(), 0, '::1')).exporter)
    assert.equal(e.url, `http://[::1]:${e.port}/metrics`)
    assert.equal((await request(e.url)).status, 200)
    assert.equal(path.basename(e.addressFile ?? ''), 'metrics.json')
  })
})

describe('startMetrics (what bot run calls)', function () {
  let state: ReturnType<typeof tempDir>
  beforeEach(() => {
    state = tempDir('bot-runtime-')
  })
  afterEach(() => state.cleanup())
  const info = {version: '0.1.0', venue: 'sim', exchange: 'sim', quoteCurrency: 'USD'}
  const settings = (port: number, enabled = true) => ({enabled, host: '127.0.0.1', port, port_retries: 1, pushgateway_url: null})

  it('metrics.enabled false: no metrics, no exporter, no file', async function () {
    const r = await startMetrics(settings(await freePort(), false), {stateDir: state.dir, log: captureLog(), info})
    assert.equal(r.metrics, null)
    assert.equal(r.exporter, null)
    assert.equal(existsSync(addressFilePath(state.dir)), false)
    await r.close()
  })

  it('enabled: serves bot_info and what the engine records; close() removes metrics.json', async function () {
    const r = await startMetrics(settings(await freePort()), {stateDir: state.dir, log: captureLog(), info})
    assert.ok(r.metrics && r.exporter?.enabled)
    recordCycle(r.metrics, {equity: 1000, cash: 900, exposurePct: 10, capPct: 25, universe: {eligible: 1, forced: 0, excluded: 0}})
    const {summary} = await readRunningBot(state.dir)
    assert.deepEqual(summary.info, info)
    assert.equal(summary.exposurePct, 10)
    await r.close()
    assert.equal(existsSync(addressFilePath(state.dir)), false)
  })

  it('every port taken: no metrics, and a warning for the caller\'s alert', async function () {
    const base = await freePortRun(2)
    const held = [await holdPort(base), await holdPort(base + 1)]
    try {
      const r = await startMetrics(settings(base), {stateDir: state.dir, log: captureLog(), info})
      assert.equal(r.metrics, null)
      assert.match(r.warning ?? '', new RegExp(`^metrics exporter disabled: ports ${base}, ${base + 1} on 127\\.0\\.0\\.1 are all in use`))
    } finally {
      await Promise.all(held.map(closeServer))
    }
  })
})
