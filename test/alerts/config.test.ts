import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {createAlertService} from '../../src/lib/alerts/index.js'
import {writeJsonSchemas} from '../../src/lib/config/json-schema.js'
import {validateConfig} from '../../src/lib/config/load.js'
import {BotError} from '../../src/lib/errors.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'

const SHIPPED_SINKS = '  sinks:\n    - type: console\n      min_severity: info\n'

/** The shipped config/ with the alerts sinks replaced by `sinks` (YAML list items, indented 4). */
function withSinks(root: string, sinks: string): string {
  const dir = configCopy(root)
  const file = path.join(dir, 'app.yaml')
  const text = readFileSync(file, 'utf8')
  assert.ok(text.includes(SHIPPED_SINKS), 'the shipped alerts.sinks changed; update this test')
  writeFileSync(file, text.replace(SHIPPED_SINKS, () => `  sinks:\n${sinks}`))
  return dir
}

const SINKS = `    - type: console
      min_severity: info
    - type: webhook
      url: \${BOT_TEST_WEBHOOK_URL}
      min_severity: warning
      timeout_ms: 500
      hmac_secret_env: BOT_TEST_WEBHOOK_SECRET
    - type: slack
      url: https://hooks.example.invalid/services/x
      timeout_ms: 30000
    - type: alertmanager
      url: http://127.0.0.1:9093
`

describe('alerts: config keys', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir('bot-alerts-config-')
  })
  afterEach(() => tmp.cleanup())

  const env = {BOT_TEST_WEBHOOK_URL: 'http://127.0.0.1:9/hook'}

  it('accepts timeout_ms on URL sinks and hmac_secret_env on a webhook, and defaults the rest', () => {
    const report = validateConfig(withSinks(tmp.dir, SINKS), env)
    assert.deepEqual(report.issues, [])
    const sinks = report.config!.app.alerts.sinks
    assert.deepEqual(sinks[1], {type: 'webhook', url: 'http://127.0.0.1:9/hook', min_severity: 'warning', timeout_ms: 500, hmac_secret_env: 'BOT_TEST_WEBHOOK_SECRET'})
    assert.deepEqual(sinks[3], {type: 'alertmanager', url: 'http://127.0.0.1:9093', min_severity: 'warning'})
    assert.equal(sinks[2].type === 'slack' && sinks[2].timeout_ms, 30000)
  })

  it('the shipped config/app.yaml validates with its alerts section', () => {
    const report = validateConfig(configCopy(tmp.dir), {})
    assert.deepEqual(report.issues, [])
    assert.deepEqual(report.config!.app.alerts, {timeout_ms: 3000, dedup_seconds: 3600, sinks: [{type: 'console', min_severity: 'info'}]})
  })

  it('exports the new keys, with bounds and descriptions, in app.schema.json for editors', () => {
    writeJsonSchemas(tmp.dir)
    const schema = JSON.parse(readFileSync(path.join(tmp.dir, 'app.schema.json'), 'utf8'))
    const variants = schema.properties.alerts.properties.sinks.items.oneOf as {properties: Record<string, {description?: string; minimum?: number; maximum?: number; pattern?: string}>; required: string[]}[]
    const webhook = variants.find((v) => JSON.stringify(v.properties.type).includes('"webhook"'))!
    assert.deepEqual([webhook.properties.timeout_ms.minimum, webhook.properties.timeout_ms.maximum], [50, 30000])
    assert.match(webhook.properties.timeout_ms.description ?? '', /default alerts\.timeout_ms/)
    assert.equal(webhook.properties.hmac_secret_env.pattern, '^[A-Z_][A-Z0-9_]*$')
    assert.match(webhook.properties.hmac_secret_env.description ?? '', /X-Bot-Signature/)
    assert.ok(!webhook.required.includes('timeout_ms') && !webhook.required.includes('hmac_secret_env'))
    const slack = variants.find((v) => JSON.stringify(v.properties.type).includes('"slack"'))!
    assert.ok('timeout_ms' in slack.properties && !('hmac_secret_env' in slack.properties))
  })

  const bad: {name: string; from: string; to: string; path: string; code: string; message: RegExp}[] = [
    {name: 'a negative sink timeout', from: 'timeout_ms: 500\n', to: 'timeout_ms: -5\n', path: 'alerts.sinks[1].timeout_ms', code: 'too_small', message: /expected a number >= 50, found -5/},
    {name: 'a sink timeout above 30 s', from: 'timeout_ms: 30000', to: 'timeout_ms: 60000', path: 'alerts.sinks[2].timeout_ms', code: 'too_big', message: /expected a number <= 30000, found 60000/},
    {name: 'a fractional sink timeout', from: 'timeout_ms: 500\n', to: 'timeout_ms: 500.5\n', path: 'alerts.sinks[1].timeout_ms', code: 'invalid_type', message: /whole number/},
    {name: 'a lowercase env name', from: 'hmac_secret_env: BOT_TEST_WEBHOOK_SECRET', to: 'hmac_secret_env: bot_secret', path: 'alerts.sinks[1].hmac_secret_env', code: 'invalid_format', message: /environment variable name/},
    {name: 'hmac_secret_env on a slack sink', from: 'timeout_ms: 30000', to: 'timeout_ms: 30000\n      hmac_secret_env: BOT_X', path: 'alerts.sinks[2].hmac_secret_env', code: 'unknown_key', message: /unknown key "hmac_secret_env"/},
    {name: 'timeout_ms on the console sink', from: '      min_severity: info\n    - type: webhook', to: '      timeout_ms: 100\n    - type: webhook', path: 'alerts.sinks[0].timeout_ms', code: 'unknown_key', message: /unknown key "timeout_ms"/},
  ]

  for (const row of bad) {
    it(`reports ${row.name} at ${row.path}`, () => {
      const dir = withSinks(tmp.dir, SINKS)
      const file = path.join(dir, 'app.yaml')
      const text = readFileSync(file, 'utf8')
      assert.ok(text.includes(row.from))
      writeFileSync(file, text.replace(row.from, () => row.to))
      const report = validateConfig(dir, env)
      assert.equal(report.ok, false)
      assert.deepEqual(report.issues.map((i) => [i.path, i.code]), [[row.path, row.code]])
      const [issue] = report.issues
      assert.match(issue.message, row.message)
      assert.equal(issue.file, file)
      // Pinned to the line of the offending key (1-based), the one this edit wrote.
      const key = row.path.split('.').at(-1)!
      const edited = text.replace(row.from, () => row.to).split('\n')
      const at = text.slice(0, text.indexOf(row.from)).split('\n').length - 1
      const expected = edited.findIndex((l, i) => i >= at && l.trimStart().startsWith(`${key}:`)) + 1
      assert.equal(issue.line, expected)
    })
  }

  it('a valid config whose HMAC variable is unset fails in createAlertService, naming only the variable', () => {
    const {config} = validateConfig(withSinks(tmp.dir, SINKS), env)
    assert.ok(config)
    const alerts = config.app.alerts
    assert.throws(() => createAlertService(alerts, {env, writeLine: () => {}}), (error: unknown) => {
      assert.ok(error instanceof BotError)
      assert.equal(error.message, 'alerts.sinks[1].hmac_secret_env: environment variable BOT_TEST_WEBHOOK_SECRET is not set (webhook#1 would send unsigned alerts)')
      assert.ok(!error.message.includes('127.0.0.1'))
      return true
    })
    assert.doesNotThrow(() => createAlertService(alerts, {env: {...env, BOT_TEST_WEBHOOK_SECRET: 's3cret'}, writeLine: () => {}}))
  })
})
