import type {ConvertQuote, ConvertResult, MarketInfo, OrderState} from './port.js'
import {addTidy, stepsOf, tidy} from './precision.js'
import type {SimFill, SimOrder, SimSnapshot, SimStore} from './sim-store.js'

/**
 * Balances of the simulated account: totals (persisted through `onChange`) and reservations held by open
 * orders (derived from the orders, so never persisted on their own). free = total - reserved.
 */
export class Ledger {
  private readonly totals = new Map<string, number>()
  private readonly reserved = new Map<string, number>()

  constructor(
    initial: Map<string, number>,
    private readonly onChange: (currency: string, total: number) => void,
  ) {
    for (const [cur, total] of initial) this.totals.set(cur, total)
  }

  total(cur: string): number {
    return this.totals.get(cur) ?? 0
  }

  held(cur: string): number {
    return this.reserved.get(cur) ?? 0
  }

  free(cur: string): number {
    const f = tidy(this.total(cur) - this.held(cur))
    return f > 0 ? f : 0
  }

  /** Adds `delta` (may be negative) to the total and persists it; a balance never goes below zero. */
  move(cur: string, delta: number): void {
    if (delta === 0) return
    const v = addTidy(this.total(cur), delta)
    if (v < 0) throw new Error(`the simulated ledger would take ${cur} to ${v}; balances never go negative`)
    this.totals.set(cur, v)
    this.onChange(cur, v)
  }

  hold(cur: string, amount: number): void {
    const v = addTidy(this.held(cur), amount)
    this.reserved.set(cur, v > 0 ? v : 0)
  }

  currencies(): string[] {
    return [...this.totals.keys()]
  }
}

export interface FillCosts {
  /** Half-spread plus slippage paid by a market order, in bps. */
  marketCostBps: number
  makerBps: number
  takerBps: number
}

export interface Bar {
  open: number
  high: number
  low: number
}

/** The price this order trades at on `bar` and its fee rate, or null when the bar does not reach the limit. */
function fillTerms(order: SimOrder, bar: Bar, costs: FillCosts): {price: number; feeBps: number} | null {
  const buy = order.side === 'buy'
  if (order.type === 'market') {
    const m = costs.marketCostBps / 1e4
    return {price: bar.open * (buy ? 1 + m : 1 - m), feeBps: costs.takerBps}
  }

  const limit = order.price!
  if (buy) return bar.low <= limit ? {price: Math.min(bar.open, limit), feeBps: costs.makerBps} : null
  return bar.high >= limit ? {price: Math.max(bar.open, limit), feeBps: costs.makerBps} : null
}

export interface Execution {
  amount: number
  price: number
  fee: number
}

/** Whole amount steps a buy can pay for out of its reservation plus free quote. */
function affordableSteps(order: SimOrder, step: number, price: number, feeBps: number, freeQuote: number): number {
  const perStep = step * price * (1 + feeBps / 1e4)
  return Math.floor((order.reserved + freeQuote) / perStep + 1e-9)
}

/**
 * Executes up to `capSteps` amount steps of `order` at `price`: moves balances, consumes its reservation
 * and updates its cumulative figures. Returns what executed (null if nothing could) and whether a buy ran
 * out of funds.
 */
function execute(
  order: SimOrder,
  step: number,
  capSteps: number,
  terms: {price: number; feeBps: number},
  ledger: Ledger,
  currencies: {base: string; quote: string},
): {exec: Execution | null; starved: boolean} {
  const remainingSteps = Math.round((order.amount - order.filled) / step)
  let n = Math.min(remainingSteps, capSteps)
  let starved = false
  if (order.side === 'buy') {
    const afford = affordableSteps(order, step, terms.price, terms.feeBps, ledger.free(currencies.quote))
    if (afford < n) [n, starved] = [afford, true]
  }

  if (n <= 0) return {exec: null, starved}
  const amount = n === remainingSteps ? tidy(order.amount - order.filled) : tidy(n * step)
  const value = amount * terms.price
  // A fee never exceeds what the fill is worth: a sell can never take the quote balance down.
  const fee = Math.min(value, (value * terms.feeBps) / 1e4)
  if (order.side === 'buy') {
    const fromReserve = Math.min(order.reserved, value + fee)
    order.reserved = addTidy(order.reserved, -fromReserve)
    ledger.hold(currencies.quote, -fromReserve)
    ledger.move(currencies.quote, -(value + fee))
    ledger.move(currencies.base, amount)
  } else {
    order.reserved = addTidy(order.reserved, -amount)
    ledger.hold(currencies.base, -amount)
    ledger.move(currencies.base, -amount)
    ledger.move(currencies.quote, value - fee)
  }

  const before = order.filled
  order.filled = n === remainingSteps ? order.amount : tidy(before + amount)
  order.averagePrice = ((order.averagePrice ?? 0) * before + terms.price * amount) / (before + amount)
  order.fee += fee
  return {exec: {amount, price: terms.price, fee}, starved}
}

