import {durationText, TIMEFRAME_MS} from '../domain.js'
import type {PathSegment} from './issues.js'
import type {AppConfig, AppInput} from './schema/app.js'
import {barsOf, type BarsInput, durationMs} from './schema/common.js'
import type {SignalsConfig, SignalsInput} from './schema/signals.js'

/** A look-back as written, where it is, and the bars it may span. */
interface Lookback {
  file: 'app' | 'signals'
  path: PathSegment[]
  value: BarsInput
  min: number
  max: number
}

function lookbacks(app: AppInput, signals: SignalsInput | undefined): Lookback[] {
  const out: Lookback[] = [{file: 'app', path: ['exchange', 'sim', 'warmup_bars'], value: app.exchange.sim.warmup_bars, min: 0, max: 1_000_000}]
  for (const [i, s] of (signals?.signals ?? []).entries()) {
    const at = (key: string, value: BarsInput, min: number, max: number) => out.push({file: 'signals', path: ['signals', i, key], value, min, max})
    if (s.type === 'momentum') at('lookback_bars', s.lookback_bars, 1, 1000)
    else if (s.type === 'ma_trend') {
      at('fast_bars', s.fast_bars, 1, 1000)
      at('slow_bars', s.slow_bars, 1, 1000)
    } else at('period', s.period, 2, 500)
  }

  return out
}

/** Durations that are not a whole number of bars of the timeframe, or too few or too many of them. */
export function checkLookbacks(app: AppInput, signals: SignalsInput | undefined, report: (file: 'app' | 'signals', path: PathSegment[], message: string, code: string) => void): void {
  const barMs = TIMEFRAME_MS[app.exchange.timeframe]
  const tf = `the ${app.exchange.timeframe} timeframe (exchange.timeframe in app.yaml)`
  for (const l of lookbacks(app, signals)) {
    if (durationMs(l.value) === null) continue
    const bars = barsOf(l.value, barMs)
    if (!Number.isInteger(bars)) report(l.file, l.path, `${l.value} is not a whole number of bars of ${tf}`, 'not_whole_bars')
    else if (bars < l.min || bars > l.max) report(l.file, l.path, `${l.value} is ${bars} bar${bars === 1 ? '' : 's'} of ${tf}; expected ${l.min} to ${l.max}`, 'bars_out_of_range')
  }

  for (const [i, s] of (signals?.signals ?? []).entries()) {
    if (s.type === 'ma_trend' && typeof s.fast_bars !== typeof s.slow_bars && barsOf(s.fast_bars, barMs) >= barsOf(s.slow_bars, barMs)) {
      report('signals', ['signals', i, 'fast_bars'], 'fast_bars must be below slow_bars', 'custom')
    }
  }
}

/** The configuration with every look-back in bars of the timeframe (run only once it validated). */
export function resolveLookbacks(app: AppInput, signals: SignalsInput): {app: AppConfig; signals: SignalsConfig} {
  const barMs = TIMEFRAME_MS[app.exchange.timeframe]
  const bars = (v: BarsInput) => barsOf(v, barMs)
  return {
    app: {...app, exchange: {...app.exchange, sim: {...app.exchange.sim, warmup_bars: bars(app.exchange.sim.warmup_bars)}}},
    signals: {
      ...signals,
      signals: signals.signals.map((s) => (s.type === 'momentum' ? {...s, lookback_bars: bars(s.lookback_bars)}
        : s.type === 'ma_trend' ? {...s, fast_bars: bars(s.fast_bars), slow_bars: bars(s.slow_bars)}
          : {...s, period: bars(s.period)})),
    },
  }
}

/** "momentum 24 bars (1d), ma_trend 12/48 bars (12h/2d), rsi 14 bars (14h)": what the look-backs mean in time. */
export function describeLookbacks(signals: SignalsConfig, barMs: number): string {
  const t = (n: number) => durationText(n * barMs)
  return signals.signals.map((s) => (s.type === 'momentum' ? `momentum ${s.lookback_bars} bars (${t(s.lookback_bars)})`
    : s.type === 'ma_trend' ? `ma_trend ${s.fast_bars}/${s.slow_bars} bars (${t(s.fast_bars)}/${t(s.slow_bars)})`
      : `rsi ${s.period} bars (${t(s.period)})`)).join(', ')
}
