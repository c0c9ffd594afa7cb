import assert from 'node:assert/strict'

import {BUNDLED_DATA_DIR, type CandleSet, loadCandleDir} from '../../src/lib/exchange/replay/candle-files.js'
import {ExchangeError} from '../../src/lib/exchange/ports.js'
import {marketOrder} from '../helpers/sim.js'
import {approx, HandClock, openSimVenue, rowIndex, rows} from '../helpers/sim-venue.js'

const HOUR = 3_600_000
const code = (c: string) => (e: Error) => e instanceof ExchangeError && e.code === c

describe('sim broker convert', () => {
  let data: CandleSet
  before(() => {
    data = loadCandleDir(BUNDLED_DATA_DIR, ['BTC-USD', 'ETH-USD'])
  })

  const openSim = (sim: Record<string, unknown> = {}) => openSimVenue({data, sim})

  it('converts coin -> quote and back at the mid less the fee; a second commit moves nothing', async () => {
    const {broker: sim, replay} = openSim({start_balances: {USD: 1000, BTC: 0.5}})
    const last = rows('BTC-USD')[rowIndex('BTC-USD', replay.now() - HOUR)].close
    const q = await sim.convertQuote('BTC', 'USD', 0.5)
    approx(q.toAmount, 0.5 * last * (1 - 10 / 1e4), 1e-12)
    approx(q.fee, (0.5 * last * 10) / 1e4, 1e-12)
    assert.equal(q.expiresAt, replay.now() + 30_000)
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

  it('fails by injection, by expiry and for short funds; refuses what it cannot quote', async () => {
    const faulty = openSim({start_balances: {USD: 1000, BTC: 0.5}, faults: {convert_failure_rate: 1}}).broker
    const fq = await faulty.convertQuote('BTC', 'USD', 0.5)
    const failed = await faulty.convertCommit(fq)
    assert.deepEqual([failed.status, failed.reason, failed.toAmount], ['failed', 'SIM_FAULT', 0])
    assert.deepEqual(await faulty.convertCommit(fq), failed)
    assert.equal((await faulty.balances()).BTC.total, 0.5)

    const {broker: sim, step} = openSim({start_balances: {USD: 1000, BTC: 0.5}})
    const fresh = await sim.convertQuote('BTC', 'USD', 0.1)
    const stale = await sim.convertQuote('BTC', 'USD', 0.1)
    assert.equal((await sim.convertCommit(fresh)).status, 'completed', 'within the same bar')
    await step()
    assert.deepEqual(await sim.convertCommit(stale), {quoteId: stale.id, status: 'failed', fromAmount: 0, toAmount: 0, reason: 'QUOTE_EXPIRED'})
    assert.equal((await sim.convertCommit({...stale, id: 'simq-99'})).reason, 'QUOTE_NOT_FOUND')

    const short = await sim.convertQuote('BTC', 'USD', 0.4)
    await sim.createOrder(marketOrder('s', 'BTC-USD', 'sell', 0.4))
    assert.equal((await sim.convertCommit(short)).reason, 'INSUFFICIENT_FUNDS')
    await assert.rejects(sim.convertQuote('BTC', 'USD', 1), code('INSUFFICIENT_FUNDS'))
    await assert.rejects(sim.convertQuote('BTC', 'USD', 0), code('INVALID_AMOUNT'))
    await assert.rejects(sim.convertQuote('BTC', 'ETH', 0.1), code('CONVERT_UNSUPPORTED'))
    await assert.rejects(sim.convertQuote('SOL', 'USD', 0.1), code('UNKNOWN_SYMBOL'))

    const off = openSim({convert_supported: false, start_balances: {USD: 1000, BTC: 0.5}}).broker
    assert.equal(off.capabilities.convert('BTC', 'USD'), false)
    await assert.rejects(off.convertQuote('BTC', 'USD', 0.1), code('CONVERT_UNSUPPORTED'))
  })

  it('keeps a quote good for 30 s of the venue clock, and no longer', async () => {
    const clock = new HandClock(0)
    const {broker: sim, replay} = openSimVenue({data, sim: {start_balances: {USD: 1000, BTC: 0.5}}, clock})
    clock.time = replay.now()
    const edge = await sim.convertQuote('BTC', 'USD', 0.1)
    const late = await sim.convertQuote('BTC', 'USD', 0.1)
    clock.time += 30_000
    assert.equal((await sim.convertCommit(edge)).status, 'completed')
    clock.time += 1
    assert.equal((await sim.convertCommit(late)).reason, 'QUOTE_EXPIRED')
  })
})
