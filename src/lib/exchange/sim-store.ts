import Database from 'better-sqlite3'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import {BotError} from '../errors.js'
import type {CandleSet} from './candle-files.js'
import type {ConvertQuote, ConvertResult, OrderState} from './port.js'

/** An order as the sim keeps it: the public state plus what it still holds reserved. */
export interface SimOrder extends OrderState {
  seq: number
  /** Still reserved for this order: quote currency for a buy, base currency for a sell. */
  reserved: number
}

/** One execution, as the sim records it. */
export interface SimFill {
  seq: number
  orderId: string
  clientOrderId: string
  symbol: string
  side: 'buy' | 'sell'
  amount: number
  price: number
  /** Quote currency. */
  fee: number
  time: number
}

export interface SimCounters {
  /** Timeline index of the last closed bar. */
  cursor: number
  /** mulberry32 state of the fault generator. */
  rng: number
  orderSeq: number
  quoteSeq: number
}

export interface SimSnapshot {
  counters: SimCounters
  balances: Map<string, number>
  orders: SimOrder[]
  fills: SimFill[]
  quotes: Map<string, ConvertQuote>
  converts: Map<string, ConvertResult>
}

/** What a state file was made for; a resumed run must match it. */
export interface SimIdentity {
  fingerprint: string
  /** Human summary of the data set, for the refusal message. */
  dataSummary: string
  startBalances: string
}

/** Fingerprint of a data set (symbols, first/last time, bar count) and of the start balances. */
export function identityOf(data: CandleSet, timeline: Float64Array, startBalances: Record<string, number>): SimIdentity {
  let bars = 0
  for (const s of data.series.values()) bars += s.time.length
  const symbols = [...data.symbols].sort()
  const [first, last] = [timeline[0], timeline.at(-1)!]
  const fingerprint = createHash('sha256').update(JSON.stringify({symbols, first, last, bars})).digest('hex')
  const day = (t: number) => new Date(t).toISOString().slice(0, 16)
  const balances = Object.entries(startBalances).sort(([a], [b]) => (a < b ? -1 : 1))
  return {
    fingerprint,
    dataSummary: `${symbols.length} symbols, ${day(first)} to ${day(last)}, ${bars} bars`,
    startBalances: JSON.stringify(Object.fromEntries(balances)),
  }
}

/** Write-through persistence; every call inside `tx` commits together. */
export interface SimStore {
  tx<T>(fn: () => T): T
  saveCounters(c: SimCounters): void
  saveBalance(currency: string, total: number): void
  saveOrder(o: SimOrder): void
  saveFill(f: SimFill): void
  saveQuote(q: ConvertQuote): void
  saveConvert(r: ConvertResult): void
  close(): void
}

const NOOP = (): void => {}

