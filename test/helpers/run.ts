import Database from 'better-sqlite3'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {BUNDLED_DATA_DIR} from '../../src/lib/exchange/replay/candle-files.js'
import {requireValidConfig} from '../../src/lib/config/index.js'
import {prepareVenue} from '../../src/lib/engine/venue.js'
import type {SimBroker} from '../../src/lib/exchange/sim-broker/broker.js'
import {type CliResult, ROOT, runCli} from './cli.js'

export interface RunOutput extends CliResult {
  events: Record<string, unknown>[]
  summary: Record<string, any>
}

/** `bot run --json` as a user would run it; every stdout line must be a JSON document. */
export function runJson(args: string[], env: Record<string, string> = {}): RunOutput {
  const r = runCli(['run', '--json', ...args], {env, timeout: 180_000})
  const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  return {...r, events, summary: events.find((e) => e.type === 'summary') as Record<string, any>}
}

/** Read-only SQL on a state dir's database. */
export function query<T>(stateDir: string, file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(stateDir, file), {readonly: true})
  try {
    return db.prepare(sql).all(...params) as T[]
  } finally {
    db.close()
  }
}

/** The exchange's own view of the account after a run (the sim keeps it in the state dir), opened as bot opens it. */
export async function simAccount(stateDir: string, configDir = path.join(ROOT, 'config')) {
  const config = requireValidConfig(configDir)
  const [{value: id}] = query<{value: string}>(stateDir, 'bot.sqlite', "SELECT value FROM meta WHERE key = 'run_id'")
  const [{time}] = query<{time: number}>(stateDir, 'bot.sqlite', 'SELECT max(time) AS time FROM cycles')
  const venue = await prepareVenue(config, {stateDir, live: false}).open({id, hasHistory: true, bound: true, lastCycleTime: time})
  try {
    return {balances: await venue.broker.balances(), markets: await venue.market.markets(), fills: await (venue.broker as SimBroker).fills(0), now: venue.clock.now()}
  } finally {
    await venue.broker.close()
  }
}

/** Close prices straight from the bundled CSV files: symbol -> bar open time (ms) -> close. */
export function closes(): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>()
  for (const file of readdirSync(BUNDLED_DATA_DIR).filter((f) => f.endsWith('.csv'))) {
    const rows = readFileSync(path.join(BUNDLED_DATA_DIR, file), 'utf8').trim().split('\n').slice(1)
    out.set(file.replace(/-1h\.csv$/, ''), new Map(rows.map((r) => r.split(',')).map((c) => [Number(c[0]) * 1000, Number(c[4])])))
  }

  return out
}
