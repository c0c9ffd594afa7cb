import assert from 'node:assert/strict'

import {PolicyConfig} from '../../src/lib/config/schema/policy.js'
import type {MarketInfo, Ticker} from '../../src/lib/domain.js'
import {floorToStep, isMultipleOf} from '../../src/lib/execution/amounts.js'
import {addOrders, type ExtraOrder, type OrderPlan, type PlanInput, type PlannedOrder} from '../../src/lib/execution/plan.js'
import {nextSlice, planRoute, type RouteInput} from '../../src/lib/execution/route.js'
import type {Holding} from '../../src/lib/market/snapshot.js'
import {market, snapshotOf, ticker} from '../helpers/fixtures.js'

type RiskIn = Partial<PolicyConfig['risk']>
type ExecutionIn = Partial<PolicyConfig['execution']>

/** A policy parsed by the real schema (no files read); only the keys the tests rely on are spelled out. */
function policyOf(risk: RiskIn = {}, execution: ExecutionIn = {}): PolicyConfig {
  return PolicyConfig.parse({
    risk: {
      max_total_at_risk_pct: 25, max_position_pct_by_tier: {tier1: 10, tier3: 10}, min_order_notional: 10, max_order_notional: 5000,
      price_collar_pct: 2, max_orders_per_cycle: 10, max_quote_age_seconds: 7200, ...risk,
    },
    execution: {
      prefer_convert: false, min_slice_notional: 10,
      twap_by_tier: {tier1: {slices: 1, spacing_seconds: 0}, tier3: {slices: 4, spacing_seconds: 60}}, ...execution,
    },
  })
}

// ---------------------------------------------------------------------------------------------------- planRoute

const TIERS: Record<string, string> = {'BTC-USD': 'tier1', 'ETH-USD': 'tier1', 'SOL-USD': 'tier3'}

function routeInput(over: Partial<RouteInput> & Pick<RouteInput, 'from' | 'to' | 'amount'>): RouteInput {
  const markets = new Map<string, MarketInfo>([
    ['BTC-USD', market('BTC-USD', {takerBps: 60})],
    ['ETH-USD', market('ETH-USD', {takerBps: 60, amountStep: 0.001})],
    ['SOL-USD', market('SOL-USD', {takerBps: 60, amountStep: 0.01})],
    ['XRP-USD', market('XRP-USD')],
    ['ADA-USD', market('ADA-USD')], // listed, but never priced
  ])
  const tickers = new Map<string, Ticker>([
    ['BTC-USD', ticker('BTC-USD', 40005, {bid: 40000, ask: 40010})],
    ['ETH-USD', ticker('ETH-USD', 2499, {bid: 2498, ask: 2500})],
    ['SOL-USD', ticker('SOL-USD', 100, {bid: 99.9, ask: 100.1})],
    ['XRP-USD', ticker('XRP-USD', 0.5, {bid: 0.49, ask: 0.51})],
  ])
  return {quote: 'USD', markets, tickers, tierOf: (s) => TIERS[s], policy: policyOf(), convertOffered: false, ...over}
}

