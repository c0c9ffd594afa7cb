import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

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
    refuses(['--state-dir', state], /sim-exchange\.sqlite is new but bot\.sqlite .* holds a run/)
    writeFileSync(sim, saved)
    for (const f of [bot, `${bot}-wal`, `${bot}-shm`]) rmSync(f, {force: true})
    refuses(['--state-dir', state], /sim-exchange\.sqlite holds a run that bot\.sqlite .* does not know/)
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
