import {closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import path from 'node:path'

/**
 * `<state dir>/metrics.json`: where the running bot's exporter listens, so `bot metrics` (and a person) need
 * not hunt for the port after a conflict moved it. No prom-client here: `bot metrics` reads this file.
 */

export const ADDRESS_FILE = 'metrics.json'

export interface ExporterAddress {
  host: string
  port: number
  /** http://host:port/metrics, as bound. */
  url: string
  pid: number
  /** The process's kernel start time (/proc/<pid>/stat field 22, clock ticks after boot), so a recycled pid is not taken for the bot; null off Linux. */
  process_start_time: string | null
  /** ISO time the exporter started listening. */
  started_at: string
}

/** The kernel's start time of a process (Linux); null where /proc is not there. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

/** The process exists and, where the start time is known, is the same process (not a recycled pid). */
export function processAlive(pid: number, started: string | null): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }

  const now = processStartTime(pid)
  return started === null || now === null || now === started
}

/** host:port, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

export function addressFilePath(stateDir: string): string {
  return path.join(stateDir, ADDRESS_FILE)
}

/** Written to a temporary name, synced, then renamed: a reader sees the old file, no file, or the whole new one. */
export function writeAddressFile(stateDir: string, address: ExporterAddress): string {
  mkdirSync(stateDir, {recursive: true})
  const file = addressFilePath(stateDir)
  const draft = `${file}.${process.pid}.tmp`
  try {
    const fd = openSync(draft, 'w', 0o644)
    try {
      writeSync(fd, `${JSON.stringify(address, null, 2)}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }

    renameSync(draft, file)
  } catch (error) {
    tryUnlink(draft)
    throw error
  }

  return file
}

function tryUnlink(file: string): void {
  try {
    unlinkSync(file)
  } catch {}
}

/** Removes the file only while it still describes `address` (a newer bot may have replaced it). */
export function removeAddressFile(file: string, address: ExporterAddress): void {
  try {
    const seen = JSON.parse(readFileSync(file, 'utf8')) as Partial<ExporterAddress>
    if (seen.pid === address.pid && seen.started_at === address.started_at && seen.port === address.port) tryUnlink(file)
  } catch {}
}

/** The recorded address, or why there is none: 'missing', or a one-line description of what is wrong with it. */
export function readAddressFile(stateDir: string): ExporterAddress | {problem: string} {
  const file = addressFilePath(stateDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return {problem: code === 'ENOENT' ? 'missing' : `cannot read ${file} (${code ?? (error as Error).message})`}
  }

  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return {problem: `${file} is not JSON`}
  }

  const a = value as Partial<ExporterAddress> | null
  const valid = a !== null && typeof a === 'object' && typeof a.host === 'string' && a.host.length > 0
    && Number.isInteger(a.port) && a.port! > 0 && a.port! <= 65535 && Number.isInteger(a.pid) && a.pid! > 0
  if (!valid) return {problem: `${file} does not hold host, port and pid`}
  return {
    host: a.host!, port: a.port!, pid: a.pid!, url: typeof a.url === 'string' ? a.url : '',
    process_start_time: typeof a.process_start_time === 'string' ? a.process_start_time : null,
    started_at: typeof a.started_at === 'string' ? a.started_at : '',
  }
}
