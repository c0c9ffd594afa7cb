import {ExchangeError} from '../../exchange/port.js'
import {applyOrderState} from '../../execution/reconcile.js'
import {exposurePct} from '../../risk/exposure.js'
import type {CycleState, Engine} from '../context.js'
import {killSwitchOn} from './kill-switch.js'

export function clientOrderId(engine: Engine, cycle: number, leg: number): string {
  return `${engine.idPrefix}-${cycle}-${leg}`
}

/**
 * Step 8a. Write-ahead: the cycle row, every order intent (with its deterministic client order id) and the
 * audit of every decision are committed in one transaction before anything is sent.
 */
export function commitPlan(engine: Engine, cs: CycleState): void {
  const {store} = engine
  const plan = cs.plan
  const p = cs.portfolio!
  store.transaction(() => {
    store.insertCycle({
      cycle: cs.cycle, time: cs.now, status: 'planned', equity: p.equity, cash: p.cash,
      exposure_pct: exposurePct(cs.atRisk!, p.equity), exposure_after_pct: plan ? plan.exposureAfterPct : exposurePct(cs.atRisk!, p.equity),
      orders: plan?.orders.length ?? 0, denied: plan?.denied.length ?? 0, halted: cs.halted ? 1 : 0,
    })
    for (const d of plan?.denied ?? []) {
      store.audit.append(cs.now, 'order_denied', {cycle: cs.cycle, symbol: d.symbol, side: d.side, amount: d.amount, price: d.price, code: d.denial.code, reason: d.denial.message})
    }

    for (const [leg, o] of (plan?.orders ?? []).entries()) {
      const id = clientOrderId(engine, cs.cycle, leg)
      store.insertOrder({client_order_id: id, cycle: cs.cycle, leg, time: cs.now, symbol: o.symbol, side: o.side, type: 'market', amount: o.amount, price: o.price, action: o.action, reason: o.reason, status: 'intent'})
      store.audit.append(cs.now, 'order_intent', {cycle: cs.cycle, clientOrderId: id, symbol: o.symbol, side: o.side, amount: o.amount, price: o.price, action: o.action, reason: o.reason})
    }
  })
  // Write-ahead: the intents are on disk before the first order can leave.
  if (plan && plan.orders.length > 0) store.checkpoint()
  for (const d of plan?.denied ?? []) engine.observe({type: 'denied', cycle: cs.cycle, symbol: d.symbol, side: d.side, denial: d.denial})
}

/** Step 8b. Send every stored intent of this cycle that the exchange has not seen; the kill switch is checked before each. */
export async function sendIntents(engine: Engine, cs: CycleState): Promise<void> {
  const {store, exchange} = engine
  for (const row of store.cycleOrders(cs.cycle)) {
    if (row.status !== 'intent') continue
    if (killSwitchOn(engine)) {
      store.transaction(() => {
        store.updateOrder({...row, status: 'abandoned', error: 'KILL_SWITCH'})
        store.audit.append(cs.now, 'order_abandoned', {clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, was: 'intent', reason: 'KILL_SWITCH'})
      })
      continue
    }

    try {
      const remote = await exchange.createOrder({clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, type: row.type, amount: row.amount})
      cs.fills += store.transaction(() => applyOrderState(store, row, remote, cs.now))
      engine.observe({type: 'order', cycle: cs.cycle, clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, amount: row.amount, price: row.price, status: remote.status, reason: remote.reason ?? row.reason})
    } catch (error) {
      if (!(error instanceof ExchangeError) || error.kind === 'fatal') throw error
      if (error.kind === 'rejected') {
        store.transaction(() => {
          store.updateOrder({...row, status: 'rejected', error: `${error.code}: ${error.message}`})
          store.audit.append(cs.now, 'order_rejected', {clientOrderId: row.client_order_id, symbol: row.symbol, reason: error.code})
        })
        continue
      }

      // Outcome unknown: never resend blindly; the next reconcile looks it up by client order id.
      store.transaction(() => store.updateOrder({...row, status: 'sent', error: `${error.code}: ${error.message}`}))
      engine.observe({type: 'notice', level: 'warning', message: `order ${row.client_order_id} outcome unknown (${error.code}); will reconcile`})
    }
  }
}
