import {planOrders} from '../../execution/plan.js'
import {openBuyNotional} from '../../risk/exposure.js'
import {chooseTargets} from '../../signals/targets.js'
import {selectUniverse} from '../../universe/eligibility.js'
import type {CycleState, Engine} from '../context.js'

/** Step 4. Eligible symbols; a change of a symbol's eligibility is audited with its reason. */
export function universe(engine: Engine, cs: CycleState): void {
  const u = selectUniverse(engine.config.universe, cs.market!)
  cs.universe = u
  const known = engine.eligibility
  const changes: {symbol: string; status: 'eligible' | 'forced' | 'excluded'; key: string; reason: string}[] = []
  for (const e of u.eligible) {
    const status = e.forced ? 'forced' : 'eligible'
    if (known.get(e.symbol) !== status) changes.push({symbol: e.symbol, status, key: status, reason: e.forced ? 'force_eligible_symbols: bypasses liquidity filters' : 'passes liquidity filters'})
  }

  for (const x of u.excluded) {
    const key = `excluded:${x.code}`
    if (known.get(x.symbol) !== key) changes.push({symbol: x.symbol, status: 'excluded', key, reason: `${x.code}: ${x.reason}`})
  }

  if (changes.length === 0) return
  engine.store.transaction(() => {
    for (const c of changes) {
      engine.store.setEligibility(c.symbol, c.key)
      engine.store.audit.append(cs.now, 'universe', {symbol: c.symbol, status: c.status, reason: c.reason})
    }
  })
  for (const {key, ...c} of changes) {
    known.set(c.symbol, key)
    engine.observe({type: 'universe', cycle: cs.cycle, ...c})
  }
}

/** Steps 5 and 6. Signals -> target positions -> orders that pass every risk check (or coded denials). */
export function decide(engine: Engine, cs: CycleState): void {
  const {portfolio, market} = cs
  const committed = new Map<string, number>()
  for (const h of portfolio!.holdings.values()) committed.set(h.symbol, h.value)
  for (const o of portfolio!.openOrders) {
    const v = openBuyNotional(o, (s) => market!.tickers.get(s)?.last)
    if (v > 0) committed.set(o.symbol, (committed.get(o.symbol) ?? 0) + v)
  }

  const scores = new Map<string, number | null>()
  for (const s of [...cs.universe!.eligible.map((e) => e.symbol), ...committed.keys()]) scores.set(s, engine.signals.score(s))
  const policy = engine.config.policy
  cs.targets = chooseTargets({universe: cs.universe!, scores, portfolio: portfolio!, committed, tierOf: engine.tierOf, policy, signals: engine.config.signals})
  const windowStart = cs.now - policy.risk.duplicate_window_seconds * 1000
  const recentIntents = engine.store.recentOrders(windowStart).map((o) => ({clientOrderId: o.client_order_id, symbol: o.symbol, side: o.side, amount: o.amount, time: o.time}))
  cs.plan = planOrders({
    targets: cs.targets, market: market!, portfolio: portfolio!, committed, atRisk: cs.atRisk!, policy,
    takerFeeBps: engine.takerFeeBps, recentIntents,
  })
}
