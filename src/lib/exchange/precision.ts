/** Step sizes and float hygiene for the simulated exchange. */

import type {MarketInfo} from '../domain.js'

/** 10^k written as a decimal literal: exact where `10 ** -5` is not (0.000009999999999999999). */
export function pow10(k: number): number {
  return Number(`1e${k}`)
}

const MIN_STEP_EXP = -8

/** Price increment giving about 5 significant digits at `price` (37040 -> 1, 2.18 -> 0.0001), >= 1e-8. */
export function priceStepFor(price: number): number {
  return pow10(Math.max(MIN_STEP_EXP, Math.floor(Math.log10(price)) - 4))
}

/** Amount increment: the power of ten nearest to 0.01 quote worth of base, within [1e-8, 1]. */
export function amountStepFor(price: number): number {
  return pow10(Math.min(0, Math.max(MIN_STEP_EXP, Math.round(Math.log10(0.01 / price)))))
}

/** Whole number of steps in `x`, or -1 when `x` is not a multiple of `step` (1e-9 relative tolerance). */
export function stepsOf(x: number, step: number): number {
  const n = Math.round(x / step)
  return Math.abs(n * step - x) <= 1e-9 * Math.abs(x) ? n : -1
}

/** Rounds to 12 significant digits, so repeated add/subtract does not accumulate binary noise. */
export function tidy(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x
  const v = Number(x.toPrecision(12))
  // Dust left by rounding must never show up as a negative balance.
  return v < 0 && v > -1e-9 ? 0 : v
}

/** a + b, tidied; a result that is only cancellation noise of its operands becomes exactly 0. */
export function addTidy(a: number, b: number): number {
  const r = a + b
  return Math.abs(r) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)) ? 0 : tidy(r)
}

/** A sim market's rules, derived from the price level of its first bar, with the venue's fees. */
export function marketInfoOf(symbol: string, firstClose: number, fees: {makerBps: number; takerBps: number}): MarketInfo {
  const [base, quote] = symbol.split('-')
  const amountStep = amountStepFor(firstClose)
  const priceStep = priceStepFor(firstClose)
  return {symbol, base, quote, amountStep, priceStep, minAmount: amountStep, minNotional: 1, maxAmount: null, ...fees}
}
