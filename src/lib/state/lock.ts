import {linkSync, readFileSync, renameSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BotError} from '../errors.js'
import {ensureDir, fileError} from '../files.js'

export interface StateLock {
  file: string
  release(): void
}

/** The kernel's start time of a process (Linux), so a recycled pid is not mistaken for the lock holder. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

function alive(pid: number, started: string | null): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }

  return started === null || startTime(pid) === null || startTime(pid) === started
}

function readSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

function tryUnlink(file: string): void {
  try {
    unlinkSync(file)
  } catch {}
}

/**
 * One bot per state dir. The lock file holds the owner's pid and start time and appears complete in one
 * step (link of a written file), so nobody reads it half-written. A lock whose process is gone (crash,
 * SIGKILL, reboot) is stale and taken over; a live one is refused with its pid.
 */
export function acquireLock(stateDir: string): StateLock {
  ensureDir(stateDir, 'state dir', 'STATE_DIR_UNUSABLE')
  const file = path.join(stateDir, 'bot.lock')
  const mine = `${process.pid} ${startTime(process.pid) ?? ''}\n`
  const draft = `${file}.${process.pid}`
  try {
    writeFileSync(draft, mine)
  } catch (error) {
    throw fileError(error, 'write in state dir', stateDir, 'STATE_DIR_UNUSABLE')
  }

  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(draft, file)
        return {file, release: () => readSafe(file) === mine && tryUnlink(file)}
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(error, 'create lock', file, 'LOCK_FAILED')
      }

      const seen = readSafe(file)
      const [pid, started] = seen.trim().split(' ')
      const holder = Number.parseInt(pid, 10)
      if (Number.isInteger(holder) && holder > 0 && alive(holder, started || null)) {
        throw new BotError(`another bot (pid ${holder}) is running on ${stateDir}; stop it first or use another --state-dir`, 'LOCKED')
      }

      takeOverStale(file, seen)
    }

    throw new BotError(`could not take the lock ${file}`, 'LOCK_FAILED')
  } finally {
    tryUnlink(draft)
  }
}

/** Move the stale lock aside atomically; if what moved is not what we judged stale, put it back. */
function takeOverStale(file: string, seen: string): void {
  const aside = `${file}.stale.${process.pid}`
  try {
    renameSync(file, aside)
  } catch {
    return // someone else moved it first; try again
  }

  if (readSafe(aside) !== seen) {
    try {
      linkSync(aside, file)
    } catch {}
  }

  tryUnlink(aside)
}
