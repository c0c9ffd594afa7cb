import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import path from 'node:path'

import {BIN} from '../helpers/cli.js'
import {tempDir} from '../helpers/fixtures.js'
import {query, runJson, simAccount} from '../helpers/run.js'

/** mulberry32: the kill points are random but reproducible from the seed in the test title. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Start `bot run`, SIGKILL it after `delay` ms counted from spawn or from its first cycle line. Resolves true if it was killed. */
function runAndKill(stateDir: string, delay: number, afterFirstCycle: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', '--json', '--state-dir', stateDir], {stdio: ['ignore', 'pipe', 'ignore']})
    let killed = false
    const kill = () => {
      if (child.exitCode === null) {
        killed = true
        child.kill('SIGKILL')
      }
    }

    if (afterFirstCycle) {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('"type":"cycle"') && setTimeout(kill, delay))
    } else {
      setTimeout(kill, delay)
      child.stdout.resume()
    }

    child.on('exit', () => resolve(killed))
  })
}

const SEED = 20_231_129

describe(`crash safety: SIGKILL at random points (seed ${SEED})`, function () {
  this.timeout(600_000)
  let t: ReturnType<typeof tempDir>
  before(() => { t = tempDir() })
  after(() => t.cleanup())

  it('survives at least 20 kills in one run: nothing executed twice, audit and database intact, same final portfolio', async () => {
    const random = rng(SEED)
    const crashDir = path.join(t.dir, 'crashed')
    let kills = 0
    for (let attempt = 0; kills < 20 && attempt < 200; attempt++) {
      // Mostly mid-replay (right after some cycle), sometimes during start-up or warm-up.
      const midRun = random() < 0.75
      if (await runAndKill(crashDir, midRun ? random() * 60 : random() * 400, midRun)) kills++
    }

    assert.ok(kills >= 20, `only ${kills} kills landed`)
    const finished = runJson(['--state-dir', crashDir])
    assert.equal(finished.status, 0, finished.stderr)
    const clean = runJson(['--state-dir', path.join(t.dir, 'clean')])

    // No client order id executed twice: one row per id here and on the exchange, never filled past its amount.
    const ours = query<{client_order_id: string; amount: number; side: string; symbol: string}>(crashDir, 'bot.sqlite', "SELECT client_order_id, symbol, side, amount FROM orders WHERE status <> 'abandoned' ORDER BY cycle, leg")
    const theirs = query<typeof ours[number]>(path.join(t.dir, 'clean'), 'bot.sqlite', "SELECT client_order_id, symbol, side, amount FROM orders WHERE status <> 'abandoned' ORDER BY cycle, leg")
    assert.deepEqual(ours, theirs, 'the same orders as an uninterrupted run, in the same order')
    // TWAP schedules (tier-2 and tier-3 exits) resumed across the kills: the same schedules, ended the same way,
    // and no slice sent twice (each slice is one of the orders above).
    const schedulesOf = (dir: string) => query<{id: string; total: number; sent: number; status: string}>(dir, 'bot.sqlite', 'SELECT id, total, sent, status FROM schedules ORDER BY id')
    const crashedSchedules = schedulesOf(crashDir)
    assert.ok(crashedSchedules.length > 10, `the run sold through TWAP schedules (${crashedSchedules.length})`)
    assert.deepEqual(crashedSchedules, schedulesOf(path.join(t.dir, 'clean')))
    const account = await simAccount(crashDir)
    const filled = new Map<string, number>()
    for (const f of account.fills) filled.set(f.clientOrderId, (filled.get(f.clientOrderId) ?? 0) + f.amount)
    const amount = new Map(ours.map((o) => [o.client_order_id, o.amount]))
    for (const [id, qty] of filled) assert.ok(qty <= amount.get(id)! * (1 + 1e-12), `${id} filled ${qty} > ${amount.get(id)}`)

    // Audit chain and SQLite integrity.
    assert.equal(finished.summary.auditOk, true)
    for (const file of ['bot.sqlite', 'sim-exchange.sqlite']) {
      assert.deepEqual(query(crashDir, file, 'PRAGMA integrity_check'), [{integrity_check: 'ok'}])
    }

    // Same final portfolio as the uninterrupted run.
    const cleanAccount = await simAccount(path.join(t.dir, 'clean'))
    assert.deepEqual(account.balances, cleanAccount.balances)
    assert.equal(finished.summary.equity, clean.summary.equity)
    assert.equal(finished.summary.cycles, clean.summary.cycles)
  })
})
