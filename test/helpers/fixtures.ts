import {cpSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {validateConfig, type BotConfig} from '../../src/lib/config/load.js'
import type {MarketInfo, OrderState, Ticker} from '../../src/lib/domain.js'
import type {MarketSnapshot} from '../../src/lib/market/snapshot.js'
import {ROOT} from './cli.js'

/** The shipped default configuration, parsed by the real loader. */
export function defaultConfig(): BotConfig {
  const report = validateConfig(path.join(ROOT, 'config'))
  if (!report.config) throw new Error(`default config invalid: ${JSON.stringify(report.issues)}`)
  return report.config
}

export function tempDir(prefix = 'bot-test-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

/** A copy of the default config folder to edit. */
export function configCopy(root: string): string {
  const dir = path.join(root, 'config')
  cpSync(path.join(ROOT, 'config'), dir, {recursive: true})
  return dir
}

export function market(symbol: string, overrides: Partial<MarketInfo> = {}): MarketInfo {
  const [base, quote] = symbol.split('-')
  return {symbol, base, quote, amountStep: 0.0001, priceStep: 0.01, minAmount: 0.0001, minNotional: 1, maxAmount: null, makerBps: 40, takerBps: 60, ...overrides}
}

export function ticker(symbol: string, last: number, overrides: Partial<Ticker> = {}): Ticker {
  return {symbol, bid: last * 0.9999, ask: last * 1.0001, last, quoteVolume24h: 1e9, timestamp: 1_700_000_000_000, ...overrides}
}

export function snapshotOf(tickers: Ticker[], time = 1_700_000_000_000): MarketSnapshot {
  return {time, markets: new Map(tickers.map((t) => [t.symbol, market(t.symbol)])), tickers: new Map(tickers.map((t) => [t.symbol, t])), suspect: new Map()}
}

export function openOrder(symbol: string, side: 'buy' | 'sell', amount: number, price: number | null = null): OrderState {
  return {id: `x-${symbol}`, clientOrderId: `c-${symbol}`, symbol, side, type: 'market', amount, price, filled: 0, averagePrice: null, fee: 0, status: 'open', reason: null, createdAt: 0, updatedAt: 0}
}
