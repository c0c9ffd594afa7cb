import {closeSync, openSync, readFileSync, writeSync} from 'node:fs'
import path from 'node:path'

import {fileError} from '../files.js'
import type {AuditHead} from './audit.js'

export const AUDIT_HEAD_FILE = 'audit-head.json'

/** One fixed-width line, rewritten in place: a write per cycle costs one small pwrite, not a file rename. */
const WIDTH = 191

export interface PublishedHead extends AuditHead {
  /** The cycle time the head was published at (ISO). */
  time: string
}

/**
 * The chain's head as of the last completed cycle, kept outside bot.sqlite (and printed in every cycle
 * event): a tail cut from the log, or a chain recomputed after an edit, no longer matches it.
 */
export class AuditHeadFile {
  private fd: number | null = null

  constructor(readonly file: string) {}

  static in(stateDir: string): AuditHeadFile {
    return new AuditHeadFile(path.join(stateDir, AUDIT_HEAD_FILE))
  }

  write(head: AuditHead, time: number): void {
    const line = JSON.stringify({entries: head.entries, hash: head.hash, time: new Date(time).toISOString()})
    const buf = Buffer.from(`${line.padEnd(WIDTH)}\n`)
    try {
      this.fd ??= openSync(this.file, 'w', 0o644)
      writeSync(this.fd, buf, 0, buf.length, 0)
    } catch (error) {
      throw fileError(error, 'write', this.file, 'AUDIT_HEAD_WRITE_FAILED')
    }
  }

  /** What the file says; null when it is absent, 'unreadable' when it cannot be parsed. */
  read(): PublishedHead | null | 'unreadable' {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'unreadable'
    }

    try {
      const v = JSON.parse(text) as Partial<PublishedHead>
      if (!Number.isInteger(v.entries) || v.entries! < 0 || typeof v.hash !== 'string' || !/^[0-9a-f]{64}$/.test(v.hash)) return 'unreadable'
      return {entries: v.entries!, hash: v.hash, time: String(v.time ?? '')}
    } catch {
      return 'unreadable'
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}

/**
 * Why a verified chain does not match a head published earlier (null when it does): the published entry must
 * still be there, with the same hash.
 */
export function headMismatch(published: AuditHead, entries: number, hashAt: (n: number) => string | null): string | null {
  if (published.entries > entries) {
    return `the log ends at entry #${entries} but entry #${published.entries} was published: entries were removed`
  }

  const hash = hashAt(published.entries)
  if (hash !== published.hash) {
    return `entry #${published.entries} has hash ${hash?.slice(0, 12)}… but ${published.hash.slice(0, 12)}… was published: the chain was rewritten`
  }

  return null
}
