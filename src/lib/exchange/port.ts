/**
 * The one interface every venue implements (sim, paper, live). Amounts are in base currency, prices and
 * notionals in quote currency, times in epoch milliseconds. Venue differences are data (capabilities), so
 * no code outside the adapters branches on which exchange it talks to.
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

export interface ExchangeCapabilities {
  /** Offers convert quote + commit. */
  convert: boolean
  /** Can look an order up by the client order id we gave it. */
  fetchByClientOrderId: boolean
}

export interface Exchange {
  readonly id: string
  readonly capabilities: ExchangeCapabilities
  markets(): Promise<Map<string, MarketInfo>>
  balances(): Promise<Balances>
  tickers(symbols: readonly string[]): Promise<Map<string, Ticker>>
  /** Closed bars with `time` > `since`, oldest first (at most `limit`). */
  candles(symbol: string, since: number, limit: number): Promise<Candle[]>
  /** The same for many symbols in one call (symbol -> since); symbols with no new bar are left out. */
  newCandles(since: ReadonlyMap<string, number>, limit: number): Promise<Map<string, Candle[]>>
  createOrder(request: OrderRequest): Promise<OrderState>
  fetchOrder(id: string, symbol: string): Promise<OrderState>
  /** The order placed with this client order id, or null if the exchange never received it. */
  fetchOrderByClientId(clientOrderId: string, symbol: string): Promise<OrderState | null>
  cancelOrder(id: string, symbol: string): Promise<OrderState>
  openOrders(symbol?: string): Promise<OrderState[]>
  convertQuote(from: string, to: string, fromAmount: number): Promise<ConvertQuote>
  convertCommit(quote: ConvertQuote): Promise<ConvertResult>
  /** The exchange's clock. */
  time(): Promise<number>
  close(): Promise<void>
}

/** Errors from any adapter are classified once, here, so the loop knows whether to retry. */
export type ExchangeErrorKind = 'retryable' | 'rate_limited' | 'rejected' | 'fatal'

export class ExchangeError extends Error {
  constructor(message: string, readonly kind: ExchangeErrorKind, readonly code: string) {
    super(message)
    this.name = 'ExchangeError'
  }
}
