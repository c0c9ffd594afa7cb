import type {Conversion, Exchange, Order} from 'ccxt'

import type {OrderStatus} from '../../domain.js'

/**
 * What differs between exchanges behind ccxt's unified API, as data: the adapter reads a profile and never
 * branches on an exchange id. `genericProfile` is ccxt's unified behaviour; `coinbase` records what the
 * research notes (shared/research/ccxt-coinbase.md) and test/ccxt established for ccxt 4.5.84.
 */
export interface VenueProfile {
  /** Params of every fetchBalance call. */
  balanceParams: Record<string, unknown>
  /** The createOrder param that carries bot's client order id to the exchange. */
  clientOrderIdParam: string
  /** A market buy is sized in quote with the taker fee inside (Coinbase's quote_size), or in base. */
  marketBuy: 'quote_with_fee' | 'base'
  /** Orders can be fetched by client order id; otherwise recentOrders is how they are found. */
  fetchByClientOrderId: boolean
  /** Markets already carry this account's fee rates (loadMarkets reads them), so no fetchTradingFees. */
  accountFeesInMarkets: boolean
  /** Convert pairs offered, each in both directions. */
  convertPairs: ReadonlyArray<readonly [string, string]>
  /** How long a convert quote may be committed after it is issued. */
  convertQuoteTtlMs: number
  /** The exchange's clock, epoch ms. */
  serverTime(ex: Exchange): Promise<number>
  /** An order's status, from the exchange's own field where ccxt's mapping loses something. */
  orderStatus(order: Order): OrderStatus
  /** The order was sized in quote (a market buy's spend): its base amount is what bot asked for, not the exchange's. */
  quoteSized(order: Order): boolean
  /** Why the exchange rejected or ended an order, when it says. */
  orderReason(order: Order): string | null
  /** The params of the next page of accounts after a fetchBalance answer, or null on the last page. */
  nextBalancePage(info: unknown): Record<string, unknown> | null
  /** (currency, account id) pairs in a fetchBalance answer: convert names accounts by id on Coinbase. */
  accountIds(info: unknown): Array<[string, string]>
  /** The params of the next page of an order list, or null on the last page. */
  nextOrdersPage(orders: Order[]): Record<string, unknown> | null
  /** Where a convert trade stands (ccxt's Conversion has no status). */
  convertStatus(trade: Conversion): ConvertStatus
  /** What a convert trade delivers, in the target currency (ccxt leaves toAmount empty on Coinbase). */
  convertToAmount(trade: Conversion): number | undefined
  /** Why a convert trade failed, when the exchange says. */
  convertReason(trade: Conversion): string | null
}

/** created: quoted, not committed; pending: committed, not settled. */
export type ConvertStatus = 'created' | 'pending' | 'completed' | 'failed'

function unifiedStatus(order: Order): OrderStatus {
  switch (order.status) {
    case 'closed':
      return 'closed'
    case 'canceled':
    case 'expired':
      return 'canceled'
    case 'rejected':
      return 'rejected'
    default:
      // Unknown or pending: not done, so the loop keeps asking.
      return 'open'
  }
}

const asRecord = (x: unknown): Record<string, unknown> => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>) : {})

export function genericProfile(ex: Exchange): VenueProfile {
  return {
    balanceParams: {},
    clientOrderIdParam: 'clientOrderId',
    marketBuy: 'base',
    fetchByClientOrderId: false,
    accountFeesInMarkets: false,
    convertPairs: [],
    convertQuoteTtlMs: 10_000,
    serverTime: async () => {
      if (!ex.has.fetchTime) throw new Error(`${ex.id} has no server time (fetchTime not supported)`)
      const t = await ex.fetchTime()
      if (typeof t !== 'number' || !Number.isFinite(t)) throw new Error(`${ex.id} answered fetchTime without a time`)
      return t
    },
    orderStatus: unifiedStatus,
    quoteSized: () => false,
    orderReason: (o) => (o.status === 'rejected' ? 'REJECTED' : null),
    nextBalancePage: () => null,
    accountIds: () => [],
    nextOrdersPage: () => null,
    // No exchange is offered convert by this profile (convertPairs is empty).
    convertStatus: () => 'pending',
    convertToAmount: (t) => (typeof t.toAmount === 'number' ? t.toAmount : undefined),
    convertReason: () => null,
  }
}

/** Coinbase's order statuses (Advanced Trade): FAILED is a rejection, which ccxt reports as canceled. */
const COINBASE_STATUS: Readonly<Record<string, OrderStatus>> = {OPEN: 'open', FILLED: 'closed', CANCELLED: 'canceled', EXPIRED: 'canceled', FAILED: 'rejected'}

