import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

import type {coinbase} from 'ccxt'

import type {Candle} from '../../src/lib/domain.js'
import {BUNDLED_DATA_DIR} from '../../src/lib/exchange/replay/candle-files.js'
import {type CoinbaseClientOptions, coinbaseClient} from './ccxt-client.js'
import {type TestKey, testKey} from './keys.js'
import {type CoinbaseServer, type CoinbaseServerOptions, startCoinbaseServer} from './server.js'

/** Shared pieces of the loopback Coinbase tests. */

export const HOUR = 3_600_000

export interface Harness {
  server: CoinbaseServer
  /** A real ccxt coinbase client, signed with `key`. */
  ex: coinbase
  key: TestKey
}

export type HarnessOptions = CoinbaseServerOptions & {client?: Partial<CoinbaseClientOptions>}

/**
 * Call inside a describe(): returns a starter for server + client pairs, and closes every server a test
 * started after that test, pass or fail.
 */
export function useCoinbase(): (options?: HarnessOptions) => Promise<Harness> {
  const started: CoinbaseServer[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()))
  })
  return async ({client, ...options} = {}) => {
    const key = testKey()
    const server = await startCoinbaseServer({key, symbols: ['BTC-USD', 'ETH-USD'], ...options})
    started.push(server)
    return {server, key, ex: coinbaseClient(server, {key, ...client})}
  }
}

const rowCache = new Map<string, Candle[]>()

/** A bundled file's rows, parsed here independently of the loader the server uses. */
export function csvRows(symbol: string): Candle[] {
  let rows = rowCache.get(symbol)
  if (!rows) {
    const text = fs.readFileSync(path.join(BUNDLED_DATA_DIR, `${symbol}-1h.csv`), 'utf8').trim()
    rows = text.split('\n').slice(1).map((line) => {
      const [ts, open, high, low, close, volume] = line.split(',').map(Number)
      return {time: ts * 1000, open, high, low, close, volume}
    })
    rowCache.set(symbol, rows)
  }

  return rows
}

/** Awaits a rejection and checks its exact class (not a subclass): the mapping is what these tests pin down. */
export async function rejectsExactly(promise: Promise<unknown>, cls: abstract new (...args: never[]) => Error, message?: RegExp): Promise<Error> {
  const error = await promise.then(
    () => assert.fail(`expected ${cls.name}, but it resolved`),
    (e: unknown) => e as Error,
  )
  assert.equal(error.constructor, cls, `expected ${cls.name}, got ${error.constructor.name}: ${error.message}`)
  if (message) assert.match(error.message, message)
  return error
}

export function approx(actual: number | undefined, expected: number, rel = 1e-9): void {
  assert.ok(actual !== undefined, `expected ~${expected}, got undefined`)
  const tol = rel * Math.max(1, Math.abs(expected))
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} (tolerance ${tol})`)
}

/** Polls `condition` every 10 ms until it holds or `ms` pass. */
export async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
