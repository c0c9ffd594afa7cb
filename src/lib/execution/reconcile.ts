import type {Exchange, OrderState} from '../exchange/port.js'
import type {OrderRow, StateStore} from '../state/store.js'

export interface ReconcileResult {
  fills: number
  changed: {clientOrderId: string; status: string; note: string}[]
}

/**
 * Bring every order we may not know the outcome of up to date with the exchange. An intent is looked up by
 * its client order id before anything could resend it; one the exchange never received is resumed only
 * when `resumable` says its cycle is still current, otherwise abandoned.
 */
export async function reconcileOrders(exchange: Exchange, store: StateStore, now: number, resumable: (row: OrderRow) => boolean): Promise<ReconcileResult> {
  const result: ReconcileResult = {fills: 0, changed: []}
  for (const row of store.liveOrders()) {
    const remote = row.exchange_order_id
      ? await exchange.fetchOrder(row.exchange_order_id, row.symbol)
      : await exchange.fetchOrderByClientId(row.client_order_id, row.symbol)
    if (remote) {
      const fills = store.transaction(() => applyOrderState(store, row, remote, now))
      result.fills += fills
      if (row.status === 'intent' || remote.status !== row.status) result.changed.push({clientOrderId: row.client_order_id, status: remote.status, note: row.status === 'intent' ? 'found on the exchange by client order id' : `now ${remote.status}`})
    } else if (row.status === 'intent' && resumable(row)) {
      continue // the executor sends it
    } else {
      store.transaction(() => {
        store.updateOrder({...row, status: 'abandoned', error: row.status === 'intent' ? 'never sent; its cycle has passed' : 'unknown to the exchange'})
        store.audit.append(now, 'order_abandoned', {clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, was: row.status})
      })
      result.changed.push({clientOrderId: row.client_order_id, status: 'abandoned', note: 'the exchange never received it'})
    }
  }

  return result
}

/** Copy the exchange's view of an order into our row; a newly filled part becomes a fill. Returns 1 if it filled more. */
export function applyOrderState(store: StateStore, row: OrderRow, remote: OrderState, now: number): number {
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
