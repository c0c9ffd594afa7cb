import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BIN, withoutPrefixes} from '../helpers/cli.js'
import {configCopy} from '../helpers/fixtures.js'
import {query} from '../helpers/run.js'
import type {OrderRecord} from '../coinbase/book.js'
import type {TestKey} from '../coinbase/keys.js'
import {type CoinbaseServer, type CoinbaseServerOptions, startCoinbaseServer} from '../coinbase/server.js'

/**
 * Shared pieces of the paper and live tests: a loopback Coinbase, a config folder pointed at it (every
 * config here sets exchange.rest_url to 127.0.0.1, so nothing can reach a real exchange), and the built CLI
 * run asynchronously (the server lives in this process: a blocking spawn would stop it answering).
 */

export const HOUR = 3_600_000
export const KEY_VAR = 'BOT_TEST_API_KEY'
export const SECRET_VAR = 'BOT_TEST_API_SECRET'

export interface LiveSetup {
  mode?: 'paper' | 'live'
  /** app.yaml lines to replace: [old, new] pairs applied after the exchange ones. */
  app?: [string | RegExp, string][]
  policy?: [string | RegExp, string][]
  universe?: [string | RegExp, string][]
}

export function edit(dir: string, file: string, pairs: [string | RegExp, string][]): void {
  const p = path.join(dir, file)
  let text = readFileSync(p, 'utf8')
  for (const [from, to] of pairs) {
    const next = text.replace(from, to)
    if (next === text) throw new Error(`${file}: ${String(from)} not found`)
    text = next
  }

  writeFileSync(p, text)
}

/** A copy of the shipped config trading on `server`: coinbase, its REST URL, credentials by variable name. */
export function liveConfig(root: string, server: CoinbaseServer, setup: LiveSetup = {}): string {
  const dir = configCopy(root)
  edit(dir, 'app.yaml', [
    ...(setup.mode === 'paper' ? [] : [[/^mode: paper$/m, 'mode: live'] as [RegExp, string]]),
    ['  id: sim', '  id: coinbase'],
    ['  rest_url: null', `  rest_url: ${server.url}`],
    ['  api_key_env: BOT_API_KEY', `  api_key_env: ${KEY_VAR}`],
    ['  api_secret_env: BOT_API_SECRET', `  api_secret_env: ${SECRET_VAR}`],
    ['  timeout_ms: 10000', '  timeout_ms: 400'],
    // Tests run side by side: no exporter on a fixed port unless a test asks for one.
    ['metrics:\n  enabled: true', 'metrics:\n  enabled: false'],
    ...(setup.app ?? []),
  ])
  if (setup.policy) edit(dir, 'policy.yaml', setup.policy)
  if (setup.universe) edit(dir, 'universe.yaml', setup.universe)
  return dir
}

/** The environment holding the test key under the configured variable names. */
export function keyEnv(key: TestKey): Record<string, string> {
  return {[KEY_VAR]: key.name, [SECRET_VAR]: key.privateKeyPem}
}

/**
 * A loopback Coinbase whose current bar lies `lagBars` bars before the wall clock's last closed bar, moving
 * one bar every `advanceMs`: bot then sees new closed bars while the test runs (a server whose bars were
 * on the wall clock would show a new one only every hour).
 */
export async function laggingServer(key: TestKey, options: CoinbaseServerOptions & {lagBars?: number; advanceMs?: number} = {}): Promise<CoinbaseServer> {
  const {lagBars = 40, advanceMs, ...rest} = options
  const probe = await startCoinbaseServer({key, halfSpread: 0.0002, ...rest})
  const shift = probe.market.timeShiftMs - lagBars * HOUR
  const startBar = probe.market.barIndex
  await probe.close()
  return startCoinbaseServer({key, halfSpread: 0.0002, ...rest, startBar, timeShiftMs: shift, autoAdvanceMs: advanceMs})
}

export interface CliRun {
  status: number | null
  stdout: string
  stderr: string
  rawStdout: string
  rawStderr: string
  /** stdout parsed as JSON (--json): one document, or one per line. */
  events: Record<string, any>[]
}

export interface AsyncCli {
  child: ChildProcess
  /** Resolves when the process exits. */
  done: Promise<CliRun>
  /** Resolves once stdout has a line matching `pattern`. */
  waitForLine(pattern: RegExp, ms?: number): Promise<string>
  stdoutSoFar(): string
}

