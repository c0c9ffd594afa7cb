import {chalk} from '../cli/style.js'

import type {MetricsSummary, Tally} from './summary.js'

const num = (n: number, digits = 2) => n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})
const orDash = (n: number | null, f: (n: number) => string) => (n === null ? '-' : f(n))

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s ago`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`
  return `${num(seconds / 3600, 1)} h ago`
}

function tally(t: Tally): string {
  const parts = Object.entries(t.by).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`)
  return `${t.total}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`
}

/** `bot metrics` for a person: the figures that say whether the bot is healthy, worst first. */
export function renderMetricsSummary(s: MetricsSummary): string[] {
  const quote = s.info?.quoteCurrency ?? ''
  const money = (n: number) => `${num(n)}${quote ? ` ${quote}` : ''}`
  const about = s.info ? `bot ${s.info.version} on ${s.info.venue} (${s.info.exchange}), ` : ''
  const lines = [chalk.bold(`bot metrics from ${s.url} (${about}pid ${s.pid})`)]
  if (s.lastCycleAt === null) return [...lines, chalk.yellow('no cycle completed yet')]
  const exposure = `${orDash(s.exposurePct, (n) => `${num(n)}%`)} of equity, cap ${orDash(s.capPct, (n) => `${num(n)}%`)} (${orDash(s.exposureValue, money)})`
  lines.push(
    `exposure     ${s.overCap ? chalk.red(`${exposure} OVER THE CAP`) : exposure}`,
    `equity       ${orDash(s.equity, money)}; cash ${orDash(s.cash, money)}`,
    `positions    ${s.positions.length === 0 ? 'none' : s.positions.map((p) => `${p.symbol} (${p.tier}) ${num(p.value)}`).join(', ')}`,
    `last cycle   ${s.lastCycleAt.slice(0, 19).replace('T', ' ')} UTC, ${age(s.lastCycleAgeSeconds ?? 0)}; ${s.cycles ?? 0} cycles since start`,
    `kill switch  ${s.killSwitch ? chalk.bgRed.white(' ON: trading halted ') : 'off'}`,
    `trim         ${s.trimFailuresInARow ? chalk.red(`${s.trimFailuresInARow} failures in a row`) : '0 failures in a row'}`,
    `orders       ${tally(s.orders)}`,
    `denials      ${tally(s.denials)}`,
    `exchange     ${s.exchangeErrors.total === 0 ? 'no errors' : chalk.yellow(`errors ${tally(s.exchangeErrors)}`)}`,
    `alerts       ${tally(s.alerts)}`,
  )
  return lines
}
