import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {type CandleSet, generateCandleSet, type Series} from '../../src/lib/exchange/replay/candle-files.js'
import {configCopy} from './fixtures.js'

/** Writes a candle set as `<SYMBOL>-1h.csv` files, the format bot reads (timestamps in seconds). */
export function writeCandleFiles(dir: string, set: CandleSet, edit?: (symbol: string, s: Series) => void): void {
  mkdirSync(dir, {recursive: true})
  for (const symbol of set.symbols) {
    const s = set.series.get(symbol)!
    edit?.(symbol, s)
    const lines = ['timestamp,open,high,low,close,volume']
    for (let i = 0; i < s.time.length; i++) lines.push(`${s.time[i] / 1000},${s.open[i]},${s.high[i]},${s.low[i]},${s.close[i]},${s.volume[i]}`)
    writeFileSync(path.join(dir, `${symbol}-1h.csv`), `${lines.join('\n')}\n`)
  }
}

/**
 * A copy of the default config that trades `symbols` (one tier, no liquidity filter) on candle files in
 * `dataDir`: for runs on generated or edited data.
 */
export function configFor(root: string, dataDir: string, symbols: readonly string[]): string {
  const config = configCopy(root)
  const file = (name: string) => path.join(config, name)
  const edit = (name: string, fn: (text: string) => string) => writeFileSync(file(name), fn(readFileSync(file(name), 'utf8')))
  writeFileSync(file('universe.yaml'), `tiers:\n  tier1:\n    symbols: [${symbols.join(', ')}]\n    min_24h_quote_volume: 0\n    max_spread_pct: 5\nforce_eligible_symbols: []\nexcluded_symbols: []\n`)
  edit('app.yaml', (t) => t.replace('data_dir: null', `data_dir: ${dataDir}`).replace(/ {8}tier[23]: \d+\n/g, ''))
  edit('policy.yaml', (t) => t.replace(/ {4}tier2: 5\n {4}tier3: 2\.5\n/, '').replace(/ {4}tier2:\n {6}slices: 2\n {6}spacing_seconds: 30\n {4}tier3:\n {6}slices: 4\n {6}spacing_seconds: 60\n/, ''))
  return config
}

/** `count` generated symbols with `bars` hourly bars each, and a config trading them. */
export function generatedSetup(root: string, count: number, bars: number): {config: string; data: string; symbols: string[]} {
  const set = generateCandleSet(count, bars)
  const data = path.join(root, 'candles')
  writeCandleFiles(data, set)
  return {config: configFor(root, data, set.symbols), data, symbols: set.symbols}
}
