import Database from 'better-sqlite3'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {BUNDLED_DATA_DIR, loadCandleDir} from '../../src/lib/exchange/candle-files.js'
import {SimExchange} from '../../src/lib/exchange/sim.js'
import {tierMap} from '../../src/lib/universe/eligibility.js'
import {type CliResult, runCli} from './cli.js'
import {defaultConfig} from './fixtures.js'

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

/** The exchange's own view of the account after a run (the sim keeps it in the state dir). */
export async function simAccount(stateDir: string) {
  const config = defaultConfig()
  const tierOf = tierMap(config.universe)
  const [{value: id}] = query<{value: string}>(stateDir, 'bot.sqlite', "SELECT value FROM meta WHERE key = 'run_id'")
  const sim = SimExchange.open({
    data: loadCandleDir(BUNDLED_DATA_DIR, [...tierOf.keys()]), settings: config.app.exchange.sim, quote: 'USD', tierOf: (s) => tierOf.get(s),
    stateFile: path.join(stateDir, 'sim-exchange.sqlite'), run: {id, hasHistory: true, bound: true},
  })
  try {
    return {balances: await sim.balances(), markets: await sim.markets(), fills: sim.fills(0), now: sim.now()}
  } finally {
    await sim.close()
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
