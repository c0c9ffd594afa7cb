import type Database from 'better-sqlite3'
import {randomBytes} from 'node:crypto'
import {lstatSync} from 'node:fs'
import path from 'node:path'

import {BotError} from '../errors.js'
import {AuditHeadFile, headMismatch} from './audit-head.js'
import type {AuditKey} from './audit-key.js'
import {type AuditSeal, hashAt, verifyChain} from './audit.js'
import {connectDatabase, migrate} from './database.js'
import {STATE_FILE} from './layout.js'
import {StateStore} from './store.js'

/** What binds bot.sqlite and the venue's account files (the sim's) into one run. */
export interface StateRun {
  id: string
  /** bot.sqlite holds cycles or orders: its venue account must already exist. */
  hasHistory: boolean
  /** bot.sqlite has stored this id (false for a new state dir, or one made before run ids existed). */
  bound: boolean
  /** When the last cycle ran (a replay resumes there), or null. */
  lastCycleTime: number | null
}

export interface StateOptions {
  /** The venue's account files kept beside bot.sqlite: they and bot.sqlite are one run, never one alone. */
  pairedFiles: readonly string[]
  auditKey: AuditKey | null
}

/**
 * The state dir checked before anything is written: bot.sqlite and the venue's account belong together, the
 * audit chain verifies and matches the head it published. `open()` then writes (schema upgrade, run id);
 * a refusal leaves every file as it was.
 */
export interface PreparedState {
  run: StateRun
  /** Things worth saying once at start. */
  notices: string[]
  open(): StateStore
  /** The start is refused after all: close without writing. */
  abandon(): void
}

function present(file: string): boolean {
  try {
    lstatSync(file)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

const newRunId = () => randomBytes(8).toString('hex')

export function prepareState(stateDir: string, options: StateOptions): PreparedState {
  const file = path.join(stateDir, STATE_FILE)
  if (!present(file)) return createState(stateDir, file, options)
  const db = connectDatabase(file, {create: false})
  try {
    return checkState(stateDir, file, db, options)
  } catch (error) {
    db.close()
    throw error
  }
}

/** A new state dir: bot.sqlite is created complete (schema and run id in one transaction) before any account file. */
function createState(stateDir: string, file: string, options: StateOptions): PreparedState {
  const orphans = options.pairedFiles.filter(present)
  if (orphans.length > 0) {
    const names = orphans.map((f) => path.basename(f)).join(', ')
    throw new BotError(`${names} in ${stateDir} holds a run but ${STATE_FILE} is missing: they belong together; restore ${STATE_FILE}, or delete ${names} too to start over`, 'STATE_MISMATCH')
  }

  const db = connectDatabase(file, {create: true})
  const run: StateRun = {id: newRunId(), hasHistory: false, bound: true, lastCycleTime: null}
  const seal: AuditSeal = {key: options.auditKey?.key ?? null, keyedFrom: options.auditKey ? 1 : null}
  migrate(db, () => {
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
    meta.run('run_id', run.id)
    if (seal.keyedFrom !== null) meta.run('audit_keyed_from', String(seal.keyedFrom))
  })
  return {run, notices: [], open: () => new StateStore(db, file, seal), abandon: () => db.close()}
}

function checkState(stateDir: string, file: string, db: Database.Database, options: StateOptions): PreparedState {
  const hasTables = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined
  // An empty file is a creation cut short by a crash: nothing was decided in it yet.
  const meta = (key: string) => (hasTables ? (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as {value: string} | undefined)?.value ?? null : null)
  const storedId = meta('run_id')
  const keyedText = meta('audit_keyed_from')
  const key = options.auditKey?.key ?? null
  if (keyedText !== null && key === null) {
    throw new BotError(`the audit log in ${file} is keyed (HMAC) from entry #${keyedText}: set the audit key's environment variable (state.audit_key_env in app.yaml) to start`, 'AUDIT_KEY_MISSING')
  }

  const notices: string[] = []
  let entries = 0
  if (hasTables) {
    const existing: AuditSeal = {key, keyedFrom: keyedText === null ? null : Number(keyedText)}
    const v = verifyChain(db, existing)
    if (!v.ok) {
      throw new BotError(`the audit log in ${file} is broken at entry #${v.brokenAt}: ${v.problem}; bot will not trade on a history it cannot prove (see the README, "Verifying a state dir")`, 'AUDIT_CHAIN_BROKEN')
    }

    entries = v.entries
    const headFile = AuditHeadFile.in(stateDir)
    const published = headFile.read()
    if (published !== null && published !== 'unreadable') {
      const problem = headMismatch(published, entries, (n) => hashAt(db, n))
      if (problem) throw new BotError(`the audit log in ${file} does not match ${headFile.file}: ${problem}`, 'AUDIT_HEAD_MISMATCH')
    } else if (entries > 0) {
      notices.push(`${headFile.file} is ${published === null ? 'missing' : 'unreadable'}; it is written again from the verified chain (${entries} entries)`)
    }
  }

  const count = (table: string) => (hasTables ? (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as {n: number}).n : 0)
  const lastCycleTime = hasTables ? (db.prepare('SELECT time FROM cycles ORDER BY cycle DESC LIMIT 1').pluck().get() as number | undefined) ?? null : null
  const run: StateRun = {id: storedId ?? newRunId(), hasHistory: count('cycles') + count('orders') > 0, bound: storedId !== null, lastCycleTime}
  // A key that appears for a chain made without one seals every entry from the next one on.
  const seal: AuditSeal = {key, keyedFrom: keyedText !== null ? Number(keyedText) : key ? entries + 1 : null}
  return {
    run,
    notices,
    open: () => {
      migrate(db, () => {
        const set = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
        if (!run.bound) set.run('run_id', run.id)
        if (keyedText === null && seal.keyedFrom !== null) set.run('audit_keyed_from', String(seal.keyedFrom))
      })
      return new StateStore(db, file, seal)
    },
    abandon: () => db.close(),
  }
}
