import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {openDatabase, SCHEMA_VERSION} from '../../src/lib/state/database.js'
import {acquireLock} from '../../src/lib/state/lock.js'
import {mulberry32} from '../../src/lib/exchange/replay/candle-files.js'
import {type OrderRow, StateStore} from '../../src/lib/state/store.js'
import {tempDir} from '../helpers/fixtures.js'

describe('state store', () => {
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('creates a WAL database at the current schema version and reopens it unchanged', () => {
    const store = StateStore.open(t.dir)
    store.setMeta('k', 'v')
    store.close()
    const db = openDatabase(path.join(t.dir, 'bot.sqlite'))
    assert.equal(db.pragma('journal_mode', {simple: true}), 'wal')
    assert.equal(db.pragma('user_version', {simple: true}), SCHEMA_VERSION)
    db.close()
    const again = StateStore.open(t.dir)
    assert.equal(again.getMeta('k'), 'v')
    again.close()
  })

  it('refuses a database written by a newer bot', () => {
    const db = openDatabase(path.join(t.dir, 'bot.sqlite'))
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    assert.throws(() => StateStore.open(t.dir), /newer than this bot/)
  })

  it('keeps average cost basis through buys and partial sells', () => {
    const store = StateStore.open(t.dir)
    store.insertOrder({client_order_id: 'a', cycle: 1, leg: 0, time: 1, symbol: 'ETH-USD', side: 'buy', type: 'market', amount: 2, price: 100, action: 'enter', reason: 't', status: 'intent'})
    store.recordFill({client_order_id: 'a', time: 1, symbol: 'ETH-USD', side: 'buy', amount: 1, price: 100, fee: 1})
    store.recordFill({client_order_id: 'a', time: 2, symbol: 'ETH-USD', side: 'buy', amount: 1, price: 200, fee: 1})
    store.recordFill({client_order_id: 'a', time: 3, symbol: 'ETH-USD', side: 'sell', amount: 0.5, price: 300, fee: 1})
    const [pos] = store.positions()
    assert.equal(pos.amount, 1.5)
    assert.ok(Math.abs(pos.cost - 302 * 0.75) < 1e-9)
    store.close()
  })

  // A second connection reads the file itself: the cached answers must equal it after every write.
  it('answers the duplicate window, TWAP slice progress and a cycle\'s conversions exactly as a fresh read of the file, through 400 random writes and rolled-back transactions', () => {
    const store = StateStore.open(t.dir)
    let seed = 7
    const rand = () => {
      const r = mulberry32(seed)
      seed = r.state
      return r.value
    }

    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
    const schedules = ['s1', 's2', 's3']
    store.transaction(() => {
      for (const id of schedules) store.routes.insertSchedule({id, cycle: 1, time: 1000, symbol: 'BTC-USD', side: 'sell', total: 10, slices: 4, spacing_ms: 60_000, sent: 0, next_at: 1000, action: 'trim', reason: 't', status: 'active'})
    })
    const orders: OrderRow[] = []
    let now = 1000
    for (let step = 0; step < 400; step++) {
      now += Math.floor(rand() * 3) * 1000
      const cycle = Math.floor(now / 1000)
      const write = () => {
        const r = rand()
        if (r < 0.35 || orders.length === 0) {
          const row = {client_order_id: `o${step}`, cycle, leg: orders.length, time: now, symbol: 'BTC-USD', side: 'sell' as const, type: 'market' as const, amount: 1 + Math.floor(rand() * 3), price: 100, action: 'trim', reason: 't', status: 'intent' as const, schedule_id: rand() < 0.6 ? pick(schedules) : null}
          store.insertOrder(row)
          orders.push({...row, exchange_order_id: null, filled: 0, average_price: null, fee: 0, error: null})
        } else if (r < 0.85) {
          const o = pick(orders)
          const status = pick(['sent', 'open', 'closed', 'canceled', 'rejected', 'abandoned'] as const)
          const filled = status === 'rejected' || status === 'abandoned' ? 0 : Math.min(o.amount, o.filled + Math.floor(rand() * 2))
          Object.assign(o, {status, filled, error: status === 'rejected' ? 'NO' : null})
          store.updateOrder({...o})
        } else {
          store.routes.insertConversion({id: `c${step}`, cycle, leg: 0, time: now, from_ccy: 'USDC', to_ccy: 'USD', amount: 1, symbol: 'USDC-USD', action: 'convert', reason: 't', status: 'intent'})
        }
      }

      if (rand() < 0.1) {
        const before = orders.map((o) => ({...o}))
        assert.throws(() => store.transaction(() => {
          write()
          throw new Error('rolled back')
        }), /rolled back/)
        orders.splice(0, orders.length, ...before.filter((o) => o.client_order_id !== `o${step}`))
      } else {
        store.transaction(write)
      }

      const fresh = StateStore.open(t.dir)
      try {
        const since = now - Math.floor(rand() * 4) * 1000
        assert.deepEqual(store.recentOrders(since), fresh.recentOrders(since), `recent orders since ${since}, step ${step}`)
        for (const id of schedules) {
          assert.deepEqual(store.routes.sliceProgress(id), fresh.routes.sliceProgress(id), `progress of ${id}, step ${step}`)
          assert.equal(store.routes.lastSliceFailure(id), fresh.routes.lastSliceFailure(id), `last failure of ${id}, step ${step}`)
        }

        for (const c of [cycle - 1, cycle, cycle + 1]) assert.deepEqual(store.routes.cycleConversions(c), fresh.routes.cycleConversions(c), `conversions of cycle ${c}, step ${step}`)
        assert.equal(store.cycleOrderCount(cycle), fresh.cycleOrders(cycle).length)
      } finally {
        fresh.close()
      }
    }

    store.close()
  })
})

