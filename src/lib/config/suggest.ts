/** Levenshtein distance, small inputs only (config keys). */
function distance(a: string, b: string): number {
  const prev = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = tmp
    }
  }

  return prev[b.length]
}

/** The closest known name, if it is close enough to be a likely typo. */
export function didYouMean(input: string, known: readonly string[]): string | undefined {
  const needle = input.trim().toLowerCase()
  let best: string | undefined
  let bestScore = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const score = distance(needle, candidate.toLowerCase())
    if (score < bestScore) {
      best = candidate
      bestScore = score
    }
  }

  const limit = Math.max(2, Math.floor(needle.length / 3))
  if (best !== undefined && bestScore <= limit) return best
  // A truncated or partly typed key (max_totl -> max_total_at_risk_pct): compare against same-length prefixes.
  if (needle.length >= 4) {
    const prefixed = known.filter((k) => distance(needle, k.toLowerCase().slice(0, needle.length)) <= 1)
    if (prefixed.length === 1) return prefixed[0]
  }

  return undefined
}
