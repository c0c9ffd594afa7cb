import type {Conversion} from 'ccxt'

import type {ConvertQuote, ConvertResult} from '../../domain.js'
import {ExchangeError} from '../ports.js'
import type {ConvertStatus} from './profile.js'
import type {CcxtSession} from './session.js'

/**
 * Convert through ccxt: quote, commit, then read the trade until it settles. Coinbase names the two sides
 * by account id (currency codes are refused), and ccxt leaves the status and the delivered amount in
 * `info`; the profile reads both. A commit is sent once: if its answer is lost the trade is read back,
 * and committed again only if it is still uncommitted.
 */

export interface ConverterOptions {
  offered: (from: string, to: string) => boolean
  /** Reads the accounts (a balances pass), which notes their ids. */
  accountsPage: () => Promise<unknown>
  pollMs: number
  settleMs: number
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class Converter {
  private readonly accountIds = new Map<string, string>()

  constructor(private readonly s: CcxtSession, private readonly options: ConverterOptions) {}

  noteAccounts(pairs: Array<[string, string]>): void {
    for (const [currency, id] of pairs) if (!this.accountIds.has(currency)) this.accountIds.set(currency, id)
  }

  async quote(from: string, to: string, fromAmount: number): Promise<ConvertQuote> {
    if (!this.options.offered(from, to)) throw new ExchangeError(`${this.s.id} offers no convert ${from} -> ${to}`, 'rejected', 'CONVERT_UNSUPPORTED')
    if (!(fromAmount > 0) || !Number.isFinite(fromAmount)) throw new ExchangeError(`convert amount must be > 0, got ${fromAmount}`, 'rejected', 'INVALID_AMOUNT')
    const [fromId, toId] = await this.accounts(from, to)
    const q = await this.s.retry('convertQuote', () => this.s.ex.fetchConvertQuote(fromId, toId, fromAmount))
    const toAmount = this.s.profile.convertToAmount(q)
    if (typeof q.id !== 'string' || q.id === '' || toAmount === undefined) {
      throw new ExchangeError(`${this.s.id} answered a convert quote without an id or amount`, 'retryable', 'BAD_RESPONSE')
    }

    // On the local clock, the one a live venue's loop compares it with.
    const expiresAt = Date.now() + this.s.profile.convertQuoteTtlMs
    return {id: q.id, from, to, fromAmount: typeof q.fromAmount === 'number' ? q.fromAmount : fromAmount, toAmount, fee: typeof q.fee === 'number' ? q.fee : 0, expiresAt}
  }

  /**
   * Commits a quote and waits (up to settleMs) for its outcome. Committing a settled quote again returns its
   * outcome. Still unsettled at the deadline: CONVERT_PENDING (retryable); call again to read it.
   */
  async commit(quote: ConvertQuote): Promise<ConvertResult> {
    const [fromId, toId] = await this.accounts(quote.from, quote.to)
    const send = () => this.s.once('convertCommit', () => this.s.ex.createConvertTrade(quote.id, fromId, toId))
    const read = () => this.s.retry('convertStatus', () => this.s.ex.fetchConvertTrade(quote.id, fromId, {toCode: toId}))
    let trade: Conversion | null = null
    let resent = false
    try {
      trade = await send()
    } catch (error) {
      const e = error as ExchangeError
      if (e.kind === 'rejected') return failed(quote, `${e.code}: ${e.message}`)
      if (e.kind === 'fatal') throw e
      // Outcome unknown: read the trade below.
    }

    const deadline = Date.now() + this.options.settleMs
    for (;;) {
      const status: ConvertStatus | 'unknown' = trade ? this.s.profile.convertStatus(trade) : 'unknown'
      if (status === 'completed' || status === 'failed') return this.result(quote, trade!, status)
      if (status === 'created' && !resent) {
        // Read back as never committed: the lost commit did not arrive, so sending it is no repeat.
        resent = true
        trade = await send().catch((error: ExchangeError) => {
          if (error.kind === 'fatal' || error.kind === 'rejected') throw error
          return trade
        })
        continue
      }

      if (Date.now() >= deadline) {
        throw new ExchangeError(`convert ${quote.id} (${quote.from} -> ${quote.to}) is still ${status} after ${this.options.settleMs} ms; commit it again later to read its outcome`, 'retryable', 'CONVERT_PENDING')
      }

      if (trade) await sleep(this.options.pollMs)
      trade = await read()
    }
  }

  private result(quote: ConvertQuote, trade: Conversion, status: 'completed' | 'failed'): ConvertResult {
    if (status === 'failed') return failed(quote, this.s.profile.convertReason(trade) ?? 'CONVERT_FAILED')
    const fromAmount = typeof trade.fromAmount === 'number' ? trade.fromAmount : quote.fromAmount
    return {quoteId: quote.id, status: 'completed', fromAmount, toAmount: this.s.profile.convertToAmount(trade) ?? quote.toAmount, reason: null}
  }

  /** The account ids of both currencies, read from the accounts once and again when one is missing. */
  private async accounts(from: string, to: string): Promise<[string, string]> {
    if (!this.accountIds.has(from) || !this.accountIds.has(to)) await this.options.accountsPage()
    const ids = [this.accountIds.get(from), this.accountIds.get(to)]
    const missing = [from, to].filter((_, i) => ids[i] === undefined)
    if (missing.length > 0) throw new ExchangeError(`${this.s.id} has no account for ${missing.join(' and ')}: convert not possible`, 'rejected', 'NO_ACCOUNT')
    return ids as [string, string]
  }
}

/** A failed convert moved nothing: its amounts are 0. */
function failed(quote: ConvertQuote, reason: string): ConvertResult {
  return {quoteId: quote.id, status: 'failed', fromAmount: 0, toAmount: 0, reason}
}
