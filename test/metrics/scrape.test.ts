import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import {BotError} from '../../src/lib/errors.js'
import {addressFilePath, processStartTime} from '../../src/lib/metrics/address-file.js'
import {type RunningExporter, startExporter} from '../../src/lib/metrics/exporter.js'
import {renderMetricsSummary} from '../../src/lib/metrics/report-text.js'
import {readRunningBot} from '../../src/lib/metrics/scrape.js'
import {freePort} from '../helpers/daemons.js'
import {tempDir} from '../helpers/fixtures.js'
import {captureLog, closeServer, populatedMetrics} from './support.js'

/** The one-line refusal `bot metrics` prints. */
function refusedWith(pattern: RegExp, code = 'NO_BOT_RUNNING') {
  return (error: BotError) => {
    assert.ok(error instanceof BotError, String(error))
    assert.equal(error.code, code)
    assert.match(error.message, pattern)
    assert.doesNotMatch(error.message, /\n/)
    return true
  }
}

function address(port: number, pid = process.pid, processStart = processStartTime(pid)) {
  return {host: '127.0.0.1', port, url: `http://127.0.0.1:${port}/metrics`, pid, process_start_time: processStart, started_at: new Date().toISOString()}
}

/** A server on a free loopback port answering every request with `handler`. */
async function serve(handler: http.RequestListener): Promise<{port: number; close: () => Promise<void>}> {
  const server = http.createServer(handler)
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {port, close: () => closeServer(server)}
}

