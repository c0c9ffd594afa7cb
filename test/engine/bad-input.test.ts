import assert from 'node:assert/strict'
import {chmodSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BUNDLED_DATA_DIR} from '../../src/lib/exchange/replay/candle-files.js'
import {runCli, STACK_TRACE} from '../helpers/cli.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'

/** Every refusal: exit 1, one clear line on stderr naming what is wrong, no stack trace, nothing half-written. */
function refuses(args: string[], pattern: RegExp): void {
  const r = runCli(['run', '--cycles', '1', ...args])
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.match(r.stderr, pattern)
  assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
  assert.doesNotMatch(r.stderr, /this is a bug/)
}

describe('bot run refuses bad input with one clear line', function () {
  this.timeout(60_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('an invalid config: every problem listed, nothing started', () => {
    const config = configCopy(t.dir)
    const policy = path.join(config, 'policy.yaml')
    writeFileSync(policy, readFileSync(policy, 'utf8').replace('max_total_at_risk_pct: 25.0', 'max_total_at_risk_pct: 250'))
    const state = path.join(t.dir, 'state')
    refuses(['--config-dir', config, '--state-dir', state], /policy\.yaml:\d+:\d+ risk\.max_total_at_risk_pct: expected a number <= 100, found 250/)
    assert.throws(() => readFileSync(path.join(state, 'bot.sqlite')), 'no state was created')
  })

  it('a state dir that is a file', () => {
    const file = path.join(t.dir, 'not-a-dir')
    writeFileSync(file, 'x')
    refuses(['--state-dir', file], /cannot use state dir .*not-a-dir/)
  })

  it('a state database that is not SQLite', () => {
    const state = path.join(t.dir, 'state')
    mkdirSync(state)
    writeFileSync(path.join(state, 'bot.sqlite'), 'this is not a database'.repeat(100))
    refuses(['--state-dir', state], /cannot open state database .*bot\.sqlite/)
  })

  it('a sim data folder that does not exist', () => {
    const config = configCopy(t.dir)
    const app = path.join(config, 'app.yaml')
    writeFileSync(app, readFileSync(app, 'utf8').replace('data_dir: null', 'data_dir: ./no-such-folder'))
    refuses(['--config-dir', config, '--state-dir', path.join(t.dir, 'state')], /no-such-folder/)
  })

  it('a candle file with a broken row, named with its line', () => {
    const data = path.join(t.dir, 'candles')
    mkdirSync(data)
    writeFileSync(path.join(data, 'BTC-USD.csv'), 'timestamp,open,high,low,close,volume\n1701082800,1,1,1,1,1\n1701086400,1,1,oops,1,1\n')
    const config = configCopy(t.dir)
    const app = path.join(config, 'app.yaml')
    writeFileSync(app, readFileSync(app, 'utf8').replace('data_dir: null', `data_dir: ${data}`))
    writeFileSync(path.join(config, 'universe.yaml'), 'tiers:\n  tier1:\n    symbols: [BTC-USD]\nforce_eligible_symbols: [BTC-USD]\n')
    const policy = path.join(config, 'policy.yaml')
    writeFileSync(policy, readFileSync(policy, 'utf8').replace(/ {4}tier2: 5\n {4}tier3: 2\.5\n/, '').replace(/ {4}tier2:\n {6}slices: 2\n {6}spacing_seconds: 30\n {4}tier3:\n {6}slices: 4\n {6}spacing_seconds: 60\n/, ''))
    const costs = readFileSync(app, 'utf8').replace(/ {8}tier2: \d+\n {8}tier3: \d+\n/g, '')
    writeFileSync(app, costs)
    refuses(['--config-dir', config, '--state-dir', path.join(t.dir, 'state')], /BTC-USD\.csv:3/)
  })

  it('a state dir whose bot.sqlite and sim-exchange.sqlite are not one run', () => {
    const state = path.join(t.dir, 'state')
    assert.equal(runCli(['run', '--cycles', '30', '--state-dir', state]).status, 0)
    const sim = path.join(state, 'sim-exchange.sqlite')
    const bot = path.join(state, 'bot.sqlite')
    const saved = readFileSync(sim)
    for (const f of [sim, `${sim}-wal`, `${sim}-shm`]) rmSync(f, {force: true})
    refuses(['--state-dir', state], /sim-exchange\.sqlite is missing but bot\.sqlite .* holds a run/)
    writeFileSync(sim, saved)
    for (const f of [bot, `${bot}-wal`, `${bot}-shm`]) rmSync(f, {force: true})
    refuses(['--state-dir', state], /sim-exchange\.sqlite in .* holds a run but bot\.sqlite is missing/)
  })

  it('values from the environment are named by their variable in refusals, never shown', () => {
    const config = configCopy(t.dir)
    const app = path.join(config, 'app.yaml')
    const original = readFileSync(app, 'utf8')
    const secret = 'sk-live-TOPSECRET-42'
    writeFileSync(app, original.replace('data_dir: null', 'data_dir: ${BOT_API_KEY}'))
    let r = runCli(['run', '--config-dir', config, '--state-dir', path.join(t.dir, 'state')], {env: {BOT_API_KEY: secret}})
    assert.equal(r.status, 1)
    assert.match(r.stderr, /market data folder the value of \$BOT_API_KEY does not exist/)
    writeFileSync(app, original.replace('  id: sim', '  id: ${BOT_EXCHANGE}'))
    r = runCli(['run', '--config-dir', config, '--state-dir', path.join(t.dir, 'state')], {env: {BOT_EXCHANGE: 'topsecretexchange'}})
    assert.equal(r.status, 1)
    assert.match(r.stderr, /exchange\.id the value of \$BOT_EXCHANGE: ccxt has no such exchange/)
    for (const out of [r.stdout, r.stderr]) assert.ok(!out.includes('topsecret') && !out.includes('TOPSECRET'))
  })

  it('a candle file that is a folder or a dangling symlink is one line naming it, not a bug', () => {
    const data = path.join(t.dir, 'candles')
    cpSync(BUNDLED_DATA_DIR, data, {recursive: true})
    const config = configCopy(t.dir)
    const app = path.join(config, 'app.yaml')
    writeFileSync(app, readFileSync(app, 'utf8').replace('data_dir: null', `data_dir: ${data}`))
    const eth = path.join(data, 'ETH-USD-1h.csv')
    rmSync(eth)
    mkdirSync(eth)
    refuses(['--config-dir', config, '--state-dir', path.join(t.dir, 'state')], /ETH-USD-1h\.csv: is a folder, not a candle file/)
    rmSync(eth, {recursive: true})
    symlinkSync(path.join(t.dir, 'nowhere.csv'), eth)
    refuses(['--config-dir', config, '--state-dir', path.join(t.dir, 'state')], /ETH-USD-1h\.csv: is a symbolic link to a file that does not exist/)
  })

  it('a config folder that is a symlink loop, or that bot may not read, is not called "file not found"', () => {
    const loop = path.join(t.dir, 'loop')
    symlinkSync(loop, loop)
    const r = runCli(['validate', '--config-dir', loop])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /app\.yaml: cannot read file: too many levels of symbolic links/)
    assert.doesNotMatch(r.stdout + r.stderr, /file not found/)
  })

  it('a state dir bot may not write is one line naming it and the cause (EACCES), not a bug', () => {
    const parent = path.join(t.dir, 'owned-by-root')
    mkdirSync(parent, {mode: 0o755})
    chmodSync(t.dir, 0o755)
    // Root passes every permission check: as root, run bot as nobody; otherwise take the write bit away.
    const root = process.getuid?.() === 0
    if (!root) chmodSync(parent, 0o555)
    const asNobody = root ? {uid: 65534, gid: 65534, env: {HOME: parent}} : {}
    for (const [dir, pattern] of [[path.join(parent, 'new'), /cannot create state dir .*new: permission denied \(EACCES\)/], [parent, /cannot write in state dir .*owned-by-root: permission denied \(EACCES\)/]] as const) {
      const r = runCli(['run', '--state-dir', dir], asNobody)
      assert.equal(r.status, 1, r.stderr)
      assert.match(r.stderr, pattern)
      assert.doesNotMatch(r.stderr, /this is a bug|STACK/)
    }
  })

  it('--live without mode: live in app.yaml', () => {
    refuses(['--live', '--state-dir', path.join(t.dir, 'state')], /--live was given but app\.yaml says mode: paper/)
  })

  it('a bad flag value is a usage error (exit 2)', () => {
    const r = runCli(['run', '--cycles', 'many'])
    assert.equal(r.status, 2)
    assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
  })
})
