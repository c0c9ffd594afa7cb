import {chalk} from '../cli/style.js'

import {formatIssue} from './issues.js'
import type {ValidationReport} from './load.js'

/** The human report: one line per file, every problem, then a one-line verdict. */
export function renderValidation(report: ValidationReport): string[] {
  return leveledValidation(report).map(([, line]) => line)
}

/** The same lines with their level: what is wrong is an error (stderr), the rest info. */
export function leveledValidation(report: ValidationReport): ['info' | 'error', string][] {
  const lines: ['info' | 'error', string][] = report.files.map((f) => (f.ok ? ['info', `${chalk.green('✅')} ${f.file}`] : ['error', `${chalk.red('❌')} ${f.file}`]))
  if (report.issues.length > 0) lines.push(['error', ''], ...report.issues.map((i): ['error', string] => ['error', chalk.red(formatIssue(i))]))
  lines.push([report.ok ? 'info' : 'error', ''], [report.ok ? 'info' : 'error', verdict(report)])
  return lines
}

export function verdict(report: ValidationReport): string {
  if (report.ok) return chalk.green('✅ All configuration files are valid.')
  const bad = report.files.filter((f) => !f.ok).length
  const n = report.issues.length
  return chalk.red(`❌ ${n} problem${n === 1 ? '' : 's'} in ${bad} file${bad === 1 ? '' : 's'}: bot will not start until ${n === 1 ? 'it is' : 'they are'} fixed.`)
}
