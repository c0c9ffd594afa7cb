import type Database from 'better-sqlite3'
import {createHash} from 'node:crypto'

export const GENESIS_HASH = '0'.repeat(64)

export interface AuditEntry {
  seq: number
  time: number
  kind: string
  data: string
  prev_hash: string
  hash: string
}

export interface AuditVerification {
  ok: boolean
  entries: number
  head: string
  /** First entry whose hash or link does not match, when the chain is broken. */
  brokenAt: number | null
}

function entryHash(prev: string, seq: number, time: number, kind: string, data: string): string {
  return createHash('sha256').update(`${prev}\n${seq}\n${time}\n${kind}\n${data}`).digest('hex')
}

/**
 * Append-only, hash-chained log of every decision: each entry commits to the one before, so an edit or a
 * deletion anywhere breaks verification from that point on. Times are the cycle's (virtual) time, so the
 * same input always gives the same chain.
 */
export class AuditLog {
  private readonly insert: Database.Statement
  private head: {seq: number; hash: string}

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO audit (seq, time, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
    const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as {seq: number; hash: string} | undefined
    this.head = last ?? {seq: 0, hash: GENESIS_HASH}
  }

  /** Call inside the caller's transaction; if it rolls back, call `reload()`. */
  append(time: number, kind: string, data: object): void {
    const seq = this.head.seq + 1
    const json = JSON.stringify(data)
    const hash = entryHash(this.head.hash, seq, time, kind, json)
    this.insert.run(seq, time, kind, json, this.head.hash, hash)
    this.head = {seq, hash}
  }

  reload(): void {
    const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as {seq: number; hash: string} | undefined
    this.head = last ?? {seq: 0, hash: GENESIS_HASH}
  }

  headHash(): string {
    return this.head.hash
  }

  verify(): AuditVerification {
    let prev = GENESIS_HASH
    let expectedSeq = 1
    let entries = 0
    for (const e of this.db.prepare('SELECT seq, time, kind, data, prev_hash, hash FROM audit ORDER BY seq').iterate() as IterableIterator<AuditEntry>) {
      if (e.seq !== expectedSeq || e.prev_hash !== prev || entryHash(prev, e.seq, e.time, e.kind, e.data) !== e.hash) {
        return {ok: false, entries, head: prev, brokenAt: e.seq}
      }

      prev = e.hash
      expectedSeq++
      entries++
    }

    return {ok: true, entries, head: prev, brokenAt: null}
  }
}
