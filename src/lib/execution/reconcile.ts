import {BotError} from '../errors.js'
import type {OrderState} from '../domain.js'
import {type Broker, ExchangeError} from '../exchange/ports.js'
import type {OrderRow, StateStore} from '../state/store.js'

export interface ReconcileResult {
  fills: number
  changed: {clientOrderId: string; status: string; note: string}[]
}

export interface ReconcilePolicy {
  /** An unsent intent of the cycle still under way: the executor sends it. */
  resumable: (row: OrderRow) => boolean
  /**
   * How long a sent order the exchange cannot find yet stays "outcome unknown" (and counts as committed)
   * before it is given up; a lookup can lag a submit that timed out.
   */
  unknownGraceMs: number
}

/**
 * Bring every order we may not know the outcome of up to date with the exchange. Anything without a known
 * outcome is looked up by its client order id before anything could resend it.
 */
export async function reconcileOrders(broker: Broker, store: StateStore, now: number, policy: ReconcilePolicy): Promise<ReconcileResult> {
  const result: ReconcileResult = {fills: 0, changed: []}
  for (const row of store.liveOrders()) {
    const remote = await lookUp(broker, row)
    if (remote) {
      const fills = store.transaction(() => applyOrderState(store, row, remote, now))
      result.fills += fills
      if (row.status === 'intent' || remote.status !== row.status) result.changed.push({clientOrderId: row.client_order_id, status: remote.status, note: row.status === 'intent' ? 'found on the exchange by client order id' : `now ${remote.status}`})
    } else if (row.status === 'intent' ? policy.resumable(row) : now - row.time < policy.unknownGraceMs) {
      continue // resumed by the executor, or still within its grace period
    } else {
      store.transaction(() => {
        store.updateOrder({...row, status: 'abandoned', error: row.status === 'intent' ? 'never sent; its cycle has passed' : 'the exchange does not know it'})
        store.audit.append(now, 'order_abandoned', {clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, was: row.status})
      })
      result.changed.push({clientOrderId: row.client_order_id, status: 'abandoned', note: 'the exchange never received it'})
    }
  }

  return result
}

/**
 * The exchange's view of our order, or null if it does not know it. Without an exchange id, the order is
 * found by its client order id: directly where the broker can, else among its recent orders on that symbol.
 */
async function lookUp(broker: Broker, row: OrderRow): Promise<OrderState | null> {
  if (!row.exchange_order_id) {
    if (broker.capabilities.fetchByClientOrderId) return broker.fetchOrderByClientId(row.client_order_id, row.symbol)
    return (await broker.recentOrders(row.symbol, row.time)).find((o) => o.clientOrderId === row.client_order_id) ?? null
  }

  try {
    return await broker.fetchOrder(row.exchange_order_id, row.symbol)
  } catch (error) {
    if (error instanceof ExchangeError && error.kind === 'rejected') return null
    throw error
  }
}

/** Copy the exchange's view of an order into our row; a newly filled part becomes a fill. Returns 1 if it filled more. */
export function applyOrderState(store: StateStore, row: OrderRow, remote: OrderState, now: number): number {
  if (!sameOrder(row, remote)) {
    // Another order answered to our client order id: trading on would book someone else's fills as ours.
    throw new BotError(`the exchange returned ${remote.side} ${remote.amount} ${remote.symbol} for client order id ${row.client_order_id}, which bot recorded as ${row.side} ${row.amount} ${row.symbol}; stopping before anything else is sent`, 'ORDER_MISMATCH')
  }

  const delta = remote.filled - row.filled
  let fills = 0
  if (delta > 1e-12) {
    const paid = (remote.averagePrice ?? 0) * remote.filled - (row.average_price ?? 0) * row.filled
    const fill = {client_order_id: row.client_order_id, time: now, symbol: row.symbol, side: row.side, amount: delta, price: paid / delta, fee: remote.fee - row.fee}
    store.recordFill(fill)
    store.audit.append(now, 'fill', {clientOrderId: fill.client_order_id, symbol: fill.symbol, side: fill.side, amount: fill.amount, price: fill.price, fee: fill.fee})
    fills = 1
  }

  if (remote.status === 'rejected' && row.status !== 'rejected') {
    store.audit.append(now, 'order_rejected', {clientOrderId: row.client_order_id, symbol: row.symbol, reason: remote.reason})
  }

  store.updateOrder({
    ...row, status: remote.status, exchange_order_id: remote.id, filled: remote.filled,
    average_price: remote.averagePrice, fee: remote.fee, error: remote.reason,
  })
  return fills
}

/**
 * Whether the exchange's order is the one bot stored. The client order id (where the exchange reports one),
 * symbol and side always compare. The amount compares except on a market buy: an exchange may size it in
 * quote (Coinbase spends a quote_size), so its record has no base amount of its own and reports what filled,
 * or nothing; bot's amount is only what it expected that spend to buy (the ccxt adapter knows it only while
 * the process that placed the order runs, so after a restart the two differ).
 */
function sameOrder(row: OrderRow, remote: OrderState): boolean {
  if (remote.clientOrderId !== '' && remote.clientOrderId !== row.client_order_id) return false
  if (remote.symbol !== row.symbol || remote.side !== row.side) return false
  if (row.type === 'market' && row.side === 'buy') return true
  return Math.abs(remote.amount - row.amount) <= row.amount * 1e-9
}
