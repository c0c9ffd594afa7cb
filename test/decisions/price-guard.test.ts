import assert from 'node:assert/strict'

import {columnsOf} from '../../src/lib/domain.js'
import {PriceGuard} from '../../src/lib/market/price-guard.js'
import {SignalBook} from '../../src/lib/signals/scores.js'
import {defaultConfig} from '../helpers/fixtures.js'

describe('price guard', () => {
  const verdicts = (guard: PriceGuard, prices: number[]) => prices.map((p) => {
    const c = guard.check('BTC-USD', p)
    return [c.verdict, c.trusted]
  })

  it('holds a one-bar spike as suspect at the last good price, then clears it when prices come back', () => {
    assert.deepEqual(verdicts(new PriceGuard(30), [100, 101, 10_100, 102]), [['ok', 100], ['ok', 101], ['suspect', 101], ['cleared', 102]])
  })

  it('takes a real jump once the next price confirms it', () => {
    assert.deepEqual(verdicts(new PriceGuard(30), [100, 50, 51, 52]), [['ok', 100], ['suspect', 100], ['confirmed', 51], ['ok', 52]])
  })

  it('keeps a run of wild prices suspect while they do not agree with each other', () => {
    assert.deepEqual(verdicts(new PriceGuard(30), [100, 1000, 10, 1000]), [['ok', 100], ['suspect', 100], ['suspect', 100], ['suspect', 100]])
  })

  it('peek judges without changing what the guard knows', () => {
    const g = new PriceGuard(30)
    g.seed('BTC-USD', 100)
    assert.equal(g.peek('BTC-USD', 500), 100)
    assert.equal(g.peek('BTC-USD', 110), 110)
    assert.equal(g.check('BTC-USD', 110).verdict, 'ok')
  })

  it('the indicators skip a cleared spike and take a confirmed bar, the same way on every replay', () => {
    const config = defaultConfig().signals
    const bar = (time: number, close: number) => ({time, open: close, high: close, low: close, close, volume: 1})
    const rising = Array.from({length: 80}, (_, i) => bar(i, 100 + i * 0.1))
    const spiked = [...rising.slice(0, 60), bar(60, 10_000), ...rising.slice(61)]
    const clean = new SignalBook(config, new PriceGuard(30))
    clean.feed('BTC-USD', columnsOf(rising))
    const guarded = new SignalBook(config, new PriceGuard(30))
    guarded.feed('BTC-USD', columnsOf(spiked))
    const unguarded = new SignalBook(config, new PriceGuard(1e9))
    unguarded.feed('BTC-USD', columnsOf(spiked))
    assert.ok(Math.abs(guarded.score('BTC-USD')! - clean.score('BTC-USD')!) < 0.05, 'one dropped bar barely changes the score')
    assert.notEqual(unguarded.score('BTC-USD'), guarded.score('BTC-USD'), 'without the guard the spike distorts the indicators')
    const again = new SignalBook(config, new PriceGuard(30))
    again.feed('BTC-USD', columnsOf(spiked.slice(0, 61)))
    again.feed('BTC-USD', columnsOf(spiked.slice(61)))
    assert.equal(again.score('BTC-USD'), guarded.score('BTC-USD'), 'fed in two parts (a restart) it is the same')
  })
})
