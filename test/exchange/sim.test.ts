import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {OrderRequest} from '../../src/lib/domain.js'
import {ExchangeError} from '../../src/lib/exchange/ports.js'
import type {SimBroker} from '../../src/lib/exchange/sim-broker/broker.js'
import {marketOrder} from '../helpers/sim.js'
import {approx, HandClock, openSimVenue, rowIndex, rows, type SimVenueOptions} from '../helpers/sim-venue.js'

const HOUR = 3_600_000
const COSTS = {spread_bps: {default: 5, tier1: 2}, slippage_bps: {default: 3, tier1: 1}}
const TIER1 = new Set(['BTC-USD', 'ETH-USD'])

const floorTo = (x: number, step: number) => Math.floor(x / step + 1e-9) * step

describe('sim broker', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-sim-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  /** The broker over a replay of the bundled data, tier1 = BTC and ETH; fees 40/60 bps by default. */
  function openSim(sim: Record<string, unknown> = {}, options: SimVenueOptions = {}) {
    const venue = openSimVenue({sim: {costs: COSTS, ...sim}, tierOf: (s) => (TIER1.has(s) ? 'tier1' : undefined), ...options})
    return {...venue, sim: venue.broker, now: () => venue.replay.now()}
  }

  it('offers convert with the quote currency on one side, and lookup by client order id', () => {
    const {sim} = openSim()
    assert.equal(sim.capabilities.fetchByClientOrderId, true)
    assert.deepEqual([sim.capabilities.convert('BTC', 'USD'), sim.capabilities.convert('USD', 'ETH')], [true, true])
    assert.deepEqual([sim.capabilities.convert('BTC', 'ETH'), sim.capabilities.convert('USD', 'USD')], [false, false])
  })

  it('shows start currencies and the quote currency even at zero', async () => {
    const {sim} = openSim({start_balances: {EUR: 5, SOL: 0}})
    assert.deepEqual(await sim.balances(), {EUR: {free: 5, total: 5}, SOL: {free: 0, total: 0}, USD: {free: 0, total: 0}})
  })

  describe('orders', () => {
    it('fills a market buy at the next open plus spread and slippage, with the taker fee', async () => {
      const {sim, step, now} = openSim()
      const last = rows('BTC-USD')[rowIndex('BTC-USD', now() - HOUR)].close
      const next = rows('BTC-USD')[rowIndex('BTC-USD', now())]
      const placed = await sim.createOrder(marketOrder('b1', 'BTC-USD', 'buy', 0.25))
      assert.deepEqual([placed.status, placed.id, placed.createdAt], ['open', 'sim-1', now()])
      const reserved = 0.25 * last * (1 + 2 / 1e4) * (1 + (1 + 60) / 1e4)
      approx((await sim.balances()).USD.free, 100_000 - reserved)
      assert.equal((await sim.fetchOrder('sim-1', 'BTC-USD')).status, 'open', 'the bar that closed at placement is not met')

      await step()
      const price = next.open * (1 + (2 + 1) / 1e4)
      const cost = 0.25 * price
      const fee = (cost * 60) / 1e4
      const o = await sim.fetchOrder('sim-1', 'BTC-USD')
      assert.equal(o.status, 'closed')
      assert.equal(o.filled, 0.25)
      assert.equal(o.updatedAt, now())
      approx(o.averagePrice!, price, 1e-12)
      approx(o.fee, fee, 1e-12)
      const b = await sim.balances()
      approx(b.USD.total, 100_000 - cost - fee)
      assert.equal(b.USD.free, b.USD.total)
      assert.deepEqual(b.BTC, {free: 0.25, total: 0.25})
      const [fill, ...more] = await sim.fills(0)
      assert.equal(more.length, 0)
      assert.deepEqual({...fill, price: 0, fee: 0}, {
        ...{seq: 1, orderId: 'sim-1', clientOrderId: 'b1', symbol: 'BTC-USD', side: 'buy', amount: 0.25},
        ...{price: 0, fee: 0, time: now()},
      })
      approx(fill.price, price, 1e-12)
      assert.deepEqual(await sim.fills(1), [])
    })

    it('fills a market sell at the next open less spread and slippage; a run can start in coins', async () => {
      const {sim, step, now} = openSim({start_balances: {USD: 0, ETH: 2}})
      const next = rows('ETH-USD')[rowIndex('ETH-USD', now())]
      await sim.createOrder(marketOrder('s1', 'ETH-USD', 'sell', 1.5))
      assert.deepEqual((await sim.balances()).ETH, {free: 0.5, total: 2})
      await step()
      const proceeds = 1.5 * next.open * (1 - 3 / 1e4)
      const b = await sim.balances()
      approx(b.USD.total, proceeds - (proceeds * 60) / 1e4)
      assert.deepEqual(b.ETH, {free: 0.5, total: 0.5})
    })

    it('never takes a balance below zero, even with a fee above 100% that no config may set', async () => {
      const fees = {makerBps: 1_000_000, takerBps: 1_000_000}
      const {sim, step} = openSim({start_balances: {USD: 0, ETH: 2}}, {replay: {fees}})
      await sim.createOrder(marketOrder('s1', 'ETH-USD', 'sell', 1.5))
      await step()
      const b = await sim.balances()
      assert.equal(b.USD.total, 0, 'the fee took the whole proceeds, and no more')
      assert.equal((await sim.fetchOrder('sim-1')).status, 'closed')
      assert.ok(Object.values(b).every((x) => x.total >= 0 && x.free >= 0), JSON.stringify(b))
    })

    it('caps fills at max_fill_pct of each bar, filling the rest on later bars', async () => {
      const {sim, step, now} = openSim({start_balances: {USD: 1_000_000}, max_fill_pct_of_bar_volume: 0.1})
      const i0 = rowIndex('BTC-USD', now())
      const caps = rows('BTC-USD').slice(i0, i0 + 3).map((r) => floorTo(r.volume * 0.001, 1e-7))
      const amount = Number((caps[0] + caps[1] + caps[2] / 2).toFixed(7))
      await sim.createOrder(marketOrder('big', 'BTC-USD', 'buy', amount))
      let [filled, spent, value] = [0, 0, 0]
      for (let k = 0; k < 3; k++) {
        await step()
        const amt = Math.min(caps[k], amount - filled)
        const price = rows('BTC-USD')[i0 + k].open * (1 + 3 / 1e4)
        ;[filled, value] = [filled + amt, value + amt * price]
        spent += amt * price * (1 + 60 / 1e4)
        const o = await sim.fetchOrderByClientId('big', 'BTC-USD')
        assert.equal(o!.status, k < 2 ? 'open' : 'closed')
        approx(o!.filled, filled, 1e-9)
        approx(o!.averagePrice!, value / filled, 1e-12)
        const [fill] = await sim.fills(k)
        approx(fill.amount, amt, 1e-9)
        assert.equal(fill.time, now())
      }

      assert.equal((await sim.fills(0)).length, 3)
      approx((await sim.balances()).USD.total, 1_000_000 - spent)
      approx((await sim.balances()).BTC.total, amount, 1e-12)
    })

    it('shares one bar volume cap between the orders on a symbol, oldest first', async () => {
      const {sim, step, now} = openSim({start_balances: {USD: 1_000_000}, max_fill_pct_of_bar_volume: 0.1})
      const cap = floorTo(rows('BTC-USD')[rowIndex('BTC-USD', now())].volume * 0.001, 1e-7)
      const first = Number((cap * 0.6).toFixed(7))
      await sim.createOrder(marketOrder('first', 'BTC-USD', 'buy', first))
      await sim.createOrder(marketOrder('second', 'BTC-USD', 'buy', 5))
      await step()
      assert.equal((await sim.fetchOrder('sim-1', 'BTC-USD')).status, 'closed')
      const second = await sim.fetchOrder('sim-2', 'BTC-USD')
      assert.equal(second.status, 'open')
      approx(second.filled, cap - first, 1e-6)
    })

    it('fills a limit buy only once a bar trades at or below the limit, at min(open, limit), maker fee', async () => {
      const {sim, step, now} = openSim()
      const r = rows('BTC-USD')
      const i0 = rowIndex('BTC-USD', now())
      const limit = Math.floor(Math.min(r[i0].low, r[i0 + 1].low)) - 1
      const k = r.findIndex((x, i) => i >= i0 && x.low <= limit)
      assert.ok(k > i0 + 1, 'the data crosses this limit later')
      await sim.createOrder({clientOrderId: 'l1', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.01, price: limit})
      approx((await sim.balances()).USD.free, 100_000 - 0.01 * limit * (1 + 40 / 1e4))
      for (let i = i0; i < k; i++) {
        await step()
        assert.equal((await sim.fetchOrder('sim-1', 'BTC-USD')).status, 'open')
      }

      await step()
      const o = await sim.fetchOrder('sim-1', 'BTC-USD')
      const price = Math.min(r[k].open, limit)
      assert.equal(o.status, 'closed')
      assert.equal(o.averagePrice, price)
      approx(o.fee, (0.01 * price * 40) / 1e4, 1e-12)
      approx((await sim.balances()).USD.total, 100_000 - 0.01 * price * (1 + 40 / 1e4))
    })

    it('fills a limit sell only once a bar trades at or above the limit, at max(open, limit)', async () => {
      const {sim, step, now} = openSim({start_balances: {USD: 0, BTC: 1}})
      const r = rows('BTC-USD')
      const i0 = rowIndex('BTC-USD', now())
      const limit = Math.ceil(Math.max(r[i0].high, r[i0 + 1].high)) + 1
      const k = r.findIndex((x, i) => i >= i0 && x.high >= limit)
      assert.ok(k > i0 + 1, 'the data crosses this limit later')
      await sim.createOrder({clientOrderId: 'l2', symbol: 'BTC-USD', side: 'sell', type: 'limit', amount: 0.5, price: limit})
      for (let i = i0; i <= k; i++) await step()
      const o = await sim.fetchOrder('sim-1', 'BTC-USD')
      const price = Math.max(r[k].open, limit)
      assert.equal(o.status, 'closed')
      assert.equal(o.averagePrice, price)
      assert.equal(o.updatedAt, r[k].time + HOUR)
      approx((await sim.balances()).USD.total, 0.5 * price * (1 - 40 / 1e4))
      assert.deepEqual((await sim.balances()).BTC, {free: 0.5, total: 0.5})
    })

    it('returns rejections as orders with a reason, and throws only for an unknown symbol', async () => {
      const {sim} = openSim()
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
      await assert.rejects(sim.createOrder(marketOrder('x', 'NOPE-USD', 'buy', 1)), (e: Error) => e instanceof ExchangeError && e.kind === 'rejected' && e.code === 'UNKNOWN_SYMBOL')
      await assert.rejects(sim.fetchOrder('sim-99'), (e: Error) => e instanceof ExchangeError && e.code === 'ORDER_NOT_FOUND')

      const faulty = openSim({faults: {reject_order_rate: 1}}).sim
      const o = await faulty.createOrder(marketOrder('f1', 'BTC-USD', 'buy', 0.01))
      assert.deepEqual([o.status, o.reason], ['rejected', 'SIM_FAULT'])
      assert.equal((await faulty.balances()).USD.free, 100_000)
    })

    it('de-duplicates by clientOrderId: the same order back, no money moved twice', async () => {
      const {sim, step} = openSim()
      const a = await sim.createOrder(marketOrder('dup', 'BTC-USD', 'buy', 0.1))
      const freeAfterFirst = (await sim.balances()).USD.free
      assert.deepEqual(await sim.createOrder(marketOrder('dup', 'BTC-USD', 'buy', 0.1)), a)
      assert.equal((await sim.balances()).USD.free, freeAfterFirst)
      await step()
      const balances = await sim.balances()
      const again = await sim.createOrder(marketOrder('dup', 'BTC-USD', 'buy', 0.1))
      assert.equal(again.status, 'closed')
      await step()
      assert.deepEqual(await sim.balances(), balances)
      assert.equal((await sim.fills(0)).length, 1)
      assert.equal((await sim.createOrder(marketOrder('other', 'BTC-USD', 'buy', 0.1))).id, 'sim-2')
    })

    it('cancels an open order and releases its reservation; a closed order is returned unchanged', async () => {
      const {sim, step} = openSim()
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
      await step()
      const closed = await sim.fetchOrder(m.id, 'BTC-USD')
      assert.equal(closed.status, 'closed')
      assert.deepEqual(await sim.cancelOrder(m.id, 'BTC-USD'), closed)
      await assert.rejects(sim.cancelOrder('sim-99', 'BTC-USD'), /no order sim-99/)
    })

    it('fills a buy only as far as the funds go when the price gaps up, then cancels the rest', async () => {
      const {sim, step, now} = openSim()
      const r = rows('BTC-USD')
      let i = rowIndex('BTC-USD', now())
      while (r[i].open <= r[i - 1].close * 1.0005) {
        await step()
        i++
      }

      const reservePerBtc = r[i - 1].close * (1 + 2 / 1e4) * (1 + (1 + 60) / 1e4)
      const amount = floorTo(100_000 / reservePerBtc, 1e-7)
      const placed = await sim.createOrder(marketOrder('all-in', 'BTC-USD', 'buy', Number(amount.toFixed(7))))
      assert.equal(placed.status, 'open')
      await step()
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

  describe('lazy fills', () => {
    /** Everything a client can see of the account. */
    async function observe(sim: SimBroker, ids: string[]) {
      return {
        balances: await sim.balances(),
        open: await sim.openOrders(),
        orders: await Promise.all(ids.map((id) => sim.fetchOrderByClientId(id, ''))),
        fills: await sim.fills(0),
      }
    }

    it('fills the same whether the broker is asked after every bar or only much later', async () => {
      const settings = {start_balances: {USD: 1_000_000, BTC: 2, ETH: 10}, max_fill_pct_of_bar_volume: 0.05}
      const eager = openSim(settings)
      const lazy = openSim(settings)
      const r = rows('ETH-USD')
      const i0 = rowIndex('ETH-USD', eager.now() - HOUR)
      const capBtc = rows('BTC-USD')[rowIndex('BTC-USD', eager.now())].volume * 0.0005
      const first: OrderRequest[] = [
        marketOrder('big', 'BTC-USD', 'buy', Number((capBtc * 3.5).toFixed(7))),
        marketOrder('behind', 'BTC-USD', 'buy', Number((capBtc * 0.5).toFixed(7))),
        {clientOrderId: 'dip', symbol: 'ETH-USD', side: 'buy', type: 'limit', amount: 1, price: Math.floor(Math.min(...r.slice(i0 + 1, i0 + 4).map((x) => x.low)) + 1)},
        {clientOrderId: 'peak', symbol: 'BTC-USD', side: 'sell', type: 'limit', amount: 0.5, price: Math.ceil(rows('BTC-USD')[rowIndex('BTC-USD', eager.now() - HOUR)].close * 1.003)},
      ]
      const later = [marketOrder('exit', 'ETH-USD', 'sell', 4), marketOrder('more', 'BTC-USD', 'buy', Number((capBtc * 2).toFixed(7)))]
      const phases: [OrderRequest[], number][] = [[first, 4], [later, 6]]
      for (const [orders, bars] of phases) {
        for (const req of orders) assert.deepEqual(await lazy.sim.createOrder(req), await eager.sim.createOrder(req))
        for (let k = 0; k < bars; k++) {
          await eager.step()
          await eager.sim.balances()
          await lazy.step()
        }
      }

      const ids = [...first, ...later].map((o) => o.clientOrderId)
      const seen = await observe(eager.sim, ids)
      assert.deepEqual(await observe(lazy.sim, ids), seen)
      const fillBars = new Set(seen.fills.map((f) => f.time))
      assert.ok(fillBars.size >= 4 && new Set(seen.fills.map((f) => f.symbol)).size === 2, `fills on ${fillBars.size} bars: ${JSON.stringify(seen.fills)}`)
      assert.ok(seen.orders.filter((o) => o!.status === 'closed').length >= 4, JSON.stringify(seen.orders))
    })

    it('meets only bars that open at or after the order was placed (an order placed mid-bar waits for the next)', async () => {
      const clock = new HandClock(0)
      const {broker: sim, replay, step} = openSim({}, {clock})
      const r = rows('BTC-USD')
      const i = rowIndex('BTC-USD', replay.now())
      clock.time = replay.now() + 10 * 60_000 // ten minutes into bar i
      await sim.createOrder(marketOrder('mid', 'BTC-USD', 'buy', 0.1))
      await step()
      assert.deepEqual(await sim.fills(0), [], 'bar i opened before the order')
      await step()
      const [fill, ...more] = await sim.fills(0)
      assert.equal(more.length, 0)
      approx(fill.price, r[i + 1].open * (1 + 3 / 1e4), 1e-12)
      assert.equal(fill.time, r[i + 1].time + HOUR)
    })
  })

  for (const where of ['memory', 'file'] as const) {
    it(`lists the orders placed on a symbol since a time, done or not (${where})`, async () => {
      const {sim, step, now} = openSim({start_balances: {USD: 100_000, ETH: 1}}, {stateFile: where === 'file' ? path.join(tmp, 'sim.sqlite') : null})
      const t0 = now()
      await sim.createOrder(marketOrder('a', 'BTC-USD', 'buy', 0.1))
      await sim.createOrder(marketOrder('e', 'ETH-USD', 'sell', 0.5))
      await step()
      const t1 = now()
      await sim.createOrder({clientOrderId: 'b', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.1, price: 1000})
      await sim.createOrder(marketOrder('c', 'BTC-USD', 'buy', 0))
      const ids = async (symbol: string, since: number) => (await sim.recentOrders(symbol, since)).map((o) => `${o.clientOrderId}:${o.status}`)
      assert.deepEqual(await ids('BTC-USD', t0), ['a:closed', 'b:open', 'c:rejected'])
      assert.deepEqual(await ids('BTC-USD', t1), ['b:open', 'c:rejected'])
      assert.deepEqual(await ids('BTC-USD', t1 + 1), [])
      assert.deepEqual(await ids('ETH-USD', t0), ['e:closed'])
      assert.deepEqual((await sim.recentOrders('BTC-USD', t0))[0], await sim.fetchOrderByClientId('a', 'BTC-USD'))
      await sim.close()
    })
  }
})
