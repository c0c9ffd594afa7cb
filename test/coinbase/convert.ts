import {randomUUID} from 'node:crypto'

import {addTidy, tidy} from '../../src/lib/exchange/precision.js'
import type {Account, Book} from './book.js'
import {parseDecimal} from './decimal.js'

/**
 * Coinbase Convert: quote (an id, valid for a while) -> commit -> poll until a terminal status. Offered only
 * for configured pairs (Coinbase: USDC-USD and a few other stable pairs). Accounts are named by account
 * UUID: ccxt passes its `fromCode`/`toCode` through unchanged, and Coinbase refuses currency codes there
 * ("Unsupported account in this conversion", ccxt PR #21905), so a client must look the UUIDs up.
 */

export interface ConvertPair {
  from: string
  to: string
  /** Units of `to` per unit of `from`. */
  rate: number
  /** Fee as a fraction of the amount, charged in `from`. */
  feeRate: number
}

/** Coinbase's documented enum has CANCELED, not FAILED; some SDKs also list FAILED. Both are served. */
export type TradeStatus = 'TRADE_STATUS_CREATED' | 'TRADE_STATUS_STARTED' | 'TRADE_STATUS_COMPLETED' | 'TRADE_STATUS_CANCELED' | 'TRADE_STATUS_FAILED'
export type FailedTradeStatus = 'TRADE_STATUS_CANCELED' | 'TRADE_STATUS_FAILED'

export interface ConvertTrade {
  id: string
  status: TradeStatus
  from: string
  to: string
  fromAccountId: string
  toAccountId: string
  /** What the user asked to convert, in `from`. */
  amount: number
  fee: number
  /** What arrives in `to`. */
  toAmount: number
  rate: number
  createdAt: number
  expiresAt: number
  committedAt: number | null
  /** Set by fault injection: the status the trade ends in instead of COMPLETED. */
  failWith: FailedTradeStatus | null
  cancellationReason: string | null
}

/** A convert request refused: HTTP status and Coinbase's error body fields. */
export interface ConvertError {
  status: number
  error: string
  message: string
}

export type ConvertOutcome = ConvertTrade | ConvertError

export interface ConvertOptions {
  pairs: readonly ConvertPair[]
  quoteTtlMs: number
  /** Time from commit to the terminal status (0: terminal on the next request). */
  settleMs: number
}

const invalid = (message: string): ConvertError => ({status: 400, error: 'INVALID_ARGUMENT', message})
const UNSUPPORTED = invalid('Unsupported account in this conversion')
// Not verified against Coinbase; INSUFFICIENT_FUND is the code its order API uses for the same thing.
const INSUFFICIENT: ConvertError = {status: 400, error: 'INSUFFICIENT_FUND', message: 'Insufficient balance in source account'}

export class Converter {
  private readonly trades = new Map<string, ConvertTrade>()

  constructor(
    private readonly book: Book,
    private readonly options: ConvertOptions,
    private readonly clock: () => number,
  ) {}

  all(): ConvertTrade[] {
    return [...this.trades.values()]
  }

  quote(body: unknown): ConvertOutcome {
    const b = (body ?? {}) as Record<string, unknown>
    const amount = parseDecimal(b.amount)
    if (amount === null || amount <= 0) return invalid('amount must be a positive decimal string')
    const accounts = this.accounts(b.from_account, b.to_account)
    if (!accounts) return UNSUPPORTED
    const [source, target] = accounts
    const pair = this.options.pairs.find((p) => p.from === source.currency && p.to === target.currency)
    if (!pair) return UNSUPPORTED
    if (amount > source.available) return INSUFFICIENT
    const fee = tidy(amount * pair.feeRate)
    const now = this.clock()
    const trade: ConvertTrade = {
      id: randomUUID(),
      status: 'TRADE_STATUS_CREATED',
      from: source.currency,
      to: target.currency,
      fromAccountId: source.uuid,
      toAccountId: target.uuid,
      amount,
      fee,
      toAmount: tidy((amount - fee) * pair.rate),
      rate: pair.rate,
      createdAt: now,
      expiresAt: now + this.options.quoteTtlMs,
      committedAt: null,
      failWith: null,
      cancellationReason: null,
    }
    this.trades.set(trade.id, trade)
    return trade
  }

  /** Commits a quote: the source is debited now, the target credited when the trade completes. Idempotent. */
  commit(id: string, body: unknown, failWith: FailedTradeStatus | null): ConvertOutcome {
    this.settle()
    const b = (body ?? {}) as Record<string, unknown>
    const trade = this.find(id, b.from_account, b.to_account)
    if ('error' in trade) return trade
    // Not verified against Coinbase: how it answers a commit after the quote expired.
    if (trade.status === 'TRADE_STATUS_CANCELED' && trade.committedAt === null) return invalid('trade quote has expired')
    if (trade.status !== 'TRADE_STATUS_CREATED') return trade
    const source = this.book.account(trade.from)
    if (trade.amount > source.available) return INSUFFICIENT
    source.available = addTidy(source.available, -trade.amount)
    trade.status = 'TRADE_STATUS_STARTED'
    trade.committedAt = this.clock()
    trade.failWith = failWith
    return trade
  }

  get(id: string, query: URLSearchParams): ConvertOutcome {
    this.settle()
    return this.find(id, query.get('from_account'), query.get('to_account'))
  }

  /** Moves trades whose time has come to their terminal status: settles commits, cancels expired quotes. */
  settle(): void {
    const now = this.clock()
    for (const t of this.trades.values()) {
      if (t.status === 'TRADE_STATUS_CREATED' && now > t.expiresAt) {
        t.status = 'TRADE_STATUS_CANCELED'
        t.cancellationReason = 'quote expired before it was committed'
      } else if (t.status === 'TRADE_STATUS_STARTED' && now >= t.committedAt! + this.options.settleMs) {
        if (t.failWith) {
          const source = this.book.account(t.from)
          source.available = addTidy(source.available, t.amount)
          t.status = t.failWith
          t.cancellationReason = 'conversion failed (injected fault)'
        } else {
          const target = this.book.account(t.to)
          target.available = addTidy(target.available, t.toAmount)
          t.status = 'TRADE_STATUS_COMPLETED'
        }
      }
    }
  }

  /** The trade, if it exists and the request names its two accounts (Coinbase requires both). */
  private find(id: string, fromAccount: unknown, toAccount: unknown): ConvertOutcome {
    const trade = this.trades.get(id)
    if (!trade) return {status: 404, error: 'NOT_FOUND', message: `trade ${id} not found`}
    if (fromAccount !== trade.fromAccountId || toAccount !== trade.toAccountId) return UNSUPPORTED
    return trade
  }

  private accounts(fromAccount: unknown, toAccount: unknown): [Account, Account] | null {
    if (typeof fromAccount !== 'string' || typeof toAccount !== 'string') return null
    const source = this.book.accountByUuid(fromAccount)
    const target = this.book.accountByUuid(toAccount)
    return source && target ? [source, target] : null
  }
}
