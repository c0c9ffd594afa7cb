import assert from 'node:assert/strict'

import type {PolicyConfig} from '../../src/lib/config/schema/policy.js'
import type {SignalsConfig} from '../../src/lib/config/schema/signals.js'
import type {Balances, OrderState} from '../../src/lib/domain.js'
import {buildPortfolio} from '../../src/lib/market/snapshot.js'
import {openBuyNotional} from '../../src/lib/risk/exposure.js'
import {chooseTargets, type Target} from '../../src/lib/signals/targets.js'
import {selectUniverse, tierMap} from '../../src/lib/universe/eligibility.js'
import {defaultConfig, openOrder, snapshotOf, ticker} from '../helpers/fixtures.js'

const config = defaultConfig()
const tierOf = tierMap(config.universe)
const EQUITY = 100_000

interface Case {
  /** symbol -> [amount held, price]; the rest of EQUITY is cash. Pick binary-exact products so equity is exact. */
  held?: Record<string, [number, number]>
  scores: Record<string, number | null>
  openBuys?: OrderState[]
  risk?: Partial<PolicyConfig['risk']>
  signals?: Partial<SignalsConfig>
}

/** Runs chooseTargets on a real universe and portfolio; every configured symbol is listed and liquid. */
function run(c: Case): {targets: Target[]; asked: string[]} {
  const prices = new Map<string, number>([...tierOf.keys()].map((s) => [s, 1]))
  const balances: Balances = {}
  let cash = EQUITY
  for (const [symbol, [amount, price]] of Object.entries(c.held ?? {})) {
    prices.set(symbol, price)
    balances[symbol.split('-')[0]] = {free: amount, total: amount}
    cash -= amount * price
  }

  balances.USD = {free: cash, total: cash}
  const market = snapshotOf([...prices].map(([s, p]) => ticker(s, p)))
  const portfolio = buildPortfolio('USD', balances, market.tickers, c.openBuys ?? [])
  assert.equal(portfolio.equity, EQUITY, 'the fixture must value the account exactly')
  // As the engine builds it: holdings plus open buys.
  const committed = new Map<string, number>()
  for (const h of portfolio.holdings.values()) committed.set(h.symbol, h.value)
  for (const o of portfolio.openOrders) committed.set(o.symbol, (committed.get(o.symbol) ?? 0) + openBuyNotional(o, (s) => prices.get(s)))
  const asked: string[] = []
  const score = (symbol: string) => {
    asked.push(symbol)
    return c.scores[symbol] ?? null
  }

  const policy = {...config.policy, risk: {...config.policy.risk, ...c.risk}}
  const signals = {...config.signals, ...c.signals}
  const targets = chooseTargets({universe: selectUniverse(config.universe, market), score, portfolio, committed, tierOf, policy, signals})
  return {targets, asked}
}

type Row = [symbol: string, action: Target['action'], value: number, score: number | null]

function assertTargets(actual: Target[], expected: Row[]): void {
  assert.deepEqual(actual.map((t) => [t.symbol, t.action, t.score]), expected.map(([s, a, , score]) => [s, a, score]))
  for (const [i, [symbol, , value]] of expected.entries()) {
    assert.ok(Math.abs(actual[i].value - value) < 1e-9, `${symbol}: value ${actual[i].value}, expected ${value}`)
  }
}

