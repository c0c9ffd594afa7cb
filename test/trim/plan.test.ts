import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {validateConfig} from '../../src/lib/config/load.js'
import type {PolicyConfig} from '../../src/lib/config/schema/policy.js'
import type {Balances, OrderState} from '../../src/lib/domain.js'
import {isMultipleOf} from '../../src/lib/execution/amounts.js'
import {buildPortfolio, type MarketSnapshot} from '../../src/lib/market/snapshot.js'
import {atRiskValue} from '../../src/lib/risk/exposure.js'
import {planTrim, type TrimPlan, type TrimSell, UNTIERED} from '../../src/lib/trim/plan.js'
import {configCopy, defaultConfig, market, openOrder, snapshotOf, ticker, tempDir} from '../helpers/fixtures.js'

/** Needed, and the planned sells do not cover it all (or there are none): work left for the next cycle. */
const leavesWork = (plan: TrimPlan) => plan.needed && (plan.sells.length === 0 || plan.shortfall > 0)

const config = defaultConfig()
const tierOf = new Map(Object.entries(config.universe.tiers).flatMap(([tier, t]) => t.symbols.map((s) => [s, tier] as const)))

type Patch = {risk?: Partial<PolicyConfig['risk']>; portfolio_management?: Partial<PolicyConfig['portfolio_management']>}
function policyWith(patch: Patch = {}): PolicyConfig {
  const p = structuredClone(config.policy)
  Object.assign(p.risk, patch.risk)
  Object.assign(p.portfolio_management, patch.portfolio_management)
  return p
}

const PRICES = [ticker('BTC-USD', 40000), ticker('ETH-USD', 2000), ticker('SOL-USD', 50), ticker('AVAX-USD', 20), ticker('LINK-USD', 15), ticker('PEPE-USD', 0.001)]

interface Setup {
  balances: Record<string, number | {free: number; total: number}>
  policy?: Patch
  scores?: Record<string, number | null>
  snap?: MarketSnapshot
  open?: OrderState[]
  excluded?: string[]
}

function setup(s: Setup) {
  const balances: Balances = Object.fromEntries(Object.entries(s.balances).map(([k, v]) => [k, typeof v === 'number' ? {free: v, total: v} : v]))
  const snap = s.snap ?? snapshotOf(PRICES)
  const open = s.open ?? []
  const portfolio = buildPortfolio('USD', balances, snap.tickers, open)
  const atRisk = atRiskValue(portfolio, (sym) => snap.tickers.get(sym)?.last)
  const policy = policyWith(s.policy)
  const plan = planTrim({
    market: snap, portfolio, atRisk, policy, tierOf, excluded: new Set(s.excluded ?? []), score: (sym) => s.scores?.[sym.split('-')[0]] ?? null,
  })
  return {balances, snap, open, portfolio, atRisk, policy, plan}
}

/**
 * Exposure once the sells have filled at their prices, recomputed from the balances and tickers: each sell
 * moves its amount out of the coin and its proceeds, less the taker fee, into cash.
 */
function exposureAfter(balances: Balances, snap: MarketSnapshot, sells: TrimSell[], open: OrderState[] = []): number {
  const total = Object.fromEntries(Object.entries(balances).map(([k, v]) => [k, v.total]))
  for (const s of sells) {
    total[s.symbol.split('-')[0]] -= s.amount
    total.USD += s.amount * s.price * (1 - snap.markets.get(s.symbol)!.takerBps / 1e4)
  }

  let held = 0
  for (const [cur, amount] of Object.entries(total)) if (cur !== 'USD') held += amount * (snap.tickers.get(`${cur}-USD`)?.last ?? 0)
  let openBuys = 0
  for (const o of open) if (o.side === 'buy') openBuys += (o.amount - o.filled) * (o.price ?? snap.tickers.get(o.symbol)!.last)
  return ((held + openBuys) / (total.USD + held)) * 100
}

const symbols = (p: TrimPlan) => p.sells.map((s) => s.symbol)
const codes = (p: TrimPlan) => Object.fromEntries(p.skipped.map((s) => [s.symbol, s.code]))
const notional = (s: TrimSell) => s.amount * s.price

