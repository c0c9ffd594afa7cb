import assert from 'node:assert/strict'

import {columnsOf} from '../../src/lib/domain.js'
import {barsNeeded, CloseWindow, createSignal} from '../../src/lib/signals/indicators.js'
import {PriceGuard} from '../../src/lib/market/price-guard.js'
import {SignalBook} from '../../src/lib/signals/scores.js'
import {defaultConfig} from '../helpers/fixtures.js'

describe('indicators', () => {
  const windowOf = (closes: number[], size = 64) => {
    const w = new CloseWindow(size)
    for (const c of closes) w.push(c)
    return w
  }

  it('CloseWindow keeps the last N closes in a ring and sums them oldest first', () => {
    const w = windowOf([1, 2, 3, 4, 5], 3)
    assert.equal(w.count, 3)
    assert.deepEqual([w.at(0), w.at(1), w.at(2)], [5, 4, 3])
    assert.equal(w.sumLast(2), 9)
    assert.equal(w.sumLast(3), 12)
  })

  it('momentum scores the return over the look-back against scale_pct, clamped to [-1, 1]', () => {
    const m = createSignal({type: 'momentum', weight: 1, symbols: [], lookback_bars: 2, scale_pct: 10})
    assert.equal(m.bars, 3)
    assert.equal(m.score(windowOf([100, 101])), null, 'not enough history yet')
    assert.ok(Math.abs(m.score(windowOf([100, 101, 105]))! - 0.5) < 1e-12) // +5% over 2 bars, half of scale 10%
    assert.equal(m.score(windowOf([100, 101, 105, 200])), 1)
  })

  it('ma_trend compares fast and slow means', () => {
    const s = createSignal({type: 'ma_trend', weight: 1, symbols: [], fast_bars: 1, slow_bars: 2, scale_pct: 10})
    assert.equal(s.score(windowOf([100])), null)
    // fast 90, slow 95: -5.26% -> -0.526
    assert.ok(Math.abs(s.score(windowOf([100, 90]))! - (90 / 95 - 1) * 10) < 1e-12)
  })

  it('rsi averages the last `period` gains and losses: a falling market is oversold (positive), a rising one overbought (negative)', () => {
    const rsi = createSignal({type: 'rsi', weight: 1, symbols: [], period: 3, oversold: 30, overbought: 70})
    assert.equal(rsi.bars, 4)
    assert.equal(rsi.score(windowOf([100, 99, 98])), null)
    assert.equal(rsi.score(windowOf(Array.from({length: 10}, (_, i) => 100 - i))), 1, 'only losses: RSI 0')
    assert.equal(rsi.score(windowOf(Array.from({length: 10}, (_, i) => 100 + i))), -1, 'only gains: RSI 100')
    // gains 2 and 1, loss 1 over the last 3 changes: RSI 75 -> -(75 - 70) / 30
    assert.ok(Math.abs(rsi.score(windowOf([50, 100, 102, 101, 102]))! + 5 / 30) < 1e-12)
    assert.equal(rsi.score(windowOf([100, 100, 100, 100])), 0, 'flat: RSI 50')
  })

  it('scores depend only on the last closes: a long history and a short one ending alike score the same, to the bit', () => {
    const config = defaultConfig().signals
    const long = Array.from({length: 5000}, (_, i) => 100 * Math.exp(Math.sin(i / 37) * 0.2 + i / 3000))
    const a = new SignalBook(config, new PriceGuard(30))
    a.feed('X-USD', columnsOf(long.map((close, time) => ({time, open: close, high: close, low: close, close, volume: 1}))))
    const b = new SignalBook(config, new PriceGuard(30))
    const tail = long.slice(-barsNeeded(config.signals))
    b.feed('X-USD', columnsOf(tail.map((close, i) => ({time: 5000 - tail.length + i, open: close, high: close, low: close, close, volume: 1}))))
    assert.notEqual(a.score('X-USD'), null)
    assert.equal(a.score('X-USD'), b.score('X-USD'))
  })

  it('SignalBook feeds each bar once and needs every signal warm before scoring', () => {
    const config = defaultConfig().signals
    const book = new SignalBook(config, new PriceGuard(30))
    const bars = Array.from({length: barsNeeded(config.signals)}, (_, i) => ({time: i, open: 1, high: 1, low: 1, close: 100 + i, volume: 1}))
    book.feed('BTC-USD', columnsOf(bars.slice(0, -1)))
    assert.equal(book.score('BTC-USD'), null)
    book.feed('BTC-USD', columnsOf(bars)) // the already-fed bars are skipped
    assert.equal(book.lastBarTime('BTC-USD'), bars.length - 1)
    const score = book.score('BTC-USD')!
    assert.ok(score > 0 && score <= 1, `a steady rise scores positive, got ${score}`)
  })
})
