import {reconcileOrders} from '../../execution/reconcile.js'
import type {CycleAt, Engine} from '../context.js'

/**
 * Step 2. Orders and intents against the exchange, by client order id, before anything is (re)sent.
 * Returns the fills it booked.
 */
export async function reconcile(engine: Engine, at: CycleAt): Promise<number> {
  const maxAgeMs = engine.config.policy.risk.max_quote_age_seconds * 1000
  const result = await reconcileOrders(engine.broker, engine.store, at.now, {
    // An unsent intent is sent only by the cycle that planned it, while the prices it was checked on are fresh.
    resumable: (row) => at.resumed && row.cycle === at.cycle && at.now - row.time <= maxAgeMs,
    unknownGraceMs: engine.config.policy.risk.duplicate_window_seconds * 1000,
  })
  for (const c of result.changed) engine.observe({type: 'reconciled', ...c})
  return result.fills
}
