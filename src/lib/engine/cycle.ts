import type {CycleAt, Engine} from './context.js'
import type {CycleReport} from './events.js'
import {decide, universe} from './steps/decide.js'
import {commitPlan, sendIntents} from './steps/execute.js'
import {checkKillSwitch} from './steps/kill-switch.js'
import {reconcile} from './steps/reconcile.js'
import {record} from './steps/record.js'
import {snapshot} from './steps/snapshot.js'
import {judgeTrim, trim} from './steps/trim.js'

/**
 * One cycle, as a table of contents (DESIGN.md, "A cycle"). Each step takes what the ones before it
 * returned. Alerts and metrics observe the events the steps emit. No write transaction is open while a step
 * waits on the exchange. `bot trim` runs the same cycle with kind 'trim': no universe, no strategy.
 */
export async function runCycle(engine: Engine, at: CycleAt): Promise<CycleReport> {
  const halted = await checkKillSwitch(engine, at) //                        1. kill switch
  let fills = await reconcile(engine, at) //                                  2. reconcile orders by client order id
  const snap = await snapshot(engine, at) //                                  3. balances, prices, open orders
  const eligible = at.kind === 'loop' ? universe(engine, at, snap) : null //  4. eligible symbols
  const act = !at.resumed && !halted
  const decision = act && eligible ? await decide(engine, at, snap, eligible) : null // 5-6. signals -> targets -> risk-checked plan
  const trimmed = act ? await trim(engine, at, snap, decision) : null //      7. auto-trim back under the cap
  const plan = trimmed?.plan ?? null
  const planStored = at.resumed || commitPlan(engine, at, snap, plan) //      8a. write-ahead intents
  fills += await sendIntents(engine, at) //                                   8b. execute
  const trimFailures = trimmed ? await judgeTrim(engine, at, trimmed.trim) : engine.store.counter('trim_failures') // 7b. escalation
  const report = record(engine, at, {snap, universe: eligible, plan, planStored, halted, fills, trimFailures}) // 9. persist, audit, report
  engine.auditHead.write(report.audit, at.now)
  engine.observe({type: 'cycle', report}) // only once it is durable
  return report
}
