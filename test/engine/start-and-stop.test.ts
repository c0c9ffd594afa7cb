import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BIN, runCli, STACK_TRACE} from '../helpers/cli.js'
import {tempDir} from '../helpers/fixtures.js'
import {generatedSetup} from '../helpers/generated.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Name and content hash of every file in a folder: what "left every file as it found it" compares. */
function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name)
    out[name] = statSync(file).isFile() ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'dir'
  }

  return out
}

/** Spawns `bot run` with its stdout on a socket pipe (what child_process creates), collecting every line. */
function spawnRun(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += String(d) })
  child.stderr.on('data', (d) => { stderr += String(d) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {child, exited, out: () => stdout, err: () => stderr}
}

describe('start-up is crash-safe and a refusal changes nothing', function () {
  this.timeout(300_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('a start SIGKILLed right after the state files appear resumes on the next start, every time', async () => {
    for (const delay of [0, 3, 10, 15, 20, 40]) {
      const state = path.join(t.dir, `state-${delay}`)
      const run = spawnRun(['--json', '--state-dir', state])
      const deadline = Date.now() + 30_000
      while (!existsSync(path.join(state, 'sim-exchange.sqlite')) && Date.now() < deadline) await sleep(1)
      await sleep(delay)
      run.child.kill('SIGKILL')
      await run.exited
      const again = runCli(['run', '--cycles', '2', '--state-dir', state])
      assert.equal(again.status, 0, `killed ${delay} ms after sim-exchange.sqlite appeared, the next start failed: ${again.stderr}`)
    }
  })

  it('a state dir missing one half is refused on every start, and each refusal leaves every file as it was', () => {
    const state = path.join(t.dir, 'state')
    assert.equal(runCli(['run', '--cycles', '30', '--state-dir', state]).status, 0)
    for (const [half, message] of [['sim-exchange.sqlite', /sim-exchange\.sqlite is missing but bot\.sqlite .* holds a run/], ['bot.sqlite', /sim-exchange\.sqlite in .* holds a run but bot\.sqlite is missing/]] as const) {
      const copy = path.join(t.dir, `without-${half}`)
      cpSync(state, copy, {recursive: true})
      for (const f of readdirSync(copy)) if (f.startsWith(half)) rmSync(path.join(copy, f))
      const before = snapshotDir(copy)
      for (let attempt = 1; attempt <= 2; attempt++) {
        const r = runCli(['run', '--cycles', '1', '--state-dir', copy])
        assert.equal(r.status, 1, `attempt ${attempt}: ${r.stdout}${r.stderr}`)
        assert.match(r.stderr, message)
        assert.doesNotMatch(r.stderr, STACK_TRACE)
        assert.deepEqual(snapshotDir(copy), before, `attempt ${attempt} without ${half} changed the state dir`)
      }
    }
  })
})

describe('signals, slow readers and hangs', function () {
  this.timeout(300_000)
  let t: ReturnType<typeof tempDir>
  let long: ReturnType<typeof generatedSetup>
  before(() => {
    t = tempDir()
    long = generatedSetup(t.dir, 2, 60_000) // far more cycles than fit in the few seconds a test waits
  })
  after(() => t.cleanup())

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during a replay without --interval finishes the cycle and exits 0 with a summary`, async () => {
      const run = spawnRun(['--json', '--config-dir', long.config, '--state-dir', path.join(t.dir, `state-${signal}`)])
      const deadline = Date.now() + 60_000
      while (!run.out().includes('"type":"cycle"') && Date.now() < deadline) await sleep(10)
      await sleep(500)
      const sentAt = Date.now()
      run.child.kill(signal)
      assert.equal(await run.exited, 0, run.err())
      assert.ok(Date.now() - sentAt < 5000, `took ${Date.now() - sentAt} ms to stop`)
      const events = run.out().trim().split('\n').map((l) => JSON.parse(l) as {type: string; stoppedBy?: string; cycles?: number})
      const summary = events.at(-1)!
      assert.equal(summary.type, 'summary')
      assert.equal(summary.stoppedBy, 'signal')
      assert.ok(summary.cycles! < 50_000, `stopped early, after ${summary.cycles} cycles`)
      assert.equal(events.filter((e) => e.type === 'cycle').length, summary.cycles, 'every cycle line reached the reader')
    })
  }

  it('a reader that stops reading for a while still gets every line, in order', async () => {
    const run = spawnRun(['--json', '--cycles', '3000', '--config-dir', long.config, '--state-dir', path.join(t.dir, 'state-slow')])
    run.child.stdout.pause()
    await sleep(1500)
    run.child.stdout.resume()
    assert.equal(await run.exited, 0, run.err())
    const cycles = run.out().trim().split('\n').map((l) => JSON.parse(l) as {type: string; report?: {cycle: number}}).filter((e) => e.type === 'cycle')
    assert.deepEqual(cycles.map((e) => e.report!.cycle), Array.from({length: 3000}, (_, i) => i + 1))
  })

  it('a FIFO named like a candle file is refused with one line instead of blocking start-up', () => {
    const data = path.join(t.dir, 'fifo-data')
    cpSync(long.data, data, {recursive: true})
    const fifo = path.join(data, 'S0002-USD-1h.csv')
    rmSync(fifo)
    execFileSync('mkfifo', [fifo])
    const config = path.join(t.dir, 'fifo-config')
    cpSync(long.config, config, {recursive: true})
    const app = path.join(config, 'app.yaml')
    writeFileSync(app, readFileSync(app, 'utf8').replace(long.data, data))
    const r = runCli(['run', '--config-dir', config, '--state-dir', path.join(t.dir, 'state-fifo')], {timeout: 20_000})
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /S0002-USD-1h\.csv: is not a regular file/)
    assert.equal(existsSync(path.join(t.dir, 'state-fifo', 'bot.lock')), false, 'the lock is not left behind')
  })

  it('a state dir the kernel refuses to create (/proc/...) is one line, not a spin', () => {
    const r = runCli(['run', '--state-dir', '/proc/bot-state'], {timeout: 20_000})
    assert.equal(r.status, 1)
    assert.match(r.stderr, /cannot create state dir \/proc\/bot-state/)
    const schema = runCli(['validate', '--schema', '/proc/bot-schemas'], {timeout: 20_000})
    assert.equal(schema.status, 1)
    assert.match(schema.stderr, /cannot create schema folder \/proc\/bot-schemas/)
  })

  it('--interval takes decimal seconds and refuses what Node timers cannot hold', () => {
    const ok = runCli(['run', '--cycles', '2', '--interval', '0.2', '--config-dir', long.config, '--state-dir', path.join(t.dir, 'state-interval')])
    assert.equal(ok.status, 0, ok.stderr)
    for (const bad of ['3000000', '-1', 'soon', '1e3']) {
      const r = runCli(['run', '--interval', bad, '--state-dir', path.join(t.dir, 'state-interval')])
      assert.equal(r.status, 2, `--interval ${bad}: ${r.stderr}`)
      assert.match(r.stderr, /--interval expects seconds between 0 and 86400/)
    }
  })
})
