import type {ConvertResult} from '../engine/convert-once.js'
import {chalk} from './style.js'
import {table} from './table.js'

const num = (n: number) => String(Number(n.toPrecision(10)))
const money = (n: number) => n.toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2})

/** `bot convert` for a person: the route, its steps (a table), what arrived, and what stopped it if anything. */
export function renderConvert(r: ConvertResult): string[] {
  const head = `${num(r.amount)} ${r.from} -> ${r.to} by ${r.route}`
  const rows = r.steps.map((s) => [s.kind, s.id ?? '-', s.symbol, s.side, num(s.amount), s.price > 0 ? num(s.price) : '-', num(s.filled), money(s.fee), s.status])
  const lines = rows.length === 0 ? [head] : [head, '', ...table(['step', 'id', 'symbol', 'side', 'amount', 'price', 'filled', 'fee', r.dryRun ? 'would' : 'status'], rows)]
  if (r.steps[0]) lines.push('', `reason: ${r.steps[0].reason}`)
  const got = `${r.dryRun ? 'expected' : 'received'}: ${num(r.received)} ${r.to}, fees ${money(r.fees)}`
  if (r.outcome === 'done' || r.outcome === 'preview') lines.push('', chalk.green(got))
  else lines.push('', r.outcome === 'pending' ? chalk.yellow(`${got} so far`) : chalk.red(`${r.outcome}: ${r.note ?? ''}`), ...(r.outcome === 'pending' ? [chalk.yellow(r.note ?? '')] : []))
  if (r.outcome === 'done' && r.note) lines.push(chalk.yellow(r.note))
  if (r.dryRun) lines.push(chalk.gray('dry run: nothing was sent'))
  return lines
}
