import assert from 'node:assert/strict'

import {RollingWindow, createSignal, barsNeeded} from '../../src/lib/signals/indicators.js'
import {PriceGuard} from '../../src/lib/market/price-guard.js'
import {SignalBook} from '../../src/lib/signals/scores.js'
import {defaultConfig} from '../helpers/fixtures.js'

describe('indicators', () => {
  it('RollingWindow keeps the mean of the last N values in O(1)', () => {
    const w = new RollingWindow(3)
    for (const v of [1, 2, 3, 4, 5]) w.push(v)
    assert.equal(w.mean, 4)
    assert.equal(w.oldest, 3)
    assert.ok(w.full)
  })

  it('momentum scores the return over the look-back against scale_pct, clamped to [-1, 1]', () => {
    const m = createSignal({type: 'momentum', weight: 1, symbols: [], lookback_bars: 2, scale_pct: 10})
    for (const v of [100, 101]) m.update(v)
    assert.equal(m.score(), null, 'not enough history yet')
    m.update(105) // +5% over 2 bars, half of scale 10%
    assert.ok(Math.abs(m.score()! - 0.5) < 1e-12)
    m.update(200)
    assert.equal(m.score(), 1)
  })

  it('ma_trend compares fast and slow means', () => {
    const s = createSignal({type: 'ma_trend', weight: 1, symbols: [], fast_bars: 1, slow_bars: 2, scale_pct: 10})
    s.update(100)
    s.update(90) // fast 90, slow 95: -5.26% -> -0.526
    assert.ok(Math.abs(s.score()! - (90 / 95 - 1) * 10) < 1e-12)
  })

  it('rsi scores a falling market as oversold (positive) and a rising one as overbought (negative)', () => {
    const down = createSignal({type: 'rsi', weight: 1, symbols: [], period: 3, oversold: 30, overbought: 70})
    const up = createSignal({type: 'rsi', weight: 1, symbols: [], period: 3, oversold: 30, overbought: 70})
    for (let i = 0; i < 10; i++) {
      down.update(100 - i)
      up.update(100 + i)
    }

    assert.ok(down.score()! > 0.9)
    assert.ok(up.score()! < -0.9)
  })

  it('SignalBook feeds each bar once and needs every signal warm before scoring', () => {
    const config = defaultConfig().signals
    const book = new SignalBook(config, new PriceGuard(30))
    const bars = Array.from({length: barsNeeded(config.signals)}, (_, i) => ({time: i, open: 1, high: 1, low: 1, close: 100 + i, volume: 1}))
    book.feed('BTC-USD', bars.slice(0, -1))
    assert.equal(book.score('BTC-USD'), null)
    book.feed('BTC-USD', bars) // the already-fed bars are skipped
    assert.equal(book.lastBarTime('BTC-USD'), bars.length - 1)
    const score = book.score('BTC-USD')!
    assert.ok(score > 0 && score <= 1, `a steady rise scores positive, got ${score}`)
  })
})
