import {ExchangeError, type ExchangeErrorKind} from '../ports.js'

/**
 * Every failure out of ccxt becomes one ExchangeError here, and only here, so the loop knows whether to
 * retry (retryable, rate_limited), drop the request (rejected) or stop (fatal). No ccxt import: ccxt's
 * classes are recognised by the names in their ancestry, which also holds for the class file loaded alone.
 */

type Verdict = readonly [ExchangeErrorKind, string]

/** ccxt's error classes, by the first name found walking from the error's own class towards BaseError. */
const BY_CLASS: Readonly<Record<string, Verdict>> = {
  RateLimitExceeded: ['rate_limited', 'RATE_LIMITED'],
  DDoSProtection: ['rate_limited', 'RATE_LIMITED'],
  OnMaintenance: ['retryable', 'EXCHANGE_MAINTENANCE'],
  ExchangeNotAvailable: ['retryable', 'EXCHANGE_UNAVAILABLE'],
  RequestTimeout: ['retryable', 'TIMEOUT'],
  InvalidNonce: ['retryable', 'INVALID_NONCE'],
  NetworkError: ['retryable', 'NETWORK_ERROR'],
  BadResponse: ['retryable', 'BAD_RESPONSE'],
  CancelPending: ['retryable', 'CANCEL_PENDING'],
  OperationFailed: ['retryable', 'EXCHANGE_UNAVAILABLE'],
  AccountSuspended: ['fatal', 'ACCOUNT_SUSPENDED'],
  PermissionDenied: ['fatal', 'PERMISSION_DENIED'],
  AuthenticationError: ['fatal', 'AUTH_FAILED'],
  InsufficientFunds: ['rejected', 'INSUFFICIENT_FUNDS'],
  OrderNotFound: ['rejected', 'ORDER_NOT_FOUND'],
  InvalidOrder: ['rejected', 'INVALID_ORDER'],
  BadSymbol: ['rejected', 'BAD_SYMBOL'],
  BadRequest: ['rejected', 'BAD_REQUEST'],
  OperationRejected: ['rejected', 'OPERATION_REJECTED'],
  // Calling ccxt wrongly or for something the venue lacks is a bug or a setup problem, not a market event.
  ArgumentsRequired: ['fatal', 'ADAPTER_BUG'],
  NotSupported: ['fatal', 'NOT_SUPPORTED'],
  InvalidProxySettings: ['fatal', 'BAD_SETUP'],
  ExchangeClosedByUser: ['fatal', 'VENUE_CLOSED'],
}

/**
 * ccxt reports many answers as a plain ExchangeError (a JSON 429, a JSON 401, a 500 "INTERNAL", Coinbase's
 * order refusals), so those are read by message, in this order.
 */
const BY_MESSAGE: ReadonlyArray<readonly [RegExp, ExchangeErrorKind, string]> = [
  [/RATE_LIMIT|rate.?limit|too many requests|\b429\b/i, 'rate_limited', 'RATE_LIMITED'],
  [/UNAUTHENTICATED|unauthori[sz]ed|\b401\b|invalid.{0,20}(api.?key|signature|jwt|token)/i, 'fatal', 'AUTH_FAILED'],
  [/PERMISSION_DENIED|\b403\b|forbidden/i, 'fatal', 'PERMISSION_DENIED'],
  [/INSUFFICIENT_FUND/i, 'rejected', 'INSUFFICIENT_FUNDS'],
  [/order.{0,40}not.?found|ORDER_NOT_FOUND/i, 'rejected', 'ORDER_NOT_FOUND'],
  [/PREVIEW_[A-Z_]+|INVALID_[A-Z_]+|UNSUPPORTED_ORDER|POST_ONLY/, 'rejected', 'INVALID_ORDER'],
  [/NOT_FOUND|not found/i, 'rejected', 'NOT_FOUND'],
  [/INTERNAL|\b50[0-4]\b|unavailable|bad gateway|maintenance/i, 'retryable', 'EXCHANGE_UNAVAILABLE'],
]

