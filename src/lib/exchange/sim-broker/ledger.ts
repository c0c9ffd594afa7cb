import {addTidy, tidy} from '../precision.js'

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
