/**
 * The value types every layer speaks: what a market, a price, a bar, an order and a balance are. Decisions
 * (universe, signals, risk, trim) import these and never an adapter. Amounts are in base currency, prices
 * and notionals in quote currency, times in epoch milliseconds.
 */

export type Side = 'buy' | 'sell'
export type OrderType = 'market' | 'limit'
export type OrderStatus = 'open' | 'closed' | 'canceled' | 'rejected'

export interface MarketInfo {
  symbol: string // BTC-USD
  base: string // BTC
  quote: string // USD
  /** Amount increment (e.g. 0.00000001); amounts are floored to it. */
  amountStep: number
  /** Price increment (e.g. 0.01). */
  priceStep: number
  minAmount: number
  /** Smallest order value in quote currency. */
  minNotional: number
  maxAmount: number | null
  /** This account's fees on this market, in basis points (the venue says; ccxt reports them per market). */
  makerBps: number
  takerBps: number
}

export interface Ticker {
  symbol: string
  bid: number
  ask: number
  last: number
  /** Traded volume over the last 24 h, in quote currency. */
  quoteVolume24h: number
  /** When the exchange produced these figures. */
  timestamp: number
}

export interface Candle {
  /** Bar open time. */
  time: number
  open: number
  high: number
  low: number
  close: number
  /** Base-currency volume. */
  volume: number
}

/** Bars as columns, oldest first: a series the replay holds, or the bars one request fetched. */
export interface BarColumns {
  readonly time: ArrayLike<number>
  readonly open: ArrayLike<number>
  readonly high: ArrayLike<number>
  readonly low: ArrayLike<number>
  readonly close: ArrayLike<number>
  readonly volume: ArrayLike<number>
}

/**
 * Closed bars of many symbols, as one MarketData call returns them: symbol k's bars are rows from[k] up to
 * (not including) to[k] of columns[k], oldest first. Columnar, so that a replay hands out views of what it
 * already holds instead of an object per bar per cycle.
 */
export interface CandleBatch {
  readonly symbols: readonly string[]
  readonly columns: readonly BarColumns[]
  readonly from: readonly number[]
  readonly to: readonly number[]
}

function candleAt(c: BarColumns, i: number): Candle {
  return {time: c.time[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i], volume: c.volume[i]}
}

/** Symbol k's bars as objects: for readers that look at a few bars (the sim broker's fills, tests). */
export function candlesOf(batch: CandleBatch, k: number): Candle[] {
  const out: Candle[] = []
  for (let i = batch.from[k]; i < batch.to[k]; i++) out.push(candleAt(batch.columns[k], i))
  return out
}

/** The batch as symbol -> bars. */
export function candleMap(batch: CandleBatch): Map<string, Candle[]> {
  return new Map(batch.symbols.map((symbol, k) => [symbol, candlesOf(batch, k)]))
}

export function columnsOf(bars: readonly Candle[]): BarColumns {
  const column = (key: keyof Candle) => bars.map((b) => b[key])
  return {time: column('time'), open: column('open'), high: column('high'), low: column('low'), close: column('close'), volume: column('volume')}
}

/** Bars fetched as objects (an exchange's answer), as a batch; symbols without bars are left out. */
export function batchOf(bars: Iterable<[string, readonly Candle[]]>): CandleBatch {
  const batch = {symbols: [] as string[], columns: [] as BarColumns[], from: [] as number[], to: [] as number[]}
  for (const [symbol, list] of bars) {
    if (list.length === 0) continue
    batch.symbols.push(symbol)
    batch.columns.push(columnsOf(list))
    batch.from.push(0)
    batch.to.push(list.length)
  }

  return batch
}

export interface OrderRequest {
  /** Deterministic id chosen by bot; the key for reconciliation and de-duplication. */
  clientOrderId: string
  symbol: string
  side: Side
  type: OrderType
  amount: number
  /** Limit price; required for limit orders. */
  price?: number
}

export interface OrderState {
  id: string
  clientOrderId: string
  symbol: string
  side: Side
  type: OrderType
  amount: number
  price: number | null
  filled: number
  /** Average fill price, null until something filled. */
  averagePrice: number | null
  /** Fees paid, in quote currency. */
  fee: number
  status: OrderStatus
  /** Why the exchange rejected it, when it did. */
  reason: string | null
  createdAt: number
  updatedAt: number
}

export interface Balance {
  free: number
  total: number
}

export type Balances = Record<string, Balance>

export interface ConvertQuote {
  id: string
  from: string
  to: string
  fromAmount: number
  toAmount: number
  fee: number
  expiresAt: number
}

export interface ConvertResult {
  quoteId: string
  status: 'completed' | 'failed'
  fromAmount: number
  toAmount: number
  reason: string | null
}

/** The bar length of the market data bot trades on. */
export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'] as const
export type Timeframe = (typeof TIMEFRAMES)[number]

const MINUTE = 60_000
export const TIMEFRAME_MS: Record<Timeframe, number> = {'1m': MINUTE, '5m': 5 * MINUTE, '15m': 15 * MINUTE, '1h': 60 * MINUTE, '4h': 240 * MINUTE, '1d': 1440 * MINUTE}

/** 3600000 -> "1h"; a length that is no timeframe -> "90m", "36h", "2d" as fits. */
export function durationText(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [MINUTE, 'm'], [1000, 's']]
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  return `${ms} ms`
}