describe('planRoute', () => {
  it('coin -> quote: one sell leg of the whole amount at the bid', () => {
    assert.deepEqual(planRoute(routeInput({from: 'BTC', to: 'USD', amount: 0.5})), {
      from: 'BTC', to: 'USD', amount: 0.5, route: 'market', convert: false, problem: null,
      legs: [{symbol: 'BTC-USD', side: 'sell', amount: 0.5, price: 40000, tier: 'tier1', slices: 1, spacingMs: 0}],
    })
  })

  it('quote -> coin: one buy leg at the ask, sized to what the amount pays for once the taker fee is on top, floored to the step', () => {
    const r = planRoute(routeInput({from: 'USD', to: 'ETH', amount: 1000}))
    // 1000 / (2500 * 1.006) = 1000 / 2515 = 0.39761... -> floored to 0.001: 0.397 (not 0.398, not 1000 / 2500 = 0.4)
    assert.deepEqual(r.legs, [{symbol: 'ETH-USD', side: 'buy', amount: 0.397, price: 2500, tier: 'tier1', slices: 1, spacingMs: 0}])
    assert.equal(r.route, 'market')
    assert.equal(r.problem, null)
  })

  it('coin -> coin: sell into the quote currency, then buy sized from the sell\'s proceeds less its fee', () => {
    const r = planRoute(routeInput({from: 'BTC', to: 'ETH', amount: 0.1}))
    // Sell 0.1 BTC at the bid 40000 = 4000 USD, less 0.6% = 3976; buy 3976 / (2500 * 1.006) = 1.58091... -> 1.580
    assert.deepEqual(r.legs, [
      {symbol: 'BTC-USD', side: 'sell', amount: 0.1, price: 40000, tier: 'tier1', slices: 1, spacingMs: 0},
      {symbol: 'ETH-USD', side: 'buy', amount: 1.58, price: 2500, tier: 'tier1', slices: 1, spacingMs: 0},
    ])
    assert.equal(r.route, 'market')
    assert.equal(r.convert, false)
  })

  describe('convert', () => {
    const convertPolicy = policyOf({}, {prefer_convert: true})
    for (const [from, to] of [['BTC', 'USD'], ['USD', 'ETH']]) {
      it(`${from} -> ${to} converts when prefer_convert is on and the broker offers it, keeping the market legs as fallback`, () => {
        const r = planRoute(routeInput({from, to, amount: 1000 / (from === 'USD' ? 1 : 40000), policy: convertPolicy, convertOffered: true}))
        assert.equal(r.convert, true)
        assert.equal(r.route, 'convert')
        assert.equal(r.legs.length, 1)
        assert.equal(r.problem, null)
      })
    }

    it('does not convert when prefer_convert is off, even if offered', () => {
      const r = planRoute(routeInput({from: 'BTC', to: 'USD', amount: 0.5, policy: policyOf({}, {prefer_convert: false}), convertOffered: true}))
      assert.equal(r.convert, false)
      assert.equal(r.route, 'market')
    })

    it('does not convert when the broker does not offer it, even if preferred', () => {
      const r = planRoute(routeInput({from: 'BTC', to: 'USD', amount: 0.5, policy: convertPolicy, convertOffered: false}))
      assert.equal(r.convert, false)
      assert.equal(r.route, 'market')
    })

    it('never converts coin -> coin: two market legs even when preferred and offered', () => {
      const r = planRoute(routeInput({from: 'BTC', to: 'ETH', amount: 0.1, policy: convertPolicy, convertOffered: true}))
      assert.equal(r.convert, false)
      assert.equal(r.route, 'market')
      assert.equal(r.legs.length, 2)
    })

    it('a convert whose fallback sell is in a TWAP tier keeps the sliced leg for the fallback', () => {
      const r = planRoute(routeInput({from: 'SOL', to: 'USD', amount: 10, policy: convertPolicy, convertOffered: true}))
      assert.equal(r.route, 'convert')
      assert.equal(r.legs[0].slices, 4)
    })
  })

  describe('twap', () => {
    it('a sell in a tier with slices > 1 is TWAP, with its spacing in ms', () => {
      const r = planRoute(routeInput({from: 'SOL', to: 'USD', amount: 10}))
      assert.equal(r.route, 'twap')
      // tier3: 4 slices, 60 s apart
      assert.deepEqual(r.legs, [{symbol: 'SOL-USD', side: 'sell', amount: 10, price: 99.9, tier: 'tier3', slices: 4, spacingMs: 60_000}])
    })

    it('a buy in the same tier is never sliced', () => {
      const r = planRoute(routeInput({from: 'USD', to: 'SOL', amount: 500}))
      assert.equal(r.route, 'market')
      // 500 / (100.1 * 1.006) = 500 / 100.7006 = 4.96521... -> floored to 0.01: 4.96
      assert.deepEqual(r.legs, [{symbol: 'SOL-USD', side: 'buy', amount: 4.96, price: 100.1, tier: 'tier3', slices: 1, spacingMs: 0}])
    })

    it('coin -> coin is TWAP when its sell leg is in a sliced tier, and not when only its buy leg is', () => {
      const sliced = planRoute(routeInput({from: 'SOL', to: 'ETH', amount: 10}))
      assert.equal(sliced.route, 'twap')
      assert.deepEqual(sliced.legs.map((l) => [l.side, l.slices]), [['sell', 4], ['buy', 1]])
      const notSliced = planRoute(routeInput({from: 'ETH', to: 'SOL', amount: 1}))
      assert.equal(notSliced.route, 'market')
      assert.deepEqual(notSliced.legs.map((l) => [l.side, l.slices]), [['sell', 1], ['buy', 1]])
    })

    it('a tier with slices: 1, or a symbol in no listed tier, sells in one market order', () => {
      assert.equal(planRoute(routeInput({from: 'BTC', to: 'USD', amount: 0.5})).route, 'market')
      const unlisted = planRoute(routeInput({from: 'XRP', to: 'USD', amount: 100}))
      assert.equal(unlisted.route, 'market')
      assert.equal(unlisted.legs[0].tier, 'default')
      assert.equal(unlisted.legs[0].slices, 1)
    })
  })

  it('a coin with no market that the broker converts (a stablecoin): convert is the whole route, nothing to fall back to', () => {
    for (const [from, to] of [['USDC', 'USD'], ['USD', 'USDC']]) {
      const r = planRoute(routeInput({from, to, amount: 100, policy: policyOf({}, {prefer_convert: true}), convertOffered: true}))
      assert.deepEqual([r.route, r.convert, r.legs, r.problem], ['convert', true, [], null])
      // Not preferred: no route at all.
      assert.match(planRoute(routeInput({from, to, amount: 100, policy: policyOf({}, {prefer_convert: false}), convertOffered: true})).problem!, /USDC-USD/)
    }
  })

  describe('problems: a message and no legs', () => {
    const convertEverything = {policy: policyOf({}, {prefer_convert: true}), convertOffered: true}
    const cases: [string, Partial<RouteInput> & Pick<RouteInput, 'from' | 'to' | 'amount'>, RegExp][] = [
      ['unknown market, convert not offered', {from: 'DOGE', to: 'USD', amount: 1, convertOffered: false}, /DOGE-USD/],
      ['unknown market for the buy, convert not offered', {from: 'USD', to: 'DOGE', amount: 100, convertOffered: false}, /DOGE-USD/],
      ['a listed market without a price', {from: 'ADA', to: 'USD', amount: 1}, /ADA-USD/],
      ['a bid of zero', {from: 'BTC', to: 'USD', amount: 1, tickers: new Map([['BTC-USD', ticker('BTC-USD', 40000, {bid: 0})]])}, /BTC-USD/],
      ['coin -> coin whose second market is unknown (no half route)', {from: 'BTC', to: 'DOGE', amount: 0.1}, /DOGE-USD/],
      ['from === to', {from: 'BTC', to: 'BTC', amount: 1}, /BTC/],
      ['the quote into itself', {from: 'USD', to: 'USD', amount: 100}, /USD/],
      ['amount 0', {from: 'BTC', to: 'USD', amount: 0}, /amount/],
      ['a negative amount', {from: 'BTC', to: 'USD', amount: -1}, /amount/],
      ['amount NaN', {from: 'BTC', to: 'USD', amount: Number.NaN}, /amount/],
    ]
    for (const [name, over, mentions] of cases) {
      it(name, () => {
        const r = planRoute(routeInput({...convertEverything, ...over}))
        assert.equal(typeof r.problem, 'string')
        assert.match(r.problem!, mentions)
        assert.deepEqual(r.legs, [])
        assert.equal(r.convert, false)
      })
    }
  })
})

