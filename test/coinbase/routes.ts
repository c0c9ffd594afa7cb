import {type Book, type OrderFilter, stableUuid} from './book.js'
import type {Converter, ConvertOutcome} from './convert.js'
import {dec} from './decimal.js'
import type {Fault} from './faults.js'
import {GRANULARITY_MS, type MarketReplay} from './market.js'
import {accountV2Json, accountV3Json, candleJson, createdJson, currencyName, errorBody, FIAT, iso, orderJson, productJson, rejectedJson, tradeJson} from './wire.js'

/**
 * Every endpoint of the loopback Coinbase: the part of the Advanced Trade (v3) and v2 APIs that ccxt
 * 4.5.84's `coinbase` class calls for spot trading. Paths are matched without the query string.
 */

export interface ServerState {
  market: MarketReplay
  book: Book
  converter: Converter
  now: () => number
  pricingTier: string
}

export interface RequestContext {
  /** Captures of the route's pattern (product id, order id, trade id). */
  params: string[]
  query: URLSearchParams
  body: unknown
  /** The fault chosen for this request, for handlers that act it out (convert_fail). */
  fault: Fault | null
}

export interface Reply {
  status: number
  body: unknown
}

export interface Route {
  method: 'GET' | 'POST'
  pattern: RegExp
  /** Needs a valid JWT. */
  private: boolean
  handle(ctx: RequestContext): Reply
}

const ok = (body: unknown): Reply => ({status: 200, body})
const fail = (status: number, error: string, message: string): Reply => ({status, body: errorBody(error, message)})
const invalidArgument = (message: string) => fail(400, 'INVALID_ARGUMENT', message)
/** The body ccxt's source quotes for a missing order (its `error` is "unknown"). */
const ORDER_NOT_FOUND: Reply = {status: 404, body: {error: 'unknown', error_details: 'order with this orderID was not found', message: 'order with this orderID was not found'}}
const CANDLES_MAX = 350
const V3 = '/api/v3/brokerage'

/** Reads a non-negative integer query parameter, or `fallback` when absent; NaN when malformed. */
function intParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name)
  if (raw === null) return fallback
  return /^\d+$/.test(raw) ? Number(raw) : Number.NaN
}

/** One page of `items` from an opaque offset cursor, Coinbase's `{has_next, cursor}` style. */
function page<T>(items: T[], query: URLSearchParams, defaultLimit: number, maxLimit: number): {items: T[]; next: string} | string {
  const limit = Math.min(intParam(query, 'limit', defaultLimit), maxLimit)
  const from = intParam(query, 'cursor', 0)
  if (!(limit > 0) || Number.isNaN(from)) return 'limit and cursor must be positive integers'
  return {items: items.slice(from, from + limit), next: from + limit < items.length ? String(from + limit) : ''}
}

function convertReply(outcome: ConvertOutcome): Reply {
  return 'error' in outcome ? fail(outcome.status, outcome.error, outcome.message) : ok(tradeJson(outcome))
}

/** The value of one unit of `code` in USD, where the replay knows it. */
function usdValue(state: ServerState, code: string): number | undefined {
  if (code === 'USD' || code === 'USDC') return 1
  return state.market.isListed(`${code}-USD`) ? state.market.quote(`${code}-USD`).price : undefined
}

