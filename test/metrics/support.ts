import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {Registry} from 'prom-client'

import {type ExporterLog} from '../../src/lib/metrics/exporter.js'
import {createMetrics, type Metrics} from '../../src/lib/metrics/metrics.js'
import {recordAlert, recordConvert, recordCycleDuration, recordDenial, recordOrder, recordCycle, recordPositions, recordTrim, setBotInfo, setKillSwitch} from '../../src/lib/metrics/record.js'

/** A registry with every bot metric set through the recorder API, as a bot over its cap would show. */
export function populatedMetrics(options: {processMetrics?: boolean} = {}): {registry: Registry; metrics: Metrics} {
  const registry = new Registry()
  const m = createMetrics(registry, options)
  setBotInfo(m, {version: '0.1.0', venue: 'sim', exchange: 'sim', quoteCurrency: 'USD'})
  recordCycle(m, {equity: 102_345.67, cash: 70_000, exposurePct: 31.6, capPct: 25, universe: {eligible: 18, forced: 3, excluded: 5}}, Date.parse('2025-11-15T12:00:00Z'))
  recordPositions(m, [{symbol: 'BTC-USD', tier: 'core', value: 20_000.5}, {symbol: 'ETH-USD', tier: 'core', value: 9_000}, {symbol: 'DOGE-USD', tier: 'speculative', value: 3_345.17}])
  for (const s of [0.004, 0.02, 0.3, 1.7, 45]) recordCycleDuration(m, s)
  recordOrder(m, 'buy', 'filled')
  recordOrder(m, 'buy', 'filled')
  recordOrder(m, 'sell', 'partial')
  recordOrder(m, 'sell', 'rejected')
  recordDenial(m, 'EXPOSURE_CAP')
  recordDenial(m, 'EXPOSURE_CAP')
  recordDenial(m, 'MIN_NOTIONAL')
  recordTrim(m, 'failed', 1)
  recordTrim(m, 'failed', 2)
  recordConvert(m, 'convert', 'failed')
  recordConvert(m, 'market', 'succeeded')
  recordAlert(m, 'critical', 'webhook', 'sent')
  recordAlert(m, 'warning', 'slack', 'timed_out')
  m.exchangeRequests.inc({operation: 'tickers'}, 40)
  m.exchangeErrors.inc({operation: 'tickers', kind: 'rate_limited'})
  setKillSwitch(m, true)
  return {registry, metrics: m}
}

/** An exporter log that keeps its lines. */
export function captureLog(): ExporterLog & {lines: string[]} {
  const lines: string[] = []
  return {lines, info: (l) => lines.push(`info: ${l}`), warn: (l) => lines.push(`warn: ${l}`), error: (l) => lines.push(`error: ${l}`)}
}

/** A server holding a loopback port, as another program would. */
export async function holdPort(port: number, host = '127.0.0.1'): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end('not bot\n'))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  return server
}

export function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

/** A run of `n` consecutive free loopback ports (bound and released to find them). */
export async function freePortRun(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = await holdPort(0)
    const base = (probe.address() as AddressInfo).port
    await closeServer(probe)
    if (base + n > 65535) continue
    const held: http.Server[] = []
    try {
      for (let i = 0; i < n; i++) held.push(await holdPort(base + i))
      return base
    } catch {
      // one of them is taken; try elsewhere
    } finally {
      await Promise.all(held.map(closeServer))
    }
  }

  throw new Error(`no run of ${n} free loopback ports found`)
}
