import assert from 'node:assert/strict'

import * as ccxt from 'ccxt'

import {classifyError, secretScrubber} from '../../src/lib/exchange/ccxt/errors.js'
import {ExchangeError, type ExchangeErrorKind} from '../../src/lib/exchange/ports.js'
import {testKey} from '../coinbase/keys.js'

/** ccxt's own error classes (the real ones), run through the one mapping bot uses. */
const none = secretScrubber(null)
const classify = (error: unknown) => classifyError(error, {exchangeId: 'coinbase', operation: 'fetchBalance'}, none)

describe('ccxt adapter: the error mapping', () => {
  const table: Array<[string, Error, ExchangeErrorKind, string]> = [
    ['NetworkError', new ccxt.NetworkError('coinbase GET https://x fetch failed: ECONNRESET'), 'retryable', 'NETWORK_ERROR'],
    ['RequestTimeout', new ccxt.RequestTimeout('coinbase GET https://x request timed out (10000 ms)'), 'retryable', 'TIMEOUT'],
    ['ExchangeNotAvailable', new ccxt.ExchangeNotAvailable('coinbase GET https://x 503 Service Unavailable'), 'retryable', 'EXCHANGE_UNAVAILABLE'],
    ['OnMaintenance', new ccxt.OnMaintenance('down for maintenance'), 'retryable', 'EXCHANGE_MAINTENANCE'],
    ['ExchangeError "INTERNAL"', new ccxt.ExchangeError('coinbase {"error":"INTERNAL","message":"internal error"}'), 'retryable', 'EXCHANGE_UNAVAILABLE'],
    ['an unknown plain ExchangeError', new ccxt.ExchangeError('coinbase something odd'), 'retryable', 'EXCHANGE_ERROR'],
    ['RateLimitExceeded', new ccxt.RateLimitExceeded('slow down'), 'rate_limited', 'RATE_LIMITED'],
    ['DDoSProtection', new ccxt.DDoSProtection('cloudflare'), 'rate_limited', 'RATE_LIMITED'],
    ['ExchangeError "RATE_LIMIT_EXCEEDED"', new ccxt.ExchangeError('coinbase {"error":"RATE_LIMIT_EXCEEDED"}'), 'rate_limited', 'RATE_LIMITED'],
    ['ExchangeError "... 429 ..."', new ccxt.ExchangeError('coinbase GET https://x 429 whatever'), 'rate_limited', 'RATE_LIMITED'],
    ['InsufficientFunds', new ccxt.InsufficientFunds('coinbase Insufficient balance'), 'rejected', 'INSUFFICIENT_FUNDS'],
    ['InvalidOrder', new ccxt.InvalidOrder('amount must be greater than minimum amount precision'), 'rejected', 'INVALID_ORDER'],
    ['BadRequest', new ccxt.BadRequest('coinbase {"error":"INVALID_ARGUMENT"}'), 'rejected', 'BAD_REQUEST'],
    ['OrderNotFound', new ccxt.OrderNotFound('no such order'), 'rejected', 'ORDER_NOT_FOUND'],
    ['BadSymbol', new ccxt.BadSymbol('coinbase does not have market symbol NOPE/USD'), 'rejected', 'BAD_SYMBOL'],
    ['ExchangeError "order ... not found"', new ccxt.ExchangeError('coinbase {"error":"unknown","message":"order with this orderID was not found"}'), 'rejected', 'ORDER_NOT_FOUND'],
    ['ExchangeError "PREVIEW_..."', new ccxt.ExchangeError('PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL'), 'rejected', 'INVALID_ORDER'],
    ['ExchangeError "INSUFFICIENT_FUND"', new ccxt.ExchangeError('coinbase {"error":"INSUFFICIENT_FUND"}'), 'rejected', 'INSUFFICIENT_FUNDS'],
    ['AuthenticationError', new ccxt.AuthenticationError('coinbase 401 Unauthorized'), 'fatal', 'AUTH_FAILED'],
    ['PermissionDenied', new ccxt.PermissionDenied('coinbase {"error":"PERMISSION_DENIED"}'), 'fatal', 'PERMISSION_DENIED'],
    ['AccountSuspended', new ccxt.AccountSuspended('suspended'), 'fatal', 'ACCOUNT_SUSPENDED'],
    ['ExchangeError "UNAUTHENTICATED"', new ccxt.ExchangeError('coinbase {"error":"UNAUTHENTICATED"}'), 'fatal', 'AUTH_FAILED'],
    ['NotSupported', new ccxt.NotSupported('coinbase fetchX() is not supported yet'), 'fatal', 'NOT_SUPPORTED'],
    ['a TypeError (a bug)', new TypeError("Cannot read properties of undefined (reading 'toLowerCase')"), 'fatal', 'ADAPTER_BUG'],
    ['a bad PEM (plain Error from ccxt\'s crypto)', new Error('Unsupported key format'), 'fatal', 'BAD_CREDENTIALS'],
  ]
  for (const [name, error, kind, code] of table) {
    it(`${name} -> ${kind} (${code})`, () => {
      const e = classify(error)
      assert.ok(e instanceof ExchangeError)
      assert.deepEqual([e.kind, e.code], [kind, code])
      assert.match(e.message, /^coinbase fetchBalance: /)
      assert.ok(!e.message.startsWith('coinbase fetchBalance: coinbase '), 'ccxt\'s own exchange prefix is not repeated')
    })
  }

  it('an ExchangeError passes unchanged; messages are one line of at most 300 characters', () => {
    const mine = new ExchangeError('already classified', 'rejected', 'X')
    assert.equal(classify(mine), mine)
    const long = classify(new ccxt.ExchangeNotAvailable(`coinbase GET https://x 503\n<html>\n${'x'.repeat(2000)}</html>`))
    assert.ok(!long.message.includes('\n'))
    assert.ok(long.message.length <= 'coinbase fetchBalance: '.length + 300)
  })

  it('scrubs the key, the secret (whole, by line, JSON-escaped), JWTs, bearer tokens and auth headers', () => {
    const key = testKey()
    const scrub = secretScrubber({apiKey: key.name, secret: key.privateKeyPem})
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ'
    const body = [
      `key ${key.name}`,
      `pem ${key.privateKeyPem}`,
      `line ${key.privateKeyPem.split('\n')[1]}`,
      `json ${JSON.stringify({secret: key.privateKeyPem})}`,
      `jwt ${jwt}`,
      'Authorization: Bearer opaque-token-123',
      'CB-ACCESS-SIGN: 0123456789abcdef',
    ].join('\n')
    const e = classifyError(new ccxt.BadRequest(`coinbase ${body}`), {exchangeId: 'coinbase', operation: 'createOrder'}, scrub)
    for (const secret of [key.name, key.privateKeyPem, ...key.privateKeyPem.split('\n').filter((l) => l.length > 20), jwt, 'opaque-token-123', '0123456789abcdef']) {
      assert.ok(!e.message.includes(secret), `${secret.slice(0, 30)} left in: ${e.message}`)
    }

    assert.match(e.message, /key \[redacted\]/)
    // Our own errors are scrubbed too.
    const own = classifyError(new ExchangeError(`echo ${jwt}`, 'retryable', 'BAD_RESPONSE'), {exchangeId: 'coinbase', operation: 'x'}, scrub)
    assert.equal(own.message, 'echo [redacted]')
  })
})
