import assert from 'node:assert/strict'

import {BotError} from '../../src/lib/errors.js'
import type {CandleSet} from '../../src/lib/exchange/replay/candle-files.js'
import {CandleReplay, type ReplayOptions} from '../../src/lib/exchange/replay/replay.js'
import {approx, bundledData, rowIndex, rows} from '../helpers/sim-venue.js'
import {candleMap} from '../../src/lib/domain.js'

const HOUR = 3_600_000
const TIER1 = new Set(['BTC-USD', 'ETH-USD'])
const never = new AbortController().signal

/** The replay timeline (every bar open time of any symbol) and the latest first bar, from the raw files. */
function timelineOf(symbols: readonly string[]): {timeline: number[]; latestFirst: number} {
  const all = new Set<number>()
  let latestFirst = 0
  for (const symbol of symbols) {
    for (const r of rows(symbol)) all.add(r.time)
    latestFirst = Math.max(latestFirst, rows(symbol)[0].time)
  }

  return {timeline: [...all].sort((a, b) => a - b), latestFirst}
}

describe('candle replay', () => {
  let data: CandleSet
  before(() => {
    data = bundledData()
  })

  function replayOf(over: Partial<ReplayOptions> = {}, set = data): CandleReplay {
    return new CandleReplay(set, {
      spreadBps: (s) => (TIER1.has(s) ? 2 : 5),
      fees: {makerBps: 40, takerBps: 60},
      warmupBars: 48,
      resumeAt: null,
      paceMs: 0,
      ...over,
    })
  }

  const step = (r: CandleReplay, signal = never) => r.clock.sleepUntil(r.clock.now() + r.barMs, signal)

  describe('timeline', () => {
    it('starts warmupBars after the latest first bar, and steps one bar at a time to the last', async () => {
      const {timeline, latestFirst} = timelineOf(data.symbols)
      const start = timeline.indexOf(latestFirst) + 48
      const r = replayOf()
      assert.equal(r.barMs, HOUR)
      assert.equal(r.clock.kind, 'virtual')
      assert.equal(r.now(), timeline[start] + HOUR)
      assert.equal(r.clock.now(), r.now())
      assert.equal(await r.time(), r.now())
      assert.equal(r.totalBars(), timeline.length - start)
      assert.equal((await r.markets()).size, 26)
      for (let t = start + 1; t < timeline.length; t++) {
        assert.equal(await step(r), true)
        assert.equal(r.now(), timeline[t] + HOUR)
      }

      assert.equal(await step(r), false, 'no bar after the last')
      assert.equal(r.now(), timeline.at(-1)! + HOUR, 'the clock stays on the last bar')
      assert.equal(await r.clock.sleepUntil(r.now(), never), true, 'a time that has come needs no bar')
    })

    it('moves to the first bar closing at or after the time asked, and never back', async () => {
      const {timeline, latestFirst} = timelineOf(data.symbols)
      const start = timeline.indexOf(latestFirst) + 48
      const r = replayOf()
      assert.equal(await r.clock.sleepUntil(r.now() + 1, never), true)
      assert.equal(r.now(), timeline[start + 1] + HOUR)
      assert.equal(await r.clock.sleepUntil(timeline[start + 5] + HOUR, never), true)
      assert.equal(r.now(), timeline[start + 5] + HOUR)
      assert.equal(await r.clock.sleepUntil(timeline[start] + HOUR, never), true, 'a past time has come')
      assert.equal(r.now(), timeline[start + 5] + HOUR)
    })

    it('ends at once when warm-up covers the whole data set', async () => {
      const {timeline} = timelineOf(data.symbols)
      const late = replayOf({warmupBars: 1_000_000})
      assert.equal(late.now(), timeline.at(-1)! + HOUR)
      assert.equal(late.totalBars(), 1)
      assert.equal(await step(late), false)
      assert.equal(late.now(), timeline.at(-1)! + HOUR)
    })
  })

  describe('market data', () => {
    it('quotes tickers from the last closed bar, with the tier spread and 24 h quote volume', async () => {
      const r = replayOf()
      const tickers = await r.tickers(['BTC-USD', 'DOGE-USD', 'NOPE-USD'])
      assert.deepEqual([...tickers.keys()], ['BTC-USD', 'DOGE-USD'])
      for (const [symbol, bps] of [['BTC-USD', 2], ['DOGE-USD', 5]] as const) {
        const i = rowIndex(symbol, r.now() - HOUR)
        const last = rows(symbol)[i].close
        const t = tickers.get(symbol)!
        assert.equal(t.last, last)
        approx(t.bid, last * (1 - bps / 1e4), 1e-12)
        approx(t.ask, last * (1 + bps / 1e4), 1e-12)
        assert.equal(t.timestamp, r.now())
        const day = rows(symbol).slice(i - 23, i + 1)
        approx(t.quoteVolume24h, day.reduce((sum, x) => sum + x.close * x.volume, 0), 1e-9)
      }
    })

    it('serves closed candles only: nothing at or after now (no look-ahead)', async () => {
      const r = replayOf()
      const btc = rows('BTC-USD')
      const i = rowIndex('BTC-USD', r.now() - HOUR)
      const all = candleMap(await r.candles(new Map([['BTC-USD', 0]]), 1_000_000)).get('BTC-USD')!
      assert.equal(all.length, i + 1)
      assert.deepEqual(all.at(-1), btc[i])
      assert.ok(all.every((c) => c.time + HOUR <= r.now()))

      await step(r)
      const next = candleMap(await r.candles(new Map([['BTC-USD', btc[i].time]]), 10))
      assert.deepEqual(next.get('BTC-USD'), [btc[i + 1]], 'the bar that just closed, and only it')
    })

    it('answers many symbols in one call: bars after each since, at most limit, oldest first', async () => {
      const r = replayOf()
      const [btc, eth, doge] = [rows('BTC-USD'), rows('ETH-USD'), rows('DOGE-USD')]
      const [b, e, d] = ['BTC-USD', 'ETH-USD', 'DOGE-USD'].map((s) => rowIndex(s, r.now() - HOUR))
      const since = new Map([
        ['BTC-USD', 0], // everything, cut to the newest `limit`
        ['ETH-USD', eth[e - 2].time], // strictly after since: two bars
        ['DOGE-USD', doge[d].time], // up to date: left out
        ['NOPE-USD', 0], // unknown: left out
      ])
      const out = candleMap(await r.candles(since, 5))
      assert.deepEqual([...out.keys()].sort(), ['BTC-USD', 'ETH-USD'])
      assert.deepEqual(out.get('BTC-USD'), btc.slice(b - 4, b + 1))
      assert.deepEqual(out.get('ETH-USD'), eth.slice(e - 1, e + 1))
      assert.deepEqual(candleMap(await r.candles(since, 1)).get('ETH-USD'), [eth[e]], 'limit keeps the newest')

      await step(r)
      const after = candleMap(await r.candles(new Map([['BTC-USD', btc[b].time], ['DOGE-USD', doge[d].time]]), 100))
      assert.deepEqual(after, new Map([['BTC-USD', [btc[b + 1]]], ['DOGE-USD', [doge[d + 1]]]]))
    })

    it('derives precision from the first bar price (BTC, DOGE), carries the fees, and keeps the answer', async () => {
      const r = replayOf({fees: {makerBps: 25, takerBps: 35}})
      const markets = await r.markets()
      assert.ok(rows('BTC-USD')[0].close > 10_000 && rows('BTC-USD')[0].close < 100_000)
      assert.deepEqual(markets.get('BTC-USD'), {
        ...{symbol: 'BTC-USD', base: 'BTC', quote: 'USD', amountStep: 1e-7, priceStep: 1},
        ...{minAmount: 1e-7, minNotional: 1, maxAmount: null, makerBps: 25, takerBps: 35},
      })
      const doge = markets.get('DOGE-USD')!
      assert.ok(rows('DOGE-USD')[0].close > 0.01 && rows('DOGE-USD')[0].close < 0.1)
      assert.deepEqual([doge.priceStep, doge.amountStep, doge.makerBps, doge.takerBps], [1e-6, 0.1, 25, 35])
      assert.equal(await r.markets(), markets)
    })
  })

  describe('resuming', () => {
    it('resumes at the bar closing at resumeAt, showing only what had closed by then', async () => {
      const {timeline} = timelineOf(data.symbols)
      const at = timeline[timeline.length - 10] + HOUR
      const r = replayOf({resumeAt: at})
      assert.equal(r.now(), at)
      const i = rowIndex('BTC-USD', at - HOUR)
      assert.deepEqual(candleMap(await r.candles(new Map([['BTC-USD', 0]]), 2)).get('BTC-USD'), rows('BTC-USD').slice(i - 1, i + 1))
      assert.equal(await step(r), true)
      assert.equal(r.now(), timeline[timeline.length - 9] + HOUR)
    })

    it('leaves out a symbol that is not listed yet at resumeAt', async () => {
      const xrp = rows('XRP-USD')
      const earliest = Math.min(...data.symbols.map((s) => rows(s)[0].time))
      assert.ok(xrp[0].time > earliest + HOUR, 'XRP-USD starts later than the data')
      const r = replayOf({resumeAt: xrp[0].time})
      assert.equal((await r.markets()).has('XRP-USD'), false)
      assert.equal((await r.tickers(['XRP-USD'])).size, 0)
      assert.equal((candleMap(await r.candles(new Map([['XRP-USD', 0]]), 10))).size, 0)
      await step(r)
      assert.equal((await r.markets()).has('XRP-USD'), true)
      assert.deepEqual(candleMap(await r.candles(new Map([['XRP-USD', 0]]), 10)).get('XRP-USD'), [xrp[0]])
    })

    it('refuses a resumeAt that is no bar close of this data', () => {
      const {timeline} = timelineOf(data.symbols)
      const refused = (e: Error) => e instanceof BotError && e.code === 'SIM_STATE_MISMATCH' && e.message.includes('is not a bar of this market data')
      for (const at of [timeline[100] + HOUR + 1, timeline[0], timeline.at(-1)! + 2 * HOUR]) {
        assert.throws(() => replayOf({resumeAt: at}), refused, new Date(at).toISOString())
      }
    })
  })

  describe('pace', () => {
    it('takes paceMs of wall time per step', async () => {
      const r = replayOf({paceMs: 300})
      const before = r.now()
      const t0 = performance.now()
      assert.equal(await step(r), true)
      const took = performance.now() - t0
      assert.ok(took >= 290 && took < 3000, `a step took ${took} ms`)
      assert.equal(r.now(), before + HOUR)
    })

    it('stops waiting as soon as the signal fires, and does not move', async () => {
      const r = replayOf({paceMs: 60_000})
      const before = r.now()
      const stop = new AbortController()
      setTimeout(() => stop.abort(), 50)
      const t0 = performance.now()
      assert.equal(await step(r, stop.signal), false)
      assert.ok(performance.now() - t0 < 5000, 'returned well before the pace')
      assert.equal(r.now(), before)
      assert.equal(await step(r, stop.signal), false, 'an aborted signal stops at once')
      assert.equal(r.now(), before)
    })
  })
})
