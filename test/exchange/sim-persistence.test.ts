import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {ConvertQuote} from '../../src/lib/domain.js'
import {BotError} from '../../src/lib/errors.js'
import {BUNDLED_DATA_DIR, type CandleSet, loadCandleDir} from '../../src/lib/exchange/replay/candle-files.js'
import {marketOrder} from '../helpers/sim.js'
import {bundledData, openSimVenue, type SimVenue, TEST_RUN} from '../helpers/sim-venue.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const START = {USD: 50_000, ETH: 3}
const RESUMED = {...TEST_RUN, hasHistory: true}

const digest = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')

describe('sim broker persistence', () => {
  let tmp: string
  let file: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-sim-state-'))
    file = path.join(tmp, 'sim-exchange.sqlite')
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  interface Open {
    sim?: Record<string, unknown>
    stateFile?: string | null
    data?: CandleSet
    /** Resume at this time, as bot.sqlite's last cycle says; the account must then exist. */
    resumeAt?: number
    runId?: string
  }

  function openSim(o: Open = {}): SimVenue {
    const resumed = o.resumeAt !== undefined
    return openSimVenue({
      sim: {start_balances: START, ...o.sim}, data: o.data, stateFile: o.stateFile === undefined ? file : o.stateFile,
      run: {id: o.runId ?? TEST_RUN.id, hasHistory: resumed}, replay: {resumeAt: o.resumeAt ?? null},
    })
  }

  const reopen = (v: SimVenue, o: Open = {}) => openSim({resumeAt: v.replay.now(), ...o})

  /** Everything a client can observe. */
  async function observe({broker: sim, replay}: SimVenue) {
    const ids = ['p1', 'p2', 'p3', 'p4']
    return {
      now: replay.now(),
      balances: await sim.balances(),
      open: await sim.openOrders(),
      orders: await Promise.all(ids.map((id) => sim.fetchOrderByClientId(id, ''))),
      recent: await sim.recentOrders('BTC-USD', 0),
      fills: await sim.fills(0),
      tickers: await replay.tickers(['BTC-USD', 'ETH-USD']),
    }
  }

  /** Trades a little: fills, a resting limit order, a convert, an uncommitted quote. */
  async function trade({broker: sim, step}: SimVenue): Promise<ConvertQuote> {
    await sim.createOrder(marketOrder('p1', 'BTC-USD', 'buy', 0.1))
    await sim.createOrder({clientOrderId: 'p2', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.2, price: 1000})
    await step()
    await sim.createOrder(marketOrder('p3', 'ETH-USD', 'sell', 1))
    await step()
    await sim.convertCommit(await sim.convertQuote('ETH', 'USD', 0.5))
    return sim.convertQuote('USD', 'ETH', 100)
  }

  it('resumes exactly where it stopped: balances, orders, fills, quotes', async () => {
    const first = openSim()
    const pending = await trade(first)
    const before = await observe(first)
    await first.broker.close()
    assert.ok(fs.existsSync(file))

    const again = reopen(first)
    assert.deepEqual(await observe(again), before)
    assert.equal((await again.broker.convertCommit(pending)).status, 'completed')

    // Same path, never interrupted, in memory: both must end in the same place.
    const twin = openSim({stateFile: null})
    await twin.broker.convertCommit(await trade(twin))
    for (const v of [again, twin]) {
      await v.broker.cancelOrder('sim-2', 'BTC-USD')
      await v.broker.createOrder(marketOrder('p4', 'SOL-USD', 'buy', 10))
      for (let i = 0; i < 3; i++) await v.step()
    }

    assert.deepEqual(await observe(again), await observe(twin))
    assert.equal((await again.broker.fetchOrderByClientId('p4', 'SOL-USD'))!.id, 'sim-4')
    await again.broker.close()
  })

  it('fills, on reopening, the bars that closed while nothing asked it', async () => {
    const first = openSim()
    const twin = openSim({stateFile: null})
    for (const v of [first, twin]) {
      await v.broker.createOrder(marketOrder('p1', 'BTC-USD', 'buy', 0.1))
      await v.step()
      await v.step()
    }

    await first.broker.close() // stopped after the bars closed, before anything asked
    const again = reopen(first)
    assert.equal((await again.broker.fills(0)).length, 1)
    assert.deepEqual(await observe(again), await observe(twin))
    await again.broker.close()
  })

  it('continues the fault sequence after a restart', async () => {
    const faults = {reject_order_rate: 0.5, seed: 3}
    const statuses = async (v: SimVenue, from: number, to: number) => {
      const out: string[] = []
      for (let i = from; i < to; i++) out.push((await v.broker.createOrder(marketOrder(`r${i}`, 'BTC-USD', 'buy', 0.001))).status)
      return out
    }

    const reference = await statuses(openSim({sim: {faults}, stateFile: null}), 0, 12)
    assert.ok(reference.includes('rejected') && reference.includes('open'), reference.join())
    const a = openSim({sim: {faults}})
    const head = await statuses(a, 0, 6)
    await a.broker.close()
    const b = reopen(a, {sim: {faults}})
    assert.deepEqual([...head, ...(await statuses(b, 6, 12))], reference)
    await b.broker.close()
  })

  it('refuses, changing nothing, a file made for other market data, start balances or run', async () => {
    const first = openSim()
    await first.broker.createOrder(marketOrder('p1', 'BTC-USD', 'buy', 0.1))
    await first.broker.close()
    const made = digest(file)
    const subset = loadCandleDir(BUNDLED_DATA_DIR, ['BTC-USD', 'ETH-USD'])
    const refused = (code: string, words: string) => (e: Error) => e instanceof BotError && e.code === code && e.message.includes(file) && e.message.includes(words)
    assert.throws(() => reopen(first, {data: subset}), refused('SIM_STATE_MISMATCH', 'other market data (26 symbols; now 2 symbols)'))
    assert.throws(() => reopen(first, {sim: {start_balances: {USD: 1}}}), refused('SIM_STATE_MISMATCH', 'start balances'))
    assert.throws(() => reopen(first, {runId: 'another-run'}), refused('STATE_MISMATCH', 'holds a run that bot.sqlite'))
    assert.equal(digest(file), made)
    const again = reopen(first)
    assert.equal((await again.broker.fetchOrderByClientId('p1', 'BTC-USD'))!.status, 'open')
    await again.broker.close()
  })

  it('refuses a file of an earlier version of bot (format 1)', () => {
    // The layout bot wrote before the account was split from the replay: the cursor lived in the file.
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.exec(`CREATE TABLE sim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sim_counters (id INTEGER PRIMARY KEY CHECK (id = 1), cursor INTEGER NOT NULL, rng INTEGER NOT NULL, order_seq INTEGER NOT NULL, quote_seq INTEGER NOT NULL);
CREATE TABLE sim_balances (currency TEXT PRIMARY KEY, total REAL NOT NULL);
CREATE TABLE sim_orders (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, client_order_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
INSERT INTO sim_meta VALUES ('run_id', '${TEST_RUN.id}'), ('fingerprint', 'x'), ('data_summary', '26 symbols'), ('start_balances', '{"ETH":3,"USD":50000}');
INSERT INTO sim_counters VALUES (1, 100, 1, 0, 0);
INSERT INTO sim_balances VALUES ('USD', 50000), ('ETH', 3);`)
    db.close()
    const made = digest(file)
    const refused = (e: Error) => e instanceof BotError && e.code === 'SIM_STATE_MISMATCH' && e.message.includes(file) && /earlier version of bot \(format 1\)/.test(e.message) && !e.message.includes('\n')
    const at = bundledData().series.get('BTC-USD')!.time.at(-5)! + 3_600_000
    assert.throws(() => openSim({resumeAt: at}), refused)
    assert.equal(digest(file), made)
  })

  it('refuses to start over when bot.sqlite has history but the file is gone or empty', async () => {
    const at = openSim({stateFile: null}).replay.now()
    const refused = (words: string) => (e: Error) => e instanceof BotError && e.code === 'STATE_MISMATCH' && e.message.includes(file) && e.message.includes(words)
    assert.throws(() => openSim({resumeAt: at}), refused('is missing'))
    assert.equal(fs.existsSync(file), false, 'nothing was created')

    fs.writeFileSync(file, '') // created, then the start was cut short
    assert.throws(() => openSim({resumeAt: at}), refused('holds no account'))
    const fresh = openSim()
    assert.deepEqual(await fresh.broker.balances(), {ETH: {free: 3, total: 3}, USD: {free: 50_000, total: 50_000}})
    await fresh.broker.close()
  })

  it('keeps what it acknowledged when the process is killed right after', async function () {
    this.timeout(60_000)
    const script = path.join(tmp, 'killed.mts')
    fs.writeFileSync(
      script,
      `import {openSimVenue} from ${JSON.stringify(path.join(ROOT, 'test/helpers/sim-venue.ts'))}
const {broker, replay, step} = openSimVenue({sim: {start_balances: ${JSON.stringify(START)}}, stateFile: process.argv[2]})
await broker.createOrder({clientOrderId: 'k1', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.1})
await step()
await broker.createOrder({clientOrderId: 'k2', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.1, price: 1000})
process.stdout.write(JSON.stringify({now: replay.now(), balances: await broker.balances()}))
process.kill(process.pid, 'SIGKILL')
`,
    )
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, file], {cwd: ROOT, encoding: 'utf8'})
    assert.equal(r.signal, 'SIGKILL', r.stderr)
    const seen = JSON.parse(r.stdout) as {now: number; balances: unknown}
    assert.equal(seen.now, openSim({stateFile: null}).replay.now() + 3_600_000)
    const {broker: sim} = openSim({resumeAt: seen.now})
    assert.deepEqual(await sim.balances(), seen.balances)
    assert.equal((await sim.fetchOrderByClientId('k1', 'BTC-USD'))!.status, 'closed')
    assert.deepEqual((await sim.openOrders()).map((o) => o.clientOrderId), ['k2'])
    assert.equal((await sim.fills(0)).length, 1)
    await sim.close()
  })
})
