import {chalk} from '../cli/style.js'
import type {StateVerification} from './verify.js'

/** The human lines of `bot validate --state-dir`. */
export function renderStateVerification(v: StateVerification): string[] {
  const head = `#${v.head.entries} ${v.head.hash}`
  const lines = [v.ok
    ? `${chalk.green('✅')} ${v.stateDir}: audit log of ${v.entries} entries verified${v.keyed ? ' (HMAC)' : ''}, head ${head}`
    : `${chalk.red('❌')} ${v.stateDir}: ${chalk.red(v.problem ?? 'audit log does not verify')}`]
  lines.push(`   audit-head.json ${v.headFile}`)
  if (v.published) lines.push(`   the head you gave (#${v.published.head.entries}) ${v.published.matches ? 'is in the log' : chalk.red('is not in the log')}`)
  return lines
}
