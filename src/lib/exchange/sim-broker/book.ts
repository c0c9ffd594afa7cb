import type {Candle, MarketInfo} from '../../domain.js'
import {execute, finish, type Execution, fillTerms, type SimFill, type SimOrder} from './fill-model.js'
import {Ledger} from './ledger.js'
import type {SimSnapshot, SimStore} from './store.js'

const RECENT = 64

/** What fills an order on a bar: its market's rules and fees, the slippage of its tier, the volume cap. */
export interface FillContext {
  market(symbol: string): MarketInfo | undefined
  slippageBps(symbol: string): number
  /** Share of a bar's volume all orders on one symbol may take together. */
  capFraction: number
}

/**
 * The simulated account: balances, open orders with their reservations, and the fill log. Only open
 * orders live in memory; done orders and fills are read back from the store. Every method runs inside the
 * broker's transaction and writes through `store`.
 */
export class OrderBook {
  readonly ledger: Ledger
  private open: SimOrder[]
  private fillSeq: number
  /** Orders done in this process, the newest RECENT of them: the reconcile that follows a fill asks for each. */
  private readonly done = new Map<string, SimOrder>()

  constructor(snap: SimSnapshot, private readonly store: SimStore, private readonly marketOf: (symbol: string) => {base: string; quote: string}) {
    this.ledger = new Ledger(snap.balances, (cur, total) => store.saveBalance(cur, total))
    this.open = snap.openOrders
    for (const o of this.open) this.ledger.hold(this.holdCurrency(o), o.reserved)
    this.fillSeq = store.fillCount()
  }

  openOrders(symbol?: string): SimOrder[] {
    return symbol === undefined ? this.open : this.open.filter((o) => o.symbol === symbol)
  }

  get(id: string): SimOrder | undefined {
    return this.open.find((o) => o.id === id) ?? this.done.get(id) ?? this.store.order(id)
  }

  getByClientId(clientOrderId: string): SimOrder | undefined {
    return this.open.find((o) => o.clientOrderId === clientOrderId) ?? this.store.orderByClientId(clientOrderId)
  }

  /** A done order never changes again: it is served from memory while it is among the newest. */
  private retire(o: SimOrder): void {
    this.done.set(o.id, o)
    if (this.done.size > RECENT) this.done.delete(this.done.keys().next().value!)
  }

  /** The currency an order reserves: quote for a buy, base for a sell. */
  holdCurrency(o: {symbol: string; side: string}): string {
    const m = this.marketOf(o.symbol)
    return o.side === 'buy' ? m.quote : m.base
  }

  /** Stores a new order (open or rejected); an open one holds its reservation from now on. */
  add(o: SimOrder): void {
    if (o.status === 'open') {
      this.open.push(o)
      this.ledger.hold(this.holdCurrency(o), o.reserved)
    } else {
      this.retire(o)
    }

    this.store.saveOrder(o)
  }

  cancel(o: SimOrder, now: number): void {
    finish(o, 'canceled', null, this.ledger, this.marketOf(o.symbol), now)
    this.open = this.open.filter((x) => x !== o)
    this.retire(o)
    this.store.saveOrder(o)
  }

  /** Where each open order's next bar starts, per symbol: the bars `fill` needs. */
  pendingSince(): Map<string, number> {
    const since = new Map<string, number>()
    for (const o of this.open) {
      const after = Math.max(o.lastBar, o.createdAt - 1)
      since.set(o.symbol, Math.min(since.get(o.symbol) ?? after, after))
    }

    return since
  }

  /**
   * Fills open orders against bars they have not met yet, bar time by bar time and oldest order first, so
   * the outcome does not depend on when this runs. An order only meets bars that open at or after it was
   * placed; orders on one symbol share `capFraction` of each bar's volume. A fill is dated at its bar's close.
   */
  fill(bars: ReadonlyMap<string, Candle[]>, ctx: FillContext, barMs: number): void {
    const times = [...new Set([...bars.values()].flatMap((b) => b.map((c) => c.time)))].sort((a, b) => a - b)
    const cursor = new Map<string, number>()
    for (const time of times) {
      const capLeft = new Map<string, number>()
      for (const o of this.open) {
        const list = bars.get(o.symbol)
        if (!list) continue
        let i = cursor.get(o.symbol) ?? 0
        while (i < list.length && list[i].time < time) i++
        cursor.set(o.symbol, i)
        const bar = list[i]
        const market = ctx.market(o.symbol)
        if (!bar || bar.time !== time || bar.time < o.createdAt || bar.time <= o.lastBar || !market) continue
        o.lastBar = bar.time
        this.fillOn(o, bar, market, ctx, capLeft, bar.time + barMs)
        this.store.saveOrder(o)
      }

      for (const o of this.open) if (o.status !== 'open') this.retire(o)
      this.open = this.open.filter((o) => o.status === 'open')
    }
  }

  private fillOn(o: SimOrder, bar: Candle, market: MarketInfo, ctx: FillContext, capLeft: Map<string, number>, now: number): void {
    const terms = fillTerms(o, bar, market, ctx.slippageBps(o.symbol))
    if (!terms) return
    const cap = capLeft.get(o.symbol) ?? bar.volume * ctx.capFraction
    const capSteps = Math.floor(cap / market.amountStep + 1e-9)
    const {exec, starved} = execute(o, market, capSteps, terms, this.ledger)
    if (exec) {
      capLeft.set(o.symbol, cap - exec.amount)
      o.updatedAt = now
      this.recordFill(o, exec, now)
    }

    if (o.filled === o.amount) finish(o, 'closed', null, this.ledger, market, now)
    else if (starved) finish(o, 'canceled', 'INSUFFICIENT_FUNDS', this.ledger, market, now)
  }

  private recordFill(o: SimOrder, exec: Execution, time: number): void {
    const {id: orderId, clientOrderId, symbol, side} = o
    this.store.saveFill({seq: ++this.fillSeq, orderId, clientOrderId, symbol, side, ...exec, time} satisfies SimFill)
  }
}
