import type {CycleAt, Engine} from './context.js'
import type {CycleReport} from './events.js'
import {decide, universe} from './steps/decide.js'
import {commitPlan, sendIntents} from './steps/execute.js'
import {checkKillSwitch} from './steps/kill-switch.js'
import {reconcile} from './steps/reconcile.js'
import {record} from './steps/record.js'
import {snapshot} from './steps/snapshot.js'

/**
 * One cycle, as a table of contents (DESIGN.md, "A cycle"). Each step takes what the ones before it
 * returned. There is no auto-trim step yet (7, between the plan and execution); alerts and metrics observe
 * the events the steps emit. No write transaction is open while a step waits on the exchange.
 */
export async function runCycle(engine: Engine, at: CycleAt): Promise<CycleReport> {
  const halted = await checkKillSwitch(engine, at) //                     1. kill switch
  let fills = await reconcile(engine, at) //                               2. reconcile orders by client order id
  const snap = await snapshot(engine, at) //                               3. balances, prices, candles
  const eligible = universe(engine, at, snap) //                           4. eligible symbols
  const plan = at.resumed || halted ? null : (await decide(engine, at, snap, eligible)).plan // 5-6. signals -> targets -> risk-checked plan
  const planStored = at.resumed || commitPlan(engine, at, snap, plan) //   8a. write-ahead intents
  fills += await sendIntents(engine, at) //                                8b. execute
  const report = record(engine, at, {snap, universe: eligible, plan, planStored, halted, fills}) // 9. persist, audit, report
  engine.auditHead.write(report.audit, at.now)
  engine.observe({type: 'cycle', report}) // only once it is durable
  return report
}
