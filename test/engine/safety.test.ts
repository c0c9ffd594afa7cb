import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {EngineEvent} from '../../src/lib/engine/events.js'
import {runBot} from '../../src/lib/engine/loop.js'
import {BIN, ROOT, runCli, STACK_TRACE} from '../helpers/cli.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'
import {query, runJson} from '../helpers/run.js'

const CONFIG = path.join(ROOT, 'config')

async function run(stateDir: string, cycles: number, onEvent: (e: EngineEvent) => void = () => {}) {
  const events: EngineEvent[] = []
  const summary = await runBot({configDir: CONFIG, stateDir, cycles, stop: new AbortController().signal, observe: (e) => { events.push(e); onEvent(e) }})
  return {events, summary}
}

const cyclesOf = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'cycle' ? [e.report] : []))

describe('kill switch', function () {
  this.timeout(120_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('halts trading while <state dir>/KILL_SWITCH exists, raises one CRITICAL event, and resumes when it is gone', async () => {
    const killFile = path.join(t.dir, 'KILL_SWITCH')
    writeFileSync(killFile, '')
    const halted = await run(t.dir, 40)
    const reports = cyclesOf(halted.events)
    assert.equal(reports.length, 40, 'the loop keeps running while halted')
    assert.ok(reports.every((r) => r.halted && r.orders === 0))
    assert.equal(halted.events.filter((e) => e.type === 'alert' && e.code === 'KILL_SWITCH' && e.status === 'firing').length, 1)
    assert.equal(query(t.dir, 'bot.sqlite', "SELECT * FROM audit WHERE kind = 'kill_switch_on'").length, 1)
    assert.equal(query(t.dir, 'bot.sqlite', 'SELECT * FROM orders').length, 0)

    const restarted = await run(t.dir, 5)
    assert.equal(restarted.events.filter((e) => e.type === 'alert' && e.code === 'KILL_SWITCH' && e.status === 'firing').length, 0, 'a restart while halted raises nothing new')
    assert.ok(cyclesOf(restarted.events).every((r) => r.halted && r.orders === 0))

    rmSync(killFile)
    const resumed = await run(t.dir, 40)
    assert.equal(resumed.events.filter((e) => e.type === 'alert' && e.code === 'KILL_SWITCH' && e.status === 'resolved').length, 1, 'the alert is resolved once')
    assert.equal(query(t.dir, 'bot.sqlite', "SELECT * FROM audit WHERE kind = 'kill_switch_off'").length, 1)
    assert.ok(cyclesOf(resumed.events).some((r) => r.orders > 0), 'orders resume once the file is gone')
  })

  it('fails safe: a dangling symlink or a folder named KILL_SWITCH halts too', async () => {
    for (const make of [(f: string) => symlinkSync(path.join(t.dir, 'gone'), f), (f: string) => mkdirSync(f)]) {
      const state = path.join(t.dir, `state-${Math.random().toString(36).slice(2)}`)
      mkdirSync(state)
      make(path.join(state, 'KILL_SWITCH'))
      const {events} = await run(state, 5)
      assert.ok(cyclesOf(events).every((r) => r.halted && r.orders === 0))
      assert.equal(events.filter((e) => e.type === 'alert' && e.code === 'KILL_SWITCH' && e.status === 'firing').length, 1)
    }
  })

  it('takes effect within one cycle and before the next order of the same cycle', async () => {
    const killFile = path.join(t.dir, 'KILL_SWITCH')
    let armedAt = -1
    const {events} = await run(t.dir, 60, (e) => {
      if (e.type === 'order' && armedAt < 0) { // right after the first order is sent
        writeFileSync(killFile, '')
        armedAt = e.cycle
      }
    })
    assert.ok(armedAt > 0, 'some order was sent')
    const sameCycle = query<{status: string; error: string}>(t.dir, 'bot.sqlite', 'SELECT status, error FROM orders WHERE cycle = ? ORDER BY leg', armedAt)
    assert.ok(sameCycle.length >= 2, 'the first trading cycle plans several orders')
    assert.ok(sameCycle.slice(1).every((o) => o.status === 'abandoned' && o.error === 'KILL_SWITCH'), JSON.stringify(sameCycle))
    const later = cyclesOf(events).filter((r) => r.cycle > armedAt)
    assert.ok(later.length > 0 && later.every((r) => r.halted && r.orders === 0))
  })
})

describe('kill switch with orders on the book', function () {
  this.timeout(120_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('cancels every open order when it appears', async () => {
    // A tiny volume cap keeps orders partly filled, and so open, for many bars.
    const config = configCopy(t.dir)
    const app = path.join(config, 'app.yaml')
    writeFileSync(app, readFileSync(app, 'utf8').replace('max_fill_pct_of_bar_volume: 10', 'max_fill_pct_of_bar_volume: 0.001'))
    const stateDir = path.join(t.dir, 'state')
    let armed = false
    const events: EngineEvent[] = []
    await runBot({configDir: config, stateDir, cycles: 80, stop: new AbortController().signal, observe: (e) => {
      events.push(e)
      if (!armed && e.type === 'cycle' && e.report.fills > 0) {
        writeFileSync(path.join(stateDir, 'KILL_SWITCH'), '')
        armed = true
      }
    }})
    const kill = events.find((e) => e.type === 'kill_switch')
    assert.ok(kill && kill.type === 'kill_switch' && kill.cancelled > 0, `cancelled: ${JSON.stringify(kill)}`)
    const rows = query<{status: string}>(stateDir, 'bot.sqlite', 'SELECT status FROM orders')
    assert.equal(rows.filter((r) => r.status === 'open').length, 0)
    assert.equal(rows.filter((r) => r.status === 'canceled').length, kill.cancelled)
  })
})

describe('one bot per state dir', function () {
  this.timeout(120_000)
  let t: ReturnType<typeof tempDir>
  let first: ChildProcess | undefined
  beforeEach(() => { t = tempDir() })
  afterEach(() => {
    first?.kill('SIGKILL')
    t.cleanup()
  })

  it('refuses a second run and names the pid holding the lock', async () => {
    first = spawn(process.execPath, [BIN, 'run', '--state-dir', t.dir, '--interval', '5', '--json'], {stdio: ['ignore', 'pipe', 'pipe']})
    await new Promise<void>((resolve) => first!.stdout!.on('data', (d: Buffer) => d.toString().includes('"type":"cycle"') && resolve()))
    const second = runCli(['run', '--state-dir', t.dir, '--cycles', '1'])
    assert.equal(second.status, 1)
    assert.match(second.stderr, new RegExp(`another bot \\(pid ${first.pid}\\) is running on ${t.dir}`))
    assert.doesNotMatch(second.stderr, STACK_TRACE)
  })

  it('stops on SIGTERM after finishing its cycle, exits 0, and the next run resumes', async () => {
    first = spawn(process.execPath, [BIN, 'run', '--state-dir', t.dir, '--interval', '1', '--json'], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    await new Promise<void>((resolve) => first!.stdout!.on('data', (d: Buffer) => { out += d; if (out.includes('"type":"cycle"')) resolve() }))
    first.kill('SIGTERM')
    const code = await new Promise((resolve) => first!.on('exit', resolve))
    assert.equal(code, 0)
    const summary = JSON.parse(out.trim().split('\n').at(-1)!)
    assert.equal(summary.type, 'summary')
    assert.equal(summary.stoppedBy, 'signal')
    const next = runJson(['--state-dir', t.dir, '--cycles', '1'])
    assert.equal(next.status, 0, next.stderr)
    assert.equal(next.summary.cycles, summary.cycles + 1)
  })
})
