import {z} from 'zod'

/** A market symbol in the project's canonical BASE-QUOTE form, e.g. BTC-USD. */
export const Symbol = z
  .string()
  .regex(/^[A-Z0-9]{2,12}-[A-Z0-9]{2,6}$/, 'a symbol like BTC-USD (BASE-QUOTE, upper case)')

export const TierName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a tier name like tier1 (lower case, digits, _)')

export const Pct = z.number().min(0).max(100)
export const PositivePct = z.number().gt(0).max(100)
export const NonNegative = z.number().min(0)
export const Positive = z.number().gt(0)
export const PositiveInt = z.number().int().gt(0)
export const NonNegativeInt = z.number().int().min(0)
export const Port = z.number().int().min(1).max(65535)
export const Currency = z.string().regex(/^[A-Z0-9]{2,6}$/, 'a currency code like USD')
