import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {validateConfig} from '../../src/lib/config/load.js'
import {testKey} from '../coinbase/keys.js'
import {type CoinbaseServer, startCoinbaseServer} from '../coinbase/server.js'
import {STACK_TRACE} from '../helpers/cli.js'
import {tempDir} from '../helpers/fixtures.js'
import {edit, KEY_VAR, keyEnv, liveConfig, runCliAsync, SECRET_VAR} from './support.js'

/** Every file under `dir` with its size and modification time: what a refusal must leave as it was. */
function snapshotOf(dir: string): string[] {
  if (!existsSync(dir)) return ['(none)']
  return readdirSync(dir, {recursive: true}).map(String).sort().map((f) => {
    const s = statSync(path.join(dir, f))
    return `${f} ${s.size} ${s.mtimeMs}`
  })
}

/**
 * Live trading refused in one line, with exit 1, before the first request and before any file is written:
 * each opt-in missing, each credential variable missing; a plain-http REST URL to another host refused by
 * `bot validate`. Through the built CLI.
 */
describe('live trading refusals (CLI)', function () {
  let server: CoinbaseServer
  let root: string
  let cleanup: () => void
  const key = testKey()
  before(async () => {
    server = await startCoinbaseServer({key})
  })
  after(async () => {
    await server.close()
  })
  beforeEach(() => {
    const t = tempDir('bot-live-refusal-')
    root = t.dir
    cleanup = t.cleanup
    server.clearRequests()
  })
  afterEach(() => cleanup())

  /** A state dir that already holds something (a lock-free leftover), and one that does not exist yet. */
  async function refused(args: string[], env: Record<string, string | undefined>, configDir: string, message: RegExp, code: string) {
    const existing = path.join(root, 'existing')
    mkdirSync(existing)
    writeFileSync(path.join(existing, 'notes.txt'), 'kept as it is\n')
    const fresh = path.join(root, 'fresh')
    for (const stateDir of [existing, fresh]) {
      const before = snapshotOf(stateDir)
      const human = await runCliAsync([...args, '--config-dir', configDir, '--state-dir', stateDir], env)
      assert.equal(human.status, 1, human.stderr)
      assert.equal(human.stdout, '', 'nothing on stdout')
      const lines = human.stderr.split('\n').filter(Boolean)
      assert.equal(lines.length, 1, `one line: ${human.stderr}`)
      assert.match(lines[0], message)
      assert.doesNotMatch(human.rawStderr, STACK_TRACE)
      const json = await runCliAsync([...args, '--json', '--config-dir', configDir, '--state-dir', stateDir], env)
      assert.equal(json.status, 1)
      assert.equal(json.events.length, 1, json.stdout)
      assert.equal(json.events[0].error.code, code)
      assert.deepEqual(snapshotOf(stateDir), before, 'no file written')
    }

    assert.deepEqual(server.requests.map((r) => r.path), [], 'no request reached the exchange')
  }

  it('--live while app.yaml says mode: paper', async () => {
    const config = liveConfig(root, server, {mode: 'paper'})
    await refused(['run', '--live', '--cycles', '1'], keyEnv(key), config, /^Error: --live was given but app\.yaml says mode: paper; both must ask for live trading$/, 'LIVE_NOT_ARMED')
  })

  it('mode: live without --live (also for bot trim)', async () => {
    const config = liveConfig(root, server)
    await refused(['run', '--cycles', '1'], keyEnv(key), config, /^Error: app\.yaml says mode: live; add --live to confirm real orders/, 'LIVE_NOT_ARMED')
    cleanup()
    mkdirSync(root)
    await refused(['trim'], keyEnv(key), liveConfig(root, server), /^Error: app\.yaml says mode: live; add --live/, 'LIVE_NOT_ARMED')
  })

  it('the API key variable unset, the secret variable empty, or both: named, never a value', async () => {
    const config = liveConfig(root, server)
    const {[KEY_VAR]: _, ...secretOnly} = keyEnv(key)
    await refused(['run', '--live', '--cycles', '1'], secretOnly, config, new RegExp(`^Error: live trading needs the exchange's API credentials in the environment: \\$${KEY_VAR} \\(exchange\\.api_key_env\\) is not set; nothing was sent and no file was written$`), 'CREDENTIALS_MISSING')
    cleanup()
    mkdirSync(root)
    const emptySecret = {...keyEnv(key), [SECRET_VAR]: ''}
    await refused(['run', '--live', '--cycles', '1'], emptySecret, liveConfig(root, server), new RegExp(`\\$${SECRET_VAR} \\(exchange\\.api_secret_env\\) is not set`), 'CREDENTIALS_MISSING')
    cleanup()
    mkdirSync(root)
    await refused(['trim', '--live'], {}, liveConfig(root, server), new RegExp(`\\$${KEY_VAR} \\(exchange\\.api_key_env\\) and \\$${SECRET_VAR} \\(exchange\\.api_secret_env\\) are not set`), 'CREDENTIALS_MISSING')
  })

  it('an exchange ccxt does not know (also named by its variable), a timeframe the exchange lacks: refused once ccxt is loaded, still before any request or file', async () => {
    const unknown = liveConfig(root, server, {mode: 'paper', app: [['  id: coinbase', '  id: nosuchexchange']]})
    await refused(['run', '--cycles', '1'], {}, unknown, /^Error: exchange\.id "nosuchexchange": ccxt has no such exchange \(write a ccxt id, e\.g\. coinbase, or sim\)$/, 'UNKNOWN_EXCHANGE')
    cleanup()
    mkdirSync(root)
    // An id written as ${VAR} is named by the variable, never shown.
    const fromEnv = liveConfig(root, server, {mode: 'paper', app: [['  id: coinbase', '  id: ${BOT_TEST_EXCHANGE}']]})
    const env = {BOT_TEST_EXCHANGE: 'topsecretexchange'}
    await refused(['run', '--cycles', '1'], env, fromEnv, /^Error: exchange\.id the value of \$BOT_TEST_EXCHANGE: ccxt has no such exchange/, 'UNKNOWN_EXCHANGE')
    for (const json of [false, true]) {
      const r = await runCliAsync(['run', '--cycles', '1', ...(json ? ['--json'] : []), '--config-dir', fromEnv, '--state-dir', path.join(root, 'x')], env)
      assert.ok(!`${r.rawStdout}${r.rawStderr}`.includes('topsecret'), r.rawStdout + r.rawStderr)
    }

    cleanup()
    mkdirSync(root)
    const fourHours = liveConfig(root, server, {mode: 'paper', app: [['  timeframe: 1h', '  timeframe: 4h']]})
    await refused(['run', '--cycles', '1'], {}, fourHours, /^Error: exchange\.id "coinbase": coinbase has no 4h candles \(it offers: .*1h.*\); set exchange\.timeframe to one of them$/, 'TIMEFRAME_UNSUPPORTED')
  })

  it('live on a state dir that holds a simulated account (paper or sim)', async () => {
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'paper-state')
    mkdirSync(stateDir)
    writeFileSync(path.join(stateDir, 'sim-exchange.sqlite'), '')
    const before = snapshotOf(stateDir)
    const r = await runCliAsync(['run', '--live', '--cycles', '1', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))
    assert.equal(r.status, 1)
    assert.match(r.stderr.trim(), /^Error: sim-exchange\.sqlite in .* holds a simulated account: live trading needs a state dir of its own \(state\.dir or --state-dir\)$/)
    assert.deepEqual(snapshotOf(stateDir), before)
    assert.deepEqual(server.requests, [])
  })

  it('bot validate refuses plain http to a host that is not this machine, naming the field', async () => {
    const config = liveConfig(root, server, {mode: 'paper'})
    edit(config, 'app.yaml', [[`  rest_url: ${server.url}`, '  rest_url: http://api.coinbase.com']])
    const r = await runCliAsync(['validate', '--config-dir', config])
    assert.equal(r.status, 1)
    const problem = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('exchange.rest_url'))
    assert.equal(problem.length, 1, r.stdout + r.stderr)
    assert.match(problem[0], /app\.yaml:\d+:\d+ exchange\.rest_url: expected an https:\/\/ URL \(scheme, host, optional port\), or http:\/\/ to a loopback host \(127\.0\.0\.1, \[::1\], localhost\), found "http:\/\/api\.coinbase\.com"$/)
    const run = await runCliAsync(['run', '--cycles', '1', '--config-dir', config, '--state-dir', path.join(root, 'state')])
    assert.equal(run.status, 1, 'every command runs the same check first')
    assert.ok(!existsSync(path.join(root, 'state')))
    assert.deepEqual(server.requests, [])
  })

  it('accepts https anywhere, and plain http to 127.0.0.1, [::1] and localhost (with or without a port)', () => {
    const config = liveConfig(root, server, {mode: 'paper'})
    for (const url of ['https://api-sandbox.example.com', 'https://api.example.com:8443/', 'http://127.0.0.1:8080', 'http://[::1]:9', 'http://localhost', 'http://localhost:3000/']) {
      edit(config, 'app.yaml', [[/ {2}rest_url: .*/, `  rest_url: ${url}`]])
      const report = validateConfig(config, {})
      assert.deepEqual(report.issues, [], url)
      assert.equal(report.config?.app.exchange.rest_url, url)
    }
  })
})