/** The built CLI, started without blocking this process (the loopback server keeps answering). */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 90_000): AsyncCli {
  const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, BOT_API_KEY: undefined, BOT_API_SECRET: undefined, [KEY_VAR]: undefined, [SECRET_VAR]: undefined, NO_COLOR: '1', FORCE_COLOR: '0', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  const waiters: {pattern: RegExp; resolve: (line: string) => void}[] = []
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.pattern.test(l))
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(killer)
      const parse = (text: string): Record<string, any>[] => {
        try {
          return [JSON.parse(text) as Record<string, any>]
        } catch {
          return []
        }
      }

      // One document (trim, metrics: printed over several lines), or JSON lines (run).
      const whole = out.trim().startsWith('{') ? parse(out) : []
      const events = whole.length > 0 ? whole : out.split('\n').filter((l) => l.startsWith('{')).flatMap(parse)
      resolve({status, stdout: withoutPrefixes(out), stderr: withoutPrefixes(err), rawStdout: out, rawStderr: err, events})
    })
  })
  return {
    child,
    done,
    stdoutSoFar: () => out,
    waitForLine(pattern, ms = 60_000) {
      const line = out.split('\n').find((l) => pattern.test(l))
      if (line !== undefined) return Promise.resolve(line)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${String(pattern)} within ${ms} ms; stdout so far:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`)), ms)
        waiters.push({pattern, resolve: (l) => {
          clearTimeout(timer)
          resolve(l)
        }})
      })
    },
  }
}

/** Runs the built CLI to its end. */
export function runCliAsync(args: string[], env: Record<string, string | undefined> = {}, timeoutMs?: number): Promise<CliRun> {
  return startCli(args, env, timeoutMs).done
}

export interface StoredOrder {
  client_order_id: string
  cycle: number
  symbol: string
  side: string
  type: string
  amount: number
  status: string
  exchange_order_id: string | null
  filled: number
  action: string
}

export function storedOrders(stateDir: string): StoredOrder[] {
  return query<StoredOrder>(stateDir, 'bot.sqlite', 'SELECT * FROM orders ORDER BY cycle, leg')
}

const STATUS: Record<OrderRecord['status'], string> = {OPEN: 'open', FILLED: 'closed', CANCELLED: 'canceled'}

/** Every order the exchange holds is in bot.sqlite, the same; no client order id was sent or filled twice. */
export function assertSameOrders(stateDir: string, server: CoinbaseServer): {rows: StoredOrder[]; remote: OrderRecord[]} {
  const rows = storedOrders(stateDir)
  const remote = server.orders()
  const byId = new Map(rows.map((r) => [r.client_order_id, r]))
  assert.equal(new Set(remote.map((o) => o.clientOrderId)).size, remote.length, 'one exchange order per client order id')
  const posts = server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v3/brokerage/orders').map((r) => (r.body as {client_order_id: string} | undefined)?.client_order_id).filter(Boolean)
  assert.equal(new Set(posts).size, posts.length, 'no client order id was sent twice')
  for (const o of remote) {
    const row = byId.get(o.clientOrderId)
    assert.ok(row, `exchange order ${o.clientOrderId} is in bot.sqlite`)
    assert.equal(row.exchange_order_id, o.orderId)
    assert.equal(row.status, STATUS[o.status], o.clientOrderId)
    assert.equal(row.side, o.side.toLowerCase())
    assert.equal(row.symbol, o.productId)
    assert.ok(Math.abs(row.filled - o.filledSize) <= 1e-9 * Math.max(1, o.filledSize), `${o.clientOrderId} filled ${row.filled} vs ${o.filledSize}`)
  }

  // Fills booked once: what bot booked per order adds up to what the exchange filled.
  const fills = query<{client_order_id: string; amount: number}>(stateDir, 'bot.sqlite', 'SELECT client_order_id, sum(amount) AS amount FROM fills GROUP BY client_order_id')
  for (const f of fills) {
    const o = remote.find((x) => x.clientOrderId === f.client_order_id)
    assert.ok(o, `fill of ${f.client_order_id} has an exchange order`)
    assert.ok(Math.abs(f.amount - o.filledSize) <= 1e-9 * Math.max(1, o.filledSize), `${f.client_order_id} booked ${f.amount}, exchange filled ${o.filledSize}`)
  }

  const sentRows = rows.filter((r) => r.exchange_order_id !== null)
  assert.equal(sentRows.length, remote.length, 'no order in bot.sqlite the exchange does not have')
  return {rows, remote}
}

