import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Broker} from '../../src/lib/exchange/ports.js'
import type {Engine} from '../../src/lib/engine/context.js'
import {nextCycle, type OwnOrders, runCycle} from '../../src/lib/engine/cycle.js'
import type {EngineEvent} from '../../src/lib/engine/events.js'
import {openEngine, type OpenedEngine} from '../../src/lib/engine/open.js'
import type {ScheduleRow} from '../../src/lib/state/routes.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'
import {query, simAccount} from '../helpers/run.js'

/**
 * TWAP schedules and converts in the engine itself, on the simulated exchange: a crash between "accepted"
 * and "recorded", the kill switch between slices, dust, partial fills. Each test opens the engine the way a
 * command does, runs cycles of kind 'convert' (no strategy, no trim: only what the test asks for, and the
 * slices that fall due) and re-opens it where a process would have died.
 */
describe('TWAP schedules and converts, through the engine', function () {
  this.timeout(120_000)
  let t: ReturnType<typeof tempDir>
  let config: string
  let state: string
  let opened: OpenedEngine | null = null
  let events: EngineEvent[]

  /** AAVE-USD is tier3 in the shipped universe: 4 slices, 60 s apart (one per bar on the hourly replay). */
  function setup(edit: (app: string) => string = (a) => a, policy: (p: string) => string = (p) => p): void {
    t = tempDir()
    config = configCopy(t.dir)
    state = path.join(t.dir, 'state')
    const rewrite = (name: string, fn: (text: string) => string) => writeFileSync(path.join(config, name), fn(readFileSync(path.join(config, name), 'utf8')))
    rewrite('app.yaml', (a) => edit(a.replace(/ {6}USD: 100000\n/, '      USD: 100000\n      AAVE: 40\n      BTC: 1\n').replace('enabled: true', 'enabled: false')))
    rewrite('policy.yaml', policy)
  }

  async function open(): Promise<Engine> {
    events = []
    opened = await openEngine({configDir: config, stateDir: state, observe: (e) => events.push(e)}, 'once')
    return opened.engine
  }

  async function close(): Promise<void> {
    await opened?.close()
    opened = null
  }

  afterEach(async () => {
    await close()
    t.cleanup()
  })

  /** The next cycle, one bar after the last (a replay's clock moves bar by bar). */
  async function cycle(engine: Engine, own?: OwnOrders) {
    const last = engine.store.lastCycle()
    if (last) assert.ok(await engine.clock.sleepUntil(engine.clock.now() + 1, new AbortController().signal), 'the replay has a next bar')
    return runCycle(engine, nextCycle(engine, 'convert'), own)
  }

  /** The engine's broker, but the process "dies" as soon as the exchange has done `method`: nothing after it runs. */
  function crashAfter(engine: Engine, method: 'createOrder' | 'convertCommit'): void {
    const real = engine.broker
    const crashing = Object.create(real) as Broker
    crashing[method] = (async (arg: never) => {
      await (real[method] as (a: never) => Promise<unknown>).call(real, arg)
      throw new Error(`crash after ${method}`)
    }) as never
    engine.broker = crashing
  }

  /** Sells `amount` of `symbol` through the engine's route, as `bot convert` would. */
  const sell = (symbol: string, tier: string, amount: number): OwnOrders => (snap) => ({
    orders: [{symbol, tier, side: 'sell', amount, price: snap.market.tickers.get(symbol)!.bid, action: 'convert', reason: 'test sell'}], denied: [],
  })

  const schedules = () => query<ScheduleRow>(state, 'bot.sqlite', 'SELECT * FROM schedules ORDER BY cycle')
  const sliceOrders = (id: string) => query<{client_order_id: string; cycle: number; amount: number; filled: number; status: string}>(state, 'bot.sqlite', 'SELECT client_order_id, cycle, amount, filled, status FROM orders WHERE schedule_id = ? ORDER BY cycle', id)

  /** Until nothing of the schedule is left to send or on the way (at most `max` cycles). */
  async function untilSettled(engine: Engine, id: string, max = 20): Promise<void> {
    for (let i = 0; i < max; i++) {
      const s = engine.store.routes.schedule(id)!
      const pending = engine.store.liveOrders().some((o) => o.schedule_id === id)
      if (s.status !== 'active' && !pending) return
      await cycle(engine)
    }

    assert.fail(`schedule ${id} did not settle in ${max} cycles`)
  }

  it('a crash after the exchange accepted a slice but before bot recorded it: no second order after the restart, its fill counted once', async () => {
    setup()
    let engine = await open()
    // The process "dies" right after the exchange accepted the first order: nothing after it runs.
    crashAfter(engine, 'createOrder')
    await assert.rejects(cycle(engine, sell('AAVE-USD', 'tier3', 40)), /crash after createOrder/)
    await close()
    const [schedule] = schedules()
    assert.equal(schedule.slices, 4)
    const [first] = sliceOrders(schedule.id)
    assert.equal(first.status, 'intent', 'bot.sqlite never heard back')

    engine = await open()
    const last = engine.store.lastCycle()!
    assert.equal(last.status, 'planned')
    // Finished as the same cycle, as `bot run` does after a crash.
    await runCycle(engine, {cycle: last.cycle, now: engine.clock.now(), resumed: true, kind: 'convert'})
    await untilSettled(engine, schedule.id)
    await close()

    const slices = sliceOrders(schedule.id)
    assert.equal(slices.length, 4)
    assert.ok(slices.every((s) => s.status === 'closed'), JSON.stringify(slices))
    assert.equal(new Set(slices.map((s) => s.cycle)).size, 4, 'one slice per cycle')
    const account = await simAccount(state, config)
    const simOrders = account.fills.filter((f) => f.symbol === 'AAVE-USD')
    const byId = new Map<string, number>()
    for (const f of simOrders) byId.set(f.clientOrderId, (byId.get(f.clientOrderId) ?? 0) + f.amount)
    assert.deepEqual([...byId.keys()].sort(), slices.map((s) => s.client_order_id).sort(), 'the exchange has exactly the four slices, the first one once')
    const sold = [...byId.values()].reduce((a, b) => a + b, 0)
    assert.ok(Math.abs(sold - 40) < 1e-9, `sold ${sold}`)
    assert.equal(account.balances.AAVE?.total ?? 0, 0)
    const fills = query<{n: number}>(state, 'bot.sqlite', "SELECT count(*) AS n FROM fills WHERE symbol = 'AAVE-USD'")[0].n
    assert.equal(fills, simOrders.length, 'each of the exchange\'s fills booked once')
    assert.equal(schedules()[0].status, 'done')
  })

  it('a crash after a convert was committed but before bot recorded it: committed again after the restart, done once', async () => {
    setup((a) => a.replace('convert_supported: false', 'convert_supported: true'))
    let engine = await open()
    const before = (await engine.broker.balances()).USD.total
    crashAfter(engine, 'convertCommit')
    await assert.rejects(cycle(engine, sell('BTC-USD', 'tier1', 0.1)), /crash after convertCommit/)
    await close()
    const [row] = query<{id: string; status: string; quote: string | null}>(state, 'bot.sqlite', 'SELECT id, status, quote FROM conversions')
    assert.equal(row.status, 'quoted', 'the quote was held before the commit left')

    engine = await open()
    const last = engine.store.lastCycle()!
    await runCycle(engine, {cycle: last.cycle, now: engine.clock.now(), resumed: true, kind: 'convert'})
    await close()
    const [done] = query<{status: string; received: number; attempts: number}>(state, 'bot.sqlite', 'SELECT status, received, attempts FROM conversions')
    assert.equal(done.status, 'completed')
    assert.equal(done.attempts, 1)
    const account = await simAccount(state, config)
    assert.ok(Math.abs(account.balances.BTC.total - 0.9) < 1e-12, 'BTC left the account once')
    assert.ok(Math.abs(account.balances.USD.total - (before + done.received)) < 1e-6, 'USD arrived once')
    assert.equal(query(state, 'bot.sqlite', 'SELECT * FROM orders').length, 0, 'no fallback order')
    const positions = query<{amount: number}>(state, 'bot.sqlite', "SELECT amount FROM positions WHERE symbol = 'BTC-USD'")
    assert.ok(Math.abs(positions[0].amount - 0.9) < 1e-12, `the position moved once: ${JSON.stringify(query(state, 'bot.sqlite', 'SELECT * FROM positions'))}`)
  })

  it('the kill switch stops a schedule between slices: no slice after it, the rest free again', async () => {
    setup()
    const engine = await open()
    await cycle(engine, sell('AAVE-USD', 'tier3', 40))
    await cycle(engine) // slice 1 fills on this bar
    await cycle(engine) // slice 2
    const [schedule] = schedules()
    const sent = sliceOrders(schedule.id).length
    writeFileSync(path.join(state, 'KILL_SWITCH'), '')
    events = []
    await cycle(engine)
    const stopped = events.find((e) => e.type === 'twap')
    assert.ok(stopped, 'a twap event')
    assert.deepEqual({status: stopped.status, id: stopped.id}, {status: 'stopped', id: schedule.id})
    assert.match(stopped.note, /KILL_SWITCH/)
    await cycle(engine)
    assert.equal(sliceOrders(schedule.id).length, sent, 'no slice while the switch is on')
    // Removed: the stopped schedule stays stopped (a person decides again); its coins are free to sell.
    const {rmSync} = await import('node:fs')
    rmSync(path.join(state, 'KILL_SWITCH'))
    await cycle(engine)
    await cycle(engine)
    assert.equal(sliceOrders(schedule.id).length, sent)
    assert.equal(schedules()[0].status, 'stopped')
    const audit = query<{kind: string; data: string}>(state, 'bot.sqlite', "SELECT kind, data FROM audit WHERE kind = 'twap_end'")
    assert.equal(audit.length, 1)
    assert.match(audit[0].data, /"status":"stopped"/)
    const balances = await engine.broker.balances()
    const filled = sliceOrders(schedule.id).reduce((n, s) => n + s.filled, 0)
    assert.ok(Math.abs(balances.AAVE.free - (40 - filled)) < 1e-9, 'nothing of it is held any more')
  })

  it('a remainder the exchange would refuse ends the schedule as dust: reported once, never retried', async () => {
    setup()
    const engine = await open()
    await cycle(engine, sell('AAVE-USD', 'tier3', 40))
    const [schedule] = schedules()
    await cycle(engine) // slice 1 fills; slice 2 goes out
    // Someone sells nearly all the rest on the exchange directly: the schedule finds 0.001 AAVE (about 0.1 USD).
    await cycle(engine)
    const free = (await engine.broker.balances()).AAVE.free
    await engine.broker.createOrder({clientOrderId: 'by-hand-1', symbol: 'AAVE-USD', side: 'sell', type: 'market', amount: Number((free - 0.001).toFixed(4))})
    events = []
    for (let i = 0; i < 4; i++) await cycle(engine)
    const ends = events.filter((e): e is Extract<EngineEvent, {type: 'twap'}> => e.type === 'twap')
    assert.equal(ends.length, 1, JSON.stringify(ends))
    assert.equal(ends[0].status, 'dust')
    assert.match(ends[0].note, /below the exchange minimum/)
    assert.equal(schedules()[0].status, 'dust')
    assert.ok(sliceOrders(schedule.id).length < 4, 'no slice was sent for the dust')
    const denied = events.filter((e) => e.type === 'denied')
    assert.equal(denied.length, 0, 'dust is not retried as an order the checks deny every cycle')
  })

  it('partial fills carry into the next slice: a slice waits for the last one\'s fills, and what one left unfilled the next ones sell', async () => {
    // 0.02% of an AAVE hourly bar's volume is a fraction of a slice: each slice fills over several bars.
    setup((a) => a.replace('max_fill_pct_of_bar_volume: 10', 'max_fill_pct_of_bar_volume: 0.02'))
    const engine = await open()
    await cycle(engine, sell('AAVE-USD', 'tier3', 40))
    const [schedule] = schedules()
    await cycle(engine)
    await cycle(engine)
    const [first] = sliceOrders(schedule.id)
    assert.ok(first.filled > 0 && first.filled < first.amount, `slice 1 part-filled: ${first.filled} of ${first.amount}`)
    assert.equal(sliceOrders(schedule.id).length, 1, 'the next slice waits while this one fills')
    // The exchange ends it part-filled (as one may cancel the rest of a market order).
    const row = engine.store.liveOrders().find((o) => o.client_order_id === first.client_order_id)!
    await engine.broker.cancelOrder(row.exchange_order_id!, 'AAVE-USD')
    await cycle(engine)
    const [one, two] = sliceOrders(schedule.id)
    assert.equal(one.status, 'canceled')
    // What is left, evenly over the three slices left, on the 0.0001 step (AAVE-USD's in the sim).
    const expected = Math.floor(((40 - one.filled) / 3) * 1e4 + 1e-6) / 1e4
    assert.ok(Math.abs(two.amount - expected) < 1e-9, `slice 2 is ${two.amount}, expected ${expected}`)
    assert.ok(two.amount > first.amount, 'it carries what slice 1 left unfilled')
    const openAtOnce: number[] = []
    for (let i = 0; i < 200; i++) {
      const live = engine.store.liveOrders().filter((o) => o.schedule_id === schedule.id)
      openAtOnce.push(live.length)
      if (engine.store.routes.schedule(schedule.id)!.status !== 'active' && live.length === 0) break
      await cycle(engine)
    }

    const slices = sliceOrders(schedule.id)
    assert.equal(slices.length, 4)
    assert.ok(Math.max(...openAtOnce) <= 1, 'never two slices of one schedule on the way at once')
    const total = slices.reduce((n, x) => n + x.filled, 0)
    assert.ok(Math.abs(total - 40) < 1e-9, `filled ${total}`)
    assert.equal(schedules()[0].status, 'done')
  })
})
