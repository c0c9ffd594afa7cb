import type {Balances, MarketInfo, OrderState, Ticker} from '../domain.js'

/** What the exchange looked like at one instant: the only market input decisions get. */
export interface MarketSnapshot {
  time: number
  markets: Map<string, MarketInfo>
  /** Prices to decide on: a suspect price is replaced by the last good one (see PriceGuard). */
  tickers: Map<string, Ticker>
  /** Symbols whose price is suspect this cycle, with why: no order on them. */
  suspect: ReadonlyMap<string, string>
}

export interface Holding {
  symbol: string
  /** Base units held in total (free + reserved by open sells). */
  amount: number
  /** What a new sell may take: not on the book, not promised to a TWAP schedule's later slices. */
  free: number
  /** What is free on the exchange but held back for TWAP schedules' later slices (free + heldBack = the exchange's free). */
  heldBack: number
  price: number
  value: number
}

export interface PortfolioSnapshot {
  quote: string
  /** Quote currency held in total, and the part not reserved by open orders. */
  cash: number
  cashFree: number
  holdings: Map<string, Holding>
  openOrders: OrderState[]
  /** Cash plus the value of every holding at the last price. */
  equity: number
  /** Held currencies with no price: equity and exposure would be understated, so buys must wait. */
  unpriced: string[]
}

/**
 * Value the account: every balance in a currency with a `<CUR>-<quote>` market counts at its last price.
 * `scheduled` (base units by symbol) is what TWAP schedules still have to sell: still held, still at risk,
 * but no longer free, so no other sell plans it again.
 */
export function buildPortfolio(quote: string, balances: Balances, tickers: Map<string, Ticker>, openOrders: OrderState[], scheduled: ReadonlyMap<string, number> = new Map()): PortfolioSnapshot {
  const holdings = new Map<string, Holding>()
  const unpriced: string[] = []
  const cashBalance = balances[quote]
  let equity = cashBalance?.total ?? 0
  // In one fixed order: a sum of floats depends on it, and the same account must value the same every time.
  for (const currency of Object.keys(balances).sort()) {
    const balance = balances[currency]
    if (currency === quote || balance.total <= 0) continue
    const symbol = `${currency}-${quote}`
    const ticker = tickers.get(symbol)
    const price = ticker?.last ?? 0
    if (!(price > 0)) unpriced.push(currency)
    const value = balance.total * price
    equity += value
    const heldBack = Math.max(0, Math.min(balance.free, scheduled.get(symbol) ?? 0))
    holdings.set(symbol, {symbol, amount: balance.total, free: balance.free - heldBack, heldBack, price, value})
  }

  return {quote, cash: cashBalance?.total ?? 0, cashFree: cashBalance?.free ?? 0, holdings, openOrders, equity, unpriced}
}