// ---------------------------------------------------------------------------------------------------- nextSlice

// amountStep 0.001, minAmount 0.001, minNotional 5: at price 100 the exchange minimum is 5 / 100 = 0.05.
const SLICE_MARKET = market('SOL-USD', {amountStep: 0.001, minAmount: 0.001, minNotional: 5})
const slice = (remaining: number, slicesLeft: number, minSliceNotional = 0, price = 100, m = SLICE_MARKET) =>
  nextSlice({remaining, slicesLeft, price, market: m, minSliceNotional})

describe('nextSlice', () => {
  it('an even share of the remainder over the slices left', () => {
    assert.deepEqual(slice(10, 4), {amount: 2.5, dust: false}) // 10 / 4
  })

  it('the share is floored to the amount step', () => {
    assert.deepEqual(slice(1, 3), {amount: 0.333, dust: false}) // 1 / 3 = 0.3333... -> 0.333
    assert.deepEqual(slice(2, 3), {amount: 0.666, dust: false}) // 0.6666... floored, not rounded to 0.667
  })

  it('never below min_slice_notional: fewer, larger slices (raised to the step above)', () => {
    // 1 / 4 = 0.25 is 25 USD < 50: 50 / 100 = 0.5 instead, so two slices
    assert.deepEqual(slice(1, 4, 50), {amount: 0.5, dust: false})
    // 33.35 / 100 = 0.3335 -> up to the step: 0.334
    assert.deepEqual(slice(1, 4, 33.35), {amount: 0.334, dust: false})
  })

  it('the last slice takes everything left (floored to the step)', () => {
    assert.deepEqual(slice(3.2, 1), {amount: 3.2, dust: false})
    assert.deepEqual(slice(3.2004, 1), {amount: 3.2, dust: false})
    assert.deepEqual(slice(3.2, 0), {amount: 3.2, dust: false})
  })

  it('a remainder that would fall below the exchange minimum after this slice is folded into it', () => {
    // min_slice_notional 97 -> 0.97, leaving 0.03 < 0.05: the slice takes all 1
    assert.deepEqual(slice(1, 4, 97), {amount: 1, dust: false})
    // At price 10 the minimum is 5 / 10 = 0.5: 0.55 / 2 = 0.275 is raised to 0.5, leaving 0.05 < 0.5: all 0.55
    assert.deepEqual(slice(0.55, 2, 0, 10), {amount: 0.55, dust: false})
    // 0.61 / 2 = 0.305 -> raised to 0.5, leaving 0.11 < 0.5: all 0.61 (one slice, not 0.5 + unsellable dust)
    assert.deepEqual(slice(0.61, 2, 0, 10), {amount: 0.61, dust: false})
    // Control: 1.2 at price 10, 2 slices: 0.6 each leaves 0.6 >= 0.5, nothing folded
    assert.deepEqual(slice(1.2, 2, 0, 10), {amount: 0.6, dust: false})
  })

  describe('dust: a remainder below the exchange minimum', () => {
    const dust = (s: ReturnType<typeof nextSlice>, amount: number) => {
      assert.equal(s.dust, true)
      assert.equal(s.amount, amount)
      assert.match((s as {reason: string}).reason, /below the exchange minimum/)
    }

    it('below minNotional / price', () => {
      dust(slice(0.049, 3), 0.049) // 0.049 * 100 = 4.9 < 5
      assert.deepEqual(slice(0.05, 3), {amount: 0.05, dust: false}) // exactly 5 USD is sellable
    })

    it('below minAmount', () => {
      const m = market('SOL-USD', {amountStep: 0.01, minAmount: 0.1, minNotional: 0})
      dust(slice(0.09, 2, 0, 100, m), 0.09)
      assert.deepEqual(slice(0.1, 2, 0, 100, m), {amount: 0.1, dust: false})
    })

    it('below one amount step (what is left floors to 0)', () => {
      const m = market('SOL-USD', {amountStep: 0.01, minAmount: 0, minNotional: 0})
      dust(slice(0.009, 2, 0, 100, m), 0)
    })
  })

  it('a schedule of slices sums exactly to the total (to the step) in at most the slices asked for', () => {
    let runs = 0
    for (const step of [0.001, 0.01, 1]) {
      for (const price of [3, 100, 2500]) {
        const m = market('SOL-USD', {amountStep: step, minAmount: step, minNotional: 5})
        const minimum = Math.max(step, 5 / price)
        for (const total of [0.05, 0.333, 1, 2.5, 7.7777, 13, 250]) {
          for (const slices of [1, 2, 3, 4, 7, 10]) {
            for (const minSliceNotional of [0, 10, 50]) {
              const label = `total ${total} step ${step} price ${price} slices ${slices} min slice ${minSliceNotional}`
              const wanted = floorToStep(total, step)
              const first = nextSlice({remaining: total, slicesLeft: slices, price, market: m, minSliceNotional})
              if (wanted < minimum) {
                assert.equal(first.dust, true, label)
                continue
              }

              runs++
              const amounts: number[] = []
              let sold = 0
              while (floorToStep(total - sold, step) > 0) {
                assert.ok(amounts.length < slices, `${label}: more than ${slices} slices (${amounts.join(', ')})`)
                const s = nextSlice({remaining: total - sold, slicesLeft: slices - amounts.length, price, market: m, minSliceNotional})
                assert.equal(s.dust, false, `${label}: dust after ${amounts.join(', ')}`)
                assert.ok(isMultipleOf(s.amount, step) && s.amount >= minimum - 1e-12, `${label}: slice ${s.amount}`)
                amounts.push(s.amount)
                sold += s.amount
              }

              // In whole steps, so float noise cannot hide a missing or extra step.
              assert.equal(Math.round(sold / step), Math.round(wanted / step), `${label}: ${amounts.join(' + ')} != ${wanted}`)
              // Every slice but the last is worth at least min_slice_notional.
              for (const a of amounts.slice(0, -1)) assert.ok(a * price >= minSliceNotional - 1e-9, `${label}: slice ${a} below min_slice_notional`)
            }
          }
        }
      }
    }

    assert.ok(runs > 100, `only ${runs} schedules exercised`)
  })
})

