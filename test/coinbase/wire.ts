import type {Account, OrderRecord, Rejection} from './book.js'
import type {ConvertTrade} from './convert.js'
import {dec} from './decimal.js'
import type {MarketReplay, ServedBar} from './market.js'

/**
 * The JSON bodies of the loopback Coinbase, field for field as Coinbase sends them (checked against ccxt's
 * recorded responses and Coinbase's SDK types). Numbers are decimal strings, as on Coinbase.
 */

export const FIAT = new Set(['USD', 'EUR', 'GBP'])

/** ccxt needs a `name` for every currency (it lowercases it); the bundled pairs get their real names. */
const NAMES: Readonly<Record<string, string>> = {
  USD: 'US Dollar', EUR: 'Euro', GBP: 'British Pound', USDC: 'USDC', AAVE: 'Aave', ADA: 'Cardano', ALGO: 'Algorand',
  ATOM: 'Cosmos', AVAX: 'Avalanche', BCH: 'Bitcoin Cash', BTC: 'Bitcoin', COMP: 'Compound', DASH: 'Dash', DOGE: 'Dogecoin',
  DOT: 'Polkadot', EOS: 'EOS', ETC: 'Ethereum Classic', ETH: 'Ethereum', FIL: 'Filecoin', HBAR: 'Hedera', LINK: 'Chainlink',
  LTC: 'Litecoin', MATIC: 'Polygon', MKR: 'Maker', SOL: 'Solana', UNI: 'Uniswap', VET: 'VeChain', XLM: 'Stellar',
  XRP: 'XRP', XTZ: 'Tezos',
}

export const currencyName = (code: string): string => NAMES[code] ?? code
export const iso = (ms: number): string => new Date(ms).toISOString()

/** Coinbase's v3 error body; ccxt classifies it by `error` (exact) and `error_details`/`error` (broad). */
export function errorBody(error: string, message: string): Record<string, string> {
  return {error, error_details: message, message}
}

export function productJson(market: MarketReplay, productId: string): Record<string, unknown> {
  const [base, quote] = productId.split('-')
  const rules = market.rules(productId)
  const {price} = market.quote(productId)
  const day = market.stats24h(productId)
  return {
    product_id: productId,
    price: dec(price),
    price_percentage_change_24h: dec(day.changePct),
    volume_24h: dec(day.volume),
    volume_percentage_change_24h: '0',
    base_increment: dec(rules.baseIncrement),
    quote_increment: dec(rules.quoteIncrement),
    quote_min_size: dec(rules.quoteMinSize),
    quote_max_size: dec(rules.quoteMaxSize),
    base_min_size: dec(rules.baseMinSize),
    base_max_size: dec(rules.baseMaxSize),
    base_name: currencyName(base),
    quote_name: currencyName(quote),
    watched: false,
    is_disabled: false,
    new: false,
    status: 'online',
    cancel_only: false,
    limit_only: false,
    post_only: false,
    trading_disabled: false,
    auction_mode: false,
    product_type: 'SPOT',
    quote_currency_id: quote,
    base_currency_id: base,
    fcm_trading_session_details: null,
    mid_market_price: '',
    alias: '',
    alias_to: [],
    base_display_symbol: base,
    quote_display_symbol: quote,
    view_only: false,
    price_increment: dec(rules.priceIncrement),
    display_name: productId,
    product_venue: 'CBE',
    approximate_quote_24h_volume: dec(day.quoteVolume),
  }
}

export function candleJson(bar: ServedBar): Record<string, string> {
  return {
    start: String(bar.start / 1000),
    low: dec(bar.low),
    high: dec(bar.high),
    open: dec(bar.open),
    close: dec(bar.close),
    volume: dec(bar.volume),
  }
}

/** /api/v3/brokerage/accounts entry: available and hold apart. */
export function accountV3Json(a: Account): Record<string, unknown> {
  const fiat = FIAT.has(a.currency)
  return {
    uuid: a.uuid,
    name: `${a.currency} Wallet`,
    currency: a.currency,
    available_balance: {value: dec(a.available), currency: a.currency},
    default: true,
    active: true,
    created_at: '2023-01-01T00:00:00.000Z',
    updated_at: '2023-01-01T00:00:00.000Z',
    deleted_at: null,
    type: fiat ? 'ACCOUNT_TYPE_FIAT' : 'ACCOUNT_TYPE_CRYPTO',
    ready: true,
    hold: {value: dec(a.hold), currency: a.currency},
    retail_portfolio_id: 'test-portfolio',
    platform: 'ACCOUNT_PLATFORM_CONSUMER',
  }
}

