import {RSI} from 'trading-signals'

import type {SignalConfig} from '../config/schema/signals.js'

/** Fixed-size ring buffer with a running sum: O(1) per bar for moving averages and look-backs. */
export class RollingWindow {
  private readonly values: Float64Array
  private next = 0
  private count = 0
  sum = 0

  constructor(readonly size: number) {
    this.values = new Float64Array(size)
  }

  get full(): boolean {
    return this.count === this.size
  }

  /** The value that was pushed `size - 1` pushes ago (the oldest in the window). */
  get oldest(): number {
    return this.values[this.full ? this.next : 0]
  }

  get mean(): number {
    return this.sum / this.count
  }

  push(value: number): void {
    if (this.full) this.sum -= this.values[this.next]
    else this.count++
    this.values[this.next] = value
    this.sum += value
    this.next = (this.next + 1) % this.size
  }
}

/** One configured signal's state for one symbol; `score` is in [-1, 1], or null while warming up. */
export interface SignalState {
  readonly weight: number
  update(close: number): void
  score(): number | null
}

const clamp = (x: number) => (x > 1 ? 1 : x < -1 ? -1 : x)

class Momentum implements SignalState {
  private readonly window: RollingWindow
  private last = 0
  constructor(readonly weight: number, lookback: number, private readonly scalePct: number) {
    this.window = new RollingWindow(lookback + 1)
  }

  update(close: number): void {
    this.window.push(close)
    this.last = close
  }

  score(): number | null {
    if (!this.window.full) return null
    return clamp(((this.last / this.window.oldest - 1) * 100) / this.scalePct)
  }
}

class MaTrend implements SignalState {
  private readonly fast: RollingWindow
  private readonly slow: RollingWindow
  constructor(readonly weight: number, fast: number, slow: number, private readonly scalePct: number) {
    this.fast = new RollingWindow(fast)
    this.slow = new RollingWindow(slow)
  }

  update(close: number): void {
    this.fast.push(close)
    this.slow.push(close)
  }

  score(): number | null {
    if (!this.slow.full) return null
    return clamp(((this.fast.mean / this.slow.mean - 1) * 100) / this.scalePct)
  }
}

/** RSI (Wilder smoothing) from trading-signals; oversold scores towards +1, overbought towards -1. */
class RsiSignal implements SignalState {
  private readonly rsi: RSI
  constructor(readonly weight: number, period: number, private readonly oversold: number, private readonly overbought: number) {
    this.rsi = new RSI(period)
  }

  update(close: number): void {
    this.rsi.update(close, false)
  }

  score(): number | null {
    if (!this.rsi.isStable) return null
    const r = this.rsi.getResultOrThrow()
    if (r <= this.oversold) return (this.oversold - r) / this.oversold
    if (r >= this.overbought) return -(r - this.overbought) / (100 - this.overbought)
    return 0
  }
}

export function createSignal(config: SignalConfig): SignalState {
  switch (config.type) {
    case 'momentum': return new Momentum(config.weight, config.lookback_bars, config.scale_pct)
    case 'ma_trend': return new MaTrend(config.weight, config.fast_bars, config.slow_bars, config.scale_pct)
    case 'rsi': return new RsiSignal(config.weight, config.period, config.oversold, config.overbought)
  }
}

/** Bars of history the configured signals need before they all score. */
export function barsNeeded(configs: readonly SignalConfig[]): number {
  let n = 1
  for (const c of configs) {
    const need = c.type === 'momentum' ? c.lookback_bars + 1 : c.type === 'ma_trend' ? c.slow_bars : c.period * 2 + 1
    n = Math.max(n, need)
  }

  return n
}
