import Database from 'better-sqlite3'
import fs from 'node:fs'
import path from 'node:path'

import type {ConvertQuote, ConvertResult} from '../../domain.js'
import {BotError} from '../../errors.js'
import type {SimFill, SimOrder} from './fill-model.js'

export interface SimCounters {
  /** mulberry32 state of the fault generator. */
  rng: number
  orderSeq: number
  quoteSeq: number
}

/** What the broker keeps in memory: the rest (done orders, fills, quotes) is read from the store on demand. */
export interface SimSnapshot {
  counters: SimCounters
  balances: Map<string, number>
  openOrders: SimOrder[]
}

/** What an account file was made for; a resumed run must match it. */
export interface SimIdentity {
  /** The market the account trades (a replay's data set, or an exchange for paper trading). */
  market: string
  /** Human summary of it, for the refusal message. */
  marketSummary: string
  startBalances: string
}

/** The run of the state dir the file belongs to (see StateRun): it pairs with bot.sqlite, never alone. */
export interface SimRun {
  id: string
  /** bot.sqlite holds cycles or orders, so this account must already exist. */
  hasHistory: boolean
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
  order(id: string): SimOrder | undefined
  orderByClientId(clientOrderId: string): SimOrder | undefined
  recentOrders(symbol: string, since: number): SimOrder[]
  /** Executions with seq > afterSeq, oldest first. */
  fills(afterSeq: number): SimFill[]
  fillCount(): number
  quote(id: string): ConvertQuote | undefined
  convert(quoteId: string): ConvertResult | undefined
  close(): void
}

const copy = <T>(x: T): T => structuredClone(x)

/** In-memory account (unit tests): nothing survives the process. */
function memoryStore(): SimStore {
  const orders = new Map<string, SimOrder>()
  const byClientId = new Map<string, string>()
  const fills: SimFill[] = []
  const quotes = new Map<string, ConvertQuote>()
  const converts = new Map<string, ConvertResult>()
  return {
    tx: (fn) => fn(),
    saveCounters: () => {},
    saveBalance: () => {},
    saveOrder: (o) => {
      orders.set(o.id, copy(o))
      byClientId.set(o.clientOrderId, o.id)
    },
    saveFill: (f) => fills.push(copy(f)),
    saveQuote: (q) => quotes.set(q.id, copy(q)),
    saveConvert: (r) => converts.set(r.quoteId, copy(r)),
    order: (id) => copy(orders.get(id)),
    orderByClientId: (cid) => copy(orders.get(byClientId.get(cid) ?? '')),
    recentOrders: (symbol, since) => [...orders.values()].filter((o) => o.symbol === symbol && o.createdAt >= since).map(copy),
    fills: (after) => fills.slice(Math.max(0, after)).map(copy),
    fillCount: () => fills.length,
    quote: (id) => copy(quotes.get(id)),
    convert: (id) => copy(converts.get(id)),
    close: () => {},
  }
}

