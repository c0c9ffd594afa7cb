import type {TrimResult} from '../engine/trim-once.js'
import {table} from './table.js'
import {chalk} from './style.js'

const num = (n: number, digits = 2) => n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})

/** `bot trim` for a person: where exposure stands, the sells (a table), what could not be sold and why. */
export function renderTrim(r: TrimResult): string[] {
  const head = `exposure ${num(r.exposurePct, 1)}% of equity, cap ${num(r.capPct, 1)}%, trim target ${num(r.targetPct, 1)}%`
  if (!r.needed) return [chalk.green(`${head}: nothing to trim`)]
  const sellOf = (symbol: string) => r.sells.filter((s) => s.symbol === symbol)
  const rows = r.held.map((h) => {
    const sells = sellOf(h.symbol)
    const amount = sells.reduce((n, s) => n + s.amount, 0)
    return [h.symbol, h.tier ?? '(untiered)', String(h.amount), num(h.value), amount > 0 ? String(Number(amount.toPrecision(10))) : '-', statuses(sells.map((s) => s.status)) || (r.skipped.find((x) => x.symbol === h.symbol)?.code ?? '')]
  })
  const lines = [
    chalk.yellow(`${head}: ${num(r.excess)} to sell`),
    '',
    ...table(['symbol', 'tier', 'held', 'value', 'sell', r.dryRun ? 'would' : 'status'], rows),
  ]
  if (r.skipped.length > 0) lines.push('', 'not sold:', ...r.skipped.map((s) => `  ${s.symbol} ${s.code}: ${s.reason}`))
  if (r.sells[0]) lines.push('', `reason: ${r.sells[0].reason}`)
  const after = `exposure once the sells fill: ${num(r.exposureAfterPct, 1)}%`
  lines.push('', r.exposureAfterPct > r.capPct ? chalk.red(`${after}: still over the cap`) : chalk.green(`${after}: under the cap`))
  if (r.dryRun) lines.push(chalk.gray('dry run: nothing was sent'))
  return lines
}

/** "7 x would send" rather than the same word seven times (one per max_order_notional slice). */
function statuses(list: string[]): string {
  const counts = new Map<string, number>()
  for (const s of list) counts.set(s, (counts.get(s) ?? 0) + 1)
  return [...counts].map(([s, n]) => (n > 1 ? `${n} x ${s}` : s)).join(', ')
}
