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

export class PriceGuard {
  private readonly good = new Map<string, number>()
  private readonly suspect = new Map<string, number>()

  constructor(private readonly maxMovePct: number) {}

  check(symbol: string, price: number): PriceCheck {
    const good = this.good.get(symbol)
    if (good === undefined) {
      this.good.set(symbol, price)
      return {verdict: 'ok', trusted: price, movePct: 0}
    }

    const movePct = movePctOf(good, price)
    if (movePct <= this.maxMovePct) {
      this.good.set(symbol, price)
      return {verdict: this.suspect.delete(symbol) ? 'cleared' : 'ok', trusted: price, movePct}
    }

    const held = this.suspect.get(symbol)
    if (held !== undefined && movePctOf(held, price) <= this.maxMovePct) {
      this.good.set(symbol, price)
      this.suspect.delete(symbol)
      return {verdict: 'confirmed', trusted: price, movePct}
    }

    this.suspect.set(symbol, price)
    return {verdict: 'suspect', trusted: good, movePct}
  }

  /** The price to trust for `price` now, without judging it (the state is left as it is). */
  peek(symbol: string, price: number): number {
    const good = this.good.get(symbol)
    return good === undefined || movePctOf(good, price) <= this.maxMovePct ? price : good
  }

  /** The last good price, if any. */
  lastGood(symbol: string): number | undefined {
    return this.good.get(symbol)
  }

  forget(symbol: string): void {
    this.good.delete(symbol)
    this.suspect.delete(symbol)
  }

  /** Starts a symbol from a price known to be good (e.g. the last close the indicators accepted). */
  seed(symbol: string, price: number): void {
    if (!this.good.has(symbol)) this.good.set(symbol, price)
  }
}

function movePctOf(from: number, to: number): number {
  return (Math.abs(to - from) / from) * 100
}
