import type Database from 'better-sqlite3'
import {createHash, createHmac} from 'node:crypto'

export const GENESIS_HASH = '0'.repeat(64)

export interface AuditEntry {
  seq: number
  time: number
  kind: string
  data: string
  prev_hash: string
  hash: string
}

/** The newest entry: what a cycle publishes, so a later cut or rewrite of the chain can be detected. */
export interface AuditHead {
  entries: number
  hash: string
}

export interface AuditVerification {
  ok: boolean
  /** Entries in the log, broken or not. */
  entries: number
  /** The last entry that verified (entries = its seq when the chain is whole). */
  head: AuditHead
  /** First entry whose hash, link or number does not match, when the chain is broken. */
  brokenAt: number | null
  problem: string | null
}

/**
 * How entries are hashed. Plain SHA-256 proves order and integrity against accidents, but anyone with the file
 * can recompute a rewritten chain; with a key (HMAC-SHA256) nobody without it can. `keyedFrom` is the first
 * keyed entry, so a chain started without a key can be keyed from some point on.
 */
export interface AuditSeal {
  key: Buffer | null
  keyedFrom: number | null
}

function entryHash(seal: AuditSeal, prev: string, seq: number, time: number, kind: string, data: string): string {
  const text = `${prev}\n${seq}\n${time}\n${kind}\n${data}`
  if (seal.keyedFrom !== null && seq >= seal.keyedFrom) return createHmac('sha256', seal.key!).update(text).digest('hex')
  return createHash('sha256').update(text).digest('hex')
}

/**
 * Append-only, hash-chained log of every decision: each entry commits to the one before, so an edit or a
 * deletion anywhere breaks verification from that point on, and the published head exposes a cut tail. Times
 * are the cycle's (virtual) time, so the same input always gives the same chain.
 */
export class AuditLog {
  private readonly insert: Database.Statement
  private readonly last: Database.Statement
  private head: {seq: number; hash: string}

  constructor(private readonly db: Database.Database, private readonly seal: AuditSeal) {
    this.insert = db.prepare('INSERT INTO audit (seq, time, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
    this.last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1')
    this.head = this.readHead()
  }

  /** Call inside the caller's transaction; if it rolls back, call `reload()`. */
  append(time: number, kind: string, data: object): void {
    const seq = this.head.seq + 1
    const json = JSON.stringify(data)
    const hash = entryHash(this.seal, this.head.hash, seq, time, kind, json)
    this.insert.run(seq, time, kind, json, this.head.hash, hash)
    this.head = {seq, hash}
  }

  reload(): void {
    this.head = this.readHead()
  }

  current(): AuditHead {
    return {entries: this.head.seq, hash: this.head.hash}
  }

  verify(): AuditVerification {
    return verifyChain(this.db, this.seal)
  }

  private readHead(): {seq: number; hash: string} {
    return (this.last.get() as {seq: number; hash: string} | undefined) ?? {seq: 0, hash: GENESIS_HASH}
  }
}

/** Walks the whole chain; works on a database no StateStore has opened yet (a pre-flight check). */
export function verifyChain(db: Database.Database, seal: AuditSeal): AuditVerification {
  let prev = GENESIS_HASH
  let expectedSeq = 1
  const entries = (db.prepare('SELECT count(*) AS n FROM audit').get() as {n: number}).n
  for (const e of db.prepare('SELECT seq, time, kind, data, prev_hash, hash FROM audit ORDER BY seq').iterate() as IterableIterator<AuditEntry>) {
    const problem = e.seq !== expectedSeq ? `entry #${expectedSeq} is missing (next is #${e.seq})`
      : e.prev_hash !== prev ? `entry #${e.seq} does not link to the entry before it`
        : entryHash(seal, prev, e.seq, e.time, e.kind, e.data) !== e.hash
          ? `entry #${e.seq}'s hash does not match its content${seal.keyedFrom !== null && e.seq >= seal.keyedFrom ? ' (or the audit key is not the one it was written with)' : ''}`
          : null
    if (problem) return {ok: false, entries, head: {entries: expectedSeq - 1, hash: prev}, brokenAt: expectedSeq, problem}
    prev = e.hash
    expectedSeq++
  }

  return {ok: true, entries, head: {entries, hash: prev}, brokenAt: null, problem: null}
}

/** Entry #n's hash, or null when the chain is shorter. */
export function hashAt(db: Database.Database, n: number): string | null {
  if (n === 0) return GENESIS_HASH
  return (db.prepare('SELECT hash FROM audit WHERE seq = ?').get(n) as {hash: string} | undefined)?.hash ?? null
}