/** /v2/accounts entry: one balance, the total (ccxt reports it as free). */
export function accountV2Json(a: Account): Record<string, unknown> {
  const fiat = FIAT.has(a.currency)
  return {
    id: a.uuid,
    name: `${a.currency} Wallet`,
    primary: true,
    type: fiat ? 'fiat' : 'wallet',
    currency: {code: a.currency, name: currencyName(a.currency), type: fiat ? 'fiat' : 'crypto', exponent: fiat ? 2 : 8},
    balance: {amount: dec(a.available + a.hold), currency: a.currency},
    created_at: '2023-01-01T00:00:00Z',
    updated_at: '2023-01-01T00:00:00Z',
    resource: 'account',
    resource_path: `/v2/accounts/${a.uuid}`,
    allow_deposits: true,
    allow_withdrawals: true,
  }
}

export function orderJson(o: OrderRecord): Record<string, unknown> {
  const filled = o.status === 'FILLED'
  const afterFees = o.side === 'BUY' ? o.filledValue + o.fees : o.filledValue - o.fees
  return {
    order_id: o.orderId,
    product_id: o.productId,
    user_id: 'test-user',
    order_configuration: o.configuration,
    side: o.side,
    client_order_id: o.clientOrderId,
    status: o.status,
    time_in_force: o.type === 'MARKET' ? 'IMMEDIATE_OR_CANCEL' : 'GOOD_UNTIL_CANCELLED',
    created_time: iso(o.createdAt),
    completion_percentage: filled ? '100.00' : '0',
    filled_size: dec(o.filledSize),
    average_filled_price: o.filledSize > 0 ? dec(o.filledValue / o.filledSize) : '0',
    fee: '',
    number_of_fills: filled ? '1' : '0',
    filled_value: dec(o.filledValue),
    pending_cancel: false,
    size_in_quote: o.quoteSize !== null,
    total_fees: dec(o.fees),
    size_inclusive_of_fees: o.quoteSize !== null,
    total_value_after_fees: dec(afterFees),
    trigger_status: 'INVALID_ORDER_TYPE',
    order_type: o.type,
    reject_reason: 'REJECT_REASON_UNSPECIFIED',
    settled: o.status !== 'OPEN',
    product_type: 'SPOT',
    reject_message: '',
    cancel_message: o.status === 'CANCELLED' ? 'User requested cancel' : '',
    order_placement_source: 'RETAIL_ADVANCED',
    outstanding_hold_amount: dec(o.hold?.amount ?? 0),
    is_liquidation: false,
    last_fill_time: o.lastFillAt === null ? null : iso(o.lastFillAt),
    edit_history: [],
    leverage: '',
    margin_type: 'UNKNOWN_MARGIN_TYPE',
    retail_portfolio_id: 'test-portfolio',
  }
}

/** POST /orders answer for a created (or deduplicated) order. */
export function createdJson(o: OrderRecord): Record<string, unknown> {
  return {
    success: true,
    failure_reason: 'UNKNOWN_FAILURE_REASON',
    order_id: o.orderId,
    success_response: {order_id: o.orderId, product_id: o.productId, side: o.side, client_order_id: o.clientOrderId},
    order_configuration: o.configuration,
  }
}

/** POST /orders answer for a refused order: HTTP 200 with success false, as Coinbase does. */
export function rejectedJson(r: Rejection, configuration: unknown): Record<string, unknown> {
  return {
    success: false,
    failure_reason: 'UNKNOWN_FAILURE_REASON',
    order_id: '',
    error_response: {error: r.error, message: r.message, error_details: r.message, preview_failure_reason: r.previewFailureReason},
    order_configuration: configuration,
  }
}

const money = (value: number, currency: string) => ({value: dec(value), currency})

function ledgerEnd(accountId: string, currency: string): Record<string, unknown> {
  return {type: 'LEDGER_ACCOUNT', network: 'internal', ledger_account: {account_id: accountId, currency, owner: {id: 'test-user', uuid: 'test-user', user_uuid: 'test-user', type: 'RETAIL'}}}
}

export function tradeJson(t: ConvertTrade): Record<string, unknown> {
  const fee = {title: 'Coinbase fee', description: '', amount: money(t.fee, t.from), label: 'Coinbase fee', disclosure: null}
  return {
    trade: {
      id: t.id,
      status: t.status,
      user_entered_amount: money(t.amount, t.from),
      amount: money(t.toAmount, t.to),
      subtotal: money(t.amount - t.fee, t.from),
      total: money(t.amount, t.from),
      fees: [fee],
      total_fee: {...fee, title: 'Total fee', label: 'Total fee'},
      total_fee_without_tax: {...fee, title: 'Total fee', label: 'Total fee'},
      source: ledgerEnd(t.fromAccountId, t.from),
      target: ledgerEnd(t.toAccountId, t.to),
      user_warnings: [],
      user_reference: t.id.slice(0, 8).toUpperCase(),
      source_currency: t.from,
      target_currency: t.to,
      source_id: t.fromAccountId,
      target_id: t.toAccountId,
      exchange_rate: money(t.rate, t.to),
      tax_details: [],
      fiat_denoted_total: money(t.amount, t.from),
      cancellation_reason: t.cancellationReason === null ? null : {message: t.cancellationReason, code: 'TRADE_FAILED', error_code: 'TRADE_FAILED', error_cta: ''},
    },
  }
}
