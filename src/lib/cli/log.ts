import type {EngineEvent} from '../engine/events.js'
import {BotError} from '../errors.js'
import {LineWriter} from './output.js'

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical'
/** What app.yaml `logging.level` (and --verbose, as debug) can ask for: critical cannot be turned off. */
export type LogThreshold = Exclude<LogLevel, 'critical'>

const RANK: Record<LogLevel, number> = {debug: 10, info: 20, warning: 30, error: 40, critical: 50}
/** CRITICAL plus a space: every message starts in the same column, whatever its level. */
const LEVEL_WIDTH = 9

/**
 * Shorter secrets are not redacted: a 4-character value would also blank out ordinary words, symbols and
 * numbers in every line, and any real key, secret or webhook URL is far longer.
 */
export const MIN_SECRET_LENGTH = 8
export const REDACTED = '***'

export interface Logger {
  log(level: LogLevel, message: string): void
  enabled(level: LogLevel): boolean
  /** Resolves once both streams have taken every line written so far; await it between cycles (see LineWriter). */
  drained(): Promise<void>
}

export interface LoggerOptions {
  level: LogThreshold
  stdout: NodeJS.WritableStream & {isTTY?: boolean}
  stderr: NodeJS.WritableStream
  /** Values no line may show (API key and secret, webhook URLs). Unset ones (undefined, null) are skipped. */
  secrets?: readonly (string | null | undefined)[]
  now?: () => Date
}

/**
 * Human output by level. On a terminal lines are printed as given; anywhere else (systemd, cron mail, a pipe)
 * each line starts with the UTC time and the level, so a journal or a mail says when and how serious.
 * warning, error and critical go to stderr, the rest to stdout. Every line is redacted first.
 */
export function createLogger(options: LoggerOptions): Logger {
  if (!Object.hasOwn(RANK, options.level) || options.level === ('critical' as LogLevel)) {
    throw new BotError(`logging.level: expected debug, info, warning or error, found "${String(options.level)}"`, 'LOG_LEVEL')
  }

  const threshold = RANK[options.level]
  const stamped = options.stdout.isTTY !== true
  const now = options.now ?? (() => new Date())
  const secrets = usableSecrets(options.secrets ?? [])
  const out = new LineWriter(options.stdout)
  const err = new LineWriter(options.stderr)
  // critical outranks every threshold a logger accepts, so it always shows.
  const enabled = (level: LogLevel) => RANK[level] >= threshold

  return {
    enabled,
    log(level, message) {
      if (!enabled(level)) return
      const writer = RANK[level] >= RANK.warning ? err : out
      // One time for every line of a message: they are one event.
      const prefix = stamped ? `${now().toISOString()} ${level.toUpperCase().padEnd(LEVEL_WIDTH)}` : ''
      for (const line of splitLines(redactAll(message, secrets))) writer.write(line === '' ? prefix.trimEnd() : prefix + line)
    },
    async drained() {
      await Promise.all([out.drained(), err.drained()])
    },
  }
}

/** `text` with every occurrence of each secret of at least MIN_SECRET_LENGTH characters replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  return redactAll(text, usableSecrets(secrets))
}

/**
 * Occurrences are found in the original text and overlapping or adjacent ones merged before replacing, so a
 * secret that contains, overlaps or follows another is blanked whole, never left in pieces.
 */
function redactAll(text: string, secrets: readonly string[]): string {
  const ranges: [number, number][] = []
  for (const secret of secrets) {
    for (let i = text.indexOf(secret); i !== -1; i = text.indexOf(secret, i + 1)) ranges.push([i, i + secret.length])
  }

  if (ranges.length === 0) return text
  ranges.sort((a, b) => a[0] - b[0])
  let result = text.slice(0, ranges[0][0])
  let end = ranges[0][1]
  for (const [from, to] of ranges) {
    if (from > end) result += REDACTED + text.slice(end, from)
    end = Math.max(end, to)
  }

  return result + REDACTED + text.slice(end)
}

function usableSecrets(secrets: readonly (string | null | undefined)[]): string[] {
  return [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))]
}

/** Any line break (a stray \r included) starts a new, prefixed line: nothing can forge or break a line's format. */
function splitLines(message: string): string[] {
  const lines = message.split(/\r\n|\r|\n/)
  if (lines.length > 1 && lines.at(-1) === '') lines.pop()
  return lines
}

/** Reserved for per-step durations; the engine does not emit it yet. */
export interface StepTimingEvent {
  type: 'step_timing'
}

/**
 * How serious each engine event is, for routing its rendered line. A kill switch that appears is critical;
 * one that is removed is good news (info), like its notice. An order the exchange never received
 * (abandoned) or whose outcome is unknown is a warning: someone may want to look at the account.
 */
export function eventLevel(event: EngineEvent | StepTimingEvent): LogLevel {
  switch (event.type) {
    case 'cycle':
    case 'universe':
    case 'order':
    case 'denied': return 'info'
    case 'reconciled': return event.status === 'unknown' || event.status === 'abandoned' ? 'warning' : 'info'
    case 'kill_switch': return event.active ? 'critical' : 'info'
    case 'notice': return event.level
    case 'alert': return event.status === 'resolved' ? 'info' : event.severity
    case 'trim': return event.outcome === 'failed' ? 'warning' : 'info'
    case 'convert': return event.status === 'completed' ? 'info' : 'warning'
    case 'twap': return event.status === 'dust' || event.status === 'stopped' || event.status === 'failed' ? 'warning' : 'info'
    case 'adopted': return 'warning'
    case 'step_timing': return 'debug'
  }
}
