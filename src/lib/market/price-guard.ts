/**
 * A price that jumps further than `max_bar_move_pct` from the last good one is held as suspect: one bad tick
 * (a fat-fingered print, a feed glitch, a 100x bar) must not be valued, traded on or fed to the indicators.
 * The next price decides: near the suspect one, the move was real (confirmed); near the last good one, it
 * was a glitch (cleared). Pure and deterministic, so replaying the same prices after a restart rebuilds it.
 */
export type PriceVerdict = 'ok' | 'suspect' | 'confirmed' | 'cleared'

export interface PriceCheck {
  verdict: PriceVerdict
  /** The price to use: the new one, or the last good one while the new one is suspect. */
  trusted: number
  /** Move from the last good price, %. */
  movePct: number
}

/** A symbol's last good price and the suspect one held since (NaN: none). */
interface Seen {
  good: number
  suspect: number
}

export class PriceGuard {
  // One entry per symbol, updated in place: checked for every symbol every cycle.
  private readonly seen = new Map<string, Seen>()

  constructor(private readonly maxMovePct: number) {}

  check(symbol: string, price: number): PriceCheck {
    const seen = this.seen.get(symbol)
    if (seen === undefined) {
      this.seen.set(symbol, {good: price, suspect: Number.NaN})
      return {verdict: 'ok', trusted: price, movePct: 0}
    }

    const movePct = movePctOf(seen.good, price)
    const held = seen.suspect
    if (movePct <= this.maxMovePct) {
      seen.good = price
      seen.suspect = Number.NaN
      return {verdict: Number.isNaN(held) ? 'ok' : 'cleared', trusted: price, movePct}
    }

    if (!Number.isNaN(held) && movePctOf(held, price) <= this.maxMovePct) {
      seen.good = price
      seen.suspect = Number.NaN
      return {verdict: 'confirmed', trusted: price, movePct}
    }

    seen.suspect = price
    return {verdict: 'suspect', trusted: seen.good, movePct}
  }

  /** The price to trust for `price` now, without judging it (the state is left as it is). */
  peek(symbol: string, price: number): number {
    const good = this.seen.get(symbol)?.good
    return good === undefined || movePctOf(good, price) <= this.maxMovePct ? price : good
  }

  /** The last good price, if any. */
  lastGood(symbol: string): number | undefined {
    return this.seen.get(symbol)?.good
  }

  forget(symbol: string): void {
    this.seen.delete(symbol)
  }

  /** Starts a symbol from a price known to be good (e.g. the last close the indicators accepted). */
  seed(symbol: string, price: number): void {
    if (!this.seen.has(symbol)) this.seen.set(symbol, {good: price, suspect: Number.NaN})
  }
}

function movePctOf(from: number, to: number): number {
  return (Math.abs(to - from) / from) * 100
}
