import {closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync} from 'node:fs'
import path from 'node:path'

import {BotError} from '../errors.js'

export interface StateLock {
  file: string
  release(): void
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One bot per state dir: an O_EXCL lock file holding our pid. A lock whose pid is gone (crash, SIGKILL) is
 * stale and taken over; a live one is refused with its pid.
 */
export function acquireLock(stateDir: string): StateLock {
  try {
    mkdirSync(stateDir, {recursive: true})
  } catch (error) {
    throw new BotError(`cannot use state dir ${stateDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'STATE_DIR_UNUSABLE')
  }

  const file = path.join(stateDir, 'bot.lock')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return {file, release: () => releaseIfOurs(file)}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new BotError(`cannot create lock ${file}: ${(error as Error).message}`, 'LOCK_FAILED')
    }

    const holder = Number.parseInt(readSafe(file), 10)
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new BotError(`another bot (pid ${holder}) is running on ${stateDir}; stop it first or use another --state-dir`, 'LOCKED')
    }

    try {
      unlinkSync(file) // stale: its process is gone
    } catch {}
  }

  throw new BotError(`could not take the lock ${file}`, 'LOCK_FAILED')
}

function readSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

function releaseIfOurs(file: string): void {
  if (Number.parseInt(readSafe(file), 10) === process.pid) {
    try {
      unlinkSync(file)
    } catch {}
  }
}