describe('chooseTargets', () => {
  it('the default config has the caps these cases are written for', () => {
    const {risk} = config.policy
    assert.deepEqual([risk.max_total_at_risk_pct, risk.max_position_pct_by_tier, risk.position_drift_tolerance_pct, risk.min_order_notional], [25, {tier1: 10, tier2: 5, tier3: 2.5}, 10, 10])
    assert.deepEqual([config.signals.entry_threshold, config.signals.exit_threshold, config.signals.max_positions], [0.3, -0.1, 5])
    assert.equal(tierOf.get('PEPE-USD'), undefined)
  })

  it('keeps a held position until its score falls to exit_threshold, and while its signals warm up', () => {
    const {targets} = run({
      held: {'BTC-USD': [0.25, 40_000], 'ETH-USD': [2, 2500], 'LINK-USD': [4, 1000], 'SOL-USD': [50, 100]},
      scores: {'BTC-USD': 0.05, 'ETH-USD': -0.1, 'LINK-USD': -0.0999, 'SOL-USD': null},
    })
    assertTargets(targets, [
      ['BTC-USD', 'hold', 10_000, 0.05], // below entry_threshold but above exit: no churn
      ['ETH-USD', 'exit', 0, -0.1], // at exit_threshold: sold
      ['LINK-USD', 'hold', 4000, -0.0999],
      ['SOL-USD', 'hold', 5000, null], // no score yet: kept
    ])
    assert.match(targets[1].reason, /exit -0\.1/)
  })

  it('reduces a position pushed above its cap by more than the drift tolerance back to the cap', () => {
    // tier2 cap 5% = 5,000, +10% tolerance = 5,500; SOL-USD's own cap 3% = 3,000, tolerance to 3,300.
    const {targets} = run({
      held: {'AVAX-USD': [4, 1375.25], 'LINK-USD': [4, 1375], 'SOL-USD': [3, 1101], 'BTC-USD': [0.25, 43_996]},
      scores: {'AVAX-USD': 0.5, 'LINK-USD': 0.5, 'SOL-USD': 0.5, 'BTC-USD': 0.5},
      risk: {max_position_pct_by_symbol: {'SOL-USD': 3}},
    })
    assertTargets(targets, [
      ['AVAX-USD', 'reduce', 5000, 0.5], // 5,501
      ['BTC-USD', 'hold', 10_999, 0.5], // tier1 cap 10,000, limit 11,000
      ['LINK-USD', 'hold', 5500, 0.5], // exactly at the limit
      ['SOL-USD', 'reduce', 3000, 0.5], // 3,303: the symbol's own cap, not its tier's
    ])
  })

  it('does not reduce by less than the smallest order, whatever the tolerance', () => {
    const {targets} = run({
      held: {'AVAX-USD': [4, 1252.75], 'LINK-USD': [4, 1252.5]},
      scores: {'AVAX-USD': 0.5, 'LINK-USD': 0.5},
      risk: {position_drift_tolerance_pct: 0},
    })
    assertTargets(targets, [
      ['AVAX-USD', 'reduce', 5000, 0.5], // 5,011: 11 over the cap, above min_order_notional 10
      ['LINK-USD', 'hold', 5010, 0.5], // 10 over: not more than min_order_notional
    ])
  })

  it('ignores dust and symbols in no tier: they are not scored as positions and take no slot', () => {
    const {targets, asked} = run({
      held: {'XRP-USD': [4, 2], 'PEPE-USD': [1000, 1]},
      scores: {'XRP-USD': -1, 'PEPE-USD': -1, 'BTC-USD': 0.5, 'ETH-USD': 0.5, 'SOL-USD': 0.5, 'AVAX-USD': 0.5, 'LINK-USD': 0.5},
    })
    assertTargets(targets, [
      ['AVAX-USD', 'enter', 5000, 0.5],
      ['BTC-USD', 'enter', 5000, 0.5],
      ['ETH-USD', 'enter', 5000, 0.5],
      ['LINK-USD', 'enter', 5000, 0.5],
      ['SOL-USD', 'enter', 5000, 0.5],
    ])
    assert.ok(!asked.includes('PEPE-USD'), 'a symbol in no tier is not bot\'s to score')
  })

  it('fills the free slots with the best scores at or above entry_threshold, ties by symbol, sized by the caps', () => {
    // DOT-USD is kept, so 4 of the 5 slots are free; 25% / 5 = 5% per position unless the cap is lower.
    const {targets} = run({
      held: {'DOT-USD': [4, 1250]},
      scores: {'DOT-USD': 0.2, 'SOL-USD': 0.9, 'AAVE-USD': 0.9, 'ETH-USD': 0.6, 'LINK-USD': 0.3, 'XRP-USD': 0.2999, 'ADA-USD': 0.29, 'BTC-USD': -0.5},
    })
    assertTargets(targets, [
      ['DOT-USD', 'hold', 5000, 0.2],
      ['AAVE-USD', 'enter', 2500, 0.9], // tier3 cap 2.5% is below 5%
      ['SOL-USD', 'enter', 5000, 0.9], // tier1 cap 10%: 5% per position
      ['ETH-USD', 'enter', 5000, 0.6],
      ['LINK-USD', 'enter', 5000, 0.3], // exactly at entry_threshold
    ])
  })

  it('gives the last slots to the best scores, ties broken by symbol', () => {
    // 2 positions: 12.5% each, so the tier and symbol caps decide.
    const {targets} = run({
      scores: {'SOL-USD': 0.8, 'ETH-USD': 0.8, 'BTC-USD': 0.8, 'AVAX-USD': 0.9},
      signals: {max_positions: 2},
      risk: {max_position_pct_by_symbol: {'BTC-USD': 7}},
    })
    assertTargets(targets, [
      ['AVAX-USD', 'enter', 5000, 0.9], // tier2 cap 5%
      ['BTC-USD', 'enter', 7000, 0.8], // its own cap 7%
    ])
  })

  it('does not enter a symbol already held or on order', () => {
    const {targets} = run({
      held: {'BTC-USD': [0.25, 40_000]},
      openBuys: [openOrder('SOL-USD', 'buy', 20, 150)],
      scores: {'BTC-USD': 0.9, 'SOL-USD': 0.95, 'ETH-USD': 0.5},
    })
    assertTargets(targets, [
      ['BTC-USD', 'hold', 10_000, 0.9],
      ['SOL-USD', 'hold', 3000, 0.95], // the open buy's 20 x 150
      ['ETH-USD', 'enter', 5000, 0.5],
    ])
  })

  it('with every slot taken scores only the held symbols', () => {
    const {targets, asked} = run({
      held: {'BTC-USD': [0.25, 40_000], 'ETH-USD': [2, 2500], 'XRP-USD': [4, 2], 'PEPE-USD': [1000, 1]},
      scores: {'BTC-USD': 0.5, 'ETH-USD': 0, 'SOL-USD': 1},
      signals: {max_positions: 2},
    })
    assertTargets(targets, [['BTC-USD', 'hold', 10_000, 0.5], ['ETH-USD', 'hold', 5000, 0]])
    assert.deepEqual(asked, ['BTC-USD', 'ETH-USD'])
  })

  it('an exit frees a slot: then every eligible symbol is scored, each once', () => {
    const {targets, asked} = run({
      held: {'BTC-USD': [0.25, 40_000], 'ETH-USD': [2, 2500]},
      scores: {'BTC-USD': 0.5, 'ETH-USD': -0.2, 'SOL-USD': 1},
      signals: {max_positions: 2},
    })
    assertTargets(targets, [['BTC-USD', 'hold', 10_000, 0.5], ['ETH-USD', 'exit', 0, -0.2], ['SOL-USD', 'enter', 10_000, 1]])
    assert.deepEqual([...asked].sort(), [...tierOf.keys()].sort())
  })
})
