import type {OrderPlan} from '../../execution/plan.js'
import {exposurePct} from '../../risk/exposure.js'
import {UNTIERED} from '../../trim/plan.js'
import type {Universe} from '../../universe/eligibility.js'
import type {CycleAt, Engine} from '../context.js'
import type {CycleReport} from '../events.js'
import {insertCycleRow, observeDenials} from './execute.js'
import type {Snapshot} from './snapshot.js'

export interface CycleOutcome {
  snap: Snapshot
  universe: Universe | null
  plan: OrderPlan | null
  /** The plan's row and intents were committed before sending (a plan with orders, or a resumed cycle). */
  planStored: boolean
  halted: boolean
  fills: number
  /** Cycles in a row that needed a trim and got no sell out, after this one. */
  trimFailures: number
}

/** Step 9. Close the cycle: its row becomes final and its summary is audited, in one commit. */
export function record(engine: Engine, at: CycleAt, o: CycleOutcome): CycleReport {
  const {store} = engine
  const first = store.getMeta('first_equity')
  const p = o.snap.portfolio
  const before = exposurePct(o.snap.atRisk, p.equity)
  let forced = 0
  for (const e of o.universe?.eligible ?? []) if (e.forced) forced++
  const report: Omit<CycleReport, 'audit'> = {
    cycle: at.cycle, time: at.now, equity: p.equity, cash: p.cash,
    exposurePct: before, exposureAfterPct: o.plan?.exposureAfterPct ?? before,
    capPct: engine.config.policy.risk.max_total_at_risk_pct, orders: o.planStored ? store.cycleOrderCount(at.cycle) : 0,
    denied: o.plan?.denied.length ?? 0, fills: o.fills, halted: o.halted, resumed: at.resumed,
    pnl: first === null ? 0 : p.equity - Number(first),
    eligible: (o.universe?.eligible.length ?? 0) - forced, forced, excluded: o.universe?.excluded.length ?? 0, trimFailures: o.trimFailures,
    positions: [...p.holdings.values()].map((h) => ({symbol: h.symbol, tier: engine.tierOf.get(h.symbol) ?? UNTIERED, amount: h.amount, value: h.value})),
  }
  store.transaction(() => {
    if (first === null) {
      store.setMeta('first_equity', String(p.equity))
      const price = engine.benchmark ? o.snap.market.tickers.get(engine.benchmark)?.last : undefined
      if (price) store.setMeta('benchmark', JSON.stringify({symbol: engine.benchmark, price}))
    }

    if (o.planStored) store.finishCycle(at.cycle)
    else insertCycleRow(engine, at, o.snap, o.plan, 'done', o.halted)
    store.audit.append(at.now, 'cycle', {cycle: at.cycle, kind: at.kind, equity: report.equity, exposurePct: report.exposurePct, exposureAfterPct: report.exposureAfterPct, orders: report.orders, denied: report.denied, fills: report.fills, halted: report.halted})
  })
  if (!o.planStored) observeDenials(engine, at, o.plan)
  return {...report, audit: store.audit.current()}
}
