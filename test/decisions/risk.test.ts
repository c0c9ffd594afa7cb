import assert from 'node:assert/strict'

import {floorToStep, isMultipleOf} from '../../src/lib/execution/amounts.js'
import {planOrders} from '../../src/lib/execution/plan.js'
import {buildPortfolio} from '../../src/lib/market/snapshot.js'
import {evaluateOrder, type RiskContext} from '../../src/lib/risk/checks.js'
import {atRiskValue, exposurePct} from '../../src/lib/risk/exposure.js'
import type {Target} from '../../src/lib/signals/targets.js'
import {defaultConfig, market, openOrder, snapshotOf, ticker} from '../helpers/fixtures.js'

const policy = defaultConfig().policy

function context(overrides: Partial<RiskContext> = {}): RiskContext {
  return {
    policy, now: 1_700_000_000_000, equity: 100_000, atRisk: 0, positionValue: 0, positionCapPct: 10,
    ordersThisCycle: 0, cashFree: 100_000, freeToSell: 1, market: market('BTC-USD'), ticker: ticker('BTC-USD', 40000), duplicateOf: null, unpriced: [], suspect: null, ...overrides,
  }
}

const buy = (amount: number, price = 40004) => ({symbol: 'BTC-USD', tier: 'tier1', side: 'buy' as const, amount, price})

describe('pre-trade risk checks', () => {
  const cases: [string, Partial<RiskContext>, ReturnType<typeof buy>, string | null][] = [
    ['a sound order passes', {}, buy(0.1), null],
    ['order budget', {ordersThisCycle: policy.risk.max_orders_per_cycle}, buy(0.1), 'ORDER_BUDGET'],
    ['duplicate', {duplicateOf: 'open buy order c-1'}, buy(0.1), 'DUPLICATE_ORDER'],
    ['suspect price', {suspect: 'price moved 9,900% from the last good 40000'}, buy(0.1), 'SUSPECT_PRICE'],
    ['amount off the step', {}, buy(0.12345), 'PRECISION'],
    ['below min notional', {}, buy(0.0002), 'MIN_NOTIONAL'],
    ['above max order notional', {}, buy(0.2), 'MAX_ORDER_NOTIONAL'],
    ['stale price', {ticker: ticker('BTC-USD', 40000, {timestamp: 1_700_000_000_000 - 3 * 3600_000})}, buy(0.1), 'STALE_QUOTE'],
    ['price far from mid', {}, buy(0.1, 42000), 'PRICE_COLLAR'],
    ['exposure cap', {atRisk: 22_000}, buy(0.1), 'EXPOSURE_CAP'],
    // 20,995 + 4,000.4 is 24.995% of equity before the buy, but its fee and spread leave 99,975.6: 25.0015%.
    ['exposure cap counts the buy\'s own costs', {atRisk: 20_995}, buy(0.1), 'EXPOSURE_CAP'],
    ['a holding without a price', {unpriced: ['DOGE']}, buy(0.1), 'UNPRICED_HOLDINGS'],
    ['position cap', {positionValue: 7_000}, buy(0.1), 'TIER_POSITION_CAP'],
    ['not enough cash', {cashFree: 3_000}, buy(0.1), 'INSUFFICIENT_FUNDS'],
  ]
  for (const [name, ctx, order, code] of cases) {
    it(`${name} -> ${code ?? 'approved'}`, () => {
      assert.equal(evaluateOrder(order, context(ctx))?.code ?? null, code)
    })
  }

  it('sells are never denied for exposure or position caps (they reduce risk)', () => {
    assert.equal(evaluateOrder({...buy(0.1, 39996), side: 'sell'}, context({atRisk: 90_000, positionValue: 90_000})), null)
  })

  it('a sell of more than is free (not on the book, not held for a TWAP schedule) -> INSUFFICIENT_FUNDS', () => {
    assert.equal(evaluateOrder({...buy(0.1, 39996), side: 'sell'}, context({freeToSell: 0.1})), null)
    assert.equal(evaluateOrder({...buy(0.1, 39996), side: 'sell'}, context({freeToSell: 0.099}))?.code, 'INSUFFICIENT_FUNDS')
  })
})

describe('amounts', () => {
  it('floors to the exchange step without binary noise', () => {
    assert.equal(floorToStep(0.30000000000000004, 0.1), 0.3)
    assert.equal(floorToStep(1.23456789, 0.001), 1.234)
    assert.equal(floorToStep(12345.6, 10), 12340)
    assert.ok(isMultipleOf(0.3, 0.1))
    assert.ok(!isMultipleOf(0.35, 0.1))
  })
})

