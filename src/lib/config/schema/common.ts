import * as z from 'zod/mini'

/*
 * The schemas use zod's functional "mini" API: the same validation, but schemas are cheap to build and
 * tree-shake, which keeps `bot validate` quick to start. These helpers keep the schema files readable.
 */

/** Attach a description (shown by editors through the exported JSON Schema). */
export function doc<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, {description})
  return schema
}

/** An optional setting with its default, and optionally its description. */
export function opt<T extends z.ZodMiniType>(schema: T, value: z.output<T>, description?: string): z.ZodMiniDefault<T> {
  const s = z._default(schema, value as never)
  return description ? doc(s, description) : s
}

/** A section that may be left out: missing means `{}`, so every default inside still applies. */
export function section<T extends z.ZodMiniType>(schema: T): z.ZodMiniPrefault<T> {
  return z.prefault(schema, {} as never)
}

export interface Bounds {
  min?: number
  gt?: number
  max?: number
}

/** A number, whole if `int`, within the bounds given. */
export function num(bounds: Bounds = {}, int = false): z.ZodMiniNumber<number> {
  const checks = []
  if (bounds.min !== undefined) checks.push(z.gte(bounds.min))
  if (bounds.gt !== undefined) checks.push(z.gt(bounds.gt))
  if (bounds.max !== undefined) checks.push(z.lte(bounds.max))
  const base = int ? z.int() : z.number()
  return checks.length > 0 ? base.check(...checks) : base
}

export const text = (pattern: RegExp, expected: string) => z.string().check(z.regex(pattern, expected))

/** A market symbol in the project's canonical BASE-QUOTE form, e.g. BTC-USD. */
export const Symbol = text(/^[A-Z0-9]{2,12}-[A-Z0-9]{2,6}$/, 'a symbol like BTC-USD (BASE-QUOTE, upper case)')
export const TierName = text(/^[a-z][a-z0-9_]{0,31}$/, 'a tier name like tier1 (lower case, digits, _)')
export const Currency = text(/^[A-Z0-9]{2,6}$/, 'a currency code like USD')
export const EnvName = text(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')

export const NonNegative = () => num({min: 0})
export const Positive = () => num({gt: 0})
export const PositivePct = () => num({gt: 0, max: 100})
export const PositiveInt = (max?: number) => num({gt: 0, max}, true)
export const NonNegativeInt = () => num({min: 0}, true)
export const Probability = () => num({min: 0, max: 1})
export const Severity = z.enum(['info', 'warning', 'critical'])


const DURATION = /^([1-9][0-9]{0,5})(m|h|d)$/

/**
 * A look-back: whole bars (24) or a duration ("24h", "7d", "90m") that the timeframe turns into bars (a
 * cross-check makes sure it is a whole number of them).
 */
export const Bars = (min: number, max: number) => z.union([
  num({min, max}, true),
  text(DURATION, 'a number of bars (24) or a duration like "24h", "7d" or "90m"'),
])

export type BarsInput = number | string

/** "24h" -> 86400000; a number of bars -> null. */
export function durationMs(value: BarsInput): number | null {
  if (typeof value === 'number') return null
  const m = DURATION.exec(value)
  if (!m) return null
  return Number(m[1]) * {m: 60_000, h: 3_600_000, d: 86_400_000}[m[2] as 'm' | 'h' | 'd']
}

/** The bars a look-back means at `barMs`: a number as is, a duration divided by the bar length (may be fractional). */
export function barsOf(value: BarsInput, barMs: number): number {
  const ms = durationMs(value)
  return ms === null ? Number(value) : ms / barMs
}
