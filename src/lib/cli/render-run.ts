import {chalk} from './style.js'

import type {CycleReport, EngineEvent} from '../engine/events.js'
import type {RunSummary} from '../engine/summary.js'

const num = (n: number, digits = 2) => n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})
const signed = (n: number, digits = 2) => `${n >= 0 ? '+' : ''}${num(n, digits)}`
const time = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ')

export function renderCycle(r: CycleReport): string {
  const over = r.exposureAfterPct > r.capPct + 1e-9
  const exposure = `${num(r.exposurePct, 1)}% -> ${num(r.exposureAfterPct, 1)}% / ${num(r.capPct, 1)}%`
  const pnl = r.pnl >= 0 ? chalk.green(signed(r.pnl)) : chalk.red(signed(r.pnl))
  const flags = `${r.halted ? chalk.red(' HALTED') : ''}${r.resumed ? chalk.yellow(' resumed') : ''}`
  return `#${String(r.cycle).padEnd(4)} ${time(r.time)}  equity ${num(r.equity)}  exposure ${over ? chalk.red(exposure) : exposure}  orders ${r.orders}  denied ${r.denied}  fills ${r.fills}  P&L ${pnl}${flags}`
}

/** One human line per event (its level is cli/log.ts eventLevel); null for events that another line already says. */
export function renderEvent(e: EngineEvent): string | null {
  switch (e.type) {
    case 'cycle': return renderCycle(e.report)
    case 'universe': {
      const colour = e.status === 'eligible' ? chalk.green : e.status === 'forced' ? chalk.cyan : chalk.gray
      const mark = e.status === 'eligible' ? '✅' : e.status === 'forced' ? '✅ FORCE ELIGIBLE:' : '⛔'
      return colour(`   ${mark} ${e.symbol} ${e.status === 'forced' ? 'bypasses liquidity checks' : e.reason}`)
    }

    case 'denied': return chalk.yellow(`   denied ${e.side} ${e.symbol}: ${e.denial.code} ${e.denial.message}`)
    case 'order': return `   ${e.side} ${e.amount} ${e.symbol} ~${Number(e.price.toPrecision(8))} ${e.status} (${e.reason})`
    case 'reconciled': return chalk.gray(`   reconciled ${e.clientOrderId}: ${e.status} (${e.note})`)
    case 'kill_switch': return null // its alert says it
    case 'alert': return null // the console sink prints alerts (app.yaml alerts.sinks)
    case 'convert': return e.status === 'completed'
      ? `   convert ${e.amount} ${e.from} -> ${Number(e.received.toPrecision(10))} ${e.to} (fee ${num(e.fee)}, attempt ${e.attempts})`
      : chalk.yellow(`   convert ${e.amount} ${e.from} -> ${e.to} ${e.status === 'fell_back' ? `failed ${e.attempts}x (${e.reason}): selling by ${e.route} instead` : `abandoned: ${e.reason}`}`)
    case 'twap': return `   TWAP ${e.id} ${e.status}: ${e.note}`
    case 'adopted': return chalk.yellow(`   adopted ${e.clientOrderId}: ${e.side} ${e.amount} ${e.symbol} ${e.status} was on the exchange under bot's id but not in bot.sqlite`)
    case 'trim': {
      const sells = e.sells.map((x) => `${x.symbol} ${x.amount}`).join(', ') || 'nothing sellable'
      const line = `   trim ${e.outcome}: exposure ${num(e.exposurePct, 1)}% > cap ${num(e.capPct, 1)}%, selling ${sells}${e.shortfall > 0 ? `; ${num(e.shortfall)} still over the target` : ''}${e.trimFailures > 0 ? ` (${e.trimFailures} failed in a row)` : ''}`
      return e.outcome === 'failed' ? chalk.yellow(line) : line
    }
    case 'notice': return e.level === 'critical' ? chalk.bgRed.white(` CRITICAL `) + ' ' + e.message : e.level === 'warning' ? chalk.yellow(e.message) : e.message
  }
}

export function renderSummary(s: RunSummary): string[] {
  const ret = (x: number) => (x >= 0 ? chalk.green(`${signed(x)}%`) : chalk.red(`${signed(x)}%`))
  return [
    '',
    chalk.bold(`Run summary (${s.cycles} cycles${s.from ? `, ${s.from.slice(0, 16)} to ${s.to?.slice(0, 16)}` : ''}; stopped by ${s.stoppedBy.replaceAll('_', ' ')})`),
    `  equity       ${num(s.startEquity)} -> ${num(s.equity)}  (${ret(s.returnPct)})`,
    `  max drawdown ${num(s.maxDrawdownPct)}%`,
    `  exposure     ${num(s.exposurePct, 1)}% of equity`,
    `  trades       ${s.trades} fills, fees ${num(s.fees)}, ${s.ordersDenied} orders denied by risk checks`,
    s.benchmark ? `  vs holding ${s.benchmark.symbol}: ${ret(s.benchmark.returnPct)}` : '  no benchmark',
    `  audit log    ${s.auditEntries} entries, chain ${s.auditOk ? `${chalk.green('verified')}, head #${s.auditHead.entries} ${s.auditHead.hash.slice(0, 16)}` : chalk.red(`BROKEN at entry #${s.auditBrokenAt}`)}`,
    `  state        ${s.stateDir} (run again to resume)`,
  ]
}
