import type Database from 'better-sqlite3'

import type {ConvertQuote, Side} from '../domain.js'

/** A convert bot decided on, stored before anything is sent (its id is deterministic, like an order's). */
export interface ConversionRow {
  id: string
  cycle: number
  leg: number
  time: number
  from_ccy: string
  to_ccy: string
  /** Of from_ccy. */
  amount: number
  /** The market the fallback trades on. */
  symbol: string
  action: string
  reason: string
  /** intent -> quoted (a quote is held, its commit may be out) -> completed | fell_back | abandoned. */
  status: 'intent' | 'quoted' | 'completed' | 'fell_back' | 'abandoned'
  attempts: number
  /** The quote being committed (JSON), so a commit whose answer was lost is looked up, not sent anew. */
  quote: string | null
  received: number
  fee: number
  error: string | null
}

/** A TWAP sell: slices are orders (orders.schedule_id), one sent each time one is due on the venue's clock. */
export interface ScheduleRow {
  id: string
  cycle: number
  time: number
  symbol: string
  side: Side
  total: number
  slices: number
  spacing_ms: number
  /** Slices sent so far. */
  sent: number
  next_at: number
  action: string
  reason: string
  /** failed: a slice was refused with nothing filled; what is left is free again for the strategy to re-plan. */
  status: 'active' | 'done' | 'dust' | 'stopped' | 'failed'
  note: string | null
}

interface SliceProgressRow {
  filled: number
  pending: number
  failure: string | null
}

/** The conversions and TWAP schedules of bot.sqlite (schema 4). Call inside the store's transactions. */
export class RouteStore {
  private readonly s: Record<string, Database.Statement>
  // Read several times a cycle, changed only when a schedule or a conversion does.
  private active: ScheduleRow[] | null = null
  private open: ConversionRow[] | null = null
  /** Per schedule, what its slices add up to; dropped when one of its slices is written (see sliceChanged). */
  private progress = new Map<string, SliceProgressRow>()
  /** The latest cycle with a conversion (undefined = not read yet): most cycles have none to look up. */
  private lastConversionCycle: number | undefined

  constructor(db: Database.Database) {
    const p = (sql: string) => db.prepare(sql)
    this.s = {
      insertConversion: p('INSERT INTO conversions (id, cycle, leg, time, from_ccy, to_ccy, amount, symbol, action, reason, status) VALUES (@id, @cycle, @leg, @time, @from_ccy, @to_ccy, @amount, @symbol, @action, @reason, @status)'),
      updateConversion: p('UPDATE conversions SET status = @status, attempts = @attempts, quote = @quote, received = @received, fee = @fee, error = @error WHERE id = @id'),
      openConversions: p("SELECT * FROM conversions WHERE status IN ('intent', 'quoted') ORDER BY cycle, leg"),
      cycleConversions: p('SELECT * FROM conversions WHERE cycle = ? ORDER BY leg'),
      lastConversionCycle: p('SELECT coalesce(max(cycle), 0) FROM conversions').pluck(),
      insertSchedule: p('INSERT INTO schedules (id, cycle, time, symbol, side, total, slices, spacing_ms, sent, next_at, action, reason, status) VALUES (@id, @cycle, @time, @symbol, @side, @total, @slices, @spacing_ms, @sent, @next_at, @action, @reason, @status)'),
      updateSchedule: p('UPDATE schedules SET sent = @sent, next_at = @next_at, status = @status, note = @note WHERE id = @id'),
      activeSchedules: p("SELECT * FROM schedules WHERE status = 'active' ORDER BY cycle, id"),
      schedule: p('SELECT * FROM schedules WHERE id = ?'),
      lastSlice: p('SELECT status, filled, error FROM orders WHERE schedule_id = ? ORDER BY cycle DESC, leg DESC LIMIT 1'),
      sliceFills: p("SELECT coalesce(sum(filled), 0) AS filled, coalesce(sum(CASE WHEN status IN ('intent', 'sent', 'open') THEN amount - filled ELSE 0 END), 0) AS pending FROM orders WHERE schedule_id = ?"),
    }
  }

  insertConversion(row: Omit<ConversionRow, 'attempts' | 'quote' | 'received' | 'fee' | 'error'>): void {
    this.s.insertConversion.run(row)
    this.open = null
    this.lastConversionCycle = Math.max(this.lastConversionCycle ?? 0, row.cycle)
  }

  updateConversion(row: ConversionRow): void {
    this.s.updateConversion.run(row)
    this.open = null
  }

  /** Conversions whose outcome is not known yet. */
  openConversions(): ConversionRow[] {
    this.open ??= this.s.openConversions.all() as ConversionRow[]
    return this.open
  }

  cycleConversions(cycle: number): ConversionRow[] {
    this.lastConversionCycle ??= this.s.lastConversionCycle.get() as number
    return cycle > this.lastConversionCycle ? [] : (this.s.cycleConversions.all(cycle) as ConversionRow[])
  }

  insertSchedule(row: Omit<ScheduleRow, 'note'>): void {
    this.s.insertSchedule.run(row)
    this.active = null
  }

  updateSchedule(row: ScheduleRow): void {
    this.s.updateSchedule.run(row)
    this.active = null
  }

  activeSchedules(): ScheduleRow[] {
    this.active ??= this.s.activeSchedules.all() as ScheduleRow[]
    return this.active
  }

  /** Forgets what it read: after a rolled-back transaction, the database is the truth again. */
  forget(): void {
    this.active = null
    this.open = null
    this.progress.clear()
    this.lastConversionCycle = undefined
  }

  /** An order was written: a slice of `scheduleId` (null: of none; undefined: not known, so of any). */
  sliceChanged(scheduleId: string | null | undefined): void {
    if (scheduleId === undefined) this.progress.clear()
    else if (scheduleId !== null) this.progress.delete(scheduleId)
  }

  schedule(id: string): ScheduleRow | undefined {
    return this.s.schedule.get(id) as ScheduleRow | undefined
  }

  /** What a schedule's slices filled, and what they still have on the way (intents and open orders). */
  sliceProgress(id: string): {filled: number; pending: number} {
    return this.slices(id)
  }

  /** Why the schedule's latest slice ended with nothing filled (rejected, cancelled, abandoned), or null. */
  lastSliceFailure(id: string): string | null {
    return this.slices(id).failure
  }

  /** Read every cycle for every active schedule, changed only when one of its slices is. */
  private slices(id: string): SliceProgressRow {
    let row = this.progress.get(id)
    if (!row) {
      const {filled, pending} = this.s.sliceFills.get(id) as {filled: number; pending: number}
      const last = this.s.lastSlice.get(id) as {status: string; filled: number; error: string | null} | undefined
      const failed = last !== undefined && last.filled === 0 && ['rejected', 'canceled', 'abandoned'].includes(last.status)
      row = {filled, pending, failure: failed ? `${last.status}${last.error ? `: ${last.error}` : ''}` : null}
      this.progress.set(id, row)
    }

    return row
  }
}

export const parseQuote = (row: ConversionRow): ConvertQuote | null => (row.quote ? (JSON.parse(row.quote) as ConvertQuote) : null)
