import type {Balances, CandleBatch, ConvertQuote, ConvertResult, MarketInfo, OrderRequest, OrderState, Ticker} from '../domain.js'

/**
 * The three ports a venue is made of. The loop sees only these: `sim` is a candle replay + the simulated
 * broker + the replay's virtual clock; `paper` is an exchange's market data + the simulated broker + a wall
 * clock; `live` is the exchange's market data and broker + a wall clock. Venue differences are data
 * (capabilities), so no code outside the adapters branches on which exchange it talks to.
 */

/** Markets, prices and bars: public data, the same whoever trades. */
export interface MarketData {
  /** Whose data, for messages (e.g. "sim", "coinbase"). */
  readonly id: string
  /** Bar length of `candles`. */
  readonly barMs: number
  /** Every listed market, with precision, minimums and this account's fees. */
  markets(): Promise<Map<string, MarketInfo>>
  /** Unknown or unlisted symbols are left out. */
  tickers(symbols: readonly string[]): Promise<Map<string, Ticker>>
  /**
   * Closed bars for many symbols in one call: for each symbol, those with `time` > its `since`, oldest first,
   * at most `limit` (the newest). Symbols with no such bar are left out. The batch is the caller's to keep.
   */
  candles(since: ReadonlyMap<string, number>, limit: number): Promise<CandleBatch>
  /** The exchange's clock. */
  time(): Promise<number>
  close(): Promise<void>
}

/** What a broker offers, as the code reads it. */
export interface BrokerCapabilities {
  /** Convert (quote, then commit) is offered for this pair. */
  convert(from: string, to: string): boolean
  /** Orders can be looked up by bot's client order id; otherwise reconciliation lists recent orders. */
  fetchByClientOrderId: boolean
}

/** The account: balances, orders by client order id, convert. */
export interface Broker {
  readonly capabilities: BrokerCapabilities
  balances(): Promise<Balances>
  createOrder(request: OrderRequest): Promise<OrderState>
  fetchOrder(id: string, symbol: string): Promise<OrderState>
  /** The order placed with this client order id, or null if the exchange never received it. */
  fetchOrderByClientId(clientOrderId: string, symbol: string): Promise<OrderState | null>
  /** Orders on `symbol` created at or after `since`, open or done: how an order is found without fetch-by-client-id. */
  recentOrders(symbol: string, since: number): Promise<OrderState[]>
  cancelOrder(id: string, symbol: string): Promise<OrderState>
  openOrders(symbol?: string): Promise<OrderState[]>
  convertQuote(from: string, to: string, fromAmount: number): Promise<ConvertQuote>
  convertCommit(quote: ConvertQuote): Promise<ConvertResult>
  close(): Promise<void>
}

/** Time, as the venue keeps it: a replay's virtual time, or the wall clock. */
export interface Clock {
  readonly kind: 'virtual' | 'wall'
  now(): number
  /**
   * Resolves true once `time` has come: a wall clock sleeps until then, a virtual clock moves to its first
   * instant at or after it (at its pace). False when `stop` fires first, or when that time will never come
   * (the end of a replay).
   */
  sleepUntil(time: number, stop: AbortSignal): Promise<boolean>
}

/** Errors from any adapter are classified once, at the edge, so the loop knows whether to retry. */
export type ExchangeErrorKind = 'retryable' | 'rate_limited' | 'rejected' | 'fatal'

export class ExchangeError extends Error {
  constructor(message: string, readonly kind: ExchangeErrorKind, readonly code: string) {
    super(message)
    this.name = 'ExchangeError'
  }
}

/** Node's timers fire at once past this (2^31-1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Resolves after `ms` (at most about 24.8 days: WallClock cuts longer waits), or as soon as `stop` fires. */
export function sleep(ms: number, stop: AbortSignal): Promise<void> {
  if (ms <= 0 || stop.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS))
    function done() {
      clearTimeout(timer)
      stop.removeEventListener('abort', done)
      resolve()
    }

    stop.addEventListener('abort', done, {once: true})
  })
}

/** The wall clock, for paper and live trading. */
export class WallClock implements Clock {
  readonly kind = 'wall'

  now(): number {
    return Date.now()
  }

  async sleepUntil(time: number, stop: AbortSignal): Promise<boolean> {
    // Long waits are cut into slices: Node's timers overflow past 2^31-1 ms.
    while (!stop.aborted && Date.now() < time) await sleep(Math.min(time - Date.now(), 3_600_000), stop)
    return !stop.aborted
  }
}