// ---------------------------------------------------------------------------------------------------- addOrders

const NOW = 1_700_000_000_000

interface Account {
  cash: number
  /** Base amounts held, all free unless `free` says otherwise (the rest held back for a TWAP schedule). */
  held: Record<string, number>
  free?: Record<string, number>
  risk?: RiskIn
}

/**
 * A consistent account: BTC at 40000 (bid 39990, ask 40010), ETH at 2000 (bid 1999, ask 2001), every market
 * with a 0.0001 step, minimum notional 1 and a 0.6% taker fee. Equity = cash + holdings at last price.
 */
function account({cash, held, free = {}, risk = {}}: Account): PlanInput {
  const market = snapshotOf([ticker('BTC-USD', 40000, {bid: 39990, ask: 40010}), ticker('ETH-USD', 2000, {bid: 1999, ask: 2001})], NOW)
  const holdings = new Map<string, Holding>()
  for (const [symbol, amount] of Object.entries(held)) {
    const price = market.tickers.get(symbol)!.last
    holdings.set(symbol, {symbol, amount, free: free[symbol] ?? amount, heldBack: amount - (free[symbol] ?? amount), price, value: amount * price})
  }

  const atRisk = [...holdings.values()].reduce((n, h) => n + h.value, 0)
  return {
    targets: [], market, atRisk, policy: policyOf(risk), recentIntents: [],
    committed: new Map([...holdings.values()].map((h) => [h.symbol, h.value])),
    portfolio: {quote: 'USD', cash, cashFree: cash, holdings, openOrders: [], equity: cash + atRisk, unpriced: []},
  }
}

