import * as z from 'zod/mini'

import {Bars, type BarsInput, durationMs, num, opt, Positive, PositiveInt, Symbol} from './common.js'

/** Two look-backs written the same way (both bars, or both durations) compare here; mixed ones once the timeframe is known. */
const comparable = (a: BarsInput, b: BarsInput) => typeof a === typeof b
const size = (v: BarsInput) => durationMs(v) ?? Number(v)

const Common = {
  weight: opt(num({gt: 0, max: 10}), 1),
  symbols: opt(z.array(Symbol), [], 'Only score these symbols; empty = every eligible symbol'),
}

const Momentum = z.strictObject({
  type: z.literal('momentum'),
  ...Common,
  lookback_bars: opt(Bars(1, 1000), 24, 'Bars (24) or a duration of whole bars ("1d")'),
  scale_pct: opt(Positive(), 5, 'A return of this many % over the lookback scores 1'),
})

const MaTrend = z.strictObject({
  type: z.literal('ma_trend'),
  ...Common,
  fast_bars: opt(Bars(1, 1000), 12, 'Bars (12) or a duration of whole bars ("12h")'),
  slow_bars: opt(Bars(1, 1000), 48, 'Bars (48) or a duration of whole bars ("2d")'),
  scale_pct: opt(Positive(), 2, 'A fast/slow gap of this many % scores 1'),
}).check(z.refine((s) => !comparable(s.fast_bars, s.slow_bars) || size(s.fast_bars) < size(s.slow_bars), {path: ['fast_bars'], message: 'fast_bars must be below slow_bars'}))

const Rsi = z.strictObject({
  type: z.literal('rsi'),
  ...Common,
  period: opt(Bars(2, 500), 14, 'Bars (14) or a duration of whole bars ("14h")'),
  oversold: opt(num({min: 0, max: 100}), 30),
  overbought: opt(num({min: 0, max: 100}), 70),
}).check(z.refine((s) => s.oversold < s.overbought, {path: ['oversold'], message: 'oversold must be below overbought'}))

export const Signal = z.discriminatedUnion('type', [Momentum, MaTrend, Rsi])

export const SignalsConfig = z.strictObject({
  signals: z.array(Signal).check(z.minLength(1)),
  entry_threshold: opt(num({min: -1, max: 1}), 0.3, 'Weighted score (-1..1) at or above which a symbol is bought'),
  exit_threshold: opt(num({min: -1, max: 1}), -0.1, 'Score at or below which a held symbol is sold'),
  max_positions: opt(PositiveInt(1000), 5),
}).check(z.refine((s) => s.exit_threshold < s.entry_threshold, {path: ['exit_threshold'], message: 'exit_threshold must be below entry_threshold'}))

/** As written: look-backs in bars or as durations. */
export type SignalsInput = z.infer<typeof SignalsConfig>
type SignalInput = z.infer<typeof Signal>
/** Every look-back resolved to bars of the timeframe (see config/lookbacks.ts). */
type InBars<T> = {[K in keyof T]: T[K] extends BarsInput ? (BarsInput extends T[K] ? number : T[K]) : T[K]}
export type SignalConfig = InBars<SignalInput>
export type SignalsConfig = Omit<SignalsInput, 'signals'> & {signals: SignalConfig[]}
