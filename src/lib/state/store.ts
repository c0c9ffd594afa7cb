import type Database from 'better-sqlite3'
import path from 'node:path'

import type {OrderState, OrderType, Side} from '../domain.js'
import {AuditLog, type AuditSeal} from './audit.js'
import {openDatabase} from './database.js'
import {STATE_FILE} from './layout.js'
import {RouteStore} from './routes.js'

export type OrderRowStatus = 'intent' | 'sent' | OrderState['status'] | 'abandoned'

export interface OrderRow {
  client_order_id: string
  cycle: number
  leg: number
  time: number
  symbol: string
  side: Side
  type: OrderType
  amount: number
  price: number
  action: string
  reason: string
  status: OrderRowStatus
  exchange_order_id: string | null
  filled: number
  average_price: number | null
  fee: number
  error: string | null
  /** The TWAP schedule this order is a slice of, if any. */
  schedule_id?: string | null
}

export interface CycleRow {
  cycle: number
  time: number
  status: 'planned' | 'done'
  equity: number
  cash: number
  exposure_pct: number
  exposure_after_pct: number
  orders: number
  denied: number
  halted: number
}

/** See StateStore.setDurability. */
export type Durability = 'full' | 'os'

export interface Position {
  symbol: string
  amount: number
  cost: number
}

interface Cache {
  meta: Map<string, string | null>
  counters: Map<string, number>
  /** undefined = not read yet. */
  lastCycle?: CycleRow | null
  positions?: Map<string, Position>
  /** Orders with a live status, by client order id, in insertion (cycle, leg) order. */
  live?: Map<string, OrderRow>
  /** The last recentOrders read, dropped by any order write. */
  recent?: {since: number; rows: OrderRow[]}
}

const LIVE = new Set<OrderRowStatus>(['intent', 'sent', 'open'])

const emptyCache = (): Cache => ({meta: new Map(), counters: new Map()})

export interface FillRow {
  client_order_id: string
  time: number
  symbol: string
  side: Side
  amount: number
  price: number
  fee: number
}

/** The bot's own memory (SQLite, WAL). Every method is synchronous; group writes with `transaction`. */
export class StateStore {
  readonly audit: AuditLog
  /** Conversions and TWAP schedules. */
  readonly routes: RouteStore
  private readonly s: Record<string, Database.Statement>
  /** One wrapper for every transaction: building db.transaction() per call costs more than the commit. */
  private readonly tx: (fn: () => unknown) => unknown
  /** Small tables read every cycle, kept in step with every write (and dropped on a rollback). */
  private cache: Cache = emptyCache()

