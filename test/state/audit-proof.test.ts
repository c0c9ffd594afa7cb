import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {cpSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCli, STACK_TRACE} from '../helpers/cli.js'
import {tempDir} from '../helpers/fixtures.js'
import {runJson} from '../helpers/run.js'

const KEY = 'audit-key-for-tests-0123456789abcdef'

/** Runs SQL on a state dir's bot.sqlite as an intruder with file access would: triggers dropped first. */
function tamper(stateDir: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path.join(stateDir, 'bot.sqlite'))
  db.exec('DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete')
  fn(db)
  db.close()
}

/** Rewrites every hash from entry `from` on with plain SHA-256, as someone without the key would. */
function recompute(db: Database.Database, from: number): void {
  let prev = (db.prepare('SELECT hash FROM audit WHERE seq = ?').get(from - 1) as {hash: string} | undefined)?.hash ?? '0'.repeat(64)
  for (const e of db.prepare('SELECT seq, time, kind, data FROM audit WHERE seq >= ? ORDER BY seq').all(from) as {seq: number; time: number; kind: string; data: string}[]) {
    const hash = createHash('sha256').update(`${prev}\n${e.seq}\n${e.time}\n${e.kind}\n${e.data}`).digest('hex')
    db.prepare('UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, e.seq)
    prev = hash
  }
}

function refused(stateDir: string, pattern: RegExp, env: Record<string, string> = {}): void {
  const before = readFileSync(path.join(stateDir, 'bot.sqlite'))
  const r = runCli(['run', '--cycles', '1', '--state-dir', stateDir], {env})
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.match(r.stderr, pattern)
  assert.doesNotMatch(r.stderr, STACK_TRACE)
  // One line, after the console alert sink's CRITICAL for a chain that cannot be proved.
  const lines = r.stderr.trim().split('\n').filter((l) => !/^CRITICAL AUDIT_CHAIN_BROKEN: /.test(l))
  assert.equal(lines.length, 1, `one line: ${r.stderr}`)
  assert.deepEqual(readFileSync(path.join(stateDir, 'bot.sqlite')), before, 'the refusal wrote nothing')
}

describe('the audit log proves what happened', function () {
  this.timeout(180_000)
  let t: ReturnType<typeof tempDir>
  let base: string
  before(() => {
    t = tempDir()
    base = path.join(t.dir, 'base')
    assert.equal(runCli(['run', '--cycles', '40', '--state-dir', base]).status, 0)
  })
  after(() => t.cleanup())
  const copy = (name: string) => {
    const dir = path.join(t.dir, name)
    cpSync(base, dir, {recursive: true})
    return dir
  }

  it('publishes the head in every cycle event and in audit-head.json, and the two agree with the log', () => {
    const dir = copy('published')
    const run = runJson(['--cycles', '5', '--state-dir', dir])
    assert.equal(run.status, 0, run.stderr)
    const cycles = run.events.filter((e) => e.type === 'cycle').map((e) => (e.report as {audit: {entries: number; hash: string}}).audit)
    assert.equal(cycles.length, 5)
    assert.ok(cycles.every((h, i) => i === 0 || h.entries > cycles[i - 1].entries), 'the head moves forward every cycle')
    const file = JSON.parse(readFileSync(path.join(dir, 'audit-head.json'), 'utf8')) as {entries: number; hash: string}
    assert.deepEqual({entries: file.entries, hash: file.hash}, cycles.at(-1))
    assert.deepEqual(run.summary.auditHead, cycles.at(-1))
    const db = new Database(path.join(dir, 'bot.sqlite'), {readonly: true})
    assert.equal((db.prepare('SELECT hash FROM audit WHERE seq = ?').get(file.entries) as {hash: string}).hash, file.hash)
    db.close()
  })

  it('an edited entry refuses the start, naming the entry', () => {
    const dir = copy('edited')
    tamper(dir, (db) => db.prepare(`UPDATE audit SET data = '{"edited":true}' WHERE seq = 7`).run())
    refused(dir, /audit log in .*bot\.sqlite is broken at entry #7: entry #7's hash does not match its content/)
  })

  it('a cut tail refuses the start: the log no longer reaches the published head', () => {
    const dir = copy('cut')
    tamper(dir, (db) => db.prepare('DELETE FROM audit WHERE seq > (SELECT max(seq) - 5 FROM audit)').run())
    refused(dir, /does not match .*audit-head\.json: the log ends at entry #\d+ but entry #\d+ was published: entries were removed/)
  })

  it('an edit with every later hash recomputed refuses the start: the published head no longer matches', () => {
    const dir = copy('recomputed')
    tamper(dir, (db) => {
      db.prepare(`UPDATE audit SET data = '{"edited":true}' WHERE seq = 7`).run()
      recompute(db, 7)
    })
    refused(dir, /does not match .*audit-head\.json: entry #\d+ has hash \w+… but \w+… was published: the chain was rewritten/)
  })

  it('bot validate --state-dir proves a state dir against a head from the logs, even when the head file was rewritten too', () => {
    const dir = copy('journal')
    const run = runJson(['--cycles', '3', '--state-dir', dir])
    const logged = (run.events.filter((e) => e.type === 'cycle').at(-1)!.report as {audit: {entries: number; hash: string}}).audit
    const ok = runCli(['validate', '--state-dir', dir, '--audit-head', `${logged.entries}:${logged.hash}`])
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, new RegExp(`audit log of ${logged.entries} entries verified, head #${logged.entries} ${logged.hash}`))
    tamper(dir, (db) => {
      db.prepare(`UPDATE audit SET data = '{"edited":true}' WHERE seq = 9`).run()
      recompute(db, 9)
      const head = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as {seq: number; hash: string}
      writeFileSync(path.join(dir, 'audit-head.json'), JSON.stringify({entries: head.seq, hash: head.hash, time: 'x'}))
    })
    assert.equal(runCli(['validate', '--state-dir', dir]).status, 0, 'a consistent forgery passes the local checks')
    const caught = runCli(['validate', '--json', '--state-dir', dir, '--audit-head', `${logged.entries}:${logged.hash}`])
    assert.equal(caught.status, 1)
    const report = JSON.parse(caught.stdout) as {ok: boolean; state: {ok: boolean; problem: string; published: {matches: boolean}}}
    assert.equal(report.ok, false)
    assert.equal(report.state.published.matches, false)
    assert.match(report.state.problem, /the chain was rewritten/)
  })

  it('with an audit key the chain is an HMAC chain: a recomputed chain fails even with the head file removed', () => {
    const dir = path.join(t.dir, 'keyed')
    const env = {BOT_AUDIT_KEY: KEY}
    assert.equal(runCli(['run', '--cycles', '20', '--state-dir', dir], {env}).status, 0)
    assert.equal(runCli(['run', '--cycles', '2', '--state-dir', dir], {env}).status, 0, 'resumes with the key')
    refused(dir, /is keyed \(HMAC\) from entry #1: set the audit key's environment variable/)
    refused(dir, /broken at entry #1: .*or the audit key is not the one it was written with/, {BOT_AUDIT_KEY: `${KEY}-wrong`})
    tamper(dir, (db) => {
      db.prepare(`UPDATE audit SET data = '{"edited":true}' WHERE seq = 3`).run()
      recompute(db, 3)
    })
    rmSync(path.join(dir, 'audit-head.json'))
    refused(dir, /broken at entry #3/, env)
    const weak = runCli(['run', '--cycles', '1', '--state-dir', path.join(t.dir, 'weak')], {env: {BOT_AUDIT_KEY: 'short'}})
    assert.equal(weak.status, 1)
    assert.match(weak.stderr, /\$BOT_AUDIT_KEY \(the audit key\) is shorter than 16 characters/)
    assert.doesNotMatch(weak.stderr, /short\b(?! than)/, 'the key itself is never printed')
  })

  it('a key given to a chain made without one seals every later entry', () => {
    const dir = copy('upgraded')
    const env = {BOT_AUDIT_KEY: KEY}
    assert.equal(runCli(['run', '--cycles', '3', '--state-dir', dir], {env}).status, 0)
    refused(dir, /is keyed \(HMAC\) from entry #\d+/)
    assert.equal(runCli(['run', '--cycles', '1', '--state-dir', dir], {env}).status, 0)
  })

  it('a missing head file is said once and written again from the verified chain', () => {
    const dir = copy('no-head')
    rmSync(path.join(dir, 'audit-head.json'))
    const run = runJson(['--cycles', '1', '--state-dir', dir])
    assert.equal(run.status, 0, run.stderr)
    assert.ok(run.events.some((e) => e.type === 'notice' && /audit-head\.json is missing; it is written again/.test(String(e.message))))
    assert.ok(JSON.parse(readFileSync(path.join(dir, 'audit-head.json'), 'utf8')).entries > 0)
  })
})
