import type {CycleRow} from '../state/store.js'
import type {CycleState, Engine} from './context.js'
import type {CycleReport} from './events.js'
import {decide, universe} from './steps/decide.js'
import {commitPlan, sendIntents} from './steps/execute.js'
import {checkKillSwitch} from './steps/kill-switch.js'
import {reconcile} from './steps/reconcile.js'
import {record} from './steps/record.js'
import {snapshot} from './steps/snapshot.js'

/**
 * One cycle, as a table of contents (DESIGN.md, "A cycle"). This version has no auto-trim step (7, between
 * the plan and execution); alerts and metrics are to observe the events the steps emit.
 */
export async function runCycle(engine: Engine, now: number, last: CycleRow | null): Promise<CycleReport> {
  engine.store.begin()
  try {
    const report = await cycleSteps(engine, now, last)
    engine.store.commit()
    engine.auditHead.write(report.audit, now)
    engine.observe({type: 'cycle', report}) // only once it is durable
    return report
  } catch (error) {
    engine.store.rollback()
    throw error
  }
}

async function cycleSteps(engine: Engine, now: number, last: CycleRow | null): Promise<CycleReport> {
  const resumed = last !== null && last.status === 'planned' && last.time === now
  const cs: CycleState = {cycle: resumed ? last.cycle : (last?.cycle ?? 0) + 1, now, resumed, halted: false, fills: 0}
  if (last && last.status === 'planned' && !resumed) {
    // A plan from an earlier instant is stale: its unsent intents are abandoned by reconcile, never sent late.
    engine.store.transaction(() => {
      engine.store.finishCycle(last.cycle)
      engine.store.audit.append(now, 'cycle_interrupted', {cycle: last.cycle, plannedAt: last.time})
    })
  }

  await checkKillSwitch(engine, cs) //                  1. kill switch
  await reconcile(engine, cs) //                        2. reconcile orders by client order id
  await snapshot(engine, cs) //                         3. balances, prices, candles
  universe(engine, cs) //                               4. eligible symbols
  if (!cs.resumed) {
    if (!cs.halted) decide(engine, cs) //               5-6. signals -> targets -> risk-checked plan
    commitPlan(engine, cs) //                           8a. write-ahead intents
  }

  await sendIntents(engine, cs) //                      8b. execute
  return record(engine, cs) //                          9. persist, audit, report
}
