import type {ExtraOrder, OrderPlan, PlannedOrder} from '../../execution/plan.js'
import {nextSlice, planRoute} from '../../execution/route.js'
import type {ScheduleRow} from '../../state/routes.js'
import type {CycleAt, Engine} from '../context.js'
import type {Snapshot} from './snapshot.js'

/** How one planned order goes out. */
export type Routed =
  | {kind: 'order'; order: PlannedOrder}
  /** The exchange's convert first; the market (or TWAP) sell of the same amount if every attempt fails. */
  | {kind: 'convert'; order: PlannedOrder; from: string; to: string}
  /** A TWAP schedule; its first slice (`first`) goes out now. */
  | {kind: 'twap'; order: PlannedOrder; slices: number; spacingMs: number; first: number}

/**
 * Step 8a's routes: an order through the exchange's convert where the broker offers it against the quote
 * currency and policy prefers it (the amount converted is the sell's coins, or the buy's cost in quote),
 * else a sell as TWAP slices in a tier that asks for them, else one market order. TWAP slices go out as
 * market orders.
 */
export function routeOrders(engine: Engine, snap: Snapshot, plan: OrderPlan): Routed[] {
  const quote = engine.config.app.exchange.quote_currency
  return plan.orders.map((order): Routed => {
    if (order.scheduleId) return {kind: 'order', order}
    if (order.convertOnly) return {kind: 'convert', order, ...order.convertOnly}
    const market = snap.market.markets.get(order.symbol)!
    const [from, to] = order.side === 'sell' ? [market.base, quote] : [quote, market.base]
    const route = planRoute({
      from, to, amount: order.side === 'sell' ? order.amount : order.amount * order.price, quote, markets: snap.market.markets, tickers: snap.market.tickers,
      tierOf: (s) => engine.tierOf.get(s), policy: engine.config.policy, convertOffered: engine.broker.capabilities.convert(from, to),
    })
    if (route.convert) return {kind: 'convert', order, from, to}
    const leg = route.legs[0]
    if (route.route !== 'twap' || !leg || order.side !== 'sell') return {kind: 'order', order}
    return twapOf(engine, order, leg.slices, leg.spacingMs, snap)
  })
}

/** A sell as a TWAP schedule (or one order, when it is too small to cut). */
export function twapOf(engine: Engine, order: PlannedOrder, slices: number, spacingMs: number, snap: Snapshot): Routed {
  const market = snap.market.markets.get(order.symbol)!
  const first = nextSlice({remaining: order.amount, slicesLeft: slices, price: order.price, market, minSliceNotional: engine.config.policy.execution.min_slice_notional})
  if (first.dust || first.amount >= order.amount) return {kind: 'order', order}
  return {kind: 'twap', order, slices, spacingMs, first: first.amount}
}

/** The next slices of the TWAP schedules that are due, and what each schedule becomes once they are stored. */
export interface DueSlices {
  sells: ExtraOrder[]
  /** Schedules to store with the plan: advanced by a slice, finished, ended as dust, or stopped. */
  updates: ScheduleRow[]
  /** Why a schedule ended this cycle, for the events. */
  notes: {id: string; status: ScheduleRow['status']; note: string}[]
}

/**
 * Step 8a': slices due on the venue's clock (on a replay, one per bar at most). What a slice's order has not
 * filled yet stays on the way; a slice is what remains, evenly over the slices left; a remainder the exchange
 * would refuse is dust, reported, never retried. The kill switch stops every schedule between slices.
 */
export function dueSlices(engine: Engine, at: CycleAt, snap: Snapshot, halted: boolean): DueSlices {
  const out: DueSlices = {sells: [], updates: [], notes: []}
  const routes = engine.store.routes
  for (const s of routes.activeSchedules()) {
    const end = (status: ScheduleRow['status'], note: string) => {
      out.updates.push({...s, status, note})
      out.notes.push({id: s.id, status, note})
    }

    if (halted) {
      end('stopped', 'KILL_SWITCH: no more slices')
      continue
    }

    const failure = routes.lastSliceFailure(s.id)
    if (failure) {
      // Not retried blindly: what is left is free again, and the strategy or trim re-plans it if still wanted.
      end('failed', `slice ${s.sent}/${s.slices} ${failure}`)
      continue
    }

    if (s.next_at > at.now) continue
    const progress = snap.slices.get(s.id)
    if (!progress) continue // started after the snapshot: due from the next cycle on
    const {filled, pending, unsent} = progress
    if (pending > 0) continue // the last slice is still on the way: its fills decide the next one
    const remaining = s.total - filled
    const market = snap.market.markets.get(s.symbol)
    const t = snap.market.tickers.get(s.symbol)
    // What this schedule may sell: what is free plus what the snapshot held back for it (less, when coins
    // left the account under it).
    const h = snap.portfolio.holdings.get(s.symbol)
    const free = h ? h.free + Math.min(h.heldBack, unsent) : 0
    if (!market || !t) continue // no price this cycle: try again at the next
    const slice = nextSlice({remaining: Math.min(remaining, free), slicesLeft: Math.max(1, s.slices - s.sent), price: t.bid, market, minSliceNotional: engine.config.policy.execution.min_slice_notional})
    if (slice.dust) {
      end(remaining > 1e-12 ? 'dust' : 'done', slice.amount > 0 ? `dust: ${slice.reason}` : 'sold')
      continue
    }

    const k = s.sent + 1
    out.sells.push({symbol: s.symbol, side: 'sell', tier: engine.tierOf.get(s.symbol) ?? 'default', amount: slice.amount, price: t.bid, action: s.action as ExtraOrder['action'], reason: `${s.reason} (TWAP slice ${k}/${Math.max(k, s.slices)})`, scheduleId: s.id, reserved: unsent})
    out.updates.push({...s, sent: k, next_at: at.now + s.spacing_ms})
  }

  return out
}
