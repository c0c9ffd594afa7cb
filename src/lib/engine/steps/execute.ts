import {ExchangeError} from '../../exchange/ports.js'
import type {OrderPlan, PlannedOrder} from '../../execution/plan.js'
import {applyOrderState} from '../../execution/reconcile.js'
import {exposurePct} from '../../risk/exposure.js'
import type {OrderRow} from '../../state/store.js'
import type {CycleAt, Engine} from '../context.js'
import {runConversions} from './convert.js'
import {killSwitchOn} from './kill-switch.js'
import {type DueSlices, type Routed, routeOrders} from './route.js'
import type {Snapshot} from './snapshot.js'

export function clientOrderId(engine: Engine, cycle: number, leg: number): string {
  return `${engine.idPrefix}-${cycle}-${leg}`
}

/**
 * Step 8a. Write-ahead: a plan with anything to send commits the cycle row, every intent (orders with their
 * deterministic client order ids, converts, TWAP schedules and their slices) and the audit of every decision
 * in one transaction, before anything is sent. Returns whether it wrote (a plan with nothing to send is
 * recorded with the cycle, in one commit).
 */
export function commitPlan(engine: Engine, at: CycleAt, snap: Snapshot, plan: OrderPlan | null, slices: DueSlices | null): boolean {
  const routed = plan ? routeOrders(engine, snap, plan) : []
  const sent = new Set(routed.map((r) => r.order.scheduleId).filter(Boolean))
  // A slice the pre-trade checks denied does not advance its schedule: it is tried again when next due.
  const updates = (slices?.updates ?? []).filter((u) => u.status !== 'active' || sent.has(u.id))
  if (routed.length === 0 && updates.length === 0) return false
  const {store} = engine
  store.transaction(() => {
    insertCycleRow(engine, at, snap, plan, 'planned', false)
    for (const [leg, r] of routed.entries()) writeIntent(engine, at, leg, r)
    for (const u of updates) {
      store.routes.updateSchedule(u)
      if (u.status !== 'active') store.audit.append(at.now, 'twap_end', {id: u.id, symbol: u.symbol, status: u.status, note: u.note})
    }
  })
  observeDenials(engine, at, plan)
  for (const n of slices?.notes ?? []) engine.observe({type: 'twap', cycle: at.cycle, id: n.id, status: n.status, note: n.note})
  return true
}

/** One routed order as intents (inside the caller's transaction). */
export function writeIntent(engine: Engine, at: CycleAt, leg: number, r: Routed): void {
  const {store} = engine
  const o = r.order
  if (r.kind === 'convert') {
    const id = `${engine.idPrefix}-c${at.cycle}-${leg}`
    // Of `from`: the coins a sell gives, the quote a buy spends.
    const amount = o.side === 'sell' || o.convertOnly ? o.amount : o.amount * o.price
    store.routes.insertConversion({id, cycle: at.cycle, leg, time: at.now, from_ccy: r.from, to_ccy: r.to, amount, symbol: o.symbol, action: o.action, reason: o.reason, status: 'intent'})
    store.audit.append(at.now, 'convert_intent', {cycle: at.cycle, id, from: r.from, to: r.to, amount, action: o.action, reason: o.reason})
    return
  }

  let order: PlannedOrder = o
  if (r.kind === 'twap') {
    const id = `${engine.idPrefix}-t${at.cycle}-${leg}`
    store.routes.insertSchedule({id, cycle: at.cycle, time: at.now, symbol: o.symbol, side: o.side, total: o.amount, slices: r.slices, spacing_ms: r.spacingMs, sent: 1, next_at: at.now + r.spacingMs, action: o.action, reason: o.reason, status: 'active'})
    store.audit.append(at.now, 'twap_start', {cycle: at.cycle, id, symbol: o.symbol, total: o.amount, slices: r.slices, spacingMs: r.spacingMs})
    order = {...o, amount: r.first, reason: `${o.reason} (TWAP slice 1/${r.slices})`, scheduleId: id}
    engine.observe({type: 'twap', cycle: at.cycle, id, status: 'active', note: `${o.side} ${o.amount} ${o.symbol} in ${r.slices} slices, ${r.spacingMs / 1000} s apart`})
  }

  const id = clientOrderId(engine, at.cycle, leg)
  store.insertOrder({client_order_id: id, cycle: at.cycle, leg, time: at.now, symbol: order.symbol, side: order.side, type: 'market', amount: order.amount, price: order.price, action: order.action, reason: order.reason, status: 'intent', schedule_id: order.scheduleId ?? null})
  store.audit.append(at.now, 'order_intent', {cycle: at.cycle, clientOrderId: id, symbol: order.symbol, side: order.side, amount: order.amount, price: order.price, action: order.action, reason: order.reason, ...(order.scheduleId ? {schedule: order.scheduleId} : {})})
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
 * Step 8b. Sends what this cycle stored: converts first (one that fails every attempt leaves a market or
 * TWAP sell behind, stored before it is sent), then every order intent the exchange has not seen; the kill
 * switch is checked before each. Each outcome is recorded in its own short transaction: nothing is held
 * open across a request. Returns the fills booked.
 */
export async function sendIntents(engine: Engine, at: CycleAt, snap: Snapshot): Promise<number> {
  await runConversions(engine, at, snap)
  let fills = 0
  for (const row of engine.store.liveOrders()) {
    if (row.status !== 'intent' || row.cycle !== at.cycle) continue
    fills += await sendOrder(engine, at, row)
  }

  return fills
}

async function sendOrder(engine: Engine, at: CycleAt, row: OrderRow): Promise<number> {
  const {store, broker} = engine
  const observe = (status: string, reason: string) => engine.observe({type: 'order', cycle: at.cycle, clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, amount: row.amount, price: row.price, status, reason})
  if (killSwitchOn(engine)) {
    store.transaction(() => {
      store.updateOrder({...row, status: 'abandoned', error: 'KILL_SWITCH'})
      store.audit.append(at.now, 'order_abandoned', {clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, was: 'intent', reason: 'KILL_SWITCH'})
    })
    observe('abandoned', 'KILL_SWITCH')
    return 0
  }

  try {
    const remote = await broker.createOrder({clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, type: row.type, amount: row.amount})
    const fills = store.transaction(() => applyOrderState(store, row, remote, at.now))
    observe(remote.status, remote.reason ?? row.reason)
    return fills
  } catch (error) {
    if (!(error instanceof ExchangeError) || error.kind === 'fatal') throw error
    if (error.kind === 'rejected') {
      store.transaction(() => {
        store.updateOrder({...row, status: 'rejected', error: `${error.code}: ${error.message}`})
        store.audit.append(at.now, 'order_rejected', {clientOrderId: row.client_order_id, symbol: row.symbol, reason: error.code})
      })
      observe('rejected', `${error.code}: ${error.message}`)
      return 0
    }

    // Outcome unknown: never resend blindly; the next reconcile looks it up by client order id.
    store.transaction(() => store.updateOrder({...row, status: 'sent', error: `${error.code}: ${error.message}`}))
    observe('unknown', `${error.code}: ${error.message}`)
    engine.observe({type: 'notice', level: 'warning', message: `order ${row.client_order_id} outcome unknown (${error.code}); will reconcile`})
    return 0
  }
}