describe('audit log', () => {
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('chains entries and detects an edited entry', () => {
    const store = StateStore.open(t.dir)
    store.transaction(() => {
      for (let i = 0; i < 5; i++) store.audit.append(1000 + i, 'test', {i})
    })
    assert.deepEqual(store.audit.verify(), {ok: true, entries: 5, head: store.audit.current(), brokenAt: null, problem: null})
    store.db.exec('DROP TRIGGER audit_no_update') // an attacker with file access can do this too
    store.db.prepare("UPDATE audit SET data = '{\"i\":42}' WHERE seq = 3").run()
    const v = store.audit.verify()
    assert.equal(v.ok, false)
    assert.equal(v.brokenAt, 3)
    assert.equal(v.entries, 5, 'the count is of every entry, not of the verified ones')
    assert.equal(v.head.entries, 2)
    store.close()
  })

  it('refuses updates and deletes through the database', () => {
    const store = StateStore.open(t.dir)
    store.audit.append(1, 'test', {})
    assert.throws(() => store.db.prepare('DELETE FROM audit').run(), /append-only/)
    assert.throws(() => store.db.prepare("UPDATE audit SET kind = 'x'").run(), /append-only/)
    store.close()
  })

  it('keeps the chain consistent when a transaction rolls back', () => {
    const store = StateStore.open(t.dir)
    store.audit.append(1, 'a', {})
    assert.throws(() => store.transaction(() => {
      store.audit.append(2, 'b', {})
      throw new Error('boom')
    }))
    store.audit.append(3, 'c', {})
    assert.equal(store.audit.verify().ok, true)
    assert.equal(store.audit.verify().entries, 2)
    store.close()
  })
})

describe('state dir lock', () => {
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('refuses a second holder and names the pid that holds it', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    try {
      writeFileSync(path.join(t.dir, 'bot.lock'), `${child.pid}\n`)
      assert.throws(() => acquireLock(t.dir), new RegExp(`pid ${child.pid}`))
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('does not mistake a recycled pid for the holder: a live pid that started at another time is stale', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    try {
      writeFileSync(path.join(t.dir, 'bot.lock'), `${child.pid} 1\n`) // start time 1: not this process
      const lock = acquireLock(t.dir)
      lock.release()
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('takes over a stale lock whose process is gone, and releases it', async () => {
    const child = spawn(process.execPath, ['-e', '0'])
    await new Promise((r) => child.on('exit', r))
    writeFileSync(path.join(t.dir, 'bot.lock'), `${child.pid}\n`)
    const lock = acquireLock(t.dir)
    assert.equal(readFileSync(lock.file, 'utf8').split(' ')[0], String(process.pid))
    lock.release()
    assert.equal(existsSync(lock.file), false)
  })
})
