import {mkdirSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BotError} from './errors.js'

/**
 * File-system failures become one line a person can act on: the path, what bot was doing, and the cause in
 * words (a full disk or a read-only mount is the machine's problem, not a bug in bot).
 */

const CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder, not a file',
  ELOOP: 'too many levels of symbolic links (a loop?)',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EBUSY: 'resource busy',
  EEXIST: 'already exists',
}

export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const e = error as NodeJS.ErrnoException
  return e instanceof Error && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string'
}

/** "permission denied (EACCES)"; other errors give their message. */
export function causeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code
  if (typeof code === 'string' && CAUSES[code]) return `${CAUSES[code]} (${code})`
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : (error as Error)?.message ?? String(error)
}

/** `cannot <doing> <file>: <cause>` as a BotError with a stable code. */
export function fileError(error: unknown, doing: string, file: string, code = 'FILE_ERROR'): BotError {
  return new BotError(`cannot ${doing} ${file}: ${causeOf(error)}`, code)
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir spins for ever on paths the kernel refuses oddly
 * (e.g. /proc/x answers ENOENT to a create), and its errors do not say which level failed.
 */
export function ensureDir(dir: string, what = 'folder', code = 'DIR_UNUSABLE'): void {
  const abs = path.resolve(dir)
  const missing: string[] = []
  for (let d = abs; ; d = path.dirname(d)) {
    let st
    try {
      st = statSync(d)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(error, `use ${what}`, dir, code)
    }

    if (st) {
      if (!st.isDirectory()) throw new BotError(`cannot use ${what} ${dir}: ${d} is not a folder`, code)
      break
    }

    missing.unshift(d)
    if (path.dirname(d) === d) break
  }

  for (const d of missing) {
    try {
      mkdirSync(d)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d, {throwIfNoEntry: false})?.isDirectory()) continue
      throw fileError(error, `create ${what}`, d === abs ? dir : `${dir} (at ${d})`, code)
    }
  }
}

/** Writes a file so that a reader sees the old content or the new, never half of it. */
export function writeFileAtomic(file: string, text: string): void {
  const draft = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(draft, text)
    renameSync(draft, file)
  } catch (error) {
    try {
      unlinkSync(draft)
    } catch {}

    throw error
  }
}
