import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {type RunningExporter, startExporter} from '../../src/lib/metrics/exporter.js'
import {ROOT, STACK_TRACE, withoutPrefixes} from '../helpers/cli.js'
import {freePort} from '../helpers/daemons.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'
import {captureLog, populatedMetrics} from './support.js'

const SCRIPT = path.join(ROOT, 'test', 'metrics', 'run-command.ts')

/** `bot metrics <args>` through oclif, in a child process (async: this process serves the exporter it scrapes). */
function botMetrics(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0'}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({status, stdout: withoutPrefixes(stdout), stderr: withoutPrefixes(stderr)}))
  })
}

describe('bot metrics (the command class through oclif, without the build)', function () {
  let root: ReturnType<typeof tempDir>
  let config: string
  let stateDir: string
  let exporter: RunningExporter
  const {registry} = populatedMetrics()

  before(async function () {
    root = tempDir('bot-metrics-cmd-')
    config = configCopy(root.dir)
    stateDir = path.join(root.dir, 'state')
    exporter = await startExporter({host: '127.0.0.1', port: await freePort(), portRetries: 0, registry, stateDir, log: captureLog()}) as RunningExporter
  })

  after(async function () {
    await exporter?.close()
    root?.cleanup()
  })

  it('prints the summary for a person', async function () {
    const r = await botMetrics(['--config-dir', config, '--state-dir', stateDir])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^bot metrics from http://127\\.0\\.0\\.1:${exporter.port}/metrics \\(bot 0\\.1\\.0 on sim \\(sim\\), pid ${process.pid}\\)$`, 'm'))
    assert.match(r.stdout, /^exposure +31\.60% of equity, cap 25\.00% .* OVER THE CAP$/m)
    assert.match(r.stdout, /^kill switch +ON: trading halted/m)
  })

  it('--json: one document with host and port', async function () {
    const r = await botMetrics(['--config-dir', config, '--state-dir', stateDir, '--json'])
    assert.equal(r.status, 0, r.stderr)
    const doc = JSON.parse(r.stdout)
    assert.equal(doc.host, '127.0.0.1')
    assert.equal(doc.port, exporter.port)
    assert.equal(doc.exposurePct, 31.6)
    assert.equal(doc.capPct, 25)
    assert.equal(doc.trimFailuresInARow, 2)
  })

  it('--raw: the exposition as scraped', async function () {
    const r = await botMetrics(['--config-dir', config, '--state-dir', stateDir, '--raw'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^# HELP bot_info /m)
    assert.match(r.stdout, /^bot_equity 102345\.67$/m)
  })

  it('without --state-dir it reads app.yaml state.dir', async function () {
    const app = path.join(config, 'app.yaml')
    const original = readFileSync(app, 'utf8')
    assert.match(original, /^ {2}dir: \.\/data$/m)
    writeFileSync(app, original.replace(/^ {2}dir: \.\/data$/m, `  dir: ${stateDir}`))
    try {
      const r = await botMetrics(['--config-dir', config, '--json'])
      assert.equal(r.status, 0, r.stderr)
      assert.equal(JSON.parse(r.stdout).port, exporter.port)
    } finally {
      writeFileSync(app, original)
    }
  })

  it('no bot running: exit 1 with one line', async function () {
    const empty = path.join(root.dir, 'empty')
    const r = await botMetrics(['--config-dir', config, '--state-dir', empty])
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, `Error: no bot is running on ${empty}: no ${path.join(empty, 'metrics.json')}\n`)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('validates the config first, like every command', async function () {
    const app = path.join(config, 'app.yaml')
    const original = readFileSync(app, 'utf8')
    writeFileSync(app, original.replace(/^ {2}port: 9090$/m, '  port: 0'))
    try {
      const r = await botMetrics(['--config-dir', config, '--state-dir', stateDir])
      assert.equal(r.status, 1)
      assert.match(r.stderr, new RegExp(`^Error: configuration in ${config} has 1 problem; nothing was started`, 'm'))
      assert.match(r.stderr, /metrics\.port/)
    } finally {
      writeFileSync(app, original)
    }
  })

  it('--raw with --json is bad usage: exit 2', async function () {
    const r = await botMetrics(['--config-dir', config, '--state-dir', stateDir, '--raw', '--json'])
    assert.equal(r.status, 2)
    assert.match(r.stdout + r.stderr, /--json=true cannot also be provided when using --raw/)
  })
})
