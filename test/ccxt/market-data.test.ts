import assert from 'node:assert/strict'

import {measureSkew, openCcxtVenue} from '../../src/lib/exchange/ccxt/index.js'
import {csvRows} from '../coinbase/fixture.js'
import {BTC_RULES, HOUR, approx, hits, rejectsWith, sleep, useVenue} from './helpers.js'
import {candleMap} from '../../src/lib/domain.js'

const PRODUCTS = '/api/v3/brokerage/market/products'
const BAR = 400

describe('ccxt adapter: market data from the loopback Coinbase through the real ccxt client', () => {
  const start = useVenue()

  it('markets: precision and limits from the products, this account\'s fee tier in bps (with credentials)', async () => {
    const {market, venue} = await start({server: {productRules: {'BTC-USD': BTC_RULES}, fees: {maker: 0.004, taker: 0.006}}})
    const markets = await market.markets()
    assert.deepEqual([...markets.keys()].sort(), ['BTC-USD', 'ETH-USD'])
    assert.deepEqual(markets.get('BTC-USD'), {symbol: 'BTC-USD', base: 'BTC', quote: 'USD', amountStep: 1e-8, priceStep: 0.01, minAmount: 1e-8, minNotional: 1, maxAmount: 3400, makerBps: 40, takerBps: 60})
    // loadMarkets = products + transaction_summary + the two futures listings ccxt always asks for; the
    // three /v2 currency calls are skipped (the profile turns fetchCurrencies off).
    assert.deepEqual(venue.requests().byOperation.markets, {calls: 1, requests: 4})
    assert.equal(venue.loadedVia, 'class-file')
    // Cached until markets are reloaded: a second call sends nothing.
    assert.equal(await market.markets(), markets)
    assert.deepEqual(venue.requests().byOperation.markets, {calls: 2, requests: 4})
  })

  it('markets without credentials carry Coinbase\'s published default fees', async () => {
    const {market, server} = await start({publicOnly: true, server: {fees: {maker: 0.001, taker: 0.002}}})
    const btc = (await market.markets()).get('BTC-USD')
    assert.deepEqual([btc?.makerBps, btc?.takerBps], [60, 120])
    assert.equal(hits(server, '/api/v3/brokerage/transaction_summary').length, 0)
  })

  it('tickers with credentials: bid/ask from one best_bid_ask, last and 24 h quote volume from one products call', async () => {
    const {market, server, venue} = await start({server: {startBar: BAR}})
    await market.markets()
    server.clearRequests()
    venue.resetRequests()
    const before = Date.now()
    const tickers = await market.tickers(['BTC-USD', 'ETH-USD', 'NOPE-USD'])
    assert.deepEqual([...tickers.keys()].sort(), ['BTC-USD', 'ETH-USD'], 'an unknown symbol is left out')
    for (const symbol of ['BTC-USD', 'ETH-USD']) {
      const t = tickers.get(symbol)!
      const q = server.market.quote(symbol)
      assert.deepEqual([t.bid, t.ask, t.last], [q.bid, q.ask, q.price])
      // The 24 h quote volume, recomputed from the CSV: the last 24 bars' close * volume.
      const rows = csvRows(symbol).filter((r) => r.time + server.market.timeShiftMs <= server.market.currentBarStart).slice(-24)
      approx(t.quoteVolume24h, rows.reduce((sum, r) => sum + r.close * r.volume, 0), 1e-6 * t.quoteVolume24h, `${symbol} volume`)
      assert.ok(t.timestamp >= before - 1000 && t.timestamp <= Date.now() + 1000)
    }

    assert.deepEqual(server.requests.map((r) => r.path).sort(), ['/api/v3/brokerage/best_bid_ask', PRODUCTS])
    assert.deepEqual(venue.requests().byOperation.tickers, {calls: 1, requests: 2})
  })

  it('tickers without credentials: one products call plus one public ticker per symbol, spaced by ccxt\'s rate limiter', async () => {
    const symbols = ['BTC-USD', 'ETH-USD', 'LTC-USD']
    const {market, server, venue} = await start({publicOnly: true, server: {symbols}})
    await market.markets()
    server.clearRequests()
    const tickers = await market.tickers(symbols)
    for (const symbol of symbols) {
      const q = server.market.quote(symbol)
      assert.deepEqual([tickers.get(symbol)?.bid, tickers.get(symbol)?.ask], [q.bid, q.ask])
    }

    assert.equal(hits(server, /\/ticker$/).length, 3)
    assert.equal(venue.requests().byOperation.tickers.requests, 4)
    // A public v3 call costs 3 tokens of 34 ms in ccxt's leaky bucket (capacity 1): the next one waits at
    // least (3 - 1) x 34 = 68 ms. Without the limiter these four leave within a few ms of each other.
    const times = server.requests.map((r) => r.at)
    const gaps = times.slice(1).map((t, i) => t - times[i])
    assert.ok(Math.min(...gaps) >= 60, `request gaps ${gaps.join(', ')} ms`)
  })

  it('candles: only bars after `since`, at most `limit` (the newest), values as recorded; none and no request when nothing new', async () => {
    const {market, server, venue} = await start({server: {startBar: BAR, symbols: ['BTC-USD', 'ETH-USD', 'LTC-USD']}})
    await market.markets()
    venue.resetRequests()
    const shift = server.market.timeShiftMs
    const newest = server.market.currentBarStart
    const since = new Map([['BTC-USD', newest - 3 * HOUR], ['ETH-USD', 0], ['LTC-USD', newest], ['NOPE-USD', 0]])
    const bars = candleMap(await market.candles(since, 5))
    assert.deepEqual([...bars.keys()].sort(), ['BTC-USD', 'ETH-USD'])
    // The server writes decimals with 12 significant digits, as Coinbase's strings have at most.
    const p12 = (x: number) => Number(x.toPrecision(12))
    const expected = (symbol: string, after: number, limit: number) => csvRows(symbol)
      .map((r) => ({time: r.time + shift, open: p12(r.open), high: p12(r.high), low: p12(r.low), close: p12(r.close), volume: p12(r.volume)}))
      .filter((r) => r.time > after && r.time <= newest)
      .slice(-limit)
    assert.deepEqual(bars.get('BTC-USD'), expected('BTC-USD', newest - 3 * HOUR, 5))
    assert.equal(bars.get('BTC-USD')?.length, 3)
    assert.deepEqual(bars.get('ETH-USD'), expected('ETH-USD', 0, 5))
    // One request per symbol with something new; LTC (nothing new) and NOPE (unknown) cost none; the
    // first call also reads the exchange's clock once.
    assert.deepEqual(venue.requests().byOperation.candles, {calls: 1, requests: 2 + 1})
    candleMap(await market.candles(new Map([['BTC-USD', newest - HOUR]]), 5))
    assert.deepEqual(venue.requests().byOperation.candles, {calls: 2, requests: 3 + 1})
  })

  it('candles: a window longer than one page (300 bars) is read in pages and joined without gaps', async () => {
    const {market, server, venue} = await start({server: {startBar: BAR, symbols: ['BTC-USD']}})
    const bars = candleMap(await market.candles(new Map([['BTC-USD', 0]]), 400)).get('BTC-USD')!
    assert.equal(bars.length, 400)
    assert.ok(bars.every((b, i) => i === 0 || b.time - bars[i - 1].time === HOUR))
    assert.equal(bars.at(-1)?.time, server.market.currentBarStart)
    assert.equal(hits(server, '/api/v3/brokerage/market/products/BTC-USD/candles').length, 2)
    // Two pages, the markets load (first call) and one clock read.
    assert.equal(venue.requests().byOperation.candles.requests, 2 + 4 + 1)
  })

  it('candles: a bar still forming is dropped, though the server lists it', async () => {
    // Not across the top of an hour: the two servers below must agree on the current hour.
    if (Date.now() % HOUR > HOUR - 15_000) await sleep(HOUR - (Date.now() % HOUR) + 100)
    const probe = await start({server: {startBar: BAR}, publicOnly: true})
    const shift = probe.server.market.timeShiftMs + HOUR
    const {market, server} = await start({server: {startBar: BAR, timeShiftMs: shift}, publicOnly: true})
    const forming = server.market.currentBarStart
    assert.ok(forming + HOUR > Date.now(), 'precondition: the server\'s current bar has not closed')
    const bars = candleMap(await market.candles(new Map([['BTC-USD', forming - 3 * HOUR]]), 10)).get('BTC-USD')!
    assert.deepEqual(bars.map((b) => b.time), [forming - 2 * HOUR, forming - HOUR])
    // The same bars from the probe, whose current bar has closed, end where the forming one begins.
    assert.equal(probe.server.market.currentBarStart, forming - HOUR)
  })

  it('time() is the exchange clock; measureSkew sees its offset; candle windows are cut on it, not on the local clock', async () => {
    const offset = 2 * HOUR
    const {market, server} = await start({server: {startBar: BAR, clockOffsetMs: offset, symbols: ['BTC-USD']}, publicOnly: true})
    const newest = server.market.currentBarStart
    // The first candles() reads the exchange's clock before cutting its window: by the local clock the
    // server's last two bars would not have closed yet (ccxt's own default window ends at the local clock).
    const bars = candleMap(await market.candles(new Map([['BTC-USD', newest - 4 * HOUR]]), 10)).get('BTC-USD')!
    assert.deepEqual(bars.map((b) => b.time), [newest - 3 * HOUR, newest - 2 * HOUR, newest - HOUR, newest])
    assert.equal(hits(server, '/api/v3/brokerage/time').length, 1)
    approx(await measureSkew(market), offset, 250, 'skew')
    approx(await market.time(), Date.now() + offset, 250, 'exchange time')
    candleMap(await market.candles(new Map([['BTC-USD', newest - 4 * HOUR]]), 10))
    assert.deepEqual(hits(server, '/api/v3/brokerage/time').length, 3, 'the v3 time endpoint (milliseconds), not /v2/time; read once for candles')
  })

  it('a timeframe Coinbase does not offer is refused when the venue opens', async () => {
    await rejectsWith(start({venue: {timeframe: '4h'}}), 'fatal', 'TIMEFRAME_UNSUPPORTED', /1m, 5m, 15m, 30m, 1h, 2h, 6h, 1d/)
  })

  it('an exchange id ccxt does not know, or a REST URL that is not http(s), is refused when the venue opens', async () => {
    const base = {credentials: null, timeoutMs: 1000, quote: 'USD', timeframe: '1h'} as const
    await rejectsWith(openCcxtVenue({...base, exchangeId: 'nosuchexchange'}), 'fatal', 'UNKNOWN_EXCHANGE', /"nosuchexchange"/)
    await rejectsWith(openCcxtVenue({...base, exchangeId: 'coinbase', restUrl: 'ftp://127.0.0.1:9'}), 'fatal', 'BAD_REST_URL')
  })

  it('a closed market data refuses further calls', async () => {
    const {market} = await start({publicOnly: true})
    await market.close()
    await rejectsWith(market.time(), 'fatal', 'VENUE_CLOSED')
  })
})
