import {BotError} from '../errors.js'
import {formatIssue} from './issues.js'
import {type BotConfig, validateConfig} from './load.js'

export {type ConfigIssue, formatIssue} from './issues.js'
export {type BotConfig, CONFIG_FILES, validateConfig, type ValidationReport} from './load.js'

/** The pre-flight gate: a command that gets past this has a complete, valid configuration. */
export function requireValidConfig(dir: string, env: NodeJS.ProcessEnv = process.env): BotConfig {
  const report = validateConfig(dir, env)
  if (report.config) return report.config
  const n = report.issues.length
  throw new BotError(
    `configuration in ${dir} has ${n} problem${n === 1 ? '' : 's'}; nothing was started (see \`bot validate --config-dir ${dir}\`)`,
    'CONFIG_INVALID',
    undefined,
    report.issues.map((i) => formatIssue(i)),
  )
}
