import path from 'node:path'

import {BotError} from '../errors.js'
import {AuditHeadFile, headMismatch} from './audit-head.js'
import {type AuditHead, hashAt, verifyChain} from './audit.js'
import type {AuditKey} from './audit-key.js'
import {STATE_FILE} from './layout.js'

export interface StateVerification {
  stateDir: string
  ok: boolean
  /** Entries in the audit log. */
  entries: number
  /** The last entry that verified. */
  head: AuditHead
  brokenAt: number | null
  /** Why it does not verify (the chain, or a published head it no longer matches). */
  problem: string | null
  keyed: boolean
  /** audit-head.json against the chain. */
  headFile: 'matches' | 'missing' | 'unreadable' | 'does not match'
  /** The head given by the operator (e.g. from the journal), when one was. */
  published: {head: AuditHead; matches: boolean} | null
}

/**
 * A state dir's audit log checked read-only, while a bot runs or not: the chain (keyed where it is), the head
 * file beside it, and a head the operator copied from the logs. Loads SQLite only when called.
 */
export async function verifyStateDir(stateDir: string, key: AuditKey | null, published: AuditHead | null): Promise<StateVerification> {
  const file = path.join(stateDir, STATE_FILE)
  const {default: Database} = await import('better-sqlite3')
  let db
  try {
    db = new Database(file, {readonly: true, fileMustExist: true})
  } catch (error) {
    throw new BotError(`cannot open ${file}: ${(error as Error).message}`, 'STATE_UNREADABLE')
  }

  try {
    const keyedText = (db.prepare("SELECT value FROM meta WHERE key = 'audit_keyed_from'").get() as {value: string} | undefined)?.value ?? null
    if (keyedText !== null && key === null) {
      throw new BotError(`the audit log in ${file} is keyed (HMAC) from entry #${keyedText}: set the audit key's environment variable (state.audit_key_env in app.yaml) to verify it`, 'AUDIT_KEY_MISSING')
    }

    const v = verifyChain(db, {key: key?.key ?? null, keyedFrom: keyedText === null ? null : Number(keyedText)})
    const at = (n: number) => hashAt(db, n)
    const stored = AuditHeadFile.in(stateDir).read()
    let problem = v.problem
    let headFile: StateVerification['headFile'] = stored === null ? 'missing' : stored === 'unreadable' ? 'unreadable' : 'matches'
    if (stored !== null && stored !== 'unreadable') {
      const mismatch = headMismatch(stored, v.entries, at)
      if (mismatch) [headFile, problem] = ['does not match', problem ?? `${AuditHeadFile.in(stateDir).file}: ${mismatch}`]
    }

    const given = published && {head: published, matches: headMismatch(published, v.entries, at) === null}
    if (given && !given.matches) problem ??= `the head you gave: ${headMismatch(published!, v.entries, at)}`
    return {
      stateDir, ok: problem === null, entries: v.entries, head: v.head, brokenAt: v.brokenAt, problem,
      keyed: keyedText !== null, headFile, published: given,
    }
  } finally {
    db.close()
  }
}

/** `--audit-head 1257:ce88e1cd...` as printed in a cycle event or the run summary. */
export function parseAuditHead(text: string): AuditHead {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text.trim())
  if (!m) throw new BotError(`--audit-head expects <entries>:<64 hex hash> as printed in a cycle event, got "${text}"`, 'USAGE', 2)
  return {entries: Number(m[1]), hash: m[2]}
}