const COINBASE_TRADE_STATUS: Readonly<Record<string, ConvertStatus>> = {
  TRADE_STATUS_CREATED: 'created',
  TRADE_STATUS_STARTED: 'pending',
  TRADE_STATUS_COMPLETED: 'completed',
  TRADE_STATUS_CANCELED: 'failed',
  TRADE_STATUS_FAILED: 'failed',
}

const coinbase = (ex: Exchange): VenueProfile => ({
  ...genericProfile(ex),
  // v2 accounts report holds as free (free = total); v3 has available and hold apart.
  balanceParams: {v3: true},
  // ccxt drops params.clientOrderId and sends ccxt-<uuid>; client_order_id overrides it.
  clientOrderIdParam: 'client_order_id',
  marketBuy: 'quote_with_fee',
  // With credentials loadMarkets reads transaction_summary's fee tier into every market (stable pairs keep theirs).
  accountFeesInMarkets: true,
  convertPairs: [['USDC', 'USD'], ['PYUSD', 'USD'], ['EURC', 'EUR'], ['PYUSD', 'USDC']],
  // Coinbase does not say in the quote; 10 s is the shortest validity seen.
  convertQuoteTtlMs: 10_000,
  async serverTime() {
    // /api/v3/brokerage/time has milliseconds; fetchTime's /v2/time has whole seconds.
    const r = asRecord(await (ex as unknown as {v3PublicGetBrokerageTime(): Promise<unknown>}).v3PublicGetBrokerageTime())
    const ms = Number(r.epochMillis ?? Number(r.epochSeconds) * 1000)
    if (!Number.isFinite(ms) || ms <= 0) throw new Error('coinbase answered /time without a time')
    return ms
  },
  orderStatus: (o) => COINBASE_STATUS[String(asRecord(o.info).status)] ?? unifiedStatus(o),
  quoteSized: (o) => asRecord(asRecord(asRecord(o.info).order_configuration).market_market_ioc).quote_size !== undefined,
  orderReason(o) {
    const info = asRecord(o.info)
    const text = [info.reject_message, info.reject_reason, info.cancel_message].find((x) => typeof x === 'string' && x !== '' && x !== 'REJECT_REASON_UNSPECIFIED')
    return typeof text === 'string' ? text : null
  },
  nextBalancePage(info) {
    const r = asRecord(info)
    return r.has_next === true && typeof r.cursor === 'string' && r.cursor !== '' ? {cursor: r.cursor} : null
  },
  accountIds(info) {
    const accounts = asRecord(info).accounts
    if (!Array.isArray(accounts)) return []
    return accounts.map(asRecord).filter((a) => typeof a.currency === 'string' && typeof a.uuid === 'string').map((a) => [a.currency as string, a.uuid as string])
  },
  // ccxt puts the list's cursor on the first order's info.
  nextOrdersPage(orders) {
    const cursor = asRecord(orders[0]?.info).cursor
    return typeof cursor === 'string' && cursor !== '' ? {cursor} : null
  },
  // Not parsed by ccxt: info.status is the only place it is.
  convertStatus: (t) => COINBASE_TRADE_STATUS[String(asRecord(t.info).status)] ?? 'pending',
  convertToAmount(t) {
    const value = Number(asRecord(asRecord(t.info).amount).value)
    return Number.isFinite(value) ? value : undefined
  },
  convertReason(t) {
    const info = asRecord(t.info)
    const message = asRecord(info.cancellation_reason).message
    return typeof message === 'string' && message !== '' ? message : typeof info.status === 'string' ? info.status : null
  },
})

interface ProfileEntry {
  /** Extra ccxt constructor settings. */
  config: Record<string, unknown>
  build: (ex: Exchange) => VenueProfile
}

const PROFILES: Readonly<Record<string, ProfileEntry>> = {
  // The three /v2 currency requests of loadMarkets (10.6 rate-limit tokens each) give nothing bot reads.
  coinbase: {config: {has: {fetchCurrencies: false}}, build: coinbase},
}

/** ccxt constructor settings for an exchange, needed before the instance exists. */
export function profileConfig(exchangeId: string): Record<string, unknown> {
  return PROFILES[exchangeId]?.config ?? {}
}

export function profileFor(exchangeId: string, ex: Exchange): VenueProfile {
  return (PROFILES[exchangeId]?.build ?? genericProfile)(ex)
}