/** Ends an order (closed or canceled) and gives back whatever it still holds. */
function finish(
  order: SimOrder,
  status: 'closed' | 'canceled',
  reason: string | null,
  ledger: Ledger,
  currencies: {base: string; quote: string},
  now: number,
): void {
  ledger.hold(order.side === 'buy' ? currencies.quote : currencies.base, -order.reserved)
  order.reserved = 0
  order.status = status
  order.reason = reason
  order.updatedAt = now
}

/** Why the exchange refuses this order outright (null = acceptable); `last` prices a market order. */
export function orderProblem(o: SimOrder, info: MarketInfo, last: number): string | null {
  if (!(o.amount > 0) || !Number.isFinite(o.amount) || stepsOf(o.amount, info.amountStep) < 1) return 'INVALID_AMOUNT'
  if (o.type === 'limit' && (o.price === null || !(o.price > 0) || stepsOf(o.price, info.priceStep) < 1)) {
    return 'INVALID_PRICE'
  }

  return o.amount * (o.price ?? last) < info.minNotional ? 'BELOW_MIN_NOTIONAL' : null
}

/** Quote a buy may spend (at the ask, with slippage and fee), or the base a sell delivers. */
export function reservationFor(o: SimOrder, last: number, spreadBps: number, costs: FillCosts): number {
  if (o.side === 'sell') return o.amount
  if (o.type === 'limit') return o.amount * o.price! * (1 + costs.makerBps / 1e4)
  const ask = last * (1 + spreadBps / 1e4)
  const slippageBps = costs.marketCostBps - spreadBps
  return o.amount * ask * (1 + (slippageBps + costs.takerBps) / 1e4)
}

export function publicState(o: SimOrder): OrderState {
  const {seq: _seq, reserved: _reserved, ...state} = o
  return state
}

/** What an order trades against on the bar that just closed. */
export interface BarContext extends Bar {
  volume: number
  costs: FillCosts
}

export interface BookMarket {
  base: string
  quote: string
  amountStep: number
}

/**
 * The simulated account: balances, orders with their reservations, and the fill log. Every method is
 * called inside the sim's transaction and writes through `store`.
 */
export class OrderBook {
  readonly ledger: Ledger
  private readonly byId = new Map<string, SimOrder>()
  private readonly byClientId = new Map<string, SimOrder>()
  private open: SimOrder[]
  private readonly fillLog: SimFill[]

  constructor(
    snap: SimSnapshot,
    private readonly store: SimStore,
    private readonly marketOf: (symbol: string) => BookMarket,
  ) {
    this.ledger = new Ledger(snap.balances, (cur, total) => store.saveBalance(cur, total))
    for (const o of snap.orders) {
      this.byId.set(o.id, o)
      this.byClientId.set(o.clientOrderId, o)
    }

    this.open = snap.orders.filter((o) => o.status === 'open')
    for (const o of this.open) this.ledger.hold(this.holdCurrency(o), o.reserved)
    this.fillLog = snap.fills
  }

  get(id: string): SimOrder | undefined {
    return this.byId.get(id)
  }

  getByClientId(clientOrderId: string): SimOrder | undefined {
    return this.byClientId.get(clientOrderId)
  }

