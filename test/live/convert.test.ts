import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import path from 'node:path'

import {testKey} from '../coinbase/keys.js'
import {type CoinbaseServer, startCoinbaseServer} from '../coinbase/server.js'
import {tempDir} from '../helpers/fixtures.js'
import {query} from '../helpers/run.js'
import {assertSameOrders, keyEnv, liveConfig, runCliAsync} from './support.js'

/**
 * `bot convert --live` on the loopback Coinbase: USDC -> USD through Coinbase's convert (quote, commit, final
 * status; USDC has no order book there, so convert is the whole route), a coin through a market order, and a
 * buy sized in quote; each checked on the exchange's own books.
 */
describe('bot convert --live (CLI)', function () {
  let root: string
  let cleanup: () => void
  let server: CoinbaseServer | null = null
  const key = testKey()
  beforeEach(() => {
    const t = tempDir('bot-live-convert-')
    root = t.dir
    cleanup = t.cleanup
  })
  afterEach(async () => {
    await server?.close()
    server = null
    cleanup()
  })

  const convert = (config: string, stateDir: string, ...args: string[]) => runCliAsync(['convert', ...args, '--live', '--json', '--config-dir', config, '--state-dir', stateDir], keyEnv(key))

  it('USDC -> USD by Coinbase\'s convert: one trade, balances moved once; --dry-run first trades nothing and writes nothing', async () => {
    server = await startCoinbaseServer({key, startBalances: {USD: 10_000, USDC: 500}})
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'state')

    const preview = await convert(config, stateDir, 'USDC', 'USD', '--amount', '125.5', '--dry-run')
    assert.equal(preview.status, 0, preview.stderr)
    const plan = preview.events[0]
    assert.deepEqual([plan.route, plan.dryRun, plan.steps.length, plan.steps[0].kind, plan.steps[0].status], ['convert', true, 1, 'convert', 'would try'])
    assert.match(plan.steps[0].reason, /no market to fall back to/)
    assert.deepEqual(server.convertTrades(), [])
    assert.ok(!existsSync(stateDir), 'nothing written')

    const r = await convert(config, stateDir, 'USDC', 'USD', '--amount', '125.5')
    assert.equal(r.status, 0, r.stderr + r.stdout)
    const done = r.events[0]
    assert.deepEqual([done.route, done.outcome, done.amount], ['convert', 'done', 125.5])
    const trades = server.convertTrades()
    assert.equal(trades.length, 1, 'one convert trade')
    assert.equal(trades[0].status, 'TRADE_STATUS_COMPLETED')
    assert.deepEqual([done.steps[0].status, done.received, done.fees], ['completed', trades[0].toAmount, trades[0].fee])
    const balances = server.balances()
    assert.equal(balances.USDC.total, 500 - 125.5)
    assert.equal(balances.USD.total, 10_000 + trades[0].toAmount)
    const [row] = query<{status: string; attempts: number; received: number}>(stateDir, 'bot.sqlite', 'SELECT status, attempts, received FROM conversions')
    assert.deepEqual(row, {status: 'completed', attempts: 1, received: trades[0].toAmount})
    assert.deepEqual(server.orders(), [], 'no order')
    const kinds = query<{kind: string}>(stateDir, 'bot.sqlite', "SELECT kind FROM audit WHERE kind LIKE 'convert_%' ORDER BY seq").map((a) => a.kind)
    assert.deepEqual(kinds, ['convert_intent', 'convert_quoted', 'convert_completed'])
  })

  it('a coin without convert goes out as a market order the exchange fills; what arrived is what the exchange paid', async () => {
    server = await startCoinbaseServer({key, halfSpread: 0.0002, startBalances: {USD: 10_000, BTC: 0.05}})
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'state')
    const usd = server.balances().USD.total
    const r = await convert(config, stateDir, 'BTC', 'USD', '--amount', '0.02')
    assert.equal(r.status, 0, r.stderr + r.stdout)
    const done = r.events[0]
    assert.deepEqual([done.route, done.outcome, done.steps.length, done.steps[0].kind, done.steps[0].side], ['market', 'done', 1, 'order', 'sell'])
    const [remote] = server.orders()
    assert.deepEqual([remote.clientOrderId, remote.status, remote.side, remote.baseSize], [done.steps[0].id, 'FILLED', 'SELL', 0.02])
    const arrived = server.balances().USD.total - usd
    assert.ok(Math.abs(done.received - arrived) < 1e-6, `reported ${done.received}, the exchange paid ${arrived}`)
    assert.ok(Math.abs(server.balances().BTC.total - 0.03) < 1e-12)
    assertSameOrders(stateDir, server)
  })

  it('USD -> ETH: a market buy through the exposure check, sized in quote as Coinbase takes it', async () => {
    server = await startCoinbaseServer({key, halfSpread: 0.0002, startBalances: {USD: 20_000}})
    const config = liveConfig(root, server)
    const stateDir = path.join(root, 'state')
    const r = await convert(config, stateDir, 'USD', 'ETH', '--amount', '1000')
    assert.equal(r.status, 0, r.stderr + r.stdout)
    const done = r.events[0]
    assert.deepEqual([done.route, done.outcome, done.steps[0].side], ['market', 'done', 'buy'])
    assert.ok(Math.abs(server.balances().ETH.total - done.received) < 1e-9, `${server.balances().ETH.total} vs ${done.received}`)
    assert.ok(20_000 - server.balances().USD.total <= 1000 + 1e-6, 'never spent more than asked, fee included')
    assertSameOrders(stateDir, server)

    // Above the cap: 25 % of about 20,000 equity is about 5,000; the check denies it before any request.
    const before = server.orders().length
    const denied = await convert(config, stateDir, 'USD', 'BTC', '--amount', '4900')
    assert.equal(denied.status, 1)
    assert.equal(denied.events[0].denial.code, 'EXPOSURE_CAP')
    assert.equal(server.orders().length, before)
  })
})
