import assert from 'node:assert/strict'

import {Registry} from 'prom-client'

import type {CycleReport} from '../../src/lib/engine/events.js'
import {type Broker, ExchangeError, type MarketData} from '../../src/lib/exchange/ports.js'
import {parseExposition, sampleValue, samplesNamed} from '../../src/lib/metrics/exposition.js'
import {instrumentBroker, instrumentMarketData} from '../../src/lib/metrics/instrument-exchange.js'
import {createMetrics, DENIAL_CODES, EXCHANGE_OPERATIONS, type Metrics} from '../../src/lib/metrics/metrics.js'
import {metricsObserver, orderOutcome, recordAlert, recordConvert, recordCycleDuration, recordDenial, recordOrder, recordCycle, recordPositions, recordTrim, setBotInfo, setKillSwitch} from '../../src/lib/metrics/record.js'

async function read(registry: Registry) {
  return parseExposition(await registry.metrics())
}

function fresh(): {registry: Registry; m: Metrics} {
  const registry = new Registry()
  return {registry, m: createMetrics(registry, {processMetrics: false})}
}

const report: CycleReport = {
  cycle: 7, time: 1_700_000_000_000, equity: 50_000, cash: 40_000, exposurePct: 20, exposureAfterPct: 21, capPct: 25, orders: 1, denied: 1, fills: 1,
  halted: false, resumed: false, pnl: 12, eligible: 10, forced: 2, excluded: 3, audit: {entries: 40, hash: 'a'.repeat(64)},
  positions: [{symbol: 'BTC-USD', tier: 'tier1', amount: 0.15, value: 6000}, {symbol: 'ETH-USD', tier: 'tier1', amount: 2, value: 4000}], trimFailures: 2,
}

