import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {AuthenticationError, BadRequest, ExchangeError} from 'ccxt'

import {coinbaseClient} from './ccxt-client.js'
import {approx, csvRows, HOUR, rejectsExactly, useCoinbase, waitFor} from './fixture.js'
import {testKey} from './keys.js'

/** Coinbase's published BTC-USD rules (ccxt's recorded sample), instead of the ones derived from the price. */
const BTC_RULES = {baseIncrement: 1e-8, priceIncrement: 0.01, quoteIncrement: 0.01, baseMinSize: 1e-8, baseMaxSize: 3400, quoteMinSize: 1, quoteMaxSize: 150_000_000}

describe('loopback Coinbase: market data, time and auth through the real ccxt client', () => {
  const start = useCoinbase()

  describe('markets', () => {
    it("loadMarkets makes Coinbase's 7 requests and reads increments, limits and the fee tier", async () => {
      const {server, ex} = await start({productRules: {'BTC-USD': BTC_RULES}, fees: {maker: 0.0025, taker: 0.004}})
      const markets = await ex.loadMarkets()
      const seen = server.requests.map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ''} ${r.status}`).sort()
      assert.deepEqual(seen, [
        'GET /api/v3/brokerage/market/products 200',
        'GET /api/v3/brokerage/market/products?product_type=FUTURE 200',
        'GET /api/v3/brokerage/market/products?product_type=FUTURE&contract_expiry_type=PERPETUAL 200',
        'GET /api/v3/brokerage/transaction_summary 200',
        'GET /v2/currencies 200',
        'GET /v2/currencies/crypto 200',
        'GET /v2/exchange-rates 200',
      ])
      assert.deepEqual(Object.keys(markets).sort(), ['BTC/USD', 'ETH/USD'])
      const btc = ex.market('BTC/USD')
      assert.deepEqual([btc.id, btc.base, btc.quote, btc.spot, btc.active], ['BTC-USD', 'BTC', 'USD', true, true])
      assert.deepEqual(btc.precision, {amount: 1e-8, price: 0.01})
      assert.deepEqual([btc.limits.amount, btc.limits.cost], [{min: 1e-8, max: 3400}, {min: 1, max: 150_000_000}])
      assert.deepEqual([btc.maker, btc.taker], [0.0025, 0.004])
      // Without an override, the rules follow the price level as in the simulated exchange (ETH ~2,000 USD).
      const eth = ex.market('ETH/USD')
      assert.deepEqual([eth.precision.amount, eth.precision.price, eth.limits.amount?.min, eth.limits.cost?.min], [1e-5, 0.1, 1e-5, 1])
    })

    it('without credentials loadMarkets skips transaction_summary and keeps ccxt default fees; private calls are still sent', async () => {
      const {server} = await start({fees: {maker: 0.0025, taker: 0.004}})
      const anonymous = coinbaseClient(server, {key: null})
      await anonymous.loadMarkets()
      assert.equal(server.requests.length, 6)
      assert.ok(server.requests.every((r) => r.path !== '/api/v3/brokerage/transaction_summary'))
      assert.deepEqual([anonymous.market('BTC/USD').maker, anonymous.market('BTC/USD').taker], [0.006, 0.012])
      // ccxt does not stop a private call for lack of credentials: it sends "Authorization: Bearer undefined".
      server.clearRequests()
      await rejectsExactly(anonymous.fetchBalance(), AuthenticationError, /401 Unauthorized Unauthorized/)
      assert.deepEqual(server.requests.map((r) => [r.path, r.status, r.authProblem]), [['/v2/accounts', 401, 'Authorization is not "Bearer <jwt>"']])
    })

    it('starts 300 bars into the data, with the current bar closing at the start time (rounded down to the hour)', async () => {
      const before = Math.floor(Date.now() / HOUR) * HOUR
      const {server} = await start()
      const after = Math.floor(Date.now() / HOUR) * HOUR
      assert.equal(server.market.barIndex, 299)
      assert.equal(server.market.barMs, HOUR)
      assert.ok([before, after].includes(server.market.currentBarStart + HOUR))
      assert.equal(server.market.timeShiftMs, server.market.currentBarStart - csvRows('BTC-USD')[299].time)
    })

    it('by default replays every bundled pair, each with a full 300-bar window of closed history', async () => {
      const {server, ex} = await start({symbols: undefined})
      await ex.loadMarkets()
      assert.equal(ex.symbols.length, 26)
      assert.deepEqual(server.market.listed().length, 26)
      const since = server.market.currentBarStart - 299 * HOUR
      for (const symbol of ['DASH/USD', 'BTC/USD', 'XRP/USD']) {
        const bars = await ex.fetchOHLCV(symbol, '1h', since, 300)
        assert.equal(bars.length, 300, symbol)
        assert.equal(bars.at(-1)?.[0], server.market.currentBarStart)
      }
    })

    it('fetchTickers: last is the current close, 24 h change and volumes from the last 24 bars', async () => {
      const {ex} = await start({startBar: 400})
      const tickers = await ex.fetchTickers(['BTC/USD', 'ETH/USD'])
      for (const symbol of ['BTC-USD', 'ETH-USD']) {
        const day = csvRows(symbol).slice(400 - 23, 401)
        const t = tickers[symbol.replace('-', '/')]
        assert.equal(t.last, day[23].close)
        approx(t.percentage, ((day[23].close - day[0].open) / day[0].open) * 100, 1e-9)
        approx(t.baseVolume, day.reduce((s, r) => s + r.volume, 0), 1e-9)
        approx(t.quoteVolume, day.reduce((s, r) => s + r.close * r.volume, 0), 1e-9)
        assert.equal(t.bid, undefined, 'Coinbase products carry no bid/ask: fetchBidsAsks does')
      }
    })

    it('fetchBidsAsks (and the public fetchTicker): close -/+ the half-spread, rounded out to the price increment', async () => {
      const {server, ex} = await start({startBar: 400, halfSpread: 0.001, productRules: {'BTC-USD': BTC_RULES}})
      const books = await ex.fetchBidsAsks(['BTC/USD'])
      const close = csvRows('BTC-USD')[400].close
      approx(books['BTC/USD'].bid, Math.floor(close * 0.999 * 100) / 100, 1e-12)
      approx(books['BTC/USD'].ask, Math.ceil(close * 1.001 * 100) / 100, 1e-12)
      assert.deepEqual(Object.keys(books), ['BTC/USD'])
      // best_bid_ask is private; the public per-product ticker carries the same bid/ask without credentials.
      const anonymous = coinbaseClient(server, {key: null})
      const ticker = await anonymous.fetchTicker('BTC/USD')
      assert.deepEqual([ticker.bid, ticker.ask, ticker.last], [books['BTC/USD'].bid, books['BTC/USD'].ask, close])
      assert.equal(server.requests.at(-1)?.path, '/api/v3/brokerage/market/products/BTC-USD/ticker')
    })
  })

  describe('candles', () => {
    it('fetchOHLCV serves the recorded bars up to the cursor and never past it; advance() shows the next one', async () => {
      const {server, ex} = await start({startBar: 350})
      const rows = csvRows('BTC-USD')
      const shift = server.market.timeShiftMs
      const asOhlcv = (r: (typeof rows)[number]) => [r.time + shift, r.open, r.high, r.low, r.close, r.volume]
      assert.deepEqual(await ex.fetchOHLCV('BTC/USD', '1h', rows[251].time + shift, 300), rows.slice(251, 351).map(asOhlcv))
      assert.deepEqual(await ex.fetchOHLCV('BTC/USD', '1h', rows[351].time + shift), [])
      const latest = await ex.fetchOHLCV('BTC/USD', '1h')
      assert.deepEqual(latest.at(-1), asOhlcv(rows[350]))

      server.advance()
      assert.deepEqual(await ex.fetchOHLCV('BTC/USD', '1h', rows[351].time + shift), [asOhlcv(rows[351])])
      assert.deepEqual((await ex.fetchOHLCV('BTC/USD', '1h')).at(-1), asOhlcv(rows[351]))
      assert.equal((await ex.fetchTicker('BTC/USD')).last, rows[351].close)
    })

    it('refuses granularities other than the data bar with 400 INVALID_ARGUMENT, which ccxt raises as BadRequest', async () => {
      const {server, ex} = await start()
      await ex.loadMarkets()
      await rejectsExactly(ex.fetchOHLCV('BTC/USD', '5m'), BadRequest, /INVALID_ARGUMENT/)
      const end = Math.floor(server.now() / 1000)
      const raw = (granularity: string, from: number) => ex.v3PublicGetBrokerageMarketProductsProductIdCandles({product_id: 'BTC-USD', granularity, start: String(from), end: String(end)})
      await rejectsExactly(raw('FOUR_HOUR', end - 3600), BadRequest, /granularity argument is invalid/)
      await rejectsExactly(raw('ONE_HOUR', end - 351 * 3600), BadRequest, /less than 350/)
      assert.deepEqual(server.requests.slice(-3).map((r) => r.status), [400, 400, 400])
    })

    it('serves the bar length of its data folder: 5-minute files answer FIVE_MINUTE and refuse ONE_HOUR', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cb-5m-'))
      try {
        const t0 = 1_700_000_100
        const lines = Array.from({length: 12}, (_, i) => `${t0 + i * 300},${100 + i},${101 + i},${99 + i},${100.5 + i},${10 + i}`)
        fs.writeFileSync(path.join(dir, 'SOL-USD-5m.csv'), ['timestamp,open,high,low,close,volume', ...lines].join('\n'))
        const {server, ex} = await start({dataDir: dir, symbols: undefined, startBar: 9})
        assert.equal(server.market.barMs, 300_000)
        const bars = await ex.fetchOHLCV('SOL/USD', '5m', server.market.currentBarStart - 9 * 300_000)
        assert.deepEqual(bars.map((b) => b[4]), [100.5, 101.5, 102.5, 103.5, 104.5, 105.5, 106.5, 107.5, 108.5, 109.5])
        await rejectsExactly(ex.fetchOHLCV('SOL/USD', '1h'), BadRequest, /only 5-minute bars/)
      } finally {
        fs.rmSync(dir, {recursive: true, force: true})
      }
    })

    it('autoAdvanceMs moves the replay on by itself', async () => {
      const {server} = await start({autoAdvanceMs: 20})
      const first = server.market.barIndex
      await waitFor(() => server.market.barIndex >= first + 3, 5000, 'three automatic advances')
    })
  })

  describe('accounts', () => {
    it('pages /api/v3/brokerage/accounts with a cursor; ccxt asks for 250 in one page', async () => {
      const {server, ex} = await start({startBalances: {USD: 100, BTC: 1, ETH: 2}})
      const first = await ex.v3PrivateGetBrokerageAccounts({limit: 2})
      const rest = await ex.v3PrivateGetBrokerageAccounts({limit: 2, cursor: first.cursor})
      const currencies = [...first.accounts, ...rest.accounts].map((a: {currency: string}) => a.currency)
      assert.deepEqual([first.has_next, rest.has_next, currencies], [true, false, ['BTC', 'ETH', 'USD', 'USDC']])
      assert.equal(currencies.length, Object.keys(server.balances()).length)
      await ex.fetchBalance({v3: true})
      assert.equal(server.requests.at(-1)?.query, 'limit=250')
    })

    it('the ccxt helper refuses any base URL but 127.0.0.1', () => {
      assert.throws(() => coinbaseClient({url: 'https://api.coinbase.com'}, {key: null}), /only http:\/\/127\.0\.0\.1/)
      assert.throws(() => coinbaseClient({url: 'http://localhost:80'}, {key: null}), /only http:\/\/127\.0\.0\.1/)
    })
  })

  describe('time', () => {
    it('fetchTime (v2 and v3) reports the server clock, clock offset included', async () => {
      const {server, ex} = await start({clockOffsetMs: -45_000})
      const near = (t: number | undefined, expected: number) => assert.ok(t !== undefined && Math.abs(t - expected) <= 2000, `${t} not within 2 s of ${expected}`)
      near(await ex.fetchTime(), Date.now() - 45_000)
      server.setClockOffset(90_000)
      near(await ex.fetchTime({method: 'v3PublicGetBrokerageTime'}), Date.now() + 90_000)
      assert.deepEqual(server.requests.map((r) => r.path), ['/v2/time', '/api/v3/brokerage/time'])
    })
  })

  describe('auth', () => {
    it('accepts ccxt-signed JWTs and logs one record per request, resettable', async () => {
      const {server, ex} = await start()
      await ex.loadMarkets()
      server.clearRequests()
      await ex.fetchBalance()
      assert.deepEqual(server.requests.map((r) => [r.method, r.path, r.query, r.status, r.authProblem]), [['GET', '/v2/accounts', 'limit=250', 200, null]])
    })

    it('a JWT signed by another key gets 401 "Unauthorized" (text), which ccxt raises as AuthenticationError', async () => {
      const {server} = await start()
      const stranger = coinbaseClient(server, {key: testKey()})
      await rejectsExactly(stranger.loadMarkets(), AuthenticationError, /401/)
      const refused = server.requests.filter((r) => r.status === 401)
      assert.deepEqual(refused.map((r) => r.path), ['/api/v3/brokerage/transaction_summary'])
      assert.match(refused[0].authProblem ?? '', /kid is not the key name/)
    })

    it("a Coinbase JSON 401 (unauthorizedBody: 'json') reaches ccxt as a plain ExchangeError", async () => {
      const {server} = await start({unauthorizedBody: 'json'})
      const stranger = coinbaseClient(server, {key: testKey()})
      await rejectsExactly(stranger.loadMarkets(), ExchangeError, /UNAUTHENTICATED/)
    })

    it('a forged signature under the right key name is refused', async () => {
      const {server, key} = await start()
      const forger = coinbaseClient(server, {key: {...testKey(), name: key.name}})
      await rejectsExactly(forger.loadMarkets(), AuthenticationError)
      assert.match(server.requests.find((r) => r.status === 401)?.authProblem ?? '', /signature does not verify/)
    })

    it("checks nbf/exp against the server's clock: skew either way beyond the JWT's 2 minutes is a 401", async () => {
      const {server, ex} = await start()
      await ex.loadMarkets()
      server.setClockOffset(150_000) // server ahead: the token (exp = now + 120 s) has expired
      await rejectsExactly(ex.fetchBalance(), AuthenticationError)
      assert.match(server.requests.at(-1)?.authProblem ?? '', /JWT expired/)
      server.setClockOffset(-30_000) // server behind: the token is not valid yet
      await rejectsExactly(ex.fetchBalance(), AuthenticationError)
      assert.match(server.requests.at(-1)?.authProblem ?? '', /not valid yet/)
      server.setClockOffset(0)
      await ex.fetchBalance()
    })

    it("a token signed for another request is refused (the uri claim names method, host and path)", async () => {
      const {server, ex} = await start()
      await ex.loadMarkets()
      const token = ex.createAuthToken(Math.floor(Date.now() / 1000), 'GET', `${server.url}/v2/accounts`)
      ex.headers = {Authorization: `Bearer ${token}`} // ccxt sends a preset Authorization verbatim
      await ex.fetchBalance()
      await rejectsExactly(ex.fetchOpenOrders('BTC/USD'), AuthenticationError)
      assert.match(server.requests.at(-1)?.authProblem ?? '', /uri .* does not name GET 127\.0\.0\.1:\d+\/api\/v3\/brokerage\/orders\/historical\/batch/)
    })

    it('a request without Authorization gets 401 on every private endpoint, public ones stay open', async () => {
      const {server} = await start()
      const status = async (path: string, init?: RequestInit) => (await fetch(`${server.url}${path}`, init)).status
      assert.equal(await status('/api/v3/brokerage/accounts'), 401)
      assert.equal(await status('/api/v3/brokerage/orders', {method: 'POST', body: '{}'}), 401)
      assert.equal(await status('/api/v3/brokerage/best_bid_ask'), 401)
      assert.equal(await status('/api/v3/brokerage/market/products'), 200)
      assert.equal(await status('/v2/time'), 200)
      assert.deepEqual(server.requests.map((r) => r.authProblem), ['no Authorization header', 'no Authorization header', 'no Authorization header', null, null])
    })
  })
})
