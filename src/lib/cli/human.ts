import type {BotConfig} from '../config/load.js'
import {secretsOf} from '../config/secrets.js'
import {createLogger, type Logger, type LogLevel, type LogThreshold} from './log.js'

/** What a command needs to print for a person: the level from app.yaml (`--verbose` = debug) and every secret to hide. */
export function humanLogger(config: BotConfig | null, options: {verbose?: boolean; env?: NodeJS.ProcessEnv} = {}): Logger {
  const level: LogThreshold = options.verbose ? 'debug' : config?.app.logging.level ?? 'info'
  return createLogger({level, stdout: process.stdout, stderr: process.stderr, secrets: config ? secretsOf(config, options.env) : []})
}

/** Lines of a command's report at one level. */
export function logLines(log: Logger, level: LogLevel, lines: readonly string[]): void {
  for (const line of lines) log.log(level, line)
}
