import type {Candle} from '../exchange/port.js'
import type {SignalsConfig} from '../config/schema/signals.js'
import {createSignal, type SignalState} from './indicators.js'

interface SymbolState {
  lastBarTime: number
  signals: SignalState[]
}

/**
 * Incremental indicator state for every symbol: each closed bar is fed once, in order, so a cycle costs
 * O(1) per symbol. The first bar fed per symbol is its anchor; replaying from the same anchor after a
 * restart rebuilds exactly the same state.
 */
export class SignalBook {
  private readonly states = new Map<string, SymbolState>()

  constructor(private readonly config: SignalsConfig) {}

  /** Time of the last bar fed for `symbol`, or -1. */
  lastBarTime(symbol: string): number {
    return this.states.get(symbol)?.lastBarTime ?? -1
  }

  feed(symbol: string, bars: readonly Candle[]): void {
    let state = this.states.get(symbol)
    if (!state) {
      const signals = this.config.signals.filter((s) => s.symbols.length === 0 || s.symbols.includes(symbol)).map((s) => createSignal(s))
      state = {lastBarTime: -1, signals}
      this.states.set(symbol, state)
    }

    for (const bar of bars) {
      if (bar.time <= state.lastBarTime) continue
      for (const s of state.signals) s.update(bar.close)
      state.lastBarTime = bar.time
    }
  }

  /** Weighted mean of the signals' scores in [-1, 1]; null until every signal has enough history. */
  score(symbol: string): number | null {
    const state = this.states.get(symbol)
    if (!state) return null
    let sum = 0
    let weights = 0
    for (const s of state.signals) {
      const v = s.score()
      if (v === null) return null
      sum += v * s.weight
      weights += s.weight
    }

    return weights > 0 ? sum / weights : null
  }
}
