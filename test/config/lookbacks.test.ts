import assert from 'node:assert/strict'

import {validateConfig} from '../../src/lib/config/load.js'
import {describeLookbacks} from '../../src/lib/config/lookbacks.js'
import type {SignalConfig} from '../../src/lib/config/schema/signals.js'
import {TIMEFRAME_MS} from '../../src/lib/domain.js'
import {describeIssues, editConfig, freshConfig, removeTempConfigs, replace} from './support.js'

/** The shipped config (look-backs 24, 12/48 and 14 bars) with its timeframe, warm-up and momentum look-back rewritten. */
function configWith(timeframe: string, warmup: string, lookback: string): string {
  const dir = freshConfig()
  if (timeframe !== '1h') editConfig(dir, 'app.yaml', replace('  timeframe: 1h', `  timeframe: ${timeframe}`))
  editConfig(dir, 'app.yaml', replace('    warmup_bars: 48', `    warmup_bars: ${warmup}`))
  editConfig(dir, 'signals.yaml', replace('    lookback_bars: 24', `    lookback_bars: ${lookback}`))
  return dir
}

const barsOf = (s: SignalConfig) => (s.type === 'momentum' ? [s.lookback_bars] : s.type === 'ma_trend' ? [s.fast_bars, s.slow_bars] : [s.period])

describe('config: look-backs written as durations', function () {
  after(removeTempConfigs)

  it('resolve to bars of a 4h timeframe; look-backs written in bars stay as they are', () => {
    const {config, issues} = validateConfig(configWith('4h', '2d', '1d'), process.env)
    assert.ok(config, describeIssues(issues))
    assert.equal(config.app.exchange.timeframe, '4h')
    assert.equal(config.app.exchange.sim.warmup_bars, 12)
    assert.deepEqual(config.signals.signals.map(barsOf), [[6], [12, 48], [14]])
    assert.equal(describeLookbacks(config.signals, TIMEFRAME_MS['4h']), 'momentum 6 bars (1d), ma_trend 12/48 bars (2d/8d), rsi 14 bars (56h)')
  })

  it('resolve to bars of the 1h timeframe, where 1d is 24 bars', () => {
    const {config, issues} = validateConfig(configWith('1h', '90h', '"1d"'), process.env)
    assert.ok(config, describeIssues(issues))
    assert.equal(config.app.exchange.sim.warmup_bars, 90)
    assert.deepEqual(config.signals.signals.map(barsOf), [[24], [12, 48], [14]])
    assert.match(describeLookbacks(config.signals, TIMEFRAME_MS['1h']), /^momentum 24 bars \(1d\), /)
  })
})