  openOrders(symbol?: string): SimOrder[] {
    return symbol === undefined ? this.open : this.open.filter((o) => o.symbol === symbol)
  }

  /** The currency an order reserves: quote for a buy, base for a sell. */
  holdCurrency(o: {symbol: string; side: string}): string {
    const m = this.marketOf(o.symbol)
    return o.side === 'buy' ? m.quote : m.base
  }

  /** Stores a new order (open or rejected); an open one holds its reservation from now on. */
  add(o: SimOrder): void {
    this.byId.set(o.id, o)
    this.byClientId.set(o.clientOrderId, o)
    if (o.status === 'open') {
      this.open.push(o)
      this.ledger.hold(this.holdCurrency(o), o.reserved)
    }

    this.store.saveOrder(o)
  }

  cancel(o: SimOrder, now: number): void {
    finish(o, 'canceled', null, this.ledger, this.marketOf(o.symbol), now)
    this.open = this.open.filter((x) => x !== o)
    this.store.saveOrder(o)
  }

  /**
   * Fills open orders, oldest first, on the bar each symbol printed at this step (barOf null = none).
   * Orders on one symbol share its cap of `capFraction` of the bar's volume.
   */
  fillBar(now: number, barOf: (symbol: string) => BarContext | null, capFraction: number): void {
    const capLeft = new Map<string, number>()
    for (const o of this.open) {
      const bar = barOf(o.symbol)
      const terms = bar && fillTerms(o, bar, bar.costs)
      if (!bar || !terms) continue
      const market = this.marketOf(o.symbol)
      const cap = capLeft.get(o.symbol) ?? bar.volume * capFraction
      const capSteps = Math.floor(cap / market.amountStep + 1e-9)
      const {exec, starved} = execute(o, market.amountStep, capSteps, terms, this.ledger, market)
      if (exec) {
        capLeft.set(o.symbol, cap - exec.amount)
        o.updatedAt = now
        this.recordFill(o, exec, now)
      }

      if (o.filled === o.amount) finish(o, 'closed', null, this.ledger, market, now)
      else if (starved) finish(o, 'canceled', 'INSUFFICIENT_FUNDS', this.ledger, market, now)
      if (exec || o.status !== 'open') this.store.saveOrder(o)
    }

    this.open = this.open.filter((o) => o.status === 'open')
  }

  /** Executions with seq > afterSeq, oldest first (seq starts at 1). */
  fills(afterSeq: number): SimFill[] {
    return this.fillLog.slice(Math.max(0, afterSeq)).map((f) => ({...f}))
  }

  private recordFill(o: SimOrder, exec: Execution, time: number): void {
    const {id: orderId, clientOrderId, symbol, side} = o
    const f: SimFill = {seq: this.fillLog.length + 1, orderId, clientOrderId, symbol, side, ...exec, time}
    this.fillLog.push(f)
    this.store.saveFill(f)
  }
}

/** A convert at the mid less the fee; the fee is in quote currency either way. */
export function convertTerms(fromAmount: number, fromQuote: boolean, mid: number, feeBps: number): {toAmount: number; fee: number} {
  const grossQuote = fromQuote ? fromAmount : fromAmount * mid
  const fee = (grossQuote * feeBps) / 1e4
  return {toAmount: fromQuote ? (grossQuote - fee) / mid : grossQuote - fee, fee}
}

/** The outcome of committing `q` now; moves the balances when it completes. Failed results moved nothing. */
export function commitConvert(q: ConvertQuote, now: number, fault: boolean, ledger: Ledger): ConvertResult {
  const failed = (reason: string): ConvertResult => ({quoteId: q.id, status: 'failed', fromAmount: 0, toAmount: 0, reason})
  if (fault) return failed('SIM_FAULT')
  if (now > q.expiresAt) return failed('QUOTE_EXPIRED')
  if (q.fromAmount > ledger.free(q.from)) return failed('INSUFFICIENT_FUNDS')
  ledger.move(q.from, -q.fromAmount)
  ledger.move(q.to, q.toAmount)
  return {quoteId: q.id, status: 'completed', fromAmount: q.fromAmount, toAmount: q.toAmount, reason: null}
}
