import Database from 'better-sqlite3'
import {existsSync} from 'node:fs'
import path from 'node:path'

import {BotError} from '../errors.js'
import {openDatabase} from './database.js'
import {STATE_FILE} from './layout.js'
import type {StateRun} from './prepare.js'
import {StateStore} from './store.js'

/**
 * A state dir opened only to look (a dry run beside a running bot): bot.sqlite read-only, or an empty store
 * in memory when there is none yet. Nothing is written, nothing is locked; its run says where a replay stands.
 */
export function readRun(stateDir: string): {run: StateRun; store: StateStore} {
  const file = path.join(stateDir, STATE_FILE)
  if (!existsSync(file)) {
    return {run: {id: 'preview', hasHistory: false, bound: false, lastCycleTime: null}, store: new StateStore(openDatabase(':memory:'), ':memory:')}
  }

  let db: Database.Database
  try {
    db = new Database(file, {readonly: true, fileMustExist: true})
  } catch (error) {
    throw new BotError(`cannot open state database ${file}: ${(error as Error).message}`, 'STATE_UNREADABLE')
  }

  const one = <T>(sql: string) => db.prepare(sql).pluck().get() as T | undefined
  const id = one<string>("SELECT value FROM meta WHERE key = 'run_id'") ?? 'preview'
  const lastCycleTime = one<number>('SELECT time FROM cycles ORDER BY cycle DESC LIMIT 1') ?? null
  const hasHistory = (one<number>('SELECT count(*) FROM cycles') ?? 0) + (one<number>('SELECT count(*) FROM orders') ?? 0) > 0
  return {run: {id, hasHistory, bound: true, lastCycleTime}, store: new StateStore(db, file)}
}
