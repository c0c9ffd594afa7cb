import assert from 'node:assert/strict'
import path from 'node:path'

import {ROOT} from '../helpers/cli.js'
import {requireBinary, runTool} from '../helpers/daemons.js'
import {populatedMetrics} from './support.js'

const OPS = path.join(ROOT, 'ops', 'prometheus')

export const BOT_METRIC_NAMES = ['bot_info', 'bot_equity', 'bot_cash', 'bot_exposure_ratio', 'bot_exposure_value', 'bot_exposure_cap_ratio', 'bot_position_value',
  'bot_universe_symbols', 'bot_orders_total', 'bot_risk_denials_total', 'bot_trim_consecutive_failures', 'bot_trims_total', 'bot_convert_attempts_total',
  'bot_alerts_total', 'bot_exchange_requests_total', 'bot_exchange_errors_total', 'bot_cycle_duration_seconds', 'bot_last_cycle_completed_timestamp_seconds',
  'bot_kill_switch_active']

describe('metrics against promtool', function () {
  let promtool: string
  before(function () {
    promtool = requireBinary(this, 'prometheus', 'promtool')
  })

  it('the exposition of every bot metric, set with realistic values, passes `promtool check metrics` without a finding', async function () {
    const {registry} = populatedMetrics()
    const text = await registry.metrics()
    for (const name of [...BOT_METRIC_NAMES, 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name)
    const r = runTool(promtool, ['check', 'metrics'], text)
    assert.equal(r.stdout + r.stderr, '', 'promtool findings')
    assert.equal(r.status, 0)
  })

  it('promtool does flag badly named metrics (so the check above can fail)', function () {
    const r = runTool(promtool, ['check', 'metrics'], '# HELP bot_cycle_ms x\n# TYPE bot_cycle_ms gauge\nbot_cycle_ms 3\n# HELP bot_orders x\n# TYPE bot_orders counter\nbot_orders 1\n')
    assert.notEqual(r.status, 0)
    assert.match(r.stdout + r.stderr, /bot_cycle_ms/)
    assert.match(r.stdout + r.stderr, /bot_orders/)
  })

  it('the alerting rules pass `promtool check rules`', function () {
    const r = runTool(promtool, ['check', 'rules', path.join(OPS, 'bot.rules.yml')])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /SUCCESS: \d+ rules found/)
  })

  it('the rules\' unit tests pass `promtool test rules`: each alert fires when it should, and not before', function () {
    const r = runTool(promtool, ['test', 'rules', path.join(OPS, 'bot.rules.test.yml')])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /SUCCESS/)
  })
})