const emptyPlan = (input: PlanInput): OrderPlan => ({orders: [], denied: [], exposureAfterPct: (input.atRisk / input.portfolio.equity) * 100})
const sellBtc = (amount: number, more: Partial<ExtraOrder> = {}): ExtraOrder =>
  ({symbol: 'BTC-USD', tier: 'tier1', side: 'sell', amount, price: 39990, action: 'convert', reason: 'test', ...more})
const buyEth = (amount: number): ExtraOrder => ({symbol: 'ETH-USD', tier: 'tier1', side: 'buy', amount, price: 2001, action: 'convert', reason: 'test'})
const codes = (plan: OrderPlan) => plan.denied.map((d) => d.denial.code)

// The ETH buy's cost rate, as the exposure cap counts it: fee 0.006 + spread (2001 - 2000) / 2001 = 0.0064997501.
describe('addOrders', () => {
  it('a buy that fits under the exposure cap is added as asked', () => {
    // 20000 at risk of 100000; buy 2 ETH = 4002: (20000 + 4002) / (100000 - 4002 * 0.0065) = 24002 / 99973.99 = 24.01% <= 25
    const input = account({cash: 80_000, held: {'BTC-USD': 0.5}})
    const plan = addOrders(emptyPlan(input), [buyEth(2)], input)
    assert.deepEqual(codes(plan), [])
    assert.deepEqual(plan.orders.map((o) => [o.symbol, o.side, o.amount, o.price, o.action]), [['ETH-USD', 'buy', 2, 2001, 'convert']])
  })

  it('a buy that would breach max_total_at_risk_pct is denied EXPOSURE_CAP, not clipped', () => {
    // 0.5375 BTC = 21500 at risk: (21500 + 4002) / 99973.99 = 25.51% > 25
    const input = account({cash: 78_500, held: {'BTC-USD': 0.5375}})
    const plan = addOrders(emptyPlan(input), [buyEth(2)], input)
    assert.deepEqual(plan.orders, [])
    assert.deepEqual(codes(plan), ['EXPOSURE_CAP'])
    assert.equal(plan.denied[0].amount, 2)
    assert.equal(plan.denied[0].action, 'convert')
  })

  it('the order budget counts the plan\'s own orders first', () => {
    const input = account({cash: 80_000, held: {'BTC-USD': 0.5}, risk: {max_orders_per_cycle: 3}})
    const planned = (symbol: string): PlannedOrder => ({symbol, tier: 'tier1', side: 'sell', amount: 0.01, price: 39990, action: 'exit', reason: 'strategy'})
    const plan: OrderPlan = {orders: [planned('BTC-USD'), planned('BTC-USD')], denied: [], exposureAfterPct: 20}
    // 2 planned + 1 added = 3 = max_orders_per_cycle: the next one is over budget
    const added = addOrders(plan, [sellBtc(0.02), sellBtc(0.03)], input)
    assert.deepEqual(added.orders.map((o) => o.amount), [0.01, 0.01, 0.02])
    assert.deepEqual(codes(added), ['ORDER_BUDGET'])
    assert.equal(added.denied[0].amount, 0.03)
    // Control: without the plan's two orders both fit.
    assert.deepEqual(codes(addOrders(emptyPlan(input), [sellBtc(0.02), sellBtc(0.03)], input)), [])
  })

  it('a sell of more than is free is INSUFFICIENT_FUNDS unless `reserved` covers it', () => {
    // 0.5 BTC held, 0.1 free (the rest promised to a TWAP schedule); sell 0.12 = 4798.8 USD
    const input = account({cash: 80_000, held: {'BTC-USD': 0.5}, free: {'BTC-USD': 0.1}})
    assert.deepEqual(codes(addOrders(emptyPlan(input), [sellBtc(0.12)], input)), ['INSUFFICIENT_FUNDS'])
    assert.deepEqual(codes(addOrders(emptyPlan(input), [sellBtc(0.12, {reserved: 0.01})], input)), ['INSUFFICIENT_FUNDS']) // 0.11 < 0.12
    const covered = addOrders(emptyPlan(input), [sellBtc(0.12, {reserved: 0.02, scheduleId: 's1'})], input) // 0.1 + 0.02 = 0.12
    assert.deepEqual(codes(covered), [])
    assert.equal(covered.orders[0].scheduleId, 's1')
    // What is held back caps `reserved`: coins that left the account under a schedule cannot be sold.
    const gone = account({cash: 80_000, held: {'BTC-USD': 0.11}, free: {'BTC-USD': 0.1}}) // 0.01 held back
    assert.deepEqual(codes(addOrders(emptyPlan(gone), [sellBtc(0.12, {reserved: 0.4})], gone)), ['INSUFFICIENT_FUNDS']) // 0.1 + min(0.4, 0.01) < 0.12
  })

  it('a sell before a buy frees exposure room for it (a conversion\'s two legs), in that order only', () => {
    // 0.6 BTC = 24000 at risk of 100000. Buy 2 ETH alone: (24000 + 4002) / 99973.99 = 28.01% > 25.
    // After selling 0.1 BTC at 39990 (3999 off the exposure): (20001 + 4002) / 99973.99 = 24.01% <= 25.
    const input = account({cash: 76_000, held: {'BTC-USD': 0.6}})
    assert.deepEqual(codes(addOrders(emptyPlan(input), [buyEth(2)], input)), ['EXPOSURE_CAP'])
    const both = addOrders(emptyPlan(input), [sellBtc(0.1), buyEth(2)], input)
    assert.deepEqual(codes(both), [])
    assert.deepEqual(both.orders.map((o) => o.side), ['sell', 'buy'])
    assert.deepEqual(codes(addOrders(emptyPlan(input), [buyEth(2), sellBtc(0.1)], input)), ['EXPOSURE_CAP'])
  })

  it('a sell before a buy frees cash for it: its proceeds less its fee', () => {
    // Caps out of the way (100%), so cash binds: 3000 cash + 0.5 BTC (20000) = equity 23000.
    // Selling 0.1 BTC at 39990 = 3999 brings 3999 * 0.994 = 3975.006: cash free 6975.006, at risk 16001.
    const input = account({cash: 3000, held: {'BTC-USD': 0.5}, risk: {max_total_at_risk_pct: 100, max_position_pct_by_tier: {tier1: 100}, max_order_notional: 10_000}})
    // 3.46 ETH at 2001 = 6923.46, costs 6923.46 * 1.006 = 6965.00 <= 6975.006
    // (exposure (16001 + 6923.46) / (23000 - 6923.46 * 0.0065) = 99.87% <= 100)
    const fits = addOrders(emptyPlan(input), [sellBtc(0.1), buyEth(3.46)], input)
    assert.deepEqual(codes(fits), [])
    assert.deepEqual(fits.orders.map((o) => o.amount), [0.1, 3.46])
    // 3.47 ETH = 6943.47, costs 6985.13: more than 6975.006, though less than 3000 + 3999 without the fee
    // (exposure 22944.47 / 22954.87 = 99.95% <= 100, so funds are what denies it)
    assert.deepEqual(codes(addOrders(emptyPlan(input), [sellBtc(0.1), buyEth(3.47)], input)), ['INSUFFICIENT_FUNDS'])
  })

  it('exposureAfterPct rises by the accepted buys\' value only: sells and denied orders leave it', () => {
    const input = account({cash: 80_000, held: {'BTC-USD': 0.5}})
    // A plan whose own buy already took exposure from 20% to 23%: it is not counted again.
    const own: PlannedOrder = {symbol: 'ETH-USD', tier: 'tier1', side: 'buy', amount: 1.4993, price: 2001, action: 'enter', reason: 'strategy'}
    const plan: OrderPlan = {orders: [own], denied: [], exposureAfterPct: 23}
    const noMarket: ExtraOrder = {...buyEth(1), symbol: 'XRP-USD'}
    const added = addOrders(plan, [sellBtc(0.1), buyEth(2), noMarket], input)
    assert.deepEqual(codes(added), ['NO_MARKET'])
    // 23 + 4002 / 100000 * 100 = 23 + 4.002 (the 3999 sold does not lower it)
    assert.ok(Math.abs(added.exposureAfterPct - 27.002) < 1e-9, `exposureAfterPct ${added.exposureAfterPct}`)
    // Sells alone leave it where the plan put it.
    assert.equal(addOrders(plan, [sellBtc(0.1)], input).exposureAfterPct, 23)
  })
})