function assertSellsSound(plan: TrimPlan, snap: MarketSnapshot, policy: PolicyConfig): void {
  for (const s of plan.sells) {
    const m = snap.markets.get(s.symbol)!
    assert.ok(isMultipleOf(s.amount, m.amountStep), `${s.symbol} amount ${s.amount} off the step ${m.amountStep}`)
    assert.ok(s.amount >= m.minAmount)
    assert.ok(notional(s) >= Math.max(policy.risk.min_order_notional, m.minNotional) - 1e-9, `${s.symbol} notional ${notional(s)} below the minimum`)
    assert.ok(notional(s) <= policy.risk.max_order_notional + 1e-9, `${s.symbol} notional ${notional(s)} above max_order_notional`)
    assert.equal(s.price, snap.tickers.get(s.symbol)!.bid)
    assert.match(s.reason, /^trim: exposure [\d.]+% > cap 25%, target 23%/)
  }

  assert.ok(plan.sells.length <= policy.risk.max_orders_per_cycle)
}

describe('trim plan', () => {
  describe('nothing to do', () => {
    it('under the cap: not needed, no sells, nothing skipped', () => {
      const {plan} = setup({balances: {USD: 80_000, BTC: 0.5}}) // 20%
      assert.equal(plan.needed, false)
      assert.ok(Math.abs(plan.exposurePct - 20) < 0.01)
      assert.deepEqual([plan.sells, plan.skipped, plan.excess, plan.shortfall], [[], [], 0, 0])
      assert.equal(leavesWork(plan), false)
    })

    it('over the cap with auto_trim_to_risk_cap off: not needed', () => {
      const {plan} = setup({balances: {USD: 60_000, BTC: 1}, policy: {portfolio_management: {auto_trim_to_risk_cap: false}}}) // 40%
      assert.ok(plan.exposurePct > 39)
      assert.equal(plan.needed, false)
      assert.deepEqual(plan.sells, [])
      assert.equal(leavesWork(plan), false)
    })
  })

  describe('the buffer: exposure after the sells lands at the target', () => {
    it('one holding: lands within one amount step above the target, never above the cap, with the fees counted', () => {
      // 35,000 of 100,000 at risk; target 23%: about 12,000 to sell, in three max_order_notional slices.
      const {plan, balances, snap, policy, portfolio} = setup({balances: {USD: 65_000, BTC: 0.875}, policy: {risk: {max_order_notional: 20_000}}})
      assert.equal(plan.needed, true)
      assert.equal(plan.targetPct, 23)
      assert.equal(plan.sells.length, 1)
      assertSellsSound(plan, snap, policy)
      const after = exposureAfter(balances, snap, plan.sells)
      const stepPct = (0.0001 * 40000 / portfolio.equity) * 100
      assert.ok(after >= 23 - 1e-9 && after <= 23 + stepPct, `after ${after}%, step ${stepPct}%`)
      assert.ok(Math.abs(after - plan.exposureAfterPct) < 1e-9, `planned ${plan.exposureAfterPct}%, recomputed ${after}%`)
      assert.ok(Math.abs(plan.sells[0].value - plan.excess) <= 0.0001 * 40000, `sold ${plan.sells[0].value}, excess ${plan.excess}`)
      assert.equal(plan.shortfall, 0)
      assert.equal(leavesWork(plan), false)
    })

    it('ignoring the costs would stop short of the target: the excess is more than atRisk - target * equity', () => {
      const {plan, portfolio, atRisk} = setup({balances: {USD: 65_000, BTC: 0.875}})
      const costless = atRisk - 0.23 * portfolio.equity
      // The cost rate is about 0.6% fee + 0.01% below last: 23% of it on 12,000 is about 17 USD.
      assert.ok(plan.excess - costless > 15 && plan.excess - costless < 20, `excess ${plan.excess}, costless ${costless}`)
    })

    it('several holdings with different fees and spreads, some sold whole: still lands at the target', () => {
      const snap = snapshotOf(PRICES)
      snap.markets.set('ETH-USD', market('ETH-USD', {takerBps: 120, amountStep: 0.001, minAmount: 0.001}))
      snap.tickers.set('ETH-USD', ticker('ETH-USD', 2000, {bid: 1996, ask: 2004}))
      snap.markets.set('SOL-USD', market('SOL-USD', {takerBps: 25, amountStep: 0.01, minAmount: 0.01}))
      snap.tickers.set('SOL-USD', ticker('SOL-USD', 50, {bid: 49.9, ask: 50.1}))
      // 20,000 BTC + 6,000 ETH + 4,000 SOL = 30% of 100,000; SOL and ETH are weaker and go first, whole.
      const {plan, balances, policy, portfolio} = setup({
        balances: {USD: 70_000, BTC: 0.5, ETH: 3, SOL: 80}, snap, scores: {BTC: 0.6, ETH: 0.1, SOL: -0.3}, policy: {risk: {max_order_notional: 20_000}},
      })
      assert.deepEqual(symbols(plan), ['SOL-USD', 'ETH-USD'])
      assert.equal(plan.sells[0].amount, 80, 'SOL sold whole: a 7,000 need leaves no remainder to keep')
      assertSellsSound(plan, snap, policy)
      const after = exposureAfter(balances, snap, plan.sells)
      const stepPct = (0.001 * 2000 / portfolio.equity) * 100
      assert.ok(after >= 23 - 1e-9 && after <= 23 + stepPct, `after ${after}%`)
      assert.equal(plan.shortfall, 0)
    })
  })

  describe('which holdings are not candidates', () => {
    it('dust: worth less than the minimum order, or less than the market minimum amount', () => {
      const snap = snapshotOf(PRICES)
      snap.markets.set('LINK-USD', market('LINK-USD', {minAmount: 10, amountStep: 1}))
      // AVAX 0.4 * 20 = 8 < min_order_notional 10; LINK 9 * 15 = 135 but the market's minimum is 10 LINK.
      const {plan} = setup({balances: {USD: 60_000, BTC: 1, AVAX: 0.4, LINK: 9}, snap})
      assert.equal(codes(plan)['AVAX-USD'], 'DUST')
      assert.equal(codes(plan)['LINK-USD'], 'DUST')
      assert.match(plan.skipped.find((s) => s.symbol === 'AVAX-USD')!.reason, /below the smallest sellable order/)
      assert.deepEqual([...new Set(symbols(plan))], ['BTC-USD'])
    })

    it('the market minimum notional counts when it is larger than min_order_notional', () => {
      const snap = snapshotOf(PRICES)
      snap.markets.set('AVAX-USD', market('AVAX-USD', {minNotional: 50}))
      const {plan} = setup({balances: {USD: 60_000, BTC: 1, AVAX: 2}, snap}) // 40 USD of AVAX
      assert.equal(codes(plan)['AVAX-USD'], 'DUST')
    })

    it('locked: everything reserved by an open order (free 0, total > 0)', () => {
      const {plan} = setup({
        balances: {USD: 60_000, BTC: {free: 0, total: 1}, ETH: 1}, open: [openOrder('BTC-USD', 'sell', 1, 40100)],
      })
      assert.equal(codes(plan)['BTC-USD'], 'LOCKED')
      assert.match(plan.skipped[0].reason, /reserved by open orders: nothing free to sell/)
      assert.ok(!symbols(plan).includes('BTC-USD'))
    })

    it('an open order on the symbol: skipped, since the duplicate check would deny the sell', () => {
      const {plan} = setup({balances: {USD: 60_000, BTC: {free: 0.5, total: 1}, ETH: 10}, open: [openOrder('BTC-USD', 'sell', 0.5, 40100)]})
      assert.equal(codes(plan)['BTC-USD'], 'OPEN_ORDER')
      assert.deepEqual([...new Set(symbols(plan))], ['ETH-USD'])
    })

    it('suspect and unpriced holdings, missing markets and excluded symbols are skipped with their reasons', () => {
      const snap = snapshotOf(PRICES)
      snap.suspect = new Map([['SOL-USD', 'price moved 45% from the last good 50']])
      snap.markets.set('DOT-USD', market('DOT-USD')) // a market, but no ticker this cycle
      const {plan} = setup({balances: {USD: 60_000, BTC: 1, SOL: 100, DOT: 50, FOO: 3, AVAX: 100}, snap, excluded: ['AVAX-USD']})
      assert.deepEqual(codes(plan), {'SOL-USD': 'SUSPECT_PRICE', 'DOT-USD': 'NO_PRICE', 'FOO-USD': 'NO_MARKET', 'AVAX-USD': 'EXCLUDED'})
      assert.match(plan.skipped.find((s) => s.symbol === 'SOL-USD')!.reason, /suspect this cycle: price moved 45%/)
      for (const s of plan.skipped) assert.ok(s.reason.includes(s.symbol), s.reason)
      assert.deepEqual([...new Set(symbols(plan))], ['BTC-USD'])
    })

    it('every holding unusable: needed, no sells, each skipped with a reason, the whole excess short', () => {
      const snap = snapshotOf(PRICES)
      snap.suspect = new Map([['BTC-USD', 'price moved 60% from the last good 25000']])
      const {plan} = setup({
        balances: {USD: 60_000, BTC: 0.5, ETH: {free: 0, total: 10}, AVAX: 0.3, SOL: 10}, snap, excluded: ['SOL-USD'],
        open: [openOrder('ETH-USD', 'sell', 10, 2010)],
      })
      assert.equal(plan.needed, true)
      assert.deepEqual(plan.sells, [])
      assert.deepEqual(codes(plan), {'BTC-USD': 'SUSPECT_PRICE', 'ETH-USD': 'LOCKED', 'AVAX-USD': 'DUST', 'SOL-USD': 'EXCLUDED'})
      assert.ok(plan.excess > 0)
      assert.equal(plan.shortfall, plan.excess)
      assert.equal(plan.exposureAfterPct, plan.exposurePct)
      assert.equal(leavesWork(plan), true)
    })
  })

  describe('order of the candidates', () => {
    // Exposure near 98%: every tiered candidate is sold whole, one sell each, in candidate order, then part
    // of PEPE. Values: BTC 4,000, ETH 4,000, SOL 4,000, AVAX 2,000, LINK 1,500, PEPE 30,000 (in no tier).
    const balances = {USD: 1000, BTC: 0.1, ETH: 2, SOL: 80, AVAX: 100, LINK: 100, PEPE: 30_000_000}
    const scores = {BTC: 0.5, ETH: -0.2, SOL: -0.2, AVAX: -0.2, LINK: null}

    it('weakest_first: no score first, then lowest score, ties to the largest, then by symbol; untiered last', () => {
      const {plan} = setup({balances, scores, policy: {risk: {max_order_notional: 50_000}}})
      assert.deepEqual(symbols(plan), ['LINK-USD', 'ETH-USD', 'SOL-USD', 'AVAX-USD', 'BTC-USD', 'PEPE-USD'])
      assert.equal(plan.sells.at(-1)!.tier, UNTIERED)
      assert.equal(plan.sells[0].tier, 'tier2')
      assert.match(plan.sells[0].reason, /weakest first: no score yet/)
      assert.match(plan.sells.at(-1)!.reason, /in no tier, sold after tiered holdings/)
    })

    it('largest_first: largest value first, ties to the weakest, then by symbol; untiered last', () => {
      const {plan} = setup({balances, scores, policy: {risk: {max_order_notional: 50_000}, portfolio_management: {trim_order: 'largest_first'}}})
      assert.deepEqual(symbols(plan), ['ETH-USD', 'SOL-USD', 'BTC-USD', 'AVAX-USD', 'LINK-USD', 'PEPE-USD'])
      assert.match(plan.sells[0].reason, /largest first: position 4000.00 USD, score -0.20/)
    })

    it('weakest_first sells only the weakest when it covers the excess', () => {
      // 20,000 BTC + 10,000 ETH: about 7,000 to sell, which either covers.
      const {plan} = setup({balances: {USD: 70_000, BTC: 0.5, ETH: 5}, scores: {BTC: -0.5, ETH: 0.3}, policy: {risk: {max_order_notional: 10_000}}})
      assert.deepEqual(symbols(plan), ['BTC-USD'])
      const other = setup({balances: {USD: 70_000, BTC: 0.5, ETH: 5}, scores: {BTC: 0.5, ETH: -0.3}, policy: {risk: {max_order_notional: 10_000}}})
      assert.deepEqual(symbols(other.plan), ['ETH-USD'])
    })
  })

  describe('sizing limits', () => {
    it('slices by max_order_notional, several from one holding, each on the step grid', () => {
      const {plan, balances, snap, policy, portfolio} = setup({balances: {USD: 65_000, BTC: 0.875}}) // about 12,000 to sell
      assert.deepEqual(symbols(plan), ['BTC-USD', 'BTC-USD', 'BTC-USD'])
      assertSellsSound(plan, snap, policy)
      assert.ok(notional(plan.sells[0]) > 4990 && notional(plan.sells[1]) > 4990)
      const after = exposureAfter(balances, snap, plan.sells)
      assert.ok(after >= 23 - 1e-9 && after <= 23 + (0.0001 * 40000 / portfolio.equity) * 100, `after ${after}%`)
      assert.equal(plan.shortfall, 0)
    })

    it('max_orders_per_cycle: stops there, reports the shortfall and the holdings not reached', () => {
      const {plan, balances, snap, policy} = setup({balances: {USD: 65_000, BTC: 0.8, ETH: 1.5}, scores: {BTC: -1, ETH: 1}, policy: {risk: {max_order_notional: 2000, max_orders_per_cycle: 3}}})
      assert.equal(plan.sells.length, 3)
      assertSellsSound(plan, snap, policy)
      assert.deepEqual(symbols(plan), ['BTC-USD', 'BTC-USD', 'BTC-USD'])
      assert.deepEqual(codes(plan), {'ETH-USD': 'ORDER_BUDGET'})
      const sold = plan.sells.reduce((s, x) => s + x.value, 0)
      // One candidate's cost rate throughout: what is still needed is exactly the excess less what was sold.
      assert.ok(Math.abs(plan.shortfall - (plan.excess - sold)) < 1e-6, `shortfall ${plan.shortfall}, excess ${plan.excess}, sold ${sold}`)
      assert.ok(plan.shortfall > 5000)
      const after = exposureAfter(balances, snap, plan.sells)
      assert.ok(after > 23 && after < plan.exposurePct)
      assert.ok(Math.abs(after - plan.exposureAfterPct) < 1e-9)
      assert.equal(leavesWork(plan), true)
    })

    it('a holding too small for the whole excess is sold whole and the rest is a shortfall', () => {
      // 2,000 of BTC and a 10,000 open buy on 12,000 of equity: even all the BTC leaves it over the target.
      const open = [openOrder('ETH-USD', 'buy', 5, 2000)]
      const {plan, balances, snap} = setup({balances: {USD: 10_000, BTC: 0.05}, open})
      assert.deepEqual(symbols(plan), ['BTC-USD'])
      assert.equal(plan.sells[0].amount, 0.05)
      assert.ok(plan.shortfall > 7000, `shortfall ${plan.shortfall}`)
      assert.ok(Math.abs(plan.shortfall - (plan.excess - plan.sells[0].value)) < 1e-6)
      assert.equal(leavesWork(plan), true)
      assert.ok(Math.abs(exposureAfter(balances, snap, plan.sells, open) - plan.exposureAfterPct) < 1e-9)
    })

    it('open buys count as exposure: a trim sells holdings to make room for them', () => {
      const open = [openOrder('ETH-USD', 'buy', 5, 2000)]
      const {plan, balances, snap, portfolio} = setup({balances: {USD: 70_000, BTC: 0.5}, open}) // 20,000 + 10,000 open buy
      assert.ok(plan.needed && plan.exposurePct > 29)
      const after = exposureAfter(balances, snap, plan.sells, open)
      assert.ok(after >= 23 - 1e-9 && after <= 23 + (0.0001 * 40000 / portfolio.equity) * 100, `after ${after}%`)
    })
  })
})

describe('trim_order in policy.yaml', () => {
  it('defaults to weakest_first', () => {
    assert.equal(config.policy.portfolio_management.trim_order, 'weakest_first')
  })

  it('an unknown value is reported with its path', () => {
    const {dir, cleanup} = tempDir()
    try {
      const configDir = configCopy(dir)
      const file = path.join(configDir, 'policy.yaml')
      const before = readFileSync(file, 'utf8')
      assert.match(before, /^ {2}trim_order: weakest_first$/m)
      writeFileSync(file, before.replace(/^ {2}trim_order: weakest_first$/m, '  trim_order: bogus'))
      const report = validateConfig(configDir)
      assert.equal(report.ok, false)
      const issue = report.issues.find((i) => i.path === 'portfolio_management.trim_order')
      assert.ok(issue, JSON.stringify(report.issues))
      assert.equal(issue.code, 'invalid_value')
      assert.match(issue.file, /policy\.yaml$/)
      assert.equal(issue.message, 'expected one of "weakest_first", "largest_first", found "bogus"')
      assert.ok(issue.line !== null && before.split('\n')[issue.line - 1].includes('trim_order'))
    } finally {
      cleanup()
    }
  })
})
