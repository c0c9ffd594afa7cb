import {reconcileOrders} from '../../execution/reconcile.js'
import type {CycleState, Engine} from '../context.js'

/** Step 2. Orders and intents against the exchange, by client order id, before anything is (re)sent. */
export async function reconcile(engine: Engine, cs: CycleState): Promise<void> {
  // An unsent intent is still valid only inside the very cycle (same exchange instant) that planned it.
  const result = await reconcileOrders(engine.exchange, engine.store, cs.now, {
    resumable: (row) => cs.resumed && row.cycle === cs.cycle && row.time === cs.now,
    unknownGraceMs: engine.config.policy.risk.duplicate_window_seconds * 1000,
  })
  cs.fills += result.fills
  for (const c of result.changed) engine.observe({type: 'reconciled', ...c})
}
