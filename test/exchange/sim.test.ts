import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {AppConfig} from '../../src/lib/config/schema/app.js'
import {BotError} from '../../src/lib/errors.js'
import {BUNDLED_DATA_DIR, type CandleSet, loadCandleDir} from '../../src/lib/exchange/candle-files.js'
import {type Candle, ExchangeError, type OrderRequest} from '../../src/lib/exchange/port.js'
import {SimExchange} from '../../src/lib/exchange/sim.js'
import {marketOrder} from '../helpers/sim.js'

const HOUR = 3_600_000
const COSTS = {spread_bps: {default: 5, tier1: 2}, slippage_bps: {default: 3, tier1: 1}}
const TIER1 = new Set(['BTC-USD', 'ETH-USD'])

type Row = Candle

const rowCache = new Map<string, Row[]>()
/** A bundled file's rows, parsed independently of the loader under test. */
function rows(symbol: string): Row[] {
  if (!rowCache.has(symbol)) {
    const text = fs.readFileSync(path.join(BUNDLED_DATA_DIR, `${symbol}-1h.csv`), 'utf8').trim()
    const parsed = text.split('\n').slice(1).map((line) => line.split(',').map(Number))
    rowCache.set(symbol, parsed.map(([ts, open, high, low, close, volume]) => ({time: ts * 1000, open, high, low, close, volume})))
  }

  return rowCache.get(symbol)!
}

/** Index of the row opening at `time`. */
function rowIndex(symbol: string, time: number): number {
  const i = rows(symbol).findIndex((r) => r.time === time)
  assert.ok(i >= 0, `${symbol} has a bar at ${new Date(time).toISOString()}`)
  return i
}