/** Names of an error's classes, its own first. */
function ancestry(error: Error): string[] {
  const names: string[] = []
  for (let p = Object.getPrototypeOf(error) as object | null; p && p !== Error.prototype && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    names.push((p as {constructor: {name: string}}).constructor.name)
  }

  return names
}

/** Whether a ccxt class reached through `ancestry` decides alone, or its message has to. */
function verdictOf(error: Error): Verdict {
  const names = ancestry(error)
  if (!names.includes('BaseError')) {
    // Not ccxt's: a bad PEM surfaces as a plain Error from its crypto; anything else is a bug (TypeError and co).
    if (/key format|private key|\bPEM\b|secret/i.test(error.message)) return ['fatal', 'BAD_CREDENTIALS']
    return ['fatal', 'ADAPTER_BUG']
  }

  for (const name of names) {
    if (name === 'ExchangeError' || name === 'BaseError') break
    const hit = BY_CLASS[name]
    if (hit) return hit
  }

  for (const [pattern, kind, code] of BY_MESSAGE) if (pattern.test(error.message)) return [kind, code]
  // An answer ccxt could not place: the exchange is up but said something unexpected. Trying later is safe
  // for reads; createOrder turns it into "outcome unknown" anyway.
  return ['retryable', 'EXCHANGE_ERROR']
}

export type Scrub = (text: string) => string

const REDACTED = '[redacted]'
const GENERIC_SECRETS: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g, REDACTED],
  [/eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]+/g, REDACTED],
  [/Bearer\s+[^\s"',;}]+/gi, `Bearer ${REDACTED}`],
  [/(Authorization|CB-ACCESS-SIGN|CB-ACCESS-KEY|X-MBX-APIKEY|API-KEY|API-SIGN)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, `$1$2${REDACTED}`],
]

/**
 * Removes credentials from text: the key and the secret as given (and each line of a PEM secret, also in
 * its JSON-escaped form), plus anything shaped like a JWT, a bearer token, a PEM block or an auth header.
 */
export function secretScrubber(credentials: {apiKey: string; secret: string} | null): Scrub {
  const exact = new Set<string>()
  if (credentials) {
    for (const value of [credentials.apiKey, credentials.secret]) {
      if (value.length < 4) continue
      exact.add(value)
      exact.add(JSON.stringify(value).slice(1, -1))
      for (const line of value.split(/\r?\n|\\n/)) if (line.length >= 12 && !line.startsWith('-----')) exact.add(line)
    }
  }

  const longestFirst = [...exact].sort((a, b) => b.length - a.length)
  return (text) => {
    let out = text
    for (const secret of longestFirst) out = out.split(secret).join(REDACTED)
    for (const [pattern, replacement] of GENERIC_SECRETS) out = out.replace(pattern, replacement)
    return out
  }
}

const MAX_DETAIL = 300

/** One line, scrubbed, at most MAX_DETAIL characters, without ccxt's own "<exchange id> " prefix. */
export function detailOf(error: unknown, exchangeId: string, scrub: Scrub): string {
  const raw = error instanceof Error ? error.message : String(error)
  let line = scrub(raw).replace(/\s+/g, ' ').trim()
  if (line.startsWith(`${exchangeId} `)) line = line.slice(exchangeId.length + 1)
  if (line === '') line = error instanceof Error ? error.name : 'unknown error'
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 3)}...` : line
}

/**
 * The ExchangeError for anything thrown while talking to the exchange. One already classified passes
 * unchanged (its message is scrubbed all the same).
 */
export function classifyError(error: unknown, context: {exchangeId: string; operation: string}, scrub: Scrub): ExchangeError {
  if (error instanceof ExchangeError) {
    const message = scrub(error.message)
    return message === error.message ? error : new ExchangeError(message, error.kind, error.code)
  }

  const [kind, code] = error instanceof Error ? verdictOf(error) : (['fatal', 'ADAPTER_BUG'] as const)
  return new ExchangeError(`${context.exchangeId} ${context.operation}: ${detailOf(error, context.exchangeId, scrub)}`, kind, code)
}
