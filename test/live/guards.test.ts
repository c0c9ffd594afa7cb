import assert from 'node:assert/strict'
import path from 'node:path'

import type {EngineEvent} from '../../src/lib/engine/events.js'
import {runBot, type RunOptions} from '../../src/lib/engine/loop.js'
import {parseExposition, sampleValue} from '../../src/lib/metrics/exposition.js'
import {testKey} from '../coinbase/keys.js'
import type {CoinbaseServer} from '../coinbase/server.js'
import {freePort} from '../helpers/daemons.js'
import {tempDir} from '../helpers/fixtures.js'
import {query} from '../helpers/run.js'
import {keyEnv, laggingServer, liveConfig, storedOrders} from './support.js'

type Alert = Extract<EngineEvent, {type: 'alert'}>

/**
 * The loop's guards on a real exchange, in-process (the engine's own behaviour; the CLI tests are beside
 * this file): the clock-skew halt, loop.max_cycle_seconds, and the circuit breaker's alert and metrics,
 * against the loopback Coinbase through the real ccxt client.
 */
describe('live loop guards on the loopback Coinbase', function () {
  let server: CoinbaseServer
  let dir: string
  let cleanup: () => void
  const key = testKey()
  beforeEach(async () => {
    const t = tempDir('bot-live-guards-')
    dir = t.dir
    cleanup = t.cleanup
    server = await laggingServer(key, {lagBars: 0, startBalances: {USD: 100_000}})
  })
  afterEach(async () => {
    await server.close()
    cleanup()
  })

  interface Run {
    events: EngineEvent[]
    alerts: Alert[]
    metrics: string | null
  }

  /** runBot live on the server; `during` sees every event as it happens (it may steer the server). */
  async function run(options: {cycles: number; app?: [string | RegExp, string][]; metrics?: boolean; during?: (e: EngineEvent, events: EngineEvent[]) => void} & Partial<RunOptions>): Promise<Run> {
    const port = options.metrics ? await freePort() : 0
    const app: [string | RegExp, string][] = [...(options.app ?? [])]
    if (options.metrics) app.push(['metrics:\n  enabled: false', 'metrics:\n  enabled: true'], ['  port: 9090', `  port: ${port}`], ['  port_retries: 3', '  port_retries: 0'])
    const configDir = liveConfig(dir, server, {app})
    const events: EngineEvent[] = []
    let metrics: string | null = null
    await runBot({
      configDir, stateDir: path.join(dir, 'state'), cycles: options.cycles, intervalSeconds: 0.05, live: true, env: {...process.env, ...keyEnv(key)}, stop: new AbortController().signal,
      observe: (e) => {
        events.push(e)
        options.during?.(e, events)
      },
      // The exporter is scraped after the last cycle, before the run closes it.
      flush: async () => {
        if (options.metrics && events.filter((e) => e.type === 'cycle').length + abandoned(events) >= options.cycles) metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      },
      timing: options.timing,
    })
    return {events, alerts: events.filter((e): e is Alert => e.type === 'alert'), metrics}
  }

  const abandoned = (events: EngineEvent[]) => events.filter((e) => e.type === 'notice' && /^cycle \d+ abandoned/.test(e.message)).length
  const cycles = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'cycle' ? [e.report] : []))

  it('halts trading while the exchange\'s clock is off by more than max_clock_skew_ms, alerts, and resumes once it is back', async () => {
    server.setClockOffset(30_000)
    const {events, alerts, metrics} = await run({
      cycles: 8, metrics: true,
      during: (e) => {
        if (e.type === 'cycle' && e.report.cycle === 3) server.setClockOffset(0)
      },
    })
    const reports = cycles(events)
    assert.deepEqual(reports.map((r) => r.halted), [true, true, true, false, false, false, false, false])
    const firstOrder = events.findIndex((e) => e.type === 'order')
    const third = events.findIndex((e) => e.type === 'cycle' && e.report.cycle === 3)
    assert.ok(firstOrder > third, 'no order while skewed')
    assert.ok(server.orders().length > 0, 'orders once the clock is back')
    assert.deepEqual(alerts.filter((a) => a.code === 'CLOCK_SKEW').map((a) => [a.status, a.severity]), [['firing', 'critical'], ['resolved', 'critical']])
    assert.match(alerts[0].message, /the exchange's clock is (29|30)\d{3} ms ahead of this machine's \(loop\.max_clock_skew_ms 5000\): trading halted/)
    const audit = query<{kind: string}>(path.join(dir, 'state'), 'bot.sqlite', "SELECT kind FROM audit WHERE kind LIKE 'clock_skew%' ORDER BY seq").map((r) => r.kind)
    assert.deepEqual(audit, ['clock_skew_on', 'clock_skew_off'])
    // Once by the warm-up (candle windows are cut on the exchange's clock), then every cycle while off (cycles
    // 1-4), then every 10 cycles: no more reading in cycles 5-8.
    assert.equal(server.requests.filter((r) => r.path === '/api/v3/brokerage/time').length, 1 + 4)
    const skew = sampleValue(parseExposition(metrics!), 'bot_clock_skew_seconds')!
    assert.ok(Math.abs(skew) < 1, `the last reading is back near 0 (${skew})`)
  })

  it('a cycle past max_cycle_seconds is abandoned between two steps: its stored intents are reconciled by the next cycle, never sent; alerted and resolved', async () => {
    // A write-ahead that takes 0.6 s (the timing hook runs after each step): cycle 1 overruns with its intents stored.
    const {events, alerts, metrics} = await run({
      cycles: 3, metrics: true, app: [['  max_cycle_seconds: 120', '  max_cycle_seconds: 0.5']],
      timing: (cycle, step) => {
        if (cycle === 1 && step === 'write-ahead') {
          const until = performance.now() + 600
          while (performance.now() < until) { /* a slow disk */ }
        }
      },
    })
    const rows = storedOrders(path.join(dir, 'state'))
    const first = rows.filter((r) => r.cycle === 1)
    assert.ok(first.length > 0, 'cycle 1 stored intents')
    assert.ok(first.every((r) => r.status === 'abandoned'), JSON.stringify(first))
    const ids = new Set(server.orders().map((o) => o.clientOrderId))
    assert.ok(first.every((r) => !ids.has(r.client_order_id)), 'none of them reached the exchange')
    assert.ok(rows.some((r) => r.cycle > 1 && r.status === 'closed'), 'the next cycle planned again and traded')
    assert.match(events.find((e) => e.type === 'notice' && e.message.startsWith('cycle 1 abandoned'))!.type, /notice/)
    assert.deepEqual(alerts.filter((a) => a.code === 'CYCLE_OVERRUN').map((a) => a.status), ['firing', 'resolved'])
    assert.match(alerts.find((a) => a.code === 'CYCLE_OVERRUN')!.message, /cycle 1 took 0\.\d s, more than loop\.max_cycle_seconds, by the end of its write-ahead step: abandoned before sending its orders/)
    assert.deepEqual(cycles(events).map((r) => r.cycle), [2, 3], 'cycle 1 never completed')
    const e = parseExposition(metrics!)
    assert.equal(sampleValue(e, 'bot_cycles_abandoned_total', {reason: 'overrun'}), 1)
    assert.equal(sampleValue(e, 'bot_cycle_duration_seconds_count'), 2, 'only completed cycles are timed')
  })

  it('the circuit breaker opens on a run of failures: the cycles are abandoned, not the process; EXCHANGE_CIRCUIT fires and resolves, and the metrics show it', async () => {
    const {events, alerts, metrics} = await run({
      cycles: 12, metrics: true,
      during: (e) => {
        if (e.type === 'cycle' && e.report.cycle === 2) server.faults.inject({kind: 'server_error', count: 20, path: /^\/api\/v3\//})
      },
    })
    assert.ok(abandoned(events) >= 2, `cycles abandoned: ${abandoned(events)}`)
    const circuit = alerts.filter((a) => a.code === 'EXCHANGE_CIRCUIT')
    assert.deepEqual(circuit.map((a) => a.status), ['firing', 'resolved'])
    assert.match(circuit[0].message, /the exchange failed \d+ calls in a row: calls are paused \(circuit (open|half-open)\)/)
    assert.equal(server.faults.pending(), 0, 'every injected failure was met')
    const e = parseExposition(metrics!)
    assert.ok(sampleValue(e, 'bot_exchange_circuit_opens_total')! >= 1)
    assert.equal(sampleValue(e, 'bot_exchange_circuit_open'), 0, 'closed again')
    assert.equal(sampleValue(e, 'bot_exchange_http_failures_total', {kind: 'retryable'}), 20, 'every 503, also those a retry recovered from')
    assert.equal(sampleValue(e, 'bot_cycles_abandoned_total', {reason: 'exchange_error'}), abandoned(events))
    assert.equal(sampleValue(e, 'bot_exchange_http_requests_per_cycle_count'), 12, 'one observation per cycle, completed or not')
  })
})
