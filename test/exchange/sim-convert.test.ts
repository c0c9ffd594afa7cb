import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

import {AppConfig} from '../../src/lib/config/schema/app.js'
import {BUNDLED_DATA_DIR, type CandleSet, loadCandleDir} from '../../src/lib/exchange/candle-files.js'
import {ExchangeError} from '../../src/lib/exchange/port.js'
import {SimExchange} from '../../src/lib/exchange/sim.js'
import {marketOrder} from '../helpers/sim.js'

const HOUR = 3_600_000

/** BTC-USD close of the bar opening at `time`, read straight from the bundled file. */
function btcClose(time: number): number {
  const text = fs.readFileSync(path.join(BUNDLED_DATA_DIR, 'BTC-USD-1h.csv'), 'utf8')
  const line = text.split('\n').find((l) => l.startsWith(`${time / 1000},`))
  assert.ok(line, `BTC-USD has a bar at ${new Date(time).toISOString()}`)
  return Number(line.split(',')[4])
}

function approx(actual: number, expected: number, rel = 1e-12): void {
  const tol = rel * Math.max(1, Math.abs(expected))
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} (tolerance ${tol})`)
}


describe('sim exchange convert', () => {
  let data: CandleSet
  before(() => {
    data = loadCandleDir(BUNDLED_DATA_DIR, ['BTC-USD', 'ETH-USD'])
  })

  function openSim(over: Record<string, unknown> = {}): SimExchange {
    const settings = AppConfig.parse({exchange: {sim: over}}).exchange.sim
    return SimExchange.open({data, settings, quote: 'USD', tierOf: () => undefined, stateFile: null})
  }

  it('converts coin -> quote and back at the mid less the fee; a second commit moves nothing', async () => {
    const sim = openSim({start_balances: {USD: 1000, BTC: 0.5}})
    const last = btcClose(sim.now() - HOUR)
    const q = await sim.convertQuote('BTC', 'USD', 0.5)
    approx(q.toAmount, 0.5 * last * (1 - 10 / 1e4), 1e-12)
    approx(q.fee, (0.5 * last * 10) / 1e4, 1e-12)
    assert.equal(q.expiresAt, sim.now() + HOUR)
    const r = await sim.convertCommit(q)
    assert.deepEqual(r, {quoteId: q.id, status: 'completed', fromAmount: 0.5, toAmount: q.toAmount, reason: null})
    const after = await sim.balances()
    approx(after.USD.total, 1000 + q.toAmount)
    assert.deepEqual(after.BTC, {free: 0, total: 0})
    assert.deepEqual(await sim.convertCommit(q), r)
    assert.deepEqual(await sim.balances(), after)

    const back = await sim.convertQuote('USD', 'BTC', 500)
    approx(back.toAmount, (500 * (1 - 10 / 1e4)) / last, 1e-12)
    approx(back.fee, 0.5, 1e-12)
    assert.equal((await sim.convertCommit(back)).status, 'completed')
    approx((await sim.balances()).BTC.total, back.toAmount, 1e-12)
  })

  it('fails by injection, by expiry and for short funds; refuses when convert is off', async () => {
    const faulty = openSim({start_balances: {USD: 1000, BTC: 0.5}, faults: {convert_failure_rate: 1}})
    const fq = await faulty.convertQuote('BTC', 'USD', 0.5)
    const failed = await faulty.convertCommit(fq)
    assert.deepEqual([failed.status, failed.reason, failed.toAmount], ['failed', 'SIM_FAULT', 0])
    assert.deepEqual(await faulty.convertCommit(fq), failed)
    assert.equal((await faulty.balances()).BTC.total, 0.5)

    const sim = openSim({start_balances: {USD: 1000, BTC: 0.5}})
    const fresh = await sim.convertQuote('BTC', 'USD', 0.1)
    const stale = await sim.convertQuote('BTC', 'USD', 0.1)
    await sim.advance()
    assert.equal((await sim.convertCommit(fresh)).status, 'completed')
    await sim.advance()
    assert.deepEqual([(await sim.convertCommit(stale)).reason], ['QUOTE_EXPIRED'])

    const short = await sim.convertQuote('BTC', 'USD', 0.4)
    await sim.createOrder(marketOrder('s', 'BTC-USD', 'sell', 0.4))
    assert.equal((await sim.convertCommit(short)).reason, 'INSUFFICIENT_FUNDS')
    const code = (c: string) => (e: Error) => e instanceof ExchangeError && e.code === c
    await assert.rejects(sim.convertQuote('BTC', 'USD', 1), code('INSUFFICIENT_FUNDS'))
    await assert.rejects(sim.convertQuote('BTC', 'ETH', 0.1), code('CONVERT_UNSUPPORTED'))

    const off = openSim({convert_supported: false, start_balances: {USD: 1000, BTC: 0.5}})
    assert.equal(off.capabilities.convert, false)
    await assert.rejects(off.convertQuote('BTC', 'USD', 0.1), code('CONVERT_UNSUPPORTED'))
  })
})