/** In-memory sim (unit tests): nothing survives the process. */
const memoryStore: SimStore = {
  tx: (fn) => fn(),
  saveCounters: NOOP,
  saveBalance: NOOP,
  saveOrder: NOOP,
  saveFill: NOOP,
  saveQuote: NOOP,
  saveConvert: NOOP,
  close: NOOP,
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sim_counters (id INTEGER PRIMARY KEY CHECK (id = 1), cursor INTEGER NOT NULL,
  rng INTEGER NOT NULL, order_seq INTEGER NOT NULL, quote_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sim_balances (currency TEXT PRIMARY KEY, total REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sim_orders (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
  client_order_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sim_fills (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sim_quotes (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sim_converts (quote_id TEXT PRIMARY KEY, body TEXT NOT NULL);
`

type Db = Database.Database

function readSnapshot(db: Db): SimSnapshot {
  const c = db.prepare('SELECT cursor, rng, order_seq, quote_seq FROM sim_counters WHERE id = 1').get() as
    | {cursor: number; rng: number; order_seq: number; quote_seq: number}
    | undefined
  if (!c) throw new Error('sim_counters row is missing')
  const bodies = <T>(sql: string) => (db.prepare(sql).all() as {body: string}[]).map((r) => JSON.parse(r.body) as T)
  const balances = db.prepare('SELECT currency, total FROM sim_balances').all() as {currency: string; total: number}[]
  return {
    counters: {cursor: c.cursor, rng: c.rng, orderSeq: c.order_seq, quoteSeq: c.quote_seq},
    balances: new Map(balances.map((b) => [b.currency, b.total])),
    orders: bodies<SimOrder>('SELECT body FROM sim_orders ORDER BY seq'),
    fills: bodies<SimFill>('SELECT body FROM sim_fills ORDER BY seq'),
    quotes: new Map(bodies<ConvertQuote>('SELECT body FROM sim_quotes').map((q) => [q.id, q])),
    converts: new Map(bodies<ConvertResult>('SELECT body FROM sim_converts').map((r) => [r.quoteId, r])),
  }
}

function checkIdentity(db: Db, file: string, want: SimIdentity): void {
  const meta = new Map(
    (db.prepare('SELECT key, value FROM sim_meta').all() as {key: string; value: string}[]).map((r) => [r.key, r.value]),
  )
  const advice = 'use another state dir, or delete this file and bot.sqlite beside it to start a new sim run'
  if (meta.get('fingerprint') !== want.fingerprint) {
    throw new BotError(
      `sim state ${file} was made for other market data (${meta.get('data_summary') ?? '?'}; now ${want.dataSummary}): ${advice}`,
      'SIM_STATE_MISMATCH',
    )
  }

  if (meta.get('start_balances') !== want.startBalances) {
    throw new BotError(
      `sim state ${file} was made with start balances ${meta.get('start_balances')}, config says ${want.startBalances}: ${advice}`,
      'SIM_STATE_MISMATCH',
    )
  }
}

function sqliteStore(db: Db): SimStore {
  const counters = db.prepare(
    'UPDATE sim_counters SET cursor = @cursor, rng = @rng, order_seq = @orderSeq, quote_seq = @quoteSeq WHERE id = 1',
  )
  const balance = db.prepare('INSERT OR REPLACE INTO sim_balances (currency, total) VALUES (?, ?)')
  const order = db.prepare('INSERT OR REPLACE INTO sim_orders (seq, id, client_order_id, body) VALUES (?, ?, ?, ?)')
  const fill = db.prepare('INSERT INTO sim_fills (seq, body) VALUES (?, ?)')
  const quote = db.prepare('INSERT OR REPLACE INTO sim_quotes (id, body) VALUES (?, ?)')
  const convert = db.prepare('INSERT INTO sim_converts (quote_id, body) VALUES (?, ?)')
  // One wrapper for all transactions: db.transaction() is too costly to build on every advance().
  const run = db.transaction((fn: () => unknown) => fn())
  return {
    tx: <T>(fn: () => T): T => run(fn) as T,
    saveCounters: (c) => counters.run(c),
    saveBalance: (cur, total) => balance.run(cur, total),
    saveOrder: (o) => order.run(o.seq, o.id, o.clientOrderId, JSON.stringify(o)),
    saveFill: (f) => fill.run(f.seq, JSON.stringify(f)),
    saveQuote: (q) => quote.run(q.id, JSON.stringify(q)),
    saveConvert: (r) => convert.run(r.quoteId, JSON.stringify(r)),
    close: () => db.close(),
  }
}

function initFile(db: Db, identity: SimIdentity, initial: SimSnapshot, runId: string): void {
  db.transaction(() => {
    db.exec(SCHEMA)
    const meta = db.prepare('INSERT INTO sim_meta (key, value) VALUES (?, ?)')
    meta.run('run_id', runId)
    meta.run('fingerprint', identity.fingerprint)
    meta.run('data_summary', identity.dataSummary)
    meta.run('start_balances', identity.startBalances)
    db.prepare('INSERT INTO sim_counters (id, cursor, rng, order_seq, quote_seq) VALUES (1, ?, ?, ?, ?)').run(
      initial.counters.cursor,
      initial.counters.rng,
      initial.counters.orderSeq,
      initial.counters.quoteSeq,
    )
    const balance = db.prepare('INSERT INTO sim_balances (currency, total) VALUES (?, ?)')
    for (const [cur, total] of initial.balances) balance.run(cur, total)
  })()
}

function openDb(file: string, create: boolean): Db {
  try {
    const db = new Database(file, {fileMustExist: !create})
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    return db
  } catch (error) {
    throw new BotError(`cannot open sim state ${file}: ${(error as Error).message}`, 'SIM_STATE_UNREADABLE')
  }
}

/** The run a sim state file belongs to (see StateRun): it pairs with bot.sqlite, never alone. */
export interface SimRun {
  id: string
  /** bot.sqlite holds cycles or orders, so this account must already exist. */
  hasHistory: boolean
  /** bot.sqlite has stored the id; false for state made before run ids existed. */
  bound: boolean
}

function present(file: string): boolean {
  try {
    fs.lstatSync(file)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

function hasHistory(db: Db, start: number): boolean {
  const n = (sql: string) => (db.prepare(sql).get() as {n: number}).n
  const cursor = (db.prepare('SELECT cursor FROM sim_counters WHERE id = 1').get() as {cursor: number} | undefined)?.cursor
  return n('SELECT count(*) AS n FROM sim_orders') + n('SELECT count(*) AS n FROM sim_converts') > 0 || (cursor !== undefined && cursor !== start)
}

/** Refuses (changing nothing) unless this file and bot.sqlite are one run; binds a file made before run ids. */
function checkRun(db: Db, file: string, run: SimRun, start: number): void {
  const stored = (db.prepare("SELECT value FROM sim_meta WHERE key = 'run_id'").get() as {value: string} | undefined)?.value
  const dir = path.dirname(file)
  const mismatch = () => new BotError(`${file} holds a run that bot.sqlite in ${dir} does not know: delete sim-exchange.sqlite too to start over, or use the state dir that made it`, 'STATE_MISMATCH')
  if (stored !== undefined) {
    if (stored !== run.id) throw mismatch()
    return
  }

  if (run.bound || hasHistory(db, start) !== run.hasHistory) throw mismatch()
  db.prepare("INSERT INTO sim_meta (key, value) VALUES ('run_id', ?)").run(run.id)
}

/**
 * Opens the sim's state: in memory when `file` is null, else the SQLite file of this run, created with
 * `initial` or resumed from what it holds. Refused, with the file left as it was, when it belongs to another
 * run, data set or start balances, or when bot.sqlite has history but the file is gone.
 */
export function openSimStore(
  file: string | null,
  identity: SimIdentity,
  initial: SimSnapshot,
  run: SimRun = {id: 'memory', hasHistory: false, bound: true},
): {store: SimStore; snapshot: SimSnapshot; resumed: boolean} {
  if (file === null) return {store: memoryStore, snapshot: initial, resumed: false}
  const missing = (what: string) => new BotError(`${file} ${what} but bot.sqlite in ${path.dirname(file)} holds a run: they belong together; restore the sim file, or delete bot.sqlite too to start over`, 'STATE_MISMATCH')
  if (!present(file)) {
    if (run.hasHistory) throw missing('is missing')
    return createSimFile(file, identity, initial, run)
  }

  const db = openDb(file, false)
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sim_meta'").get()
    if (!exists) {
      // Created but never initialized: a start cut short by a crash.
      if (run.hasHistory) throw missing('holds no account')
      initFile(db, identity, initial, run.id)
      return {store: sqliteStore(db), snapshot: initial, resumed: false}
    }

    checkIdentity(db, file, identity)
    checkRun(db, file, run, initial.counters.cursor)
    return {store: sqliteStore(db), snapshot: readSnapshot(db), resumed: true}
  } catch (error) {
    db.close()
    if (error instanceof BotError) throw error
    throw new BotError(`cannot read sim state ${file}: ${(error as Error).message}`, 'SIM_STATE_UNREADABLE')
  }
}

function createSimFile(file: string, identity: SimIdentity, initial: SimSnapshot, run: SimRun): {store: SimStore; snapshot: SimSnapshot; resumed: boolean} {
  const db = openDb(file, true)
  try {
    initFile(db, identity, initial, run.id)
  } catch (error) {
    db.close()
    throw new BotError(`cannot create sim state ${file}: ${(error as Error).message}`, 'SIM_STATE_UNREADABLE')
  }

  return {store: sqliteStore(db), snapshot: initial, resumed: false}
}
