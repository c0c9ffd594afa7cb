import assert from 'node:assert/strict'

import {BadRequest, ExchangeError, InsufficientFunds} from 'ccxt'

import {type HarnessOptions, rejectsExactly, useCoinbase} from './fixture.js'

describe('loopback Coinbase: convert through the real ccxt client', () => {
  const startWith = useCoinbase()
  const start = (over: HarnessOptions = {}) => startWith({startBalances: {USD: 1000, USDC: 500, BTC: 0.1}, ...over})

  it('quote -> commit -> fetch: USDC to USD completes, balances move once; accounts are named by UUID', async () => {
    const {server, ex} = await start()
    const [usdc, usd] = [server.accountId('USDC'), server.accountId('USD')]
    const quote = await ex.fetchConvertQuote(usdc, usd, 125.5)
    assert.ok(quote.id)
    assert.deepEqual(server.requests.at(-1)?.body, {from_account: usdc, to_account: usd, amount: '125.5'})
    assert.deepEqual([quote.fromCurrency, quote.toCurrency, quote.fromAmount, quote.fee], ['USDC', 'USD', 125.5, 0])
    assert.equal(quote.info.status, 'TRADE_STATUS_CREATED')
    assert.equal(quote.toAmount, undefined, 'ccxt does not parse the target amount: read info.amount.value')
    assert.equal(quote.info.amount.value, '125.5')

    const committed = await ex.createConvertTrade(quote.id, usdc, usd)
    assert.deepEqual([committed.id, committed.info.status], [quote.id, 'TRADE_STATUS_STARTED'])
    // ccxt's conversion has no status field: info.status is the only place it is.
    const done = await ex.fetchConvertTrade(quote.id, usdc, {toCode: usd})
    assert.equal(done.info.status, 'TRADE_STATUS_COMPLETED')
    assert.equal(server.requests.at(-1)?.query, `from_account=${usdc}&to_account=${usd}`)
    // A second commit is answered with the trade as it is and moves nothing.
    assert.equal((await ex.createConvertTrade(quote.id, usdc, usd)).info.status, 'TRADE_STATUS_COMPLETED')
    const balances = server.balances()
    assert.deepEqual([balances.USDC.available, balances.USD.available], [374.5, 1125.5])
  })

  it('currency codes instead of account UUIDs, or a pair not offered, are 400 INVALID_ARGUMENT: BadRequest', async () => {
    const {server, ex} = await start()
    await rejectsExactly(ex.fetchConvertQuote('USDC', 'USD', 10), BadRequest, /Unsupported account in this conversion/)
    await rejectsExactly(ex.fetchConvertQuote(server.accountId('BTC'), server.accountId('USD'), 0.01), BadRequest, /Unsupported account/)
    await rejectsExactly(ex.fetchConvertQuote(server.accountId('USDC'), server.accountId('USD'), 501), InsufficientFunds)
    await rejectsExactly(ex.fetchConvertTrade('no-such-trade', server.accountId('USDC'), {toCode: server.accountId('USD')}), ExchangeError, /NOT_FOUND/)
    assert.deepEqual(server.convertTrades(), [])
  })

  it('offers only the configured pairs', async () => {
    const {server, ex} = await start({convertPairs: [{from: 'BTC', to: 'USD', rate: 40_000, feeRate: 0.01}]})
    const quote = await ex.fetchConvertQuote(server.accountId('BTC'), server.accountId('USD'), 0.1)
    assert.ok(quote.id)
    assert.deepEqual([quote.fee, quote.info.amount.value], [0.001, '3960'])
    await rejectsExactly(ex.fetchConvertQuote(server.accountId('USDC'), server.accountId('USD'), 10), BadRequest)
  })

  for (const tradeStatus of ['TRADE_STATUS_FAILED', 'TRADE_STATUS_CANCELED'] as const) {
    it(`an injected convert failure: quote and commit succeed, the trade ends ${tradeStatus}, nothing moves`, async () => {
      const {server, ex} = await start()
      const [usdc, usd] = [server.accountId('USDC'), server.accountId('USD')]
      server.faults.inject({kind: 'convert_fail', tradeStatus})
      const quote = await ex.fetchConvertQuote(usdc, usd, 100)
      assert.ok(quote.id)
      assert.equal((await ex.createConvertTrade(quote.id, usdc, usd)).info.status, 'TRADE_STATUS_STARTED')
      const trade = await ex.fetchConvertTrade(quote.id, usdc, {toCode: usd})
      assert.equal(trade.info.status, tradeStatus)
      assert.equal(typeof trade.info.cancellation_reason.message, 'string')
      assert.deepEqual([server.balances().USDC.available, server.balances().USD.available], [500, 1000])
      assert.equal(server.faults.pending(), 0)
    })
  }

  it('a quote expires: committing it late is a BadRequest, and it reads CANCELED', async () => {
    const {server, ex} = await start({convertQuoteTtlMs: 50})
    const [usdc, usd] = [server.accountId('USDC'), server.accountId('USD')]
    await ex.loadMarkets()
    const quote = await ex.fetchConvertQuote(usdc, usd, 10)
    assert.ok(quote.id)
    await new Promise((resolve) => setTimeout(resolve, 120))
    await rejectsExactly(ex.createConvertTrade(quote.id, usdc, usd), BadRequest, /expired/)
    assert.equal((await ex.fetchConvertTrade(quote.id, usdc, {toCode: usd})).info.status, 'TRADE_STATUS_CANCELED')
    assert.equal(server.balances().USDC.available, 500)
  })

  it('with convertSettleMs the trade reads STARTED (source debited, target not yet credited) until it settles', async () => {
    const {server, ex} = await start({convertSettleMs: 300})
    const [usdc, usd] = [server.accountId('USDC'), server.accountId('USD')]
    const quote = await ex.fetchConvertQuote(usdc, usd, 50)
    assert.ok(quote.id)
    await ex.createConvertTrade(quote.id, usdc, usd)
    assert.equal((await ex.fetchConvertTrade(quote.id, usdc, {toCode: usd})).info.status, 'TRADE_STATUS_STARTED')
    assert.deepEqual([server.balances().USDC.available, server.balances().USD.available], [450, 1000])
    const deadline = Date.now() + 5000
    let status: string
    do {
      await new Promise((resolve) => setTimeout(resolve, 50))
      status = (await ex.fetchConvertTrade(quote.id, usdc, {toCode: usd})).info.status
    } while (status === 'TRADE_STATUS_STARTED' && Date.now() < deadline)
    assert.equal(status, 'TRADE_STATUS_COMPLETED')
    assert.deepEqual([server.balances().USDC.available, server.balances().USD.available], [450, 1050])
  })
})
