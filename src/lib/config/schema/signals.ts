import {z} from 'zod'

import {PositiveInt, Symbol} from './common.js'

const Weight = z.number().gt(0).max(10)
const Common = {
  weight: Weight.default(1),
  symbols: z.array(Symbol).default([]).describe('Only score these symbols; empty = every eligible symbol'),
}

const Momentum = z.strictObject({
  type: z.literal('momentum'),
  ...Common,
  lookback_bars: PositiveInt.max(1000).default(24),
  scale_pct: z.number().gt(0).default(5).describe('A return of this many % over the lookback scores 1'),
})

const MaTrend = z.strictObject({
  type: z.literal('ma_trend'),
  ...Common,
  fast_bars: PositiveInt.max(1000).default(12),
  slow_bars: PositiveInt.max(1000).default(48),
  scale_pct: z.number().gt(0).default(2).describe('A fast/slow gap of this many % scores 1'),
}).refine((s) => s.fast_bars < s.slow_bars, {path: ['fast_bars'], message: 'fast_bars must be below slow_bars'})

const Rsi = z.strictObject({
  type: z.literal('rsi'),
  ...Common,
  period: PositiveInt.min(2).max(500).default(14),
  oversold: z.number().min(0).max(100).default(30),
  overbought: z.number().min(0).max(100).default(70),
}).refine((s) => s.oversold < s.overbought, {path: ['oversold'], message: 'oversold must be below overbought'})

export const Signal = z.discriminatedUnion('type', [Momentum, MaTrend, Rsi])

export const SignalsConfig = z.strictObject({
  signals: z.array(Signal).min(1),
  entry_threshold: z.number().min(-1).max(1).default(0.3).describe('Weighted score (-1..1) at or above which a symbol is bought'),
  exit_threshold: z.number().min(-1).max(1).default(-0.1).describe('Score at or below which a held symbol is sold'),
  max_positions: PositiveInt.max(1000).default(5),
}).refine((s) => s.exit_threshold < s.entry_threshold, {path: ['exit_threshold'], message: 'exit_threshold must be below entry_threshold'})

export type SignalsConfig = z.infer<typeof SignalsConfig>
export type SignalConfig = z.infer<typeof Signal>
