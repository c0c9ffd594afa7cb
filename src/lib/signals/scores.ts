import type {SignalsConfig} from '../config/schema/signals.js'
import type {BarColumns} from '../domain.js'
import type {PriceGuard} from '../market/price-guard.js'
import {CloseWindow, createSignal, type Signal} from './indicators.js'

interface SymbolState {
  lastBarTime: number
  window: CloseWindow
  signals: Signal[]
  /** The close of a bar that jumped suspiciously: fed only if the next bar confirms it (NaN: none held). */
  held: number
}

/**
 * Every symbol's recent closes and the signals that read them: each closed bar is fed once, in order (O(1)),
 * and scores are computed when asked. Scores depend on the last closes only, so warming up from the last
 * bars after a restart rebuilds exactly the same state. A bar that `guard` finds suspect is held back until
 * the next bar confirms it (both are fed) or clears it (it is dropped).
 */
export class SignalBook {
  private readonly states = new Map<string, SymbolState>()

  constructor(private readonly config: SignalsConfig, readonly guard: PriceGuard) {}

  /** Time of the last bar fed for `symbol`, or -1. */
  lastBarTime(symbol: string): number {
    return this.states.get(symbol)?.lastBarTime ?? -1
  }

  /** Forgets a symbol (its bars and its price guard's view): the next bars fed start it afresh. */
  reset(symbol: string): void {
    this.states.delete(symbol)
    this.guard.forget(symbol)
  }

  /** Feeds rows from..to-1 of `bars` (closed bars, oldest first); bars already fed are skipped. */
  feed(symbol: string, bars: BarColumns, from = 0, to = bars.time.length): void {
    let state = this.states.get(symbol)
    if (!state) {
      const signals = this.config.signals.filter((s) => s.symbols.length === 0 || s.symbols.includes(symbol)).map((s) => createSignal(s))
      state = {lastBarTime: -1, window: new CloseWindow(Math.max(1, ...signals.map((s) => s.bars))), signals, held: Number.NaN}
      this.states.set(symbol, state)
    }

    const {time, close} = bars
    for (let i = from; i < to; i++) {
      if (time[i] <= state.lastBarTime) continue
      state.lastBarTime = time[i]
      const verdict = this.guard.check(symbol, close[i]).verdict
      if (verdict === 'suspect') {
        state.held = close[i]
        continue
      }

      if (verdict === 'confirmed' && !Number.isNaN(state.held)) state.window.push(state.held)
      state.held = Number.NaN
      state.window.push(close[i])
    }
  }

  /** Weighted mean of the signals' scores in [-1, 1]; null until every signal has enough history. */
  score(symbol: string): number | null {
    const state = this.states.get(symbol)
    if (!state) return null
    let sum = 0
    let weights = 0
    for (const s of state.signals) {
      const v = s.score(state.window)
      if (v === null) return null
      sum += v * s.weight
      weights += s.weight
    }

    return weights > 0 ? sum / weights : null
  }
}