  constructor(readonly db: Database.Database, readonly file: string, seal: AuditSeal = {key: null, keyedFrom: null}) {
    this.audit = new AuditLog(db, seal)
    this.routes = new RouteStore(db)
    this.tx = db.transaction((fn: () => unknown) => fn())
    const p = (sql: string) => db.prepare(sql)
    this.s = {
      getMeta: p('SELECT value FROM meta WHERE key = ?'),
      setMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertCycle: p('INSERT INTO cycles (cycle, time, status, equity, cash, exposure_pct, exposure_after_pct, orders, denied, halted) VALUES (@cycle, @time, @status, @equity, @cash, @exposure_pct, @exposure_after_pct, @orders, @denied, @halted)'),
      finishCycle: p("UPDATE cycles SET status = 'done' WHERE cycle = ?"),
      lastCycle: p('SELECT * FROM cycles ORDER BY cycle DESC LIMIT 1'),
      insertOrder: p('INSERT INTO orders (client_order_id, cycle, leg, time, symbol, side, type, amount, price, action, reason, status, schedule_id) VALUES (@client_order_id, @cycle, @leg, @time, @symbol, @side, @type, @amount, @price, @action, @reason, @status, @schedule_id)'),
      updateOrder: p('UPDATE orders SET status = @status, exchange_order_id = @exchange_order_id, filled = @filled, average_price = @average_price, fee = @fee, error = @error WHERE client_order_id = @client_order_id'),
      liveOrders: p("SELECT * FROM orders WHERE status IN ('intent', 'sent', 'open') ORDER BY cycle, leg"),
      cycleOrders: p('SELECT * FROM orders WHERE cycle = ? ORDER BY leg'),
      cycleOrderCount: p('SELECT count(*) FROM orders WHERE cycle = ?').pluck(),
      hasOrder: p('SELECT 1 FROM orders WHERE client_order_id = ?').pluck(),
      adoptedCount: p("SELECT count(*) FROM orders WHERE cycle = ? AND action = 'adopted'").pluck(),
      recentOrders: p("SELECT * FROM orders WHERE time >= ? AND status NOT IN ('rejected', 'abandoned') ORDER BY time, cycle, leg"),
      insertFill: p('INSERT INTO fills (client_order_id, time, symbol, side, amount, price, fee) VALUES (@client_order_id, @time, @symbol, @side, @amount, @price, @fee)'),
      setPosition: p('INSERT INTO positions (symbol, amount, cost) VALUES (?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET amount = excluded.amount, cost = excluded.cost'),
      positions: p('SELECT symbol, amount, cost FROM positions ORDER BY symbol'),
      getCounter: p('SELECT value FROM counters WHERE name = ?'),
      setCounter: p('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
      eligibility: p('SELECT symbol, status FROM eligibility'),
      setEligibility: p('INSERT INTO eligibility (symbol, status) VALUES (?, ?) ON CONFLICT(symbol) DO UPDATE SET status = excluded.status'),
    }
  }

  /** Opens (or creates) a state dir's database with no pre-flight checks: for tools and tests; `bot run` uses prepareState. */
  static open(stateDir: string): StateStore {
    const file = path.join(stateDir, STATE_FILE)
    return new StateStore(openDatabase(file), file)
  }

  /**
   * How far a commit is pushed to disk. 'full' (the default) syncs every commit, so an intent survives a
   * power cut before its order leaves: wherever orders reach a real account. 'os' leaves the syncing to the
   * operating system: a killed process loses nothing, a power cut may cost the latest commits. That suits a
   * simulated account, which is only a rehearsal, and keeps a replay fast (a sync costs more than a cycle).
   */
  setDurability(level: Durability): void {
    this.db.pragma(`synchronous = ${level === 'full' ? 'FULL' : 'OFF'}`)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  /**
   * Run `fn` atomically: one short transaction (a savepoint when nested). Never held across a network call,
   * so readers (bot metrics, bot trim --dry-run) never wait on the exchange. On failure the caches and the
   * audit head are read again.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.tx(fn) as T
    } catch (error) {
      this.audit.reload()
      this.cache = emptyCache()
      this.routes.forget()
      throw error
    }
  }

  getMeta(key: string): string | null {
    if (!this.cache.meta.has(key)) this.cache.meta.set(key, (this.s.getMeta.get(key) as {value: string} | undefined)?.value ?? null)
    return this.cache.meta.get(key)!
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value)
    this.cache.meta.set(key, value)
  }

  insertCycle(row: CycleRow): void {
    this.s.insertCycle.run(row)
    this.cache.lastCycle = {...row}
  }

  finishCycle(cycle: number): void {
    this.s.finishCycle.run(cycle)
    if (this.cache.lastCycle?.cycle === cycle) this.cache.lastCycle = {...this.cache.lastCycle, status: 'done'}
  }

  lastCycle(): CycleRow | null {
    if (this.cache.lastCycle === undefined) this.cache.lastCycle = (this.s.lastCycle.get() as CycleRow | undefined) ?? null
    return this.cache.lastCycle
  }

  cycles(): CycleRow[] {
    return this.db.prepare('SELECT * FROM cycles ORDER BY cycle').all() as CycleRow[]
  }

  insertOrder(row: Omit<OrderRow, 'exchange_order_id' | 'filled' | 'average_price' | 'fee' | 'error'>): void {
    const full = {schedule_id: null, ...row}
    this.s.insertOrder.run(full)
    this.ordersChanged(full.schedule_id)
    this.trackLive({...full, exchange_order_id: null, filled: 0, average_price: null, fee: 0, error: null})
  }

  updateOrder(row: OrderRow): void {
    this.s.updateOrder.run(row)
    this.ordersChanged(row.schedule_id)
    this.trackLive(row)
  }

  private ordersChanged(scheduleId: string | null | undefined): void {
    this.cache.recent = undefined
    this.routes.sliceChanged(scheduleId)
  }

  /** Orders that may still change: intents not yet confirmed, sent and open orders (in cycle, leg order). */
  liveOrders(): OrderRow[] {
    this.cache.live ??= new Map((this.s.liveOrders.all() as OrderRow[]).map((o) => [o.client_order_id, o]))
    return [...this.cache.live.values()]
  }

  /** Keeps the live-orders cache in step with a write: read every cycle, changed only when orders do. */
  private trackLive(row: OrderRow): void {
    if (!this.cache.live) return
    if (LIVE.has(row.status)) this.cache.live.set(row.client_order_id, {...row})
    else this.cache.live.delete(row.client_order_id)
  }

  hasOrder(clientOrderId: string): boolean {
    return this.cache.live?.has(clientOrderId) === true || this.s.hasOrder.get(clientOrderId) !== undefined
  }

  /** Orders adopted in a cycle so far (they take negative legs, clear of the cycle's own). */
  adoptedCount(cycle: number): number {
    return this.s.adoptedCount.get(cycle) as number
  }

  cycleOrders(cycle: number): OrderRow[] {
    return this.s.cycleOrders.all(cycle) as OrderRow[]
  }

  cycleOrderCount(cycle: number): number {
    return this.s.cycleOrderCount.get(cycle) as number
  }

  /** Orders since a time, not rejected or abandoned, oldest first: the duplicate window, read every cycle. */
  recentOrders(sinceTime: number): OrderRow[] {
    const cached = this.cache.recent
    // The window only moves forward: what was read for an earlier start still holds every row, until an order is written.
    if (cached && cached.since <= sinceTime) {
      let i = 0
      while (i < cached.rows.length && cached.rows[i].time < sinceTime) i++
      return cached.rows.slice(i)
    }

    const rows = this.s.recentOrders.all(sinceTime) as OrderRow[]
    this.cache.recent = {since: sinceTime, rows}
    return rows.slice()
  }


  /** Record a fill and move the position and its cost basis (average cost; sells release cost pro rata). */
  recordFill(fill: FillRow): void {
    this.s.insertFill.run(fill)
    this.movePosition(fill)
  }

  /** A trade that is not an order's fill (a convert): the position and its cost basis move the same way. */
  movePosition(trade: Pick<FillRow, 'symbol' | 'side' | 'amount' | 'price' | 'fee'>): void {
    const pos = this.positionMap().get(trade.symbol) ?? {symbol: trade.symbol, amount: 0, cost: 0}
    if (trade.side === 'buy') {
      this.setPosition(trade.symbol, pos.amount + trade.amount, pos.cost + trade.amount * trade.price + trade.fee)
    } else {
      const share = pos.amount > 0 ? Math.min(1, trade.amount / pos.amount) : 1
      this.setPosition(trade.symbol, Math.max(0, pos.amount - trade.amount), pos.cost * (1 - share))
    }
  }

  private setPosition(symbol: string, amount: number, cost: number): void {
    this.s.setPosition.run(symbol, amount, cost)
    this.positionMap().set(symbol, {symbol, amount, cost})
  }

  /** Every position, cached: the snapshot reads them each cycle, fills change them now and then. */
  private positionMap(): Map<string, Position> {
    this.cache.positions ??= new Map((this.s.positions.all() as Position[]).map((p) => [p.symbol, p]))
    return this.cache.positions
  }

  fills(): FillRow[] {
    return this.db.prepare('SELECT client_order_id, time, symbol, side, amount, price, fee FROM fills ORDER BY id').all() as FillRow[]
  }

  positions(): Position[] {
    return [...this.positionMap().values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1))
  }

  /**
   * Adopt a holding bot did not trade (start balance, deposit, withdrawal): only the unexplained difference
   * moves the cost basis, at today's price for an increase and pro rata for a decrease.
   */
  adoptPosition(symbol: string, amount: number, price: number): void {
    const pos = this.positionMap().get(symbol) ?? {symbol, amount: 0, cost: 0}
    const cost = amount >= pos.amount ? pos.cost + (amount - pos.amount) * price : pos.amount > 0 ? pos.cost * (amount / pos.amount) : 0
    this.setPosition(symbol, amount, cost)
  }

  counter(name: string): number {
    if (!this.cache.counters.has(name)) this.cache.counters.set(name, (this.s.getCounter.get(name) as {value: number} | undefined)?.value ?? 0)
    return this.cache.counters.get(name)!
  }

  setCounter(name: string, value: number): void {
    this.s.setCounter.run(name, value)
    this.cache.counters.set(name, value)
  }

  eligibility(): Map<string, string> {
    return new Map((this.s.eligibility.all() as {symbol: string; status: string}[]).map((r) => [r.symbol, r.status]))
  }

  setEligibility(symbol: string, status: string): void {
    this.s.setEligibility.run(symbol, status)
  }
}
