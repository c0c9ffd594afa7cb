import {exposurePct} from '../../risk/exposure.js'
import type {CycleState, Engine} from '../context.js'
import type {CycleReport} from '../events.js'

/** Step 9. Close the cycle: its row becomes final and its summary is audited; the caller reports it once committed. */
export function record(engine: Engine, cs: CycleState): CycleReport {
  const {store} = engine
  const first = store.getMeta('first_equity')
  const p = cs.portfolio!
  const report: Omit<CycleReport, 'audit'> = {
    cycle: cs.cycle, time: cs.now, equity: p.equity, cash: p.cash,
    exposurePct: exposurePct(cs.atRisk!, p.equity), exposureAfterPct: cs.plan?.exposureAfterPct ?? exposurePct(cs.atRisk!, p.equity),
    capPct: engine.config.policy.risk.max_total_at_risk_pct, orders: store.cycleOrders(cs.cycle).length,
    denied: cs.plan?.denied.length ?? 0, fills: cs.fills, halted: cs.halted, resumed: cs.resumed,
    pnl: first === null ? 0 : p.equity - Number(first),
    eligible: cs.universe?.eligible.filter((e) => !e.forced).length ?? 0, forced: cs.universe?.eligible.filter((e) => e.forced).length ?? 0,
    excluded: cs.universe?.excluded.length ?? 0,
  }
  store.transaction(() => {
    if (first === null) {
      store.setMeta('first_equity', String(p.equity))
      const price = engine.benchmark ? cs.market!.tickers.get(engine.benchmark)?.last : undefined
      if (price) store.setMeta('benchmark', JSON.stringify({symbol: engine.benchmark, price}))
    }

    store.finishCycle(cs.cycle)
    store.audit.append(cs.now, 'cycle', {cycle: cs.cycle, equity: report.equity, exposurePct: report.exposurePct, exposureAfterPct: report.exposureAfterPct, orders: report.orders, denied: report.denied, fills: report.fills, halted: report.halted})
  })
  return {...report, audit: store.audit.current()}
}
