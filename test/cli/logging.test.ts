import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {LOG_PREFIX, runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/fixtures.js'
import {rallyConfig} from '../helpers/rally.js'

const KEY = 'bot-test-api-key-a1b2c3d4e5'
const SECRET = 'bot-test-api-secret-f6g7h8i9j0'
const AUDIT = 'bot-test-audit-key-k1l2m3n4o5p6'
const TOKEN = 'hooks-token-q7r8s9t0u1v2'
const LEVELS = ['debug', 'info', 'warning', 'error'] as const
const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG|INFO|WARNING|ERROR|CRITICAL)(?: +(.*))?$/

/**
 * `bot run` as systemd or cron runs it (stdout a pipe), on the rally data from a start over the cap, so a
 * short run has info lines (cycles, orders), warnings (OVER_CAP) and debug lines (step timings). Metrics are
 * off (no port to vary between runs); a webhook sink whose URL carries a token is there only to be redacted.
 */
describe('human output by logging.level, off a terminal', function () {
  this.timeout(180_000)
  let t: ReturnType<typeof tempDir>
  const runs = new Map<string, ReturnType<typeof runCli>>()
  const jsons = new Map<string, string>()

  before(() => {
    t = tempDir()
    for (const level of LEVELS) {
      const config = rallyConfig(path.join(t.dir, level), {USD: 50_000, BTC: 4}, ({app}) => {
        const text = readFileSync(app, 'utf8')
          .replace('  level: info', `  level: ${level}`).replace(/^ {2}enabled: true$/m, '  enabled: false')
          .replace(/ {4}- type: console\n {6}min_severity: info/, `    - type: console\n      min_severity: info\n    - {type: webhook, url: "http://127.0.0.1:9/${TOKEN}", min_severity: critical, timeout_ms: 50}`)
        writeFileSync(app, text)
      })
      const env = {BOT_API_KEY: KEY, BOT_API_SECRET: SECRET, BOT_AUDIT_KEY: AUDIT}
      runs.set(level, runCli(['run', '--cycles', '3', '--config-dir', config, '--state-dir', path.join(t.dir, level, 'state')], {env}))
      // One state dir path for every level (made anew each time): it is printed in the JSON.
      rmSync(path.join(t.dir, 'json-state'), {recursive: true, force: true})
      jsons.set(level, runCli(['run', '--json', '--cycles', '3', '--config-dir', config, '--state-dir', path.join(t.dir, 'json-state')], {env}).rawStdout)
    }
  })
  after(() => t.cleanup())

  const lines = (text: string) => text.split('\n').filter(Boolean)
  const parsed = (level: string) => {
    const r = runs.get(level)!
    return {out: lines(r.rawStdout).map((l) => LINE.exec(l)), err: lines(r.rawStderr).map((l) => LINE.exec(l)), r}
  }

  it('every line parses as `time level message`, with a time close to now', () => {
    for (const level of LEVELS) {
      const {out, err, r} = parsed(level)
      assert.equal(r.status, 0, r.rawStderr)
      for (const m of [...out, ...err]) {
        assert.ok(m, `a line without its time and level at ${level}:\n${r.rawStdout}${r.rawStderr}`)
        assert.ok(Math.abs(Date.parse(m[1]) - Date.now()) < 10 * 60_000, m[1])
      }
    }
  })

  it('each level shows what it should and hides the rest', () => {
    const levelsAt = (level: string) => {
      const {out, err} = parsed(level)
      return new Set([...out, ...err].map((m) => m![2]))
    }

    assert.deepEqual([...levelsAt('debug')].sort(), ['DEBUG', 'INFO', 'WARNING'])
    assert.deepEqual([...levelsAt('info')].sort(), ['INFO', 'WARNING'])
    assert.deepEqual([...levelsAt('warning')].sort(), ['WARNING'])
    assert.deepEqual([...levelsAt('error')], [])
    const debug = runs.get('debug')!.stdout
    assert.match(debug, /cycle 2 snapshot \d+\.\d{3} ms/, 'a debug line per cycle step with its duration')
    const info = runs.get('info')!
    assert.match(info.stdout, /^#1 +\d{4}-\d\d-\d\d/m, 'cycle lines at info')
    assert.match(info.stdout, /^ {3}sell [\d.]+ BTC-USD ~[\d.]+ open \(trim: exposure/m, 'orders at info')
    assert.match(info.stdout, /^ {3}trim succeeded: exposure/m)
    assert.doesNotMatch(runs.get('warning')!.stdout + runs.get('warning')!.stderr, /^#1 /m)
  })

  it('stderr holds exactly the warnings and errors, stdout the rest', () => {
    for (const level of LEVELS) {
      const {out, err} = parsed(level)
      assert.ok(out.every((m) => m![2] === 'DEBUG' || m![2] === 'INFO'), `stdout at ${level}`)
      assert.ok(err.every((m) => m![2] === 'WARNING' || m![2] === 'ERROR' || m![2] === 'CRITICAL'), `stderr at ${level}`)
    }

    assert.match(runs.get('warning')!.stderr, /^WARNING OVER_CAP: exposure [\d.]+% is over the 25% cap/m)
  })

  it('--json is the same bytes at every level', () => {
    const reference = jsons.get('info')!
    assert.ok(reference.includes('"type":"cycle"'))
    assert.doesNotMatch(reference, LOG_PREFIX)
    for (const level of LEVELS) assert.equal(jsons.get(level), reference, `--json differs at ${level}`)
  })

  it('no secret appears at any level, debug included', () => {
    for (const level of LEVELS) {
      const r = runs.get(level)!
      for (const secret of [KEY, SECRET, AUDIT, TOKEN]) {
        assert.ok(!r.rawStdout.includes(secret) && !r.rawStderr.includes(secret), `${secret} at ${level}`)
        assert.ok(!jsons.get(level)!.includes(secret), `${secret} in --json at ${level}`)
      }
    }
  })
})