describe('bot metrics: finding and reading the running bot', function () {
  let state: ReturnType<typeof tempDir>
  beforeEach(() => {
    state = tempDir('bot-scrape-')
  })
  afterEach(() => state.cleanup())

  it('summarizes what the exporter serves: exposure vs cap, equity, positions, last cycle, trims, kill switch, totals', async function () {
    const {registry} = populatedMetrics()
    const e = await startExporter({host: '127.0.0.1', port: await freePort(), portRetries: 0, registry, stateDir: state.dir, log: captureLog()}) as RunningExporter
    try {
      const now = Date.parse('2025-11-15T12:03:00Z')
      const {text, summary, exporter} = await readRunningBot(state.dir, {now})
      assert.match(text, /^bot_equity 102345\.67$/m)
      assert.equal(exporter.port, e.port)
      assert.deepEqual({...summary, url: undefined}, {
        host: '127.0.0.1', port: e.port, url: undefined, pid: process.pid,
        info: {version: '0.1.0', venue: 'sim', exchange: 'sim', quoteCurrency: 'USD'},
        equity: 102_345.67, cash: 70_000, exposurePct: 31.6, exposureValue: 0.316 * 102_345.67, capPct: 25, overCap: true,
        positions: [{symbol: 'BTC-USD', tier: 'core', value: 20_000.5}, {symbol: 'ETH-USD', tier: 'core', value: 9_000}, {symbol: 'DOGE-USD', tier: 'speculative', value: 3_345.17}],
        cycles: 5, lastCycleAt: '2025-11-15T12:00:00.000Z', lastCycleAgeSeconds: 180, trimFailuresInARow: 2, killSwitch: true,
        orders: {total: 4, by: {filled: 2, partial: 1, rejected: 1}},
        denials: {total: 3, by: {EXPOSURE_CAP: 2, MIN_NOTIONAL: 1}},
        exchangeErrors: {total: 1, by: {rate_limited: 1}},
        alerts: {total: 2, by: {sent: 1, timed_out: 1}},
      })
      assert.equal(summary.url, e.url)
      const lines = renderMetricsSummary(summary).join('\n')
      assert.match(lines, new RegExp(`bot metrics from http://127\\.0\\.0\\.1:${e.port}/metrics \\(bot 0\\.1\\.0 on sim \\(sim\\), pid ${process.pid}\\)`))
      assert.match(lines, /exposure +31\.60% of equity, cap 25\.00% \(32,341\.23 USD\) OVER THE CAP/)
      assert.match(lines, /positions +BTC-USD \(core\) 20,000\.50, ETH-USD \(core\) 9,000\.00, DOGE-USD \(speculative\) 3,345\.17/)
      assert.match(lines, /last cycle +2025-11-15 12:00:00 UTC, 3 min ago; 5 cycles since start/)
      assert.match(lines, /kill switch +ON: trading halted/)
      assert.match(lines, /trim +2 failures in a row/)
      assert.match(lines, /denials +3 \(EXPOSURE_CAP 2, MIN_NOTIONAL 1\)/)
      assert.match(lines, /exchange +errors 1 \(rate_limited 1\)/)
    } finally {
      await e.close()
    }
  })

  it('no metrics.json and no bot: "no bot is running"', async function () {
    await assert.rejects(readRunningBot(state.dir), refusedWith(new RegExp(`^no bot is running on ${state.dir}: no ${addressFilePath(state.dir)}$`)))
  })

  it('a bot holding the lock without an exporter: says the exporter is off, not that no bot runs', async function () {
    writeFileSync(path.join(state.dir, 'bot.lock'), `${process.pid} ${processStartTime(process.pid)}\n`)
    await assert.rejects(readRunningBot(state.dir), refusedWith(new RegExp(`^a bot \\(pid ${process.pid}\\) is running on ${state.dir} but its metrics exporter is off: metrics\\.enabled is false, or every port it tried was in use`), 'EXPORTER_OFF'))
  })

  it('a stale metrics.json (its pid has exited) is "no bot is running", even with something on its port', async function () {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
    const deadPid = Number(gone.stdout)
    const other = await serve((_q, r) => r.end('# TYPE bot_info gauge\nbot_info 1\n'))
    try {
      writeFileSync(addressFilePath(state.dir), JSON.stringify(address(other.port, deadPid, '1')))
      await assert.rejects(readRunningBot(state.dir), refusedWith(new RegExp(`names pid ${deadPid}, which is not running \\(left by a bot that did not stop cleanly\\)$`)))
    } finally {
      await other.close()
    }
  })

  it('a recycled pid (alive, but started at another time) is not the bot', async function () {
    writeFileSync(addressFilePath(state.dir), JSON.stringify(address(await freePort(), process.pid, '1')))
    await assert.rejects(readRunningBot(state.dir), refusedWith(new RegExp(`names pid ${process.pid}, which is not running`)))
  })

  it('a live pid but nothing on the port: "nothing answers"', async function () {
    const port = await freePort()
    writeFileSync(addressFilePath(state.dir), JSON.stringify(address(port)))
    await assert.rejects(readRunningBot(state.dir), refusedWith(new RegExp(`^no bot is running on .*: nothing answers at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\), though pid ${process.pid} is alive$`)))
  })

  it('an exporter that hangs: gives up after the timeout', async function () {
    const hang = await serve(() => {})
    try {
      writeFileSync(addressFilePath(state.dir), JSON.stringify(address(hang.port)))
      const started = Date.now()
      await assert.rejects(readRunningBot(state.dir, {timeoutMs: 300}), refusedWith(/nothing answers at .* \(no answer within 300 ms\)/))
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`)
    } finally {
      await hang.close()
    }
  })

  it('another program on the port: says so instead of showing its metrics', async function () {
    const other = await serve((q, r) => (q.url === '/metrics' ? r.end('# TYPE node_load1 gauge\nnode_load1 0.5\n') : r.writeHead(404).end()))
    try {
      writeFileSync(addressFilePath(state.dir), JSON.stringify(address(other.port)))
      await assert.rejects(readRunningBot(state.dir), refusedWith(/answers, but not with bot's metrics \(no bot_info\)$/))
    } finally {
      await other.close()
    }

    const notFound = await serve((_q, r) => r.writeHead(404).end('no'))
    try {
      writeFileSync(addressFilePath(state.dir), JSON.stringify(address(notFound.port)))
      await assert.rejects(readRunningBot(state.dir), refusedWith(/answered HTTP 404 to GET \/metrics$/))
    } finally {
      await notFound.close()
    }
  })

  it('a metrics.json that is not the exporter\'s record is named, not trusted', async function () {
    writeFileSync(addressFilePath(state.dir), '{"host": "127.0.0.1"')
    await assert.rejects(readRunningBot(state.dir), refusedWith(/metrics\.json is not JSON$/))
    writeFileSync(addressFilePath(state.dir), JSON.stringify({host: '127.0.0.1', port: 'x', pid: 1}))
    await assert.rejects(readRunningBot(state.dir), refusedWith(/metrics\.json does not hold host, port and pid$/))
    assert.ok(readFileSync(addressFilePath(state.dir), 'utf8').length > 0)
  })
})
