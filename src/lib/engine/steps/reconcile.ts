import type {OrderState} from '../../domain.js'
import {reconcileOrders} from '../../execution/reconcile.js'
import type {CycleAt, Engine} from '../context.js'
import {reconcileConversions} from './convert.js'

/**
 * Step 2. Orders, converts and intents against the exchange, by client order id, before anything is (re)sent.
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
  await reconcileConversions(engine, at)
  return result.fills
}

/**
 * Open orders under bot's client-order-id prefix that bot.sqlite has no row for (a state dir restored from an
 * older copy, a second bot on the same account): recorded as bot's, so their risk counts, and reported.
 */
export function adoptStrangers(engine: Engine, at: CycleAt, openOrders: readonly OrderState[]): void {
  const {store} = engine
  const prefix = `${engine.idPrefix}-`
  const open = openOrders.filter((o) => o.clientOrderId.startsWith(prefix) && !store.hasOrder(o.clientOrderId))
  for (const o of open) {
    store.transaction(() => {
      store.insertOrder({client_order_id: o.clientOrderId, cycle: at.cycle, leg: -1 - store.adoptedCount(at.cycle), time: o.createdAt, symbol: o.symbol, side: o.side, type: o.type, amount: o.amount, price: o.price ?? 0, action: 'adopted', reason: 'on the exchange under bot\'s id, unknown to bot.sqlite', status: 'open'})
      store.audit.append(at.now, 'order_adopted', {clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, amount: o.amount, filled: o.filled, status: o.status})
    })
    engine.observe({type: 'adopted', clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, amount: o.amount, status: o.status})
  }
}