describe('metrics recorder', function () {
  it('what the loop records between two reads is in the next read, once: counters add up, gauges show the latest, a reset drops old series', async function () {
    const {registry, m} = fresh()
    const requests = async () => sampleValue(await read(registry), 'bot_exchange_requests_total', {operation: 'tickers'})
    for (let i = 0; i < 3; i++) m.exchangeRequests.inc({operation: 'tickers'})
    assert.equal(await requests(), 3)
    assert.equal(await requests(), 3, 'a second read adds nothing')
    m.exchangeRequests.inc({operation: 'tickers'}, 2)
    m.httpRequests.inc(5)
    assert.equal(await requests(), 5)
    assert.equal(sampleValue(await read(registry), 'bot_exchange_http_requests_total', {}), 5)
    recordPositions(m, report.positions)
    m.equity.set(1)
    m.equity.set(2)
    recordPositions(m, [{symbol: 'SOL-USD', tier: 'tier2', value: 7}])
    const e = await read(registry)
    assert.equal(sampleValue(e, 'bot_equity', {}), 2)
    assert.deepEqual(samplesNamed(e, 'bot_position_value').map((x) => [x.labels.symbol, x.value]), [['SOL-USD', 7]])
    assert.throws(() => m.exchangeRequests.inc({operation: 'tickers'}, -1), /bot_exchange_requests_total cannot be increased by -1/)
    assert.equal(await requests(), 5, 'a refused increment changes nothing')
  })

  it('every counter series of a closed label set exists from the start, at 0', async function () {
    const {registry} = fresh()
    const e = await read(registry)
    assert.equal(samplesNamed(e, 'bot_orders_total').length, 2 * 7)
    assert.deepEqual(samplesNamed(e, 'bot_risk_denials_total').map((s) => s.labels.code).sort(), [...DENIAL_CODES].sort())
    assert.equal(samplesNamed(e, 'bot_exchange_errors_total').length, EXCHANGE_OPERATIONS.length * 4)
    assert.equal(samplesNamed(e, 'bot_alerts_total').length, 3 * 4 * 4)
    assert.ok(samplesNamed(e, 'bot_orders_total').every((s) => s.value === 0))
    assert.equal(samplesNamed(e, 'process_cpu_seconds_total').length, 0) // off for one-shot pushes
  })

  it('the engine\'s events become metrics: cycle figures (percent in, ratio out), orders, denials, kill switch', async function () {
    const {registry, m} = fresh()
    const observe = metricsObserver(m)
    const before = Date.now() / 1000
    observe({type: 'cycle', report})
    observe({type: 'order', cycle: 7, clientOrderId: 'c1', symbol: 'BTC-USD', side: 'buy', amount: 0.1, price: 30_000, status: 'closed', reason: 'entry'})
    observe({type: 'order', cycle: 7, clientOrderId: 'c2', symbol: 'ETH-USD', side: 'sell', amount: 1, price: 2000, status: 'open', reason: 'exit'})
    observe({type: 'denied', cycle: 7, symbol: 'SOL-USD', side: 'buy', denial: {code: 'EXPOSURE_CAP', message: 'over'}})
    observe({type: 'kill_switch', cycle: 8, active: true, cancelled: 0})
    observe({type: 'notice', level: 'info', message: 'ignored'})
    const e = await read(registry)
    assert.equal(sampleValue(e, 'bot_equity'), 50_000)
    assert.equal(sampleValue(e, 'bot_cash'), 40_000)
    assert.equal(sampleValue(e, 'bot_exposure_ratio'), 0.2)
    assert.equal(sampleValue(e, 'bot_exposure_value'), 10_000)
    assert.equal(sampleValue(e, 'bot_exposure_cap_ratio'), 0.25)
    assert.equal(sampleValue(e, 'bot_universe_symbols', {status: 'forced'}), 2)
    assert.equal(sampleValue(e, 'bot_universe_symbols', {status: 'excluded'}), 3)
    const last = sampleValue(e, 'bot_last_cycle_completed_timestamp_seconds')!
    assert.ok(last >= before && last <= Date.now() / 1000, 'wall clock, not the sim\'s market time')
    assert.equal(sampleValue(e, 'bot_orders_total', {side: 'buy', outcome: 'filled'}), 1)
    assert.equal(sampleValue(e, 'bot_orders_total', {side: 'sell', outcome: 'open'}), 1)
    assert.equal(sampleValue(e, 'bot_risk_denials_total', {code: 'EXPOSURE_CAP'}), 1)
    assert.equal(sampleValue(e, 'bot_kill_switch_active'), 1)
  })

  it('positions: a holding sold since the last cycle disappears', async function () {
    const {registry, m} = fresh()
    recordPositions(m, [{symbol: 'BTC-USD', tier: 'core', value: 100}, {symbol: 'ETH-USD', tier: 'core', value: 50}])
    recordPositions(m, [{symbol: 'ETH-USD', tier: 'core', value: 60}])
    const e = await read(registry)
    assert.deepEqual(samplesNamed(e, 'bot_position_value').map((s) => [s.labels.symbol, s.value]), [['ETH-USD', 60]])
  })

  it('trims, converts, alerts, cycle durations and bot_info', async function () {
    const {registry, m} = fresh()
    recordTrim(m, 'failed', 1)
    recordTrim(m, 'succeeded', 0)
    recordConvert(m, 'convert', 'unsupported')
    recordConvert(m, 'twap', 'succeeded')
    recordAlert(m, 'critical', 'alertmanager', 'failed')
    recordCycleDuration(m, 0.003)
    recordCycleDuration(m, 90)
    setBotInfo(m, {version: '0.1.0', venue: 'paper', exchange: 'coinbase', quoteCurrency: 'USD'})
    setBotInfo(m, {version: '0.2.0', venue: 'live', exchange: 'coinbase', quoteCurrency: 'USD'})
    const e = await read(registry)
    assert.equal(sampleValue(e, 'bot_trims_total', {outcome: 'failed'}), 1)
    assert.equal(sampleValue(e, 'bot_trims_total', {outcome: 'succeeded'}), 1)
    assert.equal(sampleValue(e, 'bot_trim_consecutive_failures'), 0)
    assert.equal(sampleValue(e, 'bot_convert_attempts_total', {route: 'convert', outcome: 'unsupported'}), 1)
    assert.equal(sampleValue(e, 'bot_convert_attempts_total', {route: 'twap', outcome: 'succeeded'}), 1)
    assert.equal(sampleValue(e, 'bot_alerts_total', {severity: 'critical', sink: 'alertmanager', outcome: 'failed'}), 1)
    assert.equal(sampleValue(e, 'bot_cycle_duration_seconds_bucket', {le: '0.005'}), 1)
    assert.equal(sampleValue(e, 'bot_cycle_duration_seconds_bucket', {le: '60'}), 1)
    assert.equal(sampleValue(e, 'bot_cycle_duration_seconds_bucket', {le: '120'}), 2)
    assert.equal(sampleValue(e, 'bot_cycle_duration_seconds_count'), 2)
    assert.deepEqual(samplesNamed(e, 'bot_info').map((s) => s.labels), [{version: '0.2.0', venue: 'live', exchange: 'coinbase', quote_currency: 'USD'}])
  })

  it('label values are closed sets the compiler checks (tsc -p test fails if any line below compiles)', function () {
    const neverCalled = (m: Metrics) => {
      // @ts-expect-error an outcome outside OrderOutcome
      recordOrder(m, 'buy', 'maybe')
      // @ts-expect-error a denial code that does not exist
      recordDenial(m, 'TOO_RISKY')
      // @ts-expect-error a route outside convert|market|twap
      recordConvert(m, 'limit', 'succeeded')
      // @ts-expect-error a label name the metric does not have
      m.orders.inc({side: 'buy', outcome: 'filled', symbol: 'BTC-USD'})
      // @ts-expect-error a missing label
      m.riskDenials.inc({})
    }
    assert.equal(typeof neverCalled, 'function')
  })

  it('with metrics off (null) every recorder is a no-op', function () {
    recordCycle(null, {equity: 1, cash: 1, exposurePct: 1, capPct: 1, universe: {eligible: 1, forced: 0, excluded: 0}})
    recordPositions(null, [])
    recordCycleDuration(null, 1)
    recordOrder(null, 'buy', 'filled')
    recordDenial(null, 'EXPOSURE_CAP')
    recordTrim(null, 'failed', 3)
    recordConvert(null, 'market', 'failed')
    recordAlert(null, 'info', 'console', 'sent')
    setKillSwitch(null, true)
    setBotInfo(null, {version: '', venue: '', exchange: '', quoteCurrency: ''})
    metricsObserver(null)({type: 'cycle', report})
  })

  it('orderOutcome reads the exchange\'s answer, partial fills included', function () {
    assert.equal(orderOutcome({status: 'closed', filled: 1, amount: 1}), 'filled')
    assert.equal(orderOutcome({status: 'closed', filled: 0.4, amount: 1}), 'partial')
    assert.equal(orderOutcome({status: 'open', filled: 0.4, amount: 1}), 'partial')
    assert.equal(orderOutcome({status: 'canceled', filled: 0.4, amount: 1}), 'partial')
    assert.equal(orderOutcome({status: 'open', filled: 0, amount: 1}), 'open')
    assert.equal(orderOutcome({status: 'canceled', filled: 0, amount: 1}), 'canceled')
    assert.equal(orderOutcome({status: 'rejected', filled: 0, amount: 1}), 'rejected')
  })

  it('instrumentMarketData and instrumentBroker count every call and every classified failure by kind, and pass errors through', async function () {
    const {registry, m} = fresh()
    const limited = new ExchangeError('slow down', 'rate_limited', '429')
    const market = {
      id: 'inner', barMs: 60_000,
      time: async () => 42,
      markets: async () => { throw new TypeError('a bug, not an exchange error') },
      close: async () => {},
    } as unknown as MarketData
    const broker = {capabilities: {convert: () => false, fetchByClientOrderId: true}, balances: async () => { throw limited }, close: async () => {}} as unknown as Broker
    const md = instrumentMarketData(market, m)
    const b = instrumentBroker(broker, m)
    assert.equal(md.id, 'inner')
    assert.equal(md.barMs, 60_000)
    assert.equal(b.capabilities.fetchByClientOrderId, true)
    assert.equal(await md.time(), 42)
    assert.equal(await md.time(), 42)
    await assert.rejects(b.balances(), (error) => error === limited)
    await assert.rejects(md.markets(), TypeError)
    const e = await read(registry)
    assert.equal(sampleValue(e, 'bot_exchange_requests_total', {operation: 'time'}), 2)
    assert.equal(sampleValue(e, 'bot_exchange_requests_total', {operation: 'balances'}), 1)
    assert.equal(sampleValue(e, 'bot_exchange_errors_total', {operation: 'balances', kind: 'rate_limited'}), 1)
    assert.equal(samplesNamed(e, 'bot_exchange_errors_total').reduce((n, s) => n + s.value, 0), 1)
    assert.equal(instrumentMarketData(market, null), market)
    assert.equal(instrumentBroker(broker, null), broker)
  })
})
