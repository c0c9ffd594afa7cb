import * as z from 'zod/mini'

import {num, opt, Positive, PositiveInt, Symbol} from './common.js'

const Common = {
  weight: opt(num({gt: 0, max: 10}), 1),
  symbols: opt(z.array(Symbol), [], 'Only score these symbols; empty = every eligible symbol'),
}

const Momentum = z.strictObject({
  type: z.literal('momentum'),
  ...Common,
  lookback_bars: opt(PositiveInt(1000), 24),
  scale_pct: opt(Positive(), 5, 'A return of this many % over the lookback scores 1'),
})

const MaTrend = z.strictObject({
  type: z.literal('ma_trend'),
  ...Common,
  fast_bars: opt(PositiveInt(1000), 12),
  slow_bars: opt(PositiveInt(1000), 48),
  scale_pct: opt(Positive(), 2, 'A fast/slow gap of this many % scores 1'),
}).check(z.refine((s) => s.fast_bars < s.slow_bars, {path: ['fast_bars'], message: 'fast_bars must be below slow_bars'}))

const Rsi = z.strictObject({
  type: z.literal('rsi'),
  ...Common,
  period: opt(num({min: 2, max: 500}, true), 14),
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

export type SignalsConfig = z.infer<typeof SignalsConfig>
export type SignalConfig = z.infer<typeof Signal>
