import type {SignalConfig} from '../config/schema/signals.js'

/**
 * The last closes of one symbol, in a ring: a push is O(1) and every indicator reads the window on demand.
 * Indicators are pure functions of this window (sums are taken oldest first, in one fixed order), so a run
 * that restarts and refills it from the last bars scores exactly as one that never stopped.
 */
export class CloseWindow {
  private readonly values: Float64Array
  private next = 0
  count = 0

  constructor(readonly size: number) {
    this.values = new Float64Array(size)
  }

  push(value: number): void {
    this.values[this.next] = value
    this.next = this.next + 1 === this.size ? 0 : this.next + 1
    if (this.count < this.size) this.count++
  }

  /** The close `back` bars ago (0 = the latest). */
  at(back: number): number {
    const i = this.next - 1 - back
    return this.values[i < 0 ? i + this.size : i]
  }

  /** Sum of the last `n` closes, oldest first. */
  sumLast(n: number): number {
    let sum = 0
    for (let back = n - 1; back >= 0; back--) sum += this.at(back)
    return sum
  }
}

/** One configured signal: a score in [-1, 1] from a symbol's closes, or null while the window is too short. */
export interface Signal {
  readonly weight: number
  /** Closes it needs. */
  readonly bars: number
  score(w: CloseWindow): number | null
}

const clamp = (x: number) => (x > 1 ? 1 : x < -1 ? -1 : x)

/** Return over `lookback` bars; `scalePct` % scores 1. */
function momentum(weight: number, lookback: number, scalePct: number): Signal {
  return {weight, bars: lookback + 1, score: (w) => (w.count <= lookback ? null : clamp(((w.at(0) / w.at(lookback) - 1) * 100) / scalePct))}
}

/** Fast against slow simple moving average; a gap of `scalePct` % scores 1. */
function maTrend(weight: number, fast: number, slow: number, scalePct: number): Signal {
  return {weight, bars: slow, score: (w) => (w.count < slow ? null : clamp(((w.sumLast(fast) / fast / (w.sumLast(slow) / slow) - 1) * 100) / scalePct))}
}

/**
 * RSI over the last `period` changes with simple averages (Cutler's RSI): a function of the window alone,
 * unlike Wilder's smoothing, which remembers every bar since the start. Oversold scores towards +1,
 * overbought towards -1.
 */
function rsi(weight: number, period: number, oversold: number, overbought: number): Signal {
  return {
    weight,
    bars: period + 1,
    score(w) {
      if (w.count <= period) return null
      let gains = 0
      let losses = 0
      for (let back = period; back >= 1; back--) {
        const change = w.at(back - 1) - w.at(back)
        if (change > 0) gains += change
        else losses -= change
      }

      const r = losses === 0 ? (gains === 0 ? 50 : 100) : 100 - 100 / (1 + gains / losses)
      if (r <= oversold) return (oversold - r) / oversold
      if (r >= overbought) return -(r - overbought) / (100 - overbought)
      return 0
    },
  }
}

export function createSignal(config: SignalConfig): Signal {
  switch (config.type) {
    case 'momentum': return momentum(config.weight, config.lookback_bars, config.scale_pct)
    case 'ma_trend': return maTrend(config.weight, config.fast_bars, config.slow_bars, config.scale_pct)
    case 'rsi': return rsi(config.weight, config.period, config.oversold, config.overbought)
  }
}

/** Closes the configured signals need before they all score: the warm-up's length. */
export function barsNeeded(configs: readonly SignalConfig[]): number {
  return Math.max(1, ...configs.map((c) => createSignal(c).bars))
}