function approx(actual: number, expected: number, rel = 1e-10): void {
  const tol = rel * Math.max(1, Math.abs(expected))
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} (tolerance ${tol})`)
}

const floorTo = (x: number, step: number) => Math.floor(x / step + 1e-9) * step

describe('sim exchange', () => {
  let data: CandleSet
  let tmp: string
  before(() => {
    data = loadCandleDir(BUNDLED_DATA_DIR)
  })
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-sim-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  function openSim(over: Record<string, unknown> = {}, stateFile: string | null = null, set = data): SimExchange {
    const settings = AppConfig.parse({exchange: {sim: {costs: COSTS, ...over}}}).exchange.sim
    const tierOf = (s: string) => (TIER1.has(s) ? 'tier1' : undefined)
    return SimExchange.open({data: set, settings, quote: 'USD', tierOf, stateFile})
  }

  describe('timeline and market data', () => {
    it('starts warmup_bars after the latest first bar, and runs to the last bar', async () => {
      const all = new Set<number>()
      let latestFirst = 0
      for (const symbol of data.symbols) {
        for (const r of rows(symbol)) all.add(r.time)
        latestFirst = Math.max(latestFirst, rows(symbol)[0].time)
      }

      const timeline = [...all].sort((a, b) => a - b)
      const start = timeline.indexOf(latestFirst) + 48
      const sim = openSim()
      assert.equal(sim.barMs, HOUR)
      assert.equal(sim.now(), timeline[start] + HOUR)
      assert.equal(await sim.time(), sim.now())
      assert.equal(sim.totalBars(), timeline.length - start)
      assert.equal(sim.remainingBars(), timeline.length - start - 1)
      assert.equal(await sim.advance(), true)
      assert.equal(sim.now(), timeline[start + 1] + HOUR)
      assert.equal((await sim.markets()).size, 26)

      const late = openSim({warmup_bars: 1_000_000})
      assert.equal(late.now(), timeline.at(-1)! + HOUR)
      assert.equal(late.totalBars(), 1)
      assert.equal(await late.advance(), false)
      assert.equal(late.now(), timeline.at(-1)! + HOUR)
    })

    it('quotes tickers from the last closed bar, with the tier spread and 24 h quote volume', async () => {
      const sim = openSim()
      const tickers = await sim.tickers(['BTC-USD', 'DOGE-USD', 'NOPE-USD'])
      assert.deepEqual([...tickers.keys()], ['BTC-USD', 'DOGE-USD'])
      for (const [symbol, bps] of [['BTC-USD', 2], ['DOGE-USD', 5]] as const) {
        const i = rowIndex(symbol, sim.now() - HOUR)
        const last = rows(symbol)[i].close
        const t = tickers.get(symbol)!
        assert.equal(t.last, last)
        approx(t.bid, last * (1 - bps / 1e4), 1e-12)
        approx(t.ask, last * (1 + bps / 1e4), 1e-12)
        assert.equal(t.timestamp, sim.now())
        const day = rows(symbol).slice(i - 23, i + 1)
        approx(t.quoteVolume24h, day.reduce((sum, r) => sum + r.close * r.volume, 0), 1e-9)
      }
    })

    it('serves closed candles only: nothing at or after now (no look-ahead)', async () => {
      const sim = openSim()
      const all = await sim.candles('BTC-USD', 0, 1_000_000)
      const i = rowIndex('BTC-USD', sim.now() - HOUR)
      assert.equal(all.length, i + 1)
      assert.deepEqual(all.at(-1), rows('BTC-USD')[i])
      assert.ok(all.every((c) => c.time + HOUR <= sim.now()))

      const last5 = await sim.candles('BTC-USD', 0, 5)
      assert.deepEqual(last5, rows('BTC-USD').slice(i - 4, i + 1))
      const since = rows('BTC-USD')[i - 2].time
      assert.deepEqual(await sim.candles('BTC-USD', since, 10), rows('BTC-USD').slice(i - 1, i + 1))

      await sim.advance()
      assert.deepEqual((await sim.candles('BTC-USD', 0, 1)).at(-1), rows('BTC-USD')[i + 1])
      await assert.rejects(sim.candles('NOPE-USD', 0, 1), (e: Error) => e instanceof ExchangeError && e.kind === 'rejected')
    })

    it('derives precision from the first bar price (BTC, DOGE) and keeps the answer', async () => {
      const sim = openSim()
      const markets = await sim.markets()
      const btc = markets.get('BTC-USD')!
      assert.ok(rows('BTC-USD')[0].close > 10_000 && rows('BTC-USD')[0].close < 100_000)
      assert.deepEqual(btc, {
        ...{symbol: 'BTC-USD', base: 'BTC', quote: 'USD', amountStep: 1e-7, priceStep: 1},
        ...{minAmount: 1e-7, minNotional: 1, maxAmount: null},
      })
      const doge = markets.get('DOGE-USD')!
      assert.ok(rows('DOGE-USD')[0].close > 0.01 && rows('DOGE-USD')[0].close < 0.1)
      assert.equal(doge.priceStep, 1e-6)
      assert.equal(doge.amountStep, 0.1)
      assert.equal(await sim.markets(), markets)
    })

    it('shows start currencies and the quote currency even at zero', async () => {
      const sim = openSim({start_balances: {EUR: 5, SOL: 0}})
      assert.deepEqual(await sim.balances(), {EUR: {free: 5, total: 5}, SOL: {free: 0, total: 0}, USD: {free: 0, total: 0}})
    })
  })

  describe('orders', () => {
    it('fills a market buy at the next open plus spread and slippage, with the taker fee', async () => {
      const sim = openSim()
      const last = rows('BTC-USD')[rowIndex('BTC-USD', sim.now() - HOUR)].close
      const next = rows('BTC-USD')[rowIndex('BTC-USD', sim.now())]
      const placed = await sim.createOrder(marketOrder('b1', 'BTC-USD', 'buy', 0.25))
      assert.equal(placed.status, 'open')
      assert.equal(placed.id, 'sim-1')
      const reserved = 0.25 * last * (1 + 2 / 1e4) * (1 + (1 + 60) / 1e4)
      approx((await sim.balances()).USD.free, 100_000 - reserved)

      await sim.advance()
      const price = next.open * (1 + (2 + 1) / 1e4)
      const cost = 0.25 * price
      const fee = (cost * 60) / 1e4
      const o = await sim.fetchOrder('sim-1', 'BTC-USD')
      assert.equal(o.status, 'closed')
      assert.equal(o.filled, 0.25)
      approx(o.averagePrice!, price, 1e-12)
      approx(o.fee, fee, 1e-12)
      const b = await sim.balances()
      approx(b.USD.total, 100_000 - cost - fee)
      assert.equal(b.USD.free, b.USD.total)
      assert.deepEqual(b.BTC, {free: 0.25, total: 0.25})
      const [fill, ...more] = sim.fills(0)
      assert.equal(more.length, 0)
      assert.deepEqual({...fill, price: 0, fee: 0}, {
        ...{seq: 1, orderId: 'sim-1', clientOrderId: 'b1', symbol: 'BTC-USD', side: 'buy', amount: 0.25},
        ...{price: 0, fee: 0, time: sim.now()},
      })
      approx(fill.price, price, 1e-12)
      assert.deepEqual(sim.fills(1), [])
    })

    it('fills a market sell at the next open less spread and slippage; a run can start in coins', async () => {
      const sim = openSim({start_balances: {USD: 0, ETH: 2}})
      const next = rows('ETH-USD')[rowIndex('ETH-USD', sim.now())]
      await sim.createOrder(marketOrder('s1', 'ETH-USD', 'sell', 1.5))
      assert.deepEqual((await sim.balances()).ETH, {free: 0.5, total: 2})
      await sim.advance()
      const proceeds = 1.5 * next.open * (1 - 3 / 1e4)
      const b = await sim.balances()
      approx(b.USD.total, proceeds - (proceeds * 60) / 1e4)
      assert.deepEqual(b.ETH, {free: 0.5, total: 0.5})
    })

    it('never takes a balance below zero, even with a fee above 100% that no config may set', async () => {
      const base = AppConfig.parse({exchange: {sim: {costs: COSTS, start_balances: {USD: 0, ETH: 2}}}}).exchange.sim
      const sim = SimExchange.open({data, settings: {...base, fees_bps: {maker: 1_000_000, taker: 1_000_000}}, quote: 'USD', tierOf: () => undefined, stateFile: null})
      await sim.createOrder(marketOrder('s1', 'ETH-USD', 'sell', 1.5))
      await sim.advance()
      const b = await sim.balances()
      assert.equal(b.USD.total, 0, 'the fee took the whole proceeds, and no more')
      assert.equal((await sim.fetchOrder('sim-1')).status, 'closed')
      assert.ok(Object.values(b).every((x) => x.total >= 0 && x.free >= 0), JSON.stringify(b))
    })

    it('caps fills at max_fill_pct of each bar, filling the rest on later bars', async () => {
      const sim = openSim({start_balances: {USD: 1_000_000}, max_fill_pct_of_bar_volume: 0.1})
      const step = 1e-7
      const i0 = rowIndex('BTC-USD', sim.now())
      const caps = rows('BTC-USD').slice(i0, i0 + 3).map((r) => floorTo(r.volume * 0.001, step))
      const amount = Number((caps[0] + caps[1] + caps[2] / 2).toFixed(7))
      await sim.createOrder(marketOrder('big', 'BTC-USD', 'buy', amount))
      let [filled, spent, value] = [0, 0, 0]
      for (let k = 0; k < 3; k++) {
        await sim.advance()
        const amt = Math.min(caps[k], amount - filled)
        const price = rows('BTC-USD')[i0 + k].open * (1 + 3 / 1e4)
        ;[filled, value] = [filled + amt, value + amt * price]
        spent += amt * price * (1 + 60 / 1e4)
        const o = await sim.fetchOrderByClientId('big', 'BTC-USD')
        assert.equal(o!.status, k < 2 ? 'open' : 'closed')
        approx(o!.filled, filled, 1e-9)
        approx(o!.averagePrice!, value / filled, 1e-12)
        approx(sim.fills(k)[0].amount, amt, 1e-9)
      }

      assert.equal(sim.fills(0).length, 3)
      approx((await sim.balances()).USD.total, 1_000_000 - spent)
      approx((await sim.balances()).BTC.total, amount, 1e-12)
    })

    it('shares one bar volume cap between the orders on a symbol, oldest first', async () => {
      const sim = openSim({start_balances: {USD: 1_000_000}, max_fill_pct_of_bar_volume: 0.1})
      const cap = floorTo(rows('BTC-USD')[rowIndex('BTC-USD', sim.now())].volume * 0.001, 1e-7)
      const first = Number((cap * 0.6).toFixed(7))
      await sim.createOrder(marketOrder('first', 'BTC-USD', 'buy', first))
      await sim.createOrder(marketOrder('second', 'BTC-USD', 'buy', 5))
      await sim.advance()
      assert.equal((await sim.fetchOrder('sim-1', 'BTC-USD')).status, 'closed')
      const second = await sim.fetchOrder('sim-2', 'BTC-USD')
      assert.equal(second.status, 'open')
      approx(second.filled, cap - first, 1e-6)
    })

    it('fills a limit buy only once a bar trades at or below the limit, at min(open, limit), maker fee', async () => {
      const sim = openSim()
      const r = rows('BTC-USD')
      const i0 = rowIndex('BTC-USD', sim.now())
      const limit = Math.floor(Math.min(r[i0].low, r[i0 + 1].low)) - 1
      const k = r.findIndex((x, i) => i >= i0 && x.low <= limit)
      assert.ok(k > i0 + 1, 'the data crosses this limit later')
      await sim.createOrder({clientOrderId: 'l1', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.01, price: limit})
      approx((await sim.balances()).USD.free, 100_000 - 0.01 * limit * (1 + 40 / 1e4))
      for (let i = i0; i < k; i++) {
        await sim.advance()
        assert.equal((await sim.fetchOrder('sim-1', 'BTC-USD')).status, 'open')
      }

      await sim.advance()
      const o = await sim.fetchOrder('sim-1', 'BTC-USD')
      const price = Math.min(r[k].open, limit)
      assert.equal(o.status, 'closed')
      assert.equal(o.averagePrice, price)
      approx(o.fee, (0.01 * price * 40) / 1e4, 1e-12)
      approx((await sim.balances()).USD.total, 100_000 - 0.01 * price * (1 + 40 / 1e4))
    })

    it('fills a limit sell only once a bar trades at or above the limit, at max(open, limit)', async () => {
      const sim = openSim({start_balances: {USD: 0, BTC: 1}})
      const r = rows('BTC-USD')
      const i0 = rowIndex('BTC-USD', sim.now())
      const limit = Math.ceil(Math.max(r[i0].high, r[i0 + 1].high)) + 1
      const k = r.findIndex((x, i) => i >= i0 && x.high >= limit)
      assert.ok(k > i0 + 1, 'the data crosses this limit later')
      await sim.createOrder({clientOrderId: 'l2', symbol: 'BTC-USD', side: 'sell', type: 'limit', amount: 0.5, price: limit})
      for (let i = i0; i <= k; i++) await sim.advance()
      const o = await sim.fetchOrder('sim-1', 'BTC-USD')
      const price = Math.max(r[k].open, limit)
      assert.equal(o.status, 'closed')
      assert.equal(o.averagePrice, price)
      assert.equal(o.updatedAt, r[k].time + HOUR)
      approx((await sim.balances()).USD.total, 0.5 * price * (1 - 40 / 1e4))
      assert.deepEqual((await sim.balances()).BTC, {free: 0.5, total: 0.5})
    })

    it('returns rejections as orders with a reason, and throws only for an unknown symbol', async () => {
      const sim = openSim()
      const cases: [OrderRequest, string][] = [
        [marketOrder('r1', 'BTC-USD', 'buy', 10), 'INSUFFICIENT_FUNDS'],
        [marketOrder('r2', 'ETH-USD', 'sell', 1), 'INSUFFICIENT_FUNDS'],
        [marketOrder('r3', 'BTC-USD', 'buy', 0.000_000_15), 'INVALID_AMOUNT'],
        [marketOrder('r4', 'BTC-USD', 'buy', 0), 'INVALID_AMOUNT'],
        [marketOrder('r5', 'BTC-USD', 'buy', 0.000_01), 'BELOW_MIN_NOTIONAL'],
        [{...marketOrder('r6', 'BTC-USD', 'buy', 0.01), type: 'limit', price: 30_000.5}, 'INVALID_PRICE'],
        [{...marketOrder('r7', 'BTC-USD', 'buy', 0.01), type: 'limit'}, 'INVALID_PRICE'],
      ]
      for (const [req, reason] of cases) {
        const o = await sim.createOrder(req)
        assert.deepEqual([o.clientOrderId, o.status, o.reason], [req.clientOrderId, 'rejected', reason])
        assert.deepEqual(await sim.fetchOrderByClientId(req.clientOrderId, req.symbol), o)
      }

      assert.deepEqual(await sim.balances(), {USD: {free: 100_000, total: 100_000}})
      assert.deepEqual(await sim.openOrders(), [])
      assert.equal(await sim.fetchOrderByClientId('never', 'BTC-USD'), null)
      await assert.rejects(sim.createOrder(marketOrder('x', 'NOPE-USD', 'buy', 1)), (e: Error) => e instanceof ExchangeError && e.kind === 'rejected')

      const faulty = openSim({faults: {reject_order_rate: 1}})
      const o = await faulty.createOrder(marketOrder('f1', 'BTC-USD', 'buy', 0.01))
      assert.deepEqual([o.status, o.reason], ['rejected', 'SIM_FAULT'])
      assert.equal((await faulty.balances()).USD.free, 100_000)
    })

    it('de-duplicates by clientOrderId: the same order back, no money moved twice', async () => {
      const sim = openSim()
      const a = await sim.createOrder(marketOrder('dup', 'BTC-USD', 'buy', 0.1))
      const freeAfterFirst = (await sim.balances()).USD.free
      assert.deepEqual(await sim.createOrder(marketOrder('dup', 'BTC-USD', 'buy', 0.1)), a)
      assert.equal((await sim.balances()).USD.free, freeAfterFirst)
      await sim.advance()
      const balances = await sim.balances()
      const again = await sim.createOrder(marketOrder('dup', 'BTC-USD', 'buy', 0.1))
      assert.equal(again.status, 'closed')
      await sim.advance()
      assert.deepEqual(await sim.balances(), balances)
      assert.equal(sim.fills(0).length, 1)
      assert.equal((await sim.createOrder(marketOrder('other', 'BTC-USD', 'buy', 0.1))).id, 'sim-2')
    })

    it('cancels an open order and releases its reservation; a closed order is returned unchanged', async () => {
      const sim = openSim()
      const o = await sim.createOrder({clientOrderId: 'c1', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.1, price: 1000})
      approx((await sim.balances()).USD.free, 100_000 - 0.1 * 1000 * (1 + 40 / 1e4))
      assert.deepEqual((await sim.openOrders('BTC-USD')).map((x) => x.id), [o.id])
      assert.deepEqual(await sim.openOrders('ETH-USD'), [])
      const canceled = await sim.cancelOrder(o.id, 'BTC-USD')
      assert.equal(canceled.status, 'canceled')
      assert.deepEqual(await sim.balances(), {USD: {free: 100_000, total: 100_000}})
      assert.deepEqual(await sim.cancelOrder(o.id, 'BTC-USD'), canceled)
      assert.deepEqual(await sim.openOrders(), [])

      const m = await sim.createOrder(marketOrder('c2', 'BTC-USD', 'buy', 0.1))
      await sim.advance()
      const closed = await sim.fetchOrder(m.id, 'BTC-USD')
      assert.deepEqual(await sim.cancelOrder(m.id, 'BTC-USD'), closed)
      await assert.rejects(sim.cancelOrder('sim-99', 'BTC-USD'), /no order sim-99/)
    })

    it('fills a buy only as far as the funds go when the price gaps up, then cancels the rest', async () => {
      const sim = openSim()
      const r = rows('BTC-USD')
      let i = rowIndex('BTC-USD', sim.now())
      while (r[i].open <= r[i - 1].close * 1.0005) {
        await sim.advance()
        i++
      }

      const reservePerBtc = r[i - 1].close * (1 + 2 / 1e4) * (1 + (1 + 60) / 1e4)
      const amount = floorTo(100_000 / reservePerBtc, 1e-7)
      const placed = await sim.createOrder(marketOrder('all-in', 'BTC-USD', 'buy', Number(amount.toFixed(7))))
      assert.equal(placed.status, 'open')
      await sim.advance()
      const o = await sim.fetchOrder(placed.id, 'BTC-USD')
      const perBtc = r[i].open * (1 + 3 / 1e4) * (1 + 60 / 1e4)
      assert.deepEqual([o.status, o.reason], ['canceled', 'INSUFFICIENT_FUNDS'])
      approx(o.filled, floorTo(100_000 / perBtc, 1e-7), 1e-9)
      const b = await sim.balances()
      assert.ok(b.USD.total >= 0 && b.USD.total < perBtc * 1e-7 * 1.01, `USD left ${b.USD.total}`)
      assert.equal(b.USD.free, b.USD.total)
      approx(b.USD.total, 100_000 - o.filled * perBtc, 1e-9)
    })
  })
})
