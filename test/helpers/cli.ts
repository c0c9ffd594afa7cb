import {spawnSync, type SpawnSyncOptions} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = `${ROOT}bin/run.js`

export interface CliResult {
  status: number | null
  /** Human lines as a person reads them: the time and level that prefix every line off a terminal are removed. */
  stdout: string
  stderr: string
  /** Exactly what was printed (test/cli/logging.test.ts checks the prefixes). */
  rawStdout: string
  rawStderr: string
}

/**
 * The `2026-11-30T06:15:59.788Z INFO     ` that starts each human line when stdout is not a terminal: the
 * time, a space, and the level padded to 9 characters (just the level on an empty line).
 */
export const LOG_PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?:(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)$|(?=DEBUG|INFO|WARNING|ERROR|CRITICAL)[A-Z ]{9})/gm

export const withoutPrefixes = (text: string) => text.replace(LOG_PREFIX, '')

/** Run the built CLI (`bin/run.js`, i.e. dist/) as a user would, without a TTY. */
export function runCli(args: string[], options: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    ...options,
    env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env},
  })
  const [stdout, stderr] = [String(r.stdout), String(r.stderr)]
  return {status: r.status, stdout: withoutPrefixes(stdout), stderr: withoutPrefixes(stderr), rawStdout: stdout, rawStderr: stderr}
}

/** Anything that looks like a JavaScript stack frame. */
export const STACK_TRACE = /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at .+:\d+:\d+/
