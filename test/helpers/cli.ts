import {spawnSync, type SpawnSyncOptions} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = `${ROOT}bin/run.js`

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Run the built CLI (`bin/run.js`, i.e. dist/) as a user would, without a TTY. */
export function runCli(args: string[], options: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    ...options,
    env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env},
  })
  return {status: r.status, stdout: String(r.stdout), stderr: String(r.stderr)}
}

/** Anything that looks like a JavaScript stack frame. */
export const STACK_TRACE = /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at .+:\d+:\d+/
