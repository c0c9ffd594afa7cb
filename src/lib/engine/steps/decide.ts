import {type OrderPlan, type PlanInput, planOrders} from '../../execution/plan.js'
import {openBuyNotional} from '../../risk/exposure.js'
import {entryTargets, heldTargets, type Target} from '../../signals/targets.js'
import {type EligibilityStatus, exclusionReason, selectUniverse, type Universe} from '../../universe/eligibility.js'
import type {CycleAt, Engine} from '../context.js'
import {feedSignals, type Snapshot} from './snapshot.js'

/** Step 4. Eligible symbols; a change of a symbol's eligibility is audited with its reason. */
export function universe(engine: Engine, at: CycleAt, snap: Snapshot): Universe {
  const known = engine.eligibility
  const u = selectUniverse(engine.config.universe, snap.market, (s) => known.get(s) as EligibilityStatus | undefined)
  const changes = u.changed.map((x): {symbol: string; status: 'eligible' | 'forced' | 'excluded'; key: EligibilityStatus; reason: string} => {
    if ('code' in x) return {symbol: x.symbol, status: 'excluded', key: x.code, reason: `${x.code}: ${exclusionReason(x)}`}
    const status = x.forced ? 'forced' : 'eligible'
    return {symbol: x.symbol, status, key: status, reason: x.forced ? 'force_eligible_symbols: bypasses liquidity filters' : 'passes liquidity filters'}
  })
  if (changes.length === 0) return u
  engine.store.transaction(() => {
    for (const c of changes) {
      engine.store.setEligibility(c.symbol, c.key)
      engine.store.audit.append(at.now, 'universe', {symbol: c.symbol, status: c.status, reason: c.reason})
    }
  })
  for (const {key, ...c} of changes) {
    known.set(c.symbol, key)
    engine.observe({type: 'universe', cycle: at.cycle, ...c})
  }

  return u
}

export interface Decision {
  targets: Target[]
  plan: OrderPlan
  /** What the plan was made from: later steps (the trim) check their orders against the same figures. */
  input: PlanInput
}

/**
 * Steps 5 and 6. Signals -> target positions -> orders that pass every risk check (or coded denials). Only
 * the symbols a decision needs are scored: the held ones, and the eligible ones only while a slot is free.
 */
export async function decide(engine: Engine, at: CycleAt, snap: Snapshot, u: Universe): Promise<Decision> {
  const input = planInput(engine, at, snap, [])
  const score = (s: string) => engine.signals.score(s)
  const targetInput = {universe: u, score, portfolio: snap.portfolio, committed: input.committed, tierOf: engine.tierOf, policy: input.policy, signals: engine.config.signals}
  await feedSignals(engine, [...input.committed.keys()].filter((s) => engine.tierOf.has(s)))
  const held = heldTargets(targetInput)
  const slots = engine.config.signals.max_positions - held.kept
  if (slots > 0) await feedSignals(engine, u.eligible.map((e) => e.symbol))
  const targets = [...held.targets, ...entryTargets(targetInput, slots)]
  const withTargets = {...input, targets}
  return {targets, plan: planOrders(withTargets), input: withTargets}
}

/** The figures every order of a cycle is checked against: value committed per symbol, recent intents. */
export function planInput(engine: Engine, at: CycleAt, snap: Snapshot, targets: Target[]): PlanInput {
  const {portfolio, market} = snap
  const committed = new Map<string, number>()
  for (const h of portfolio.holdings.values()) committed.set(h.symbol, h.value)
  for (const o of portfolio.openOrders) {
    const v = openBuyNotional(o, (s) => market.tickers.get(s)?.last)
    if (v > 0) committed.set(o.symbol, (committed.get(o.symbol) ?? 0) + v)
  }

  const policy = engine.config.policy
  const windowStart = at.now - policy.risk.duplicate_window_seconds * 1000
  const recentIntents = engine.store.recentOrders(windowStart).map((o) => ({clientOrderId: o.client_order_id, symbol: o.symbol, side: o.side, amount: o.amount, time: o.time}))
  return {targets, market, portfolio, committed, atRisk: snap.atRisk, policy, recentIntents}
}