describe('order plan', () => {
  const prices = [ticker('BTC-USD', 40000), ticker('ETH-USD', 2000), ticker('AVAX-USD', 20)]
  const snap = snapshotOf(prices)
  const enter = (symbol: string, tier: string, value: number): Target => ({symbol, tier, action: 'enter', value, score: 0.5, reason: 'test'})

  function plan(balances: Record<string, number>, targets: Target[], open = [] as ReturnType<typeof openOrder>[]) {
    const b = Object.fromEntries(Object.entries(balances).map(([k, v]) => [k, {free: v, total: v}]))
    const portfolio = buildPortfolio('USD', b, snap.tickers, open)
    const committed = new Map<string, number>([...portfolio.holdings.values()].map((h) => [h.symbol, h.value]))
    const atRisk = atRiskValue(portfolio, (s) => snap.tickers.get(s)?.last)
    return {portfolio, atRisk, plan: planOrders({targets, market: snap, portfolio, committed, atRisk, policy, recentIntents: []})}
  }

  it('clips buys to the room under the exposure cap and never plans above it', () => {
    // 20% already at risk in BTC; two entries want 5% each: only 5% of room is left.
    const {plan: p, portfolio} = plan({USD: 80_000, BTC: 0.5}, [enter('ETH-USD', 'tier1', 5000), enter('AVAX-USD', 'tier2', 5000)])
    assert.ok(p.exposureAfterPct <= policy.risk.max_total_at_risk_pct + 1e-9, `planned ${p.exposureAfterPct}%`)
    const spent = p.orders.reduce((s, o) => s + o.amount * o.price, 0)
    assert.ok(spent <= 0.25 * portfolio.equity - 20_000 + 1e-6)
    assert.ok(p.orders.length >= 1)
    for (const o of p.orders) assert.ok(isMultipleOf(o.amount, 0.0001))
  })

  it('denies a buy with a code when there is no room at all', () => {
    const {plan: p} = plan({USD: 70_000, BTC: 0.75}, [enter('ETH-USD', 'tier1', 5000)])
    assert.equal(p.orders.length, 0)
    assert.equal(p.denied[0].denial.code, 'EXPOSURE_CAP')
  })

  it('plans no order, buy or sell, on a symbol whose price is suspect this cycle', () => {
    const b = {USD: {free: 80_000, total: 80_000}, ETH: {free: 1, total: 1}}
    const portfolio = buildPortfolio('USD', b, snap.tickers, [])
    const suspectSnap = {...snap, suspect: new Map([['ETH-USD', 'price jumped'], ['AVAX-USD', 'price jumped']])}
    const p = planOrders({
      targets: [{symbol: 'ETH-USD', tier: 'tier1', action: 'exit', value: 0, score: -0.5, reason: 'exit'}, enter('AVAX-USD', 'tier2', 2000)],
      market: suspectSnap, portfolio, committed: new Map([['ETH-USD', 2000]]), atRisk: 2000, policy, recentIntents: [],
    })
    assert.deepEqual(p.orders, [])
    assert.deepEqual(p.denied.map((d) => [d.symbol, d.side, d.denial.code]), [['ETH-USD', 'sell', 'SUSPECT_PRICE'], ['AVAX-USD', 'buy', 'SUSPECT_PRICE']])
  })

  it('a reduce counts what a TWAP schedule is already selling: it sells only the rest, or nothing', () => {
    // 4 ETH at 2000 = 8,000; the target is 4,000. A schedule still has 1 ETH (2,000) to sell: the reduce
    // sells (3 ETH x 2000 - 4,000) / bid, about 1 ETH, not the 2 ETH it would without the schedule.
    const b = {USD: {free: 80_000, total: 80_000}, ETH: {free: 4, total: 4}}
    const reduce: Target = {symbol: 'ETH-USD', tier: 'tier1', action: 'reduce', value: 4000, score: 0.1, reason: 'over its cap'}
    const sized = (scheduled: number) => {
      const portfolio = buildPortfolio('USD', b, snap.tickers, [], new Map([['ETH-USD', scheduled]]))
      assert.equal(portfolio.holdings.get('ETH-USD')!.free, 4 - scheduled)
      return planOrders({targets: [reduce], market: snap, portfolio, committed: new Map([['ETH-USD', 8000]]), atRisk: 8000, policy, recentIntents: []}).orders
    }

    const bid = snap.tickers.get('ETH-USD')!.bid
    assert.equal(sized(0)[0].amount, Math.floor((4000 / bid) * 1e4) / 1e4)
    assert.equal(sized(1)[0].amount, Math.floor((2000 / bid) * 1e4) / 1e4)
    assert.deepEqual(sized(2.5), [], 'the schedule alone brings it under the target')
  })

  it('does not stack a second order on a symbol with an open order', () => {
    const {plan: p} = plan({USD: 100_000}, [enter('ETH-USD', 'tier1', 5000)], [openOrder('ETH-USD', 'buy', 1, 2000)])
    assert.equal(p.denied[0].denial.code, 'DUPLICATE_ORDER')
  })

  it('counts open buys as exposure', () => {
    const {portfolio, atRisk} = plan({USD: 100_000}, [], [openOrder('ETH-USD', 'buy', 5, 2000)])
    assert.equal(exposurePct(atRisk, portfolio.equity), 10)
  })

  it('slices an exit larger than max_order_notional, leaving a remainder that can still be sold', () => {
    // 10 ETH at ~2000 = ~20,000 > max_order_notional 5,000
    const {plan: p} = plan({USD: 80_000, ETH: 10}, [{symbol: 'ETH-USD', tier: 'tier1', action: 'exit', value: 0, score: -0.5, reason: 'exit'}])
    const [sell] = p.orders
    assert.equal(sell.side, 'sell')
    assert.ok(sell.amount * sell.price <= policy.risk.max_order_notional, `notional ${sell.amount * sell.price}`)
    assert.ok(sell.amount * sell.price > policy.risk.max_order_notional - 1, 'uses the whole slice')
    assert.ok((10 - sell.amount) * sell.price >= policy.risk.min_order_notional)
    assert.equal(p.denied.length, 0)
  })

  it('sells a whole holding on exit, so no unsellable dust is left', () => {
    const {plan: p} = plan({USD: 90_000, ETH: 1.23456}, [{symbol: 'ETH-USD', tier: 'tier1', action: 'exit', value: 0, score: -0.5, reason: 'exit'}])
    assert.equal(p.orders[0].side, 'sell')
    assert.equal(p.orders[0].amount, 1.2345)
  })
})
