import Database from 'better-sqlite3'
import path from 'node:path'

import {BotError} from '../errors.js'
import {ensureDir} from '../files.js'

/** Versioned migrations: entry i brings the schema from version i to i + 1. Never edit a released one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE cycles (
     cycle INTEGER PRIMARY KEY, time INTEGER NOT NULL, status TEXT NOT NULL,
     equity REAL NOT NULL, cash REAL NOT NULL, exposure_pct REAL NOT NULL, exposure_after_pct REAL NOT NULL,
     orders INTEGER NOT NULL DEFAULT 0, denied INTEGER NOT NULL DEFAULT 0, halted INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE orders (
     client_order_id TEXT PRIMARY KEY, cycle INTEGER NOT NULL, leg INTEGER NOT NULL, time INTEGER NOT NULL,
     symbol TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL, amount REAL NOT NULL, price REAL NOT NULL,
     action TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, exchange_order_id TEXT,
     filled REAL NOT NULL DEFAULT 0, average_price REAL, fee REAL NOT NULL DEFAULT 0, error TEXT,
     UNIQUE (cycle, leg));
   CREATE INDEX orders_status ON orders(status);
   CREATE TABLE fills (
     id INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL REFERENCES orders(client_order_id), time INTEGER NOT NULL,
     symbol TEXT NOT NULL, side TEXT NOT NULL, amount REAL NOT NULL, price REAL NOT NULL, fee REAL NOT NULL);
   CREATE TABLE positions (symbol TEXT PRIMARY KEY, amount REAL NOT NULL, cost REAL NOT NULL);
   CREATE TABLE counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
   CREATE TABLE anchors (symbol TEXT PRIMARY KEY, first_bar_time INTEGER NOT NULL);
   CREATE TABLE eligibility (symbol TEXT PRIMARY KEY, status TEXT NOT NULL);
   CREATE TABLE audit (
     seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
     prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
   CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
   CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;`,
  // 2: the duplicate check reads the orders of the last few minutes every cycle.
  `CREATE INDEX orders_time ON orders(time);`,
  // 3: alerts still raised, so a restart neither repeats them inside their dedup window nor forgets to resolve them.
  `CREATE TABLE alerts (key TEXT PRIMARY KEY, body TEXT NOT NULL);`,
  // 4: convert with its fallback, and TWAP schedules whose slices are orders.
  `CREATE TABLE conversions (
     id TEXT PRIMARY KEY, cycle INTEGER NOT NULL, leg INTEGER NOT NULL, time INTEGER NOT NULL,
     from_ccy TEXT NOT NULL, to_ccy TEXT NOT NULL, amount REAL NOT NULL, symbol TEXT NOT NULL,
     action TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     quote TEXT, received REAL NOT NULL DEFAULT 0, fee REAL NOT NULL DEFAULT 0, error TEXT);
   CREATE INDEX conversions_status ON conversions(status);
   CREATE TABLE schedules (
     id TEXT PRIMARY KEY, cycle INTEGER NOT NULL, time INTEGER NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
     total REAL NOT NULL, slices INTEGER NOT NULL, spacing_ms INTEGER NOT NULL, sent INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, note TEXT);
   CREATE INDEX schedules_status ON schedules(status);
   ALTER TABLE orders ADD COLUMN schedule_id TEXT;
   CREATE INDEX orders_schedule ON orders(schedule_id);`,
]

export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Opens a SQLite file in WAL mode without changing its schema, so a start that is then refused leaves it as
 * it was. A file written by a newer bot is refused here.
 */
export function connectDatabase(file: string, options: {create: boolean}): Database.Database {
  let db: Database.Database | undefined
  let version: number
  try {
    if (options.create) ensureDir(path.dirname(file), 'state dir', 'STATE_DIR_UNUSABLE')
    db = new Database(file, {fileMustExist: !options.create})
    db.pragma('journal_mode = WAL')
    // FULL: a committed intent survives even a power cut, so an order can never be sent without its record.
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    // 2 MB of page cache (better-sqlite3's default is 16 MB): the hot pages are the newest, and memory stays
    // flat instead of growing with the file.
    db.pragma('cache_size = -2000')
    version = db.pragma('user_version', {simple: true}) as number
  } catch (error) {
    db?.close()
    if (error instanceof BotError) throw error
    throw new BotError(`cannot open state database ${file}: ${(error as Error).message}`, 'STATE_UNREADABLE')
  }

  if (version > SCHEMA_VERSION) {
    db.close()
    throw new BotError(`state database ${file} has schema version ${version}, newer than this bot (${SCHEMA_VERSION}); upgrade bot`, 'STATE_TOO_NEW')
  }

  return db
}

/** Brings the schema up to date in one transaction (with `also`, e.g. the first meta rows of a new file). */
export function migrate(db: Database.Database, also: () => void = () => {}): void {
  const version = db.pragma('user_version', {simple: true}) as number
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v])
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
    also()
  })()
}

/** Open (or create) a state database and bring its schema up to date. */
export function openDatabase(file: string): Database.Database {
  const db = connectDatabase(file, {create: true})
  migrate(db)
  return db
}