function marketRoutes(state: ServerState): Route[] {
  const {market} = state
  const cryptoCodes = () => [...new Set(['USDC', ...state.book.listAccounts().map((a) => a.currency)])].filter((c) => !FIAT.has(c)).sort()
  const products = ({query}: RequestContext): Reply => {
    // Spot only: the futures and perpetuals queries ccxt's loadMarkets makes are answered empty.
    if (query.has('product_type') && query.get('product_type') !== 'SPOT') return ok({products: [], num_products: 0})
    const wanted = query.getAll('product_ids')
    const ids = market.listed().filter((id) => wanted.length === 0 || wanted.includes(id))
    return ok({products: ids.map((id) => productJson(market, id)), num_products: ids.length})
  }

  const product = ({params: [id]}: RequestContext): Reply =>
    market.isListed(id) ? ok(productJson(market, id)) : fail(404, 'NOT_FOUND', `ProductID ${id} could not be found`)
  const candles = ({params: [id], query}: RequestContext): Reply => {
    if (!market.isListed(id)) return fail(404, 'NOT_FOUND', `ProductID ${id} could not be found`)
    const granularity = query.get('granularity') ?? ''
    const barMs = GRANULARITY_MS[granularity]
    if (barMs === undefined) return invalidArgument('granularity argument is invalid')
    // The replay has one bar length; other granularities would need resampling this server does not do.
    if (barMs !== market.barMs) return invalidArgument(`granularity argument is invalid: only ${market.barMs / 60_000}-minute bars are replayed`)
    const start = intParam(query, 'start', Number.NaN)
    const end = intParam(query, 'end', Number.NaN)
    if (Number.isNaN(start) || Number.isNaN(end) || end < start) return invalidArgument('start and end argument is invalid')
    if ((end - start) / (barMs / 1000) > CANDLES_MAX) {
      return invalidArgument(`start and end argument is invalid - number of candles requested should be less than ${CANDLES_MAX}`)
    }

    const limit = Math.min(intParam(query, 'limit', CANDLES_MAX), CANDLES_MAX)
    return ok({candles: market.candles(id, start * 1000, end * 1000, limit).map(candleJson)})
  }

  const ticker = ({params: [id]}: RequestContext): Reply => {
    if (!market.isListed(id)) return fail(404, 'NOT_FOUND', `ProductID ${id} could not be found`)
    const q = market.quote(id)
    const bar = market.bar(id)
    const trade = {trade_id: String(bar.start / 1000), product_id: id, price: dec(q.price), size: dec(bar.volume), time: iso(state.now()), side: 'BUY', bid: '', ask: ''}
    return ok({trades: [trade], best_bid: dec(q.bid), best_ask: dec(q.ask)})
  }

  return [
    {method: 'GET', pattern: /^\/v2\/currencies$/, private: false, handle: () => ok({data: [...FIAT].sort().map((id) => ({id, name: currencyName(id), min_size: '0.01'}))})},
    {
      method: 'GET',
      pattern: /^\/v2\/currencies\/crypto$/,
      private: false,
      handle: () => {
        const asset = (code: string, i: number) => ({asset_id: stableUuid(`asset:${code}`), code, name: currencyName(code), color: '#0052FF', sort_index: i, exponent: 8, type: 'crypto'})
        return ok({data: cryptoCodes().map(asset)})
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/exchange-rates$/,
      private: false,
      handle({query}) {
        const currency = query.get('currency') ?? 'USD'
        const unit = usdValue(state, currency)
        if (unit === undefined) return fail(400, 'invalid_request', `Invalid currency (${currency})`)
        const rates: Record<string, string> = {}
        for (const code of ['USD', ...cryptoCodes()]) {
          const v = usdValue(state, code)
          if (v !== undefined) rates[code] = dec(unit / v)
        }

        return ok({data: {currency, rates}})
      },
    },
    {method: 'GET', pattern: /^\/v2\/time$/, private: false, handle: () => ok({data: {iso: iso(state.now()), epoch: Math.floor(state.now() / 1000)}})},
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/time$/,
      private: false,
      handle() {
        const now = state.now()
        return ok({iso: iso(now), epochSeconds: String(Math.floor(now / 1000)), epochMillis: String(now)})
      },
    },
    // Public market data, and the same behind auth (ccxt's `usePrivate` option).
    ...[true, false].flatMap((isPrivate): Route[] => {
      const base = isPrivate ? `${V3}/products` : `${V3}/market/products`
      const at = (suffix: string) => new RegExp(`^${base}${suffix}$`)
      return [
        {method: 'GET', pattern: at(''), private: isPrivate, handle: products},
        {method: 'GET', pattern: at('/([^/]+)'), private: isPrivate, handle: product},
        {method: 'GET', pattern: at('/([^/]+)/candles'), private: isPrivate, handle: candles},
        {method: 'GET', pattern: at('/([^/]+)/ticker'), private: isPrivate, handle: ticker},
      ]
    }),
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/best_bid_ask$/,
      private: true,
      handle({query}) {
        const wanted = query.getAll('product_ids')
        const ids = wanted.length > 0 ? wanted.filter((id) => market.isListed(id)) : market.listed()
        const pricebooks = ids.map((id) => {
          const q = market.quote(id)
          const size = dec(market.bar(id).volume)
          return {product_id: id, bids: [{price: dec(q.bid), size}], asks: [{price: dec(q.ask), size}], time: iso(state.now())}
        })
        return ok({pricebooks})
      },
    },
  ]
}

