/** Decimal places of a step like 0.001 (3) or 0.5 (1); steps are what exchanges publish. */
export function stepDecimals(step: number): number {
  if (!(step > 0)) return 0
  const text = step.toExponential()
  const [mantissa, exp] = text.split('e')
  const fraction = mantissa.split('.')[1]?.length ?? 0
  return Math.max(0, fraction - Number(exp))
}

/** Largest multiple of `step` not above `amount`, free of binary fractions like 0.30000000000000004. */
export function floorToStep(amount: number, step: number): number {
  if (!(amount > 0) || !(step > 0)) return 0
  const units = Math.floor(amount / step + 1e-9)
  return Number((units * step).toFixed(stepDecimals(step)))
}

/** Smallest multiple of `step` not below `amount`. */
export function ceilToStep(amount: number, step: number): number {
  if (!(amount > 0) || !(step > 0)) return 0
  const units = Math.ceil(amount / step - 1e-9)
  return Number((units * step).toFixed(stepDecimals(step)))
}

export function isMultipleOf(amount: number, step: number): boolean {
  if (!(step > 0)) return true
  const units = amount / step
  return Math.abs(units - Math.round(units)) <= 1e-6
}