/** Format 2: the account alone (no replay cursor); orders carry what their fills need. */
const FORMAT = '2'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sim_counters (id INTEGER PRIMARY KEY CHECK (id = 1), rng INTEGER NOT NULL,
  order_seq INTEGER NOT NULL, quote_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sim_balances (currency TEXT PRIMARY KEY, total REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sim_orders (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
  client_order_id TEXT NOT NULL UNIQUE, symbol TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sim_orders_open ON sim_orders(status);
CREATE INDEX IF NOT EXISTS sim_orders_symbol ON sim_orders(symbol, created_at);
CREATE TABLE IF NOT EXISTS sim_fills (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sim_quotes (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sim_converts (quote_id TEXT PRIMARY KEY, body TEXT NOT NULL);
`

type Db = Database.Database

function sqliteStore(db: Db, writable = true): SimStore {
  const p = (sql: string) => db.prepare(sql)
  if (!writable) return lookups(db, p)
  const counters = p('UPDATE sim_counters SET rng = @rng, order_seq = @orderSeq, quote_seq = @quoteSeq WHERE id = 1')
  const balance = p('INSERT OR REPLACE INTO sim_balances (currency, total) VALUES (?, ?)')
  const order = p('INSERT OR REPLACE INTO sim_orders (seq, id, client_order_id, symbol, status, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const fill = p('INSERT INTO sim_fills (seq, body) VALUES (?, ?)')
  const quote = p('INSERT OR REPLACE INTO sim_quotes (id, body) VALUES (?, ?)')
  const convert = p('INSERT INTO sim_converts (quote_id, body) VALUES (?, ?)')
  // One wrapper for all transactions: db.transaction() is too costly to build on every call.
  const run = db.transaction((fn: () => unknown) => fn())
  return {
    ...lookups(db, p),
    tx: <T>(fn: () => T): T => run(fn) as T,
    saveCounters: (c) => counters.run(c),
    saveBalance: (cur, total) => balance.run(cur, total),
    saveOrder: (o) => order.run(o.seq, o.id, o.clientOrderId, o.symbol, o.status, o.createdAt, JSON.stringify(o)),
    saveFill: (f) => fill.run(f.seq, JSON.stringify(f)),
    saveQuote: (q) => quote.run(q.id, JSON.stringify(q)),
    saveConvert: (r) => convert.run(r.quoteId, JSON.stringify(r)),
  }
}

type Lookups = Omit<SimStore, 'tx' | 'saveCounters' | 'saveBalance' | 'saveOrder' | 'saveFill' | 'saveQuote' | 'saveConvert'>

/** Reads from the file; the writes do nothing (a read-only look: what changes stays in the broker's memory). */
function lookups(db: Db, p: (sql: string) => Database.Statement): SimStore {
  const byId = p('SELECT body FROM sim_orders WHERE id = ?').pluck()
  const byClientId = p('SELECT body FROM sim_orders WHERE client_order_id = ?').pluck()
  const recent = p('SELECT body FROM sim_orders WHERE symbol = ? AND created_at >= ? ORDER BY seq').pluck()
  const fillsAfter = p('SELECT body FROM sim_fills WHERE seq > ? ORDER BY seq').pluck()
  const fillCount = p('SELECT count(*) FROM sim_fills').pluck()
  const quoteById = p('SELECT body FROM sim_quotes WHERE id = ?').pluck()
  const convertById = p('SELECT body FROM sim_converts WHERE quote_id = ?').pluck()
  const parse = <T>(body: unknown): T | undefined => (typeof body === 'string' ? (JSON.parse(body) as T) : undefined)
  const nothing = () => {}
  const found: Lookups = {
    order: (id) => parse(byId.get(id)),
    orderByClientId: (cid) => parse(byClientId.get(cid)),
    recentOrders: (symbol, since) => recent.all(symbol, since).map((b) => parse<SimOrder>(b)!),
    fills: (after) => fillsAfter.all(after).map((b) => parse<SimFill>(b)!),
    fillCount: () => fillCount.get() as number,
    quote: (id) => parse(quoteById.get(id)),
    convert: (id) => parse(convertById.get(id)),
    close: () => db.close(),
  }
  return {...found, tx: (fn) => fn(), saveCounters: nothing, saveBalance: nothing, saveOrder: nothing, saveFill: nothing, saveQuote: nothing, saveConvert: nothing}
}

function readSnapshot(db: Db): SimSnapshot {
  const c = db.prepare('SELECT rng, order_seq, quote_seq FROM sim_counters WHERE id = 1').get() as {rng: number; order_seq: number; quote_seq: number} | undefined
  if (!c) throw new Error('sim_counters row is missing')
  const balances = db.prepare('SELECT currency, total FROM sim_balances').all() as {currency: string; total: number}[]
  const open = db.prepare("SELECT body FROM sim_orders WHERE status = 'open' ORDER BY seq").pluck().all() as string[]
  return {
    counters: {rng: c.rng, orderSeq: c.order_seq, quoteSeq: c.quote_seq},
    balances: new Map(balances.map((b) => [b.currency, b.total])),
    openOrders: open.map((b) => JSON.parse(b) as SimOrder),
  }
}

function checkFile(db: Db, file: string, want: SimIdentity, run: SimRun): void {
  const meta = new Map((db.prepare('SELECT key, value FROM sim_meta').all() as {key: string; value: string}[]).map((r) => [r.key, r.value]))
  const advice = 'use another state dir, or delete this file and bot.sqlite beside it to start a new sim run'
  if (meta.get('format') !== FORMAT) {
    throw new BotError(`sim state ${file} was made by an earlier version of bot (format ${meta.get('format') ?? 1}): ${advice}`, 'SIM_STATE_MISMATCH')
  }

  if (meta.get('run_id') !== run.id) {
    throw new BotError(`${file} holds a run that bot.sqlite in ${path.dirname(file)} does not know: delete sim-exchange.sqlite too to start over, or use the state dir that made it`, 'STATE_MISMATCH')
  }

  if (meta.get('market') !== want.market) {
    throw new BotError(`sim state ${file} was made for other market data (${meta.get('market_summary') ?? '?'}; now ${want.marketSummary}): ${advice}`, 'SIM_STATE_MISMATCH')
  }

  if (meta.get('start_balances') !== want.startBalances) {
    throw new BotError(`sim state ${file} was made with start balances ${meta.get('start_balances')}, config says ${want.startBalances}: ${advice}`, 'SIM_STATE_MISMATCH')
  }
}

function initFile(db: Db, identity: SimIdentity, initial: SimSnapshot, run: SimRun): void {
  db.transaction(() => {
    db.exec(SCHEMA)
    const meta = db.prepare('INSERT INTO sim_meta (key, value) VALUES (?, ?)')
    for (const [k, v] of [['format', FORMAT], ['run_id', run.id], ['market', identity.market], ['market_summary', identity.marketSummary], ['start_balances', identity.startBalances]]) meta.run(k, v)
    const {rng, orderSeq, quoteSeq} = initial.counters
    db.prepare('INSERT INTO sim_counters (id, rng, order_seq, quote_seq) VALUES (1, ?, ?, ?)').run(rng, orderSeq, quoteSeq)
    const balance = db.prepare('INSERT INTO sim_balances (currency, total) VALUES (?, ?)')
    for (const [cur, total] of initial.balances) balance.run(cur, total)
  })()
}

function openDb(file: string, create: boolean): Db {
  try {
    return new Database(file, {fileMustExist: !create})
  } catch (error) {
    throw new BotError(`cannot open sim state ${file}: ${(error as Error).message}`, 'SIM_STATE_UNREADABLE')
  }
}

function present(file: string): boolean {
  try {
    fs.lstatSync(file)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

/**
 * Opens the simulated account: in memory when `file` is null, else the SQLite file of this run, created with
 * `initial` or resumed from what it holds. Refused, with the file left as it was, when it belongs to another
 * run, market or start balances, or when bot.sqlite has history but the file is gone.
 */
export function openSimStore(file: string | null, identity: SimIdentity, initial: SimSnapshot, run: SimRun, readOnly = false): {store: SimStore; snapshot: SimSnapshot; resumed: boolean} {
  if (file === null) return {store: memoryStore(), snapshot: initial, resumed: false}
  if (readOnly) return openReadOnly(file, identity, initial)
  const missing = (what: string) => new BotError(`${file} ${what} but bot.sqlite in ${path.dirname(file)} holds a run: they belong together; restore the sim file, or delete bot.sqlite too to start over`, 'STATE_MISMATCH')
  if (!present(file) && run.hasHistory) throw missing('is missing')
  const db = openDb(file, !run.hasHistory)
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sim_meta'").get()
    if (!exists && run.hasHistory) throw missing('holds no account')
    if (exists) checkFile(db, file, identity, run)
    // Only once it is accepted: switching to WAL writes to the file.
    db.pragma('journal_mode = WAL')
    // A simulated account: a killed process loses nothing; syncing to disk is left to the operating system.
    db.pragma('synchronous = OFF')
    db.pragma('cache_size = -2000') // see state/database.ts
    if (exists) return {store: sqliteStore(db), snapshot: readSnapshot(db), resumed: true}
    // New, or created but never initialized: a start cut short by a crash.
    initFile(db, identity, initial, run)
    return {store: sqliteStore(db), snapshot: initial, resumed: false}
  } catch (error) {
    db.close()
    if (error instanceof BotError) throw error
    throw new BotError(`cannot read sim state ${file}: ${(error as Error).message}`, 'SIM_STATE_UNREADABLE')
  }
}

/** A dry run's look at the account (or at a new one, when there is no file yet); writes stay in memory. */
function openReadOnly(file: string, identity: SimIdentity, initial: SimSnapshot): {store: SimStore; snapshot: SimSnapshot; resumed: boolean} {
  if (!present(file)) return {store: memoryStore(), snapshot: initial, resumed: false}
  const db = new Database(file, {readonly: true, fileMustExist: true})
  try {
    const meta = new Map((db.prepare('SELECT key, value FROM sim_meta').all() as {key: string; value: string}[]).map((r) => [r.key, r.value]))
    checkFile(db, file, identity, {id: meta.get('run_id') ?? '', hasHistory: true})
    return {store: sqliteStore(db, false), snapshot: readSnapshot(db), resumed: true}
  } catch (error) {
    db.close()
    if (error instanceof BotError) throw error
    throw new BotError(`cannot read sim state ${file}: ${(error as Error).message}`, 'SIM_STATE_UNREADABLE')
  }
}
