import {ExchangeError} from '../../exchange/ports.js'
import type {OrderPlan} from '../../execution/plan.js'
import {applyOrderState} from '../../execution/reconcile.js'
import {exposurePct} from '../../risk/exposure.js'
import type {CycleAt, Engine} from '../context.js'
import {killSwitchOn} from './kill-switch.js'
import type {Snapshot} from './snapshot.js'

export function clientOrderId(engine: Engine, cycle: number, leg: number): string {
  return `${engine.idPrefix}-${cycle}-${leg}`
}

/**
 * Step 8a. Write-ahead: a plan with orders commits the cycle row, every order intent (with its deterministic
 * client order id) and the audit of every decision in one transaction, before anything is sent. Returns
 * whether it wrote (a plan without orders is recorded with the cycle, in one commit).
 */
export function commitPlan(engine: Engine, at: CycleAt, snap: Snapshot, plan: OrderPlan | null): boolean {
  if (!plan || plan.orders.length === 0) return false
  const {store} = engine
  store.transaction(() => {
    insertCycleRow(engine, at, snap, plan, 'planned', false)
    for (const [leg, o] of plan.orders.entries()) {
      const id = clientOrderId(engine, at.cycle, leg)
      store.insertOrder({client_order_id: id, cycle: at.cycle, leg, time: at.now, symbol: o.symbol, side: o.side, type: 'market', amount: o.amount, price: o.price, action: o.action, reason: o.reason, status: 'intent'})
      store.audit.append(at.now, 'order_intent', {cycle: at.cycle, clientOrderId: id, symbol: o.symbol, side: o.side, amount: o.amount, price: o.price, action: o.action, reason: o.reason})
    }
  })
  observeDenials(engine, at, plan)
  return true
}

/** The cycle's row and the audit of its denials (inside the caller's transaction). */
export function insertCycleRow(engine: Engine, at: CycleAt, snap: Snapshot, plan: OrderPlan | null, status: 'planned' | 'done', halted: boolean): void {
  const {portfolio: p, atRisk} = snap
  const before = exposurePct(atRisk, p.equity)
  engine.store.insertCycle({
    cycle: at.cycle, time: at.now, status, equity: p.equity, cash: p.cash, exposure_pct: before, exposure_after_pct: plan ? plan.exposureAfterPct : before,
    orders: plan?.orders.length ?? 0, denied: plan?.denied.length ?? 0, halted: halted ? 1 : 0,
  })
  for (const d of plan?.denied ?? []) {
    engine.store.audit.append(at.now, 'order_denied', {cycle: at.cycle, symbol: d.symbol, side: d.side, amount: d.amount, price: d.price, code: d.denial.code, reason: d.denial.message})
  }
}

export function observeDenials(engine: Engine, at: CycleAt, plan: OrderPlan | null): void {
  for (const d of plan?.denied ?? []) engine.observe({type: 'denied', cycle: at.cycle, symbol: d.symbol, side: d.side, denial: d.denial})
}

/**
 * Step 8b. Send every stored intent of this cycle that the exchange has not seen; the kill switch is checked
 * before each. Each outcome is recorded in its own short transaction: nothing is held open across a request.
 * Returns the fills booked.
 */
export async function sendIntents(engine: Engine, at: CycleAt): Promise<number> {
  const {store, broker} = engine
  let fills = 0
  for (const row of store.liveOrders()) {
    if (row.status !== 'intent' || row.cycle !== at.cycle) continue
    const observe = (status: string, reason: string) => engine.observe({type: 'order', cycle: at.cycle, clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, amount: row.amount, price: row.price, status, reason})
    if (killSwitchOn(engine)) {
      store.transaction(() => {
        store.updateOrder({...row, status: 'abandoned', error: 'KILL_SWITCH'})
        store.audit.append(at.now, 'order_abandoned', {clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, was: 'intent', reason: 'KILL_SWITCH'})
      })
      observe('abandoned', 'KILL_SWITCH')
      continue
    }

    try {
      const remote = await broker.createOrder({clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, type: row.type, amount: row.amount})
      fills += store.transaction(() => applyOrderState(store, row, remote, at.now))
      observe(remote.status, remote.reason ?? row.reason)
    } catch (error) {
      if (!(error instanceof ExchangeError) || error.kind === 'fatal') throw error
      if (error.kind === 'rejected') {
        store.transaction(() => {
          store.updateOrder({...row, status: 'rejected', error: `${error.code}: ${error.message}`})
          store.audit.append(at.now, 'order_rejected', {clientOrderId: row.client_order_id, symbol: row.symbol, reason: error.code})
        })
        observe('rejected', `${error.code}: ${error.message}`)
        continue
      }

      // Outcome unknown: never resend blindly; the next reconcile looks it up by client order id.
      store.transaction(() => store.updateOrder({...row, status: 'sent', error: `${error.code}: ${error.message}`}))
      observe('unknown', `${error.code}: ${error.message}`)
      engine.observe({type: 'notice', level: 'warning', message: `order ${row.client_order_id} outcome unknown (${error.code}); will reconcile`})
    }
  }

  return fills
}
