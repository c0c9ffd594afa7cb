import type Database from 'better-sqlite3'
import path from 'node:path'

import type {OrderState, OrderType, Side} from '../domain.js'
import {AuditLog, type AuditSeal} from './audit.js'
import {openDatabase} from './database.js'
import {STATE_FILE} from './layout.js'

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
  private readonly s: Record<string, Database.Statement>

  constructor(readonly db: Database.Database, readonly file: string, seal: AuditSeal = {key: null, keyedFrom: null}) {
    this.audit = new AuditLog(db, seal)
    const p = (sql: string) => db.prepare(sql)
    this.s = {
      getMeta: p('SELECT value FROM meta WHERE key = ?'),
      setMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertCycle: p('INSERT INTO cycles (cycle, time, status, equity, cash, exposure_pct, exposure_after_pct, orders, denied, halted) VALUES (@cycle, @time, @status, @equity, @cash, @exposure_pct, @exposure_after_pct, @orders, @denied, @halted)'),
      finishCycle: p("UPDATE cycles SET status = 'done' WHERE cycle = ?"),
      lastCycle: p('SELECT * FROM cycles ORDER BY cycle DESC LIMIT 1'),
      insertOrder: p('INSERT INTO orders (client_order_id, cycle, leg, time, symbol, side, type, amount, price, action, reason, status) VALUES (@client_order_id, @cycle, @leg, @time, @symbol, @side, @type, @amount, @price, @action, @reason, @status)'),
      updateOrder: p('UPDATE orders SET status = @status, exchange_order_id = @exchange_order_id, filled = @filled, average_price = @average_price, fee = @fee, error = @error WHERE client_order_id = @client_order_id'),
      liveOrders: p("SELECT * FROM orders WHERE status IN ('intent', 'sent', 'open') ORDER BY cycle, leg"),
      cycleOrders: p('SELECT * FROM orders WHERE cycle = ? ORDER BY leg'),
      recentOrders: p("SELECT * FROM orders WHERE time >= ? AND status NOT IN ('rejected', 'abandoned') ORDER BY cycle, leg"),
      insertFill: p('INSERT INTO fills (client_order_id, time, symbol, side, amount, price, fee) VALUES (@client_order_id, @time, @symbol, @side, @amount, @price, @fee)'),
      getPosition: p('SELECT amount, cost FROM positions WHERE symbol = ?'),
      setPosition: p('INSERT INTO positions (symbol, amount, cost) VALUES (?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET amount = excluded.amount, cost = excluded.cost'),
      positions: p('SELECT symbol, amount, cost FROM positions ORDER BY symbol'),
      getCounter: p('SELECT value FROM counters WHERE name = ?'),
      setCounter: p('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
      anchors: p('SELECT symbol, first_bar_time FROM anchors'),
      setAnchor: p('INSERT OR IGNORE INTO anchors (symbol, first_bar_time) VALUES (?, ?)'),
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
   * FULL (the default) syncs every commit, so an intent survives a power cut before its order leaves.
   * NORMAL syncs at checkpoints only: enough against a crashed process.
   */
  setDurability(level: 'full' | 'normal'): void {
    this.db.pragma(`synchronous = ${level === 'full' ? 'FULL' : 'NORMAL'}`)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  /**
   * A cycle's unit of work: everything a cycle writes commits together (few commits, so a fast replay), and
   * `checkpoint` makes it durable where it must be, such as before any order is sent. A crash in between
   * loses only what the next cycle recomputes from the exchange anyway.
   */
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE')
  }

  checkpoint(): void {
    if (!this.db.inTransaction) return
    this.db.exec('COMMIT')
    this.db.exec('BEGIN IMMEDIATE')
  }

  commit(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT')
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK')
    this.audit.reload()
  }

  /** Run `fn` atomically (a savepoint inside a cycle's unit of work); on failure the audit head is re-read. */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)()
    } catch (error) {
      this.audit.reload()
      throw error
    }
  }

  getMeta(key: string): string | null {
    return (this.s.getMeta.get(key) as {value: string} | undefined)?.value ?? null
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value)
  }

  insertCycle(row: CycleRow): void {
    this.s.insertCycle.run(row)
  }

  finishCycle(cycle: number): void {
    this.s.finishCycle.run(cycle)
  }

  lastCycle(): CycleRow | null {
    return (this.s.lastCycle.get() as CycleRow | undefined) ?? null
  }

  cycles(): CycleRow[] {
    return this.db.prepare('SELECT * FROM cycles ORDER BY cycle').all() as CycleRow[]
  }

  insertOrder(row: Omit<OrderRow, 'exchange_order_id' | 'filled' | 'average_price' | 'fee' | 'error'>): void {
    this.s.insertOrder.run(row)
  }

  updateOrder(row: OrderRow): void {
    this.s.updateOrder.run(row)
  }


  /** Orders that may still change: intents not yet confirmed, sent and open orders. */
  liveOrders(): OrderRow[] {
    return this.s.liveOrders.all() as OrderRow[]
  }

  cycleOrders(cycle: number): OrderRow[] {
    return this.s.cycleOrders.all(cycle) as OrderRow[]
  }

  recentOrders(sinceTime: number): OrderRow[] {
    return this.s.recentOrders.all(sinceTime) as OrderRow[]
  }


  /** Record a fill and move the position and its cost basis (average cost; sells release cost pro rata). */
  recordFill(fill: FillRow): void {
    this.s.insertFill.run(fill)
    const pos = (this.s.getPosition.get(fill.symbol) as {amount: number; cost: number} | undefined) ?? {amount: 0, cost: 0}
    if (fill.side === 'buy') {
      this.s.setPosition.run(fill.symbol, pos.amount + fill.amount, pos.cost + fill.amount * fill.price + fill.fee)
    } else {
      const share = pos.amount > 0 ? Math.min(1, fill.amount / pos.amount) : 1
      this.s.setPosition.run(fill.symbol, Math.max(0, pos.amount - fill.amount), pos.cost * (1 - share))
    }
  }

  fills(): FillRow[] {
    return this.db.prepare('SELECT client_order_id, time, symbol, side, amount, price, fee FROM fills ORDER BY id').all() as FillRow[]
  }

  positions(): {symbol: string; amount: number; cost: number}[] {
    return this.s.positions.all() as {symbol: string; amount: number; cost: number}[]
  }

  /**
   * Adopt a holding bot did not trade (start balance, deposit, withdrawal): only the unexplained difference
   * moves the cost basis, at today's price for an increase and pro rata for a decrease.
   */
  adoptPosition(symbol: string, amount: number, price: number): void {
    const pos = (this.s.getPosition.get(symbol) as {amount: number; cost: number} | undefined) ?? {amount: 0, cost: 0}
    const cost = amount >= pos.amount ? pos.cost + (amount - pos.amount) * price : pos.amount > 0 ? pos.cost * (amount / pos.amount) : 0
    this.s.setPosition.run(symbol, amount, cost)
  }

  counter(name: string): number {
    return (this.s.getCounter.get(name) as {value: number} | undefined)?.value ?? 0
  }

  setCounter(name: string, value: number): void {
    this.s.setCounter.run(name, value)
  }

  anchors(): Map<string, number> {
    return new Map((this.s.anchors.all() as {symbol: string; first_bar_time: number}[]).map((r) => [r.symbol, r.first_bar_time]))
  }

  setAnchor(symbol: string, firstBarTime: number): void {
    this.s.setAnchor.run(symbol, firstBarTime)
  }

  eligibility(): Map<string, string> {
    return new Map((this.s.eligibility.all() as {symbol: string; status: string}[]).map((r) => [r.symbol, r.status]))
  }

  setEligibility(symbol: string, status: string): void {
    this.s.setEligibility.run(symbol, status)
  }
}
