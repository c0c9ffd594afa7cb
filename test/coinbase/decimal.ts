import {stepsOf, tidy} from '../../src/lib/exchange/precision.js'

/** Decimal strings as Coinbase writes and reads them: plain notation, never an exponent. */

const DECIMAL_RE = /^\d+(\.\d+)?$/

/** A non-negative decimal string as a number, or null for anything else ("1e-8", "", " 1", "-1"). */
export function parseDecimal(value: unknown): number | null {
  return typeof value === 'string' && DECIMAL_RE.test(value) ? Number(value) : null
}

/** `x` written the way Coinbase does: "0.00000001", "37040.5", "150000000"; 12 significant digits at most. */
export function dec(x: number): string {
  const v = tidy(x)
  if (v === 0) return '0'
  const fixed = v.toFixed(Math.max(0, 12 - Math.floor(Math.log10(Math.abs(v)))))
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed
}

export function floorToStep(x: number, step: number): number {
  return tidy(Math.floor(x / step + 1e-9) * step)
}

export function ceilToStep(x: number, step: number): number {
  return tidy(Math.ceil(x / step - 1e-9) * step)
}

/** Whether `x` is a whole number of `step`s (1e-9 relative tolerance for binary noise). */
export function isMultipleOf(x: number, step: number): boolean {
  return stepsOf(x, step) >= 0
}
