import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BIN, runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/fixtures.js'
import {RALLY_DATA, rallyConfig} from '../helpers/rally.js'
import {query, runJson} from '../helpers/run.js'

const BAR = 4 * 3_600_000

interface Report {cycle: number; time: number; exposurePct: number; capPct: number; trimFailures: number}
interface Alert {type: 'alert'; status: string; severity: string; code: string; message: string}

/** Closes of the rally's CSV files, read independently of bot's loader: symbol -> bar open time -> close. */
function rallyCloses(): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>()
  for (const file of readdirSync(RALLY_DATA).filter((f) => f.endsWith('.csv'))) {
    const rows = readFileSync(path.join(RALLY_DATA, file), 'utf8').trim().split('\n').slice(1).map((r) => r.split(',').map(Number))
    out.set(file.replace(/-4h\.csv$/, ''), new Map(rows.map((c) => [c[0] * 1000, c[4]])))
  }

  return out
}

const cyclesOf = (events: Record<string, unknown>[]) => events.filter((e) => e.type === 'cycle').map((e) => e.report as Report)
const alertsOf = (events: Record<string, unknown>[]) => events.filter((e): e is Alert & Record<string, unknown> => e.type === 'alert')

describe('auto-trim back under the exposure cap', function () {
  this.timeout(300_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('on a real rally: a start over the cap is back under it after the first cycle\'s fills, and every later excess within one cycle', () => {
    const start = {USD: 50_000, BTC: 4}
    const config = rallyConfig(t.dir, start)
    const state = path.join(t.dir, 'state')
    const run = runJson(['--config-dir', config, '--state-dir', state])
    assert.equal(run.status, 0, run.stderr)
    const cycles = cyclesOf(run.events)
    const cap = cycles[0].capPct
    assert.ok(cycles[0].exposurePct > 40, `it starts over the cap (${cycles[0].exposurePct}%)`)

    // Exposure at each cycle recomputed from the recorded fills and the CSV closes, not taken from bot's report.
    const close = rallyCloses()
    const fills = query<{time: number; symbol: string; side: string; amount: number; price: number; fee: number}>(state, 'bot.sqlite', 'SELECT time, symbol, side, amount, price, fee FROM fills ORDER BY id')
    const exposureAt = (c: Report) => {
      const held = new Map<string, number>([['BTC-USD', start.BTC]])
      let cash = start.USD
      for (const f of fills.filter((f) => f.time <= c.time)) {
        const sign = f.side === 'buy' ? 1 : -1
        held.set(f.symbol, (held.get(f.symbol) ?? 0) + sign * f.amount)
        cash -= sign * f.amount * f.price + f.fee
      }

      let value = 0
      for (const [s, amount] of held) value += amount * close.get(s)!.get(c.time - BAR)!
      return (value / (cash + value)) * 100
    }

    assert.ok(Math.abs(exposureAt(cycles[0]) - cycles[0].exposurePct) < 1e-6, 'the recomputation agrees with the first report')
    assert.ok(exposureAt(cycles[1]) <= cap, `after the first cycle's fills: ${exposureAt(cycles[1])}% > cap ${cap}%`)
    let episodes = 0
    for (let i = 1; i + 1 < cycles.length; i++) {
      if (!(exposureAt(cycles[i]) > cap)) continue
      episodes++
      assert.ok(exposureAt(cycles[i + 1]) <= cap, `cycle ${cycles[i].cycle} was over the cap and cycle ${cycles[i + 1].cycle} still is (${exposureAt(cycles[i + 1])}%)`)
    }

    assert.ok(episodes >= 5, `the rally pushes exposure over the cap again and again (${episodes} times)`)
    const trims = run.events.filter((e) => e.type === 'trim')
    assert.equal(trims.length, episodes + 1)
    assert.ok(trims.every((e) => e.outcome === 'succeeded' || e.outcome === 'partial'))
    const sells = query<{action: string; reason: string}>(state, 'bot.sqlite', "SELECT action, reason FROM orders WHERE action = 'trim'")
    assert.ok(sells.length > 0 && sells.every((o) => /^trim: exposure [\d.]+% > cap 25%, target 23%/.test(o.reason)), 'each trim order says it is a trim')
    assert.equal(alertsOf(run.events).filter((a) => a.code === 'TRIM_ESCALATION').length, 0, 'working trims escalate nothing')
    assert.ok(alertsOf(run.events).some((a) => a.code === 'OVER_CAP' && a.status === 'firing'))
  })

  it('escalates once when every sell is rejected: one CRITICAL after N failing cycles, none again after a restart, resolved on recovery', () => {
    const rejectAll = (p: {app: string}) => writeFileSync(p.app, readFileSync(p.app, 'utf8').replace('reject_order_rate: 0', 'reject_order_rate: 1'))
    const config = rallyConfig(t.dir, {USD: 50_000, BTC: 4}, rejectAll)
    const state = path.join(t.dir, 'state')
    const first = runJson(['--config-dir', config, '--state-dir', state, '--cycles', '5'])
    assert.equal(first.status, 0, first.stderr)
    assert.deepEqual(cyclesOf(first.events).map((c) => c.trimFailures), [1, 2, 3, 4, 5])
    const critical = alertsOf(first.events).filter((a) => a.code === 'TRIM_ESCALATION')
    assert.equal(critical.length, 1, 'one alert for the episode')
    assert.equal(critical[0].severity, 'critical')
    assert.match(critical[0].message, /auto-trim failed 3 cycles in a row: exposure [\d.]+% vs 25% cap, [\d.]+ USD over the target/)
    const escalationAt = first.events.indexOf(critical[0])
    assert.equal(first.events.slice(0, escalationAt).filter((e) => e.type === 'cycle').length, 2, 'raised in the third failing cycle')

    const restarted = runJson(['--config-dir', config, '--state-dir', state, '--cycles', '3'])
    assert.deepEqual(cyclesOf(restarted.events).map((c) => c.trimFailures), [6, 7, 8], 'the count survives the restart')
    assert.equal(alertsOf(restarted.events).filter((a) => a.code === 'TRIM_ESCALATION').length, 0, 'not raised again by a restart')

    writeFileSync(path.join(config, 'app.yaml'), readFileSync(path.join(config, 'app.yaml'), 'utf8').replace('reject_order_rate: 1', 'reject_order_rate: 0'))
    const recovered = runJson(['--config-dir', config, '--state-dir', state, '--cycles', '2'])
    const resolved = alertsOf(recovered.events).filter((a) => a.code === 'TRIM_RESOLVED')
    assert.equal(resolved.length, 1, 'the episode ends with one resolved message')
    assert.equal(resolved[0].status, 'resolved')
    assert.equal(cyclesOf(recovered.events)[0].trimFailures, 0)
    const audited = query<{kind: string; data: string}>(state, 'bot.sqlite', "SELECT kind, data FROM audit WHERE kind IN ('alert', 'alert_resolved')")
    assert.deepEqual(audited.filter((a) => JSON.parse(a.data).key === 'TRIM_ESCALATION').map((a) => a.kind), ['alert', 'alert_resolved'])
  })

  it('bot trim: a dry run shows the plan and changes nothing; a real one sells through the intents and exits 0', () => {
    const config = rallyConfig(t.dir, {USD: 50_000, BTC: 4})
    const state = path.join(t.dir, 'state')
    const dry = runCli(['trim', '--dry-run', '--json', '--config-dir', config, '--state-dir', state])
    assert.equal(dry.status, 0, dry.stderr)
    const plan = JSON.parse(dry.stdout)
    assert.equal(plan.dryRun, true)
    assert.equal(plan.needed, true)
    assert.ok(plan.exposurePct > plan.capPct && plan.excess > 0)
    assert.ok(plan.sells.length > 0 && plan.sells.every((s: {symbol: string; status: string}) => s.symbol === 'BTC-USD' && s.status === 'would send'))
    assert.ok(plan.exposureAfterPct <= plan.capPct)
    assert.deepEqual(readdirSync(t.dir).filter((f) => f === 'state'), [], 'a dry run on a new state dir creates nothing')

    const real = runCli(['trim', '--json', '--config-dir', config, '--state-dir', state])
    assert.equal(real.status, 0, real.stderr)
    const done = JSON.parse(real.stdout)
    assert.equal(done.dryRun, false)
    assert.ok(done.sells.length > 0 && done.sells.every((s: {status: string; clientOrderId: string}) => s.status === 'open' && s.clientOrderId))
    assert.ok(done.exposureAfterPct <= done.capPct, `${done.exposureAfterPct}% once the sells fill`)
    const rows = query<{action: string; status: string}>(state, 'bot.sqlite', "SELECT action, status FROM orders WHERE action = 'trim'")
    assert.equal(rows.length, done.sells.length, 'each sell went through the intents like any order')

    const human = runCli(['trim', '--dry-run', '--config-dir', config, '--state-dir', state])
    assert.equal(human.status, 1, 'still over the cap until those sells fill (the replay has not moved): exit 1 for cron')
    // Still over the cap needs a person: the report goes to stderr (a cron mail even at logging.level warning).
    assert.match(human.stderr, /symbol +tier +held +value +sell/)
    assert.match(human.stderr, /OPEN_ORDER: open sell order/)
  })

  it('bot trim refuses to trade while a bot runs on the state dir (its loop trims), and a dry run still works', async () => {
    const config = rallyConfig(t.dir, {USD: 50_000, BTC: 4})
    const state = path.join(t.dir, 'state')
    const running = spawn(process.execPath, [BIN, 'run', '--json', '--interval', '5', '--config-dir', config, '--state-dir', state], {stdio: ['ignore', 'pipe', 'ignore']})
    try {
      await new Promise<void>((resolve) => running.stdout.on('data', (d) => String(d).includes('"type":"cycle"') && resolve()))
      const refused = runCli(['trim', '--config-dir', config, '--state-dir', state])
      assert.equal(refused.status, 1)
      assert.match(refused.stderr, /another bot \(pid \d+\) is running on .*: its loop already trims every cycle; `bot trim --dry-run` shows the plan without trading/)
      const dry = runCli(['trim', '--dry-run', '--json', '--config-dir', config, '--state-dir', state])
      // The running loop's own trim sells are on the book (its replay waits 5 s a bar): still over the cap.
      assert.equal(dry.status, 1, dry.stderr)
      const plan = JSON.parse(dry.stdout)
      assert.equal(plan.dryRun, true)
      assert.deepEqual(plan.skipped.map((s: {code: string}) => s.code), ['OPEN_ORDER'])
    } finally {
      running.kill('SIGTERM')
      await new Promise((resolve) => running.on('exit', resolve))
    }
  })
})