function accountRoutes(state: ServerState): Route[] {
  const {book} = state
  return [
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/transaction_summary$/,
      private: true,
      handle: () =>
        ok({
          total_volume: book.totals.volume,
          total_fees: book.totals.fees,
          fee_tier: {pricing_tier: state.pricingTier, usd_from: '0', usd_to: '10000', taker_fee_rate: dec(book.fees.taker), maker_fee_rate: dec(book.fees.maker), aop_from: '', aop_to: ''},
          margin_rate: null,
          goods_and_services_tax: null,
          advanced_trade_only_volume: book.totals.volume,
          advanced_trade_only_fees: book.totals.fees,
          coinbase_pro_volume: 0,
          coinbase_pro_fees: 0,
          total_balance: '',
          has_promo_fee: false,
        }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/key_permissions$/,
      private: true,
      handle: () => ok({can_view: true, can_trade: true, can_transfer: false, portfolio_uuid: 'test-portfolio', portfolio_type: 'DEFAULT'}),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/accounts$/,
      private: true,
      handle({query}) {
        // Coinbase pages accounts (default 49, at most 250): a client reading one page can miss balances.
        const p = page(book.listAccounts(), query, 49, 250)
        if (typeof p === 'string') return invalidArgument(p)
        return ok({accounts: p.items.map(accountV3Json), has_next: p.next !== '', cursor: p.next, size: p.items.length})
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/accounts\/([^/]+)$/,
      private: true,
      handle({params: [uuid]}) {
        const acct = book.accountByUuid(uuid)
        return acct ? ok({account: accountV3Json(acct)}) : fail(404, 'NOT_FOUND', `account ${uuid} not found`)
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/accounts$/,
      private: true,
      handle({query}) {
        const all = book.listAccounts()
        const after = query.get('starting_after')
        const from = after === null ? 0 : all.findIndex((a) => a.uuid === after) + 1
        const limit = Math.min(intParam(query, 'limit', 25), 300)
        if (!(limit > 0) || from < 0) return fail(400, 'invalid_request', 'limit must be a positive integer')
        const items = all.slice(from, from + limit)
        const next = from + limit < all.length ? items.at(-1)!.uuid : null
        const nextUri = next && `/v2/accounts?limit=${limit}&starting_after=${next}`
        const pagination = {ending_before: null, starting_after: after, next_starting_after: next, limit, order: 'desc', previous_uri: null, next_uri: nextUri}
        return ok({pagination, data: items.map(accountV2Json)})
      },
    },
  ]
}

function orderRoutes(state: ServerState): Route[] {
  const {book} = state
  return [
    {
      method: 'POST',
      pattern: /^\/api\/v3\/brokerage\/orders$/,
      private: true,
      handle({body}) {
        const outcome = book.create(body)
        if (outcome.kind === 'invalid') return invalidArgument(outcome.message)
        if (outcome.kind === 'rejected') return ok(rejectedJson(outcome.rejection, outcome.configuration))
        return ok(createdJson(outcome.order))
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/orders\/historical\/batch$/,
      private: true,
      handle({query}) {
        const date = (name: string) => (query.has(name) ? Date.parse(query.get(name)!) : undefined)
        const filter: OrderFilter = {
          statuses: query.getAll('order_status'),
          productIds: [...query.getAll('product_id'), ...query.getAll('product_ids')],
          side: query.get('order_side') ?? undefined,
          startMs: date('start_date'),
          endMs: date('end_date'),
        }
        if (Number.isNaN(filter.startMs) || Number.isNaN(filter.endMs)) return invalidArgument('start_date and end_date must be RFC3339 times')
        const p = page(book.list(filter), query, 100, 1000)
        if (typeof p === 'string') return invalidArgument(p)
        return ok({orders: p.items.map(orderJson), sequence: '0', has_next: p.next !== '', cursor: p.next})
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/orders\/historical\/([^/]+)$/,
      private: true,
      handle({params: [id]}) {
        const order = book.order(id)
        return order ? ok({order: orderJson(order)}) : ORDER_NOT_FOUND
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/v3\/brokerage\/orders\/batch_cancel$/,
      private: true,
      handle({body}) {
        const ids = (body as {order_ids?: unknown} | null)?.order_ids
        if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) return invalidArgument('order_ids must be a list of order ids')
        const results = (ids as string[]).map((id) => {
          const reason = book.cancel(id)
          return {success: reason === null, failure_reason: reason ?? 'UNKNOWN_CANCEL_FAILURE_REASON', order_id: id}
        })
        return ok({results})
      },
    },
    {method: 'POST', pattern: /^\/api\/v3\/brokerage\/convert\/quote$/, private: true, handle: ({body}) => convertReply(state.converter.quote(body))},
    {
      method: 'POST',
      pattern: /^\/api\/v3\/brokerage\/convert\/trade\/([^/]+)$/,
      private: true,
      handle: ({params: [id], body, fault}) => convertReply(state.converter.commit(id, body, fault?.kind === 'convert_fail' ? fault.tradeStatus : null)),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v3\/brokerage\/convert\/trade\/([^/]+)$/,
      private: true,
      handle: ({params: [id], query}) => convertReply(state.converter.get(id, query)),
    },
  ]
}

export function coinbaseRoutes(state: ServerState): Route[] {
  return [...marketRoutes(state), ...accountRoutes(state), ...orderRoutes(state)]
}
