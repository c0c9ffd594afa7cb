import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {ROOT} from './cli.js'
import {configCopy} from './fixtures.js'

/** The bundled autumn-2020 rally, 4-hour BTC and ETH bars: prices that keep pushing exposure over the cap. */
export const RALLY_DATA = path.join(ROOT, 'test', 'fixtures', 'rally-4h')

/**
 * A copy of the default config trading BTC and ETH on the rally data, 4h bars, with `balances` to start from.
 * Position caps equal the total cap, so what sells a holding over the cap is the trim, not the position cap.
 */
export function rallyConfig(root: string, balances: Record<string, number>, edit: (files: {app: string; policy: string}) => void = () => {}): string {
  const config = configCopy(root)
  const file = (name: string) => path.join(config, name)
  const rewrite = (name: string, fn: (text: string) => string) => writeFileSync(file(name), fn(readFileSync(file(name), 'utf8')))
  writeFileSync(file('universe.yaml'), 'tiers:\n  tier1:\n    symbols: [BTC-USD, ETH-USD]\n    min_24h_quote_volume: 0\n    max_spread_pct: 1\nforce_eligible_symbols: [BTC-USD]\n')
  const start = Object.entries(balances).map(([k, v]) => `      ${k}: ${v}`).join('\n')
  rewrite('app.yaml', (t) => t
    .replace('data_dir: null', `data_dir: ${RALLY_DATA}`).replace('timeframe: 1h', 'timeframe: 4h')
    .replace(/ {6}USD: 100000\n/, `${start}\n`).replace(/ {8}tier[23]: \d+\n/g, ''))
  rewrite('policy.yaml', (t) => t
    .replace(/ {4}tier1: 10\n {4}tier2: 5\n {4}tier3: 2\.5\n/, '    tier1: 25\n')
    .replace(/ {4}tier2:\n {6}slices: 2\n {6}spacing_seconds: 30\n {4}tier3:\n {6}slices: 4\n {6}spacing_seconds: 60\n/, ''))
  edit({app: file('app.yaml'), policy: file('policy.yaml')})
  return config
}
