import assert from 'node:assert/strict'
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BUNDLED_DATA_DIR} from '../../src/lib/exchange/replay/candle-files.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'
import {query, runJson} from '../helpers/run.js'

interface Report {cycle: number; time: number; equity: number; exposurePct: number}

const cyclesOf = (events: Record<string, unknown>[]) => events.filter((e) => e.type === 'cycle').map((e) => e.report as Report)

/** Multiplies one bar's open, high, low and close by `factor` in a copy of a candle file. */
function spike(file: string, barTimeMs: number, factor: number): void {
  const lines = readFileSync(file, 'utf8').split('\n')
  const i = lines.findIndex((l) => l.startsWith(`${barTimeMs / 1000},`))
  assert.ok(i > 0, `bar ${barTimeMs} is in ${file}`)
  const [ts, o, h, l, c, v] = lines[i].split(',')
  lines[i] = [ts, ...[o, h, l, c].map((x) => String(Number(x) * factor)), v].join(',')
  writeFileSync(file, lines.join('\n'))
}

describe('a bad tick is held as suspect, not traded on', function () {
  this.timeout(180_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('one 100x BTC bar while BTC is held: no order on BTC that cycle, valuation at the last good price, both verdicts audited', () => {
    const clean = runJson(['--cycles', '200', '--state-dir', path.join(t.dir, 'clean')])
    assert.equal(clean.status, 0, clean.stderr)
    const held = query<{cycle: number}>(path.join(t.dir, 'clean'), 'bot.sqlite', "SELECT min(cycle) AS cycle FROM fills JOIN orders USING (client_order_id) WHERE fills.symbol = 'BTC-USD' AND fills.side = 'buy'")[0].cycle
    assert.ok(held > 0 && held < 150, 'the default strategy buys BTC early in the bundled data')
    const cleanCycles = cyclesOf(clean.events)
    const target = cleanCycles.find((r) => r.cycle === held + 20)!
    // The cycle at time T sees the bar that opened at T - 1 h as its latest.
    const data = path.join(t.dir, 'candles')
    cpSync(BUNDLED_DATA_DIR, data, {recursive: true})
    spike(path.join(data, 'BTC-USD-1h.csv'), target.time - 3_600_000, 100)
    const config = configCopy(t.dir)
    const app = path.join(config, 'app.yaml')
    writeFileSync(app, readFileSync(app, 'utf8').replace('data_dir: null', `data_dir: ${data}`))

    const state = path.join(t.dir, 'spiked')
    const run = runJson(['--cycles', '200', '--config-dir', config, '--state-dir', state])
    assert.equal(run.status, 0, run.stderr)
    const cycles = cyclesOf(run.events)
    const atSpike = cycles.find((r) => r.cycle === target.cycle)!
    assert.ok(Math.abs(atSpike.equity / target.equity - 1) < 0.02, `equity at the bad tick ${atSpike.equity} stays near the clean run's ${target.equity}`)
    assert.ok(atSpike.exposurePct <= 26, `exposure ${atSpike.exposurePct}% is not inflated by the bad price`)
    assert.ok(run.summary.maxDrawdownPct < 10, `max drawdown ${run.summary.maxDrawdownPct}% is not made by the bad tick`)

    const btcOrders = query(state, 'bot.sqlite', "SELECT * FROM orders WHERE symbol = 'BTC-USD' AND cycle = ?", target.cycle)
    assert.deepEqual(btcOrders, [], 'no BTC order in the cycle that saw the bad tick')
    const audit = query<{kind: string; data: string}>(state, 'bot.sqlite', "SELECT kind, data FROM audit WHERE kind LIKE 'price_%'")
    assert.deepEqual(audit.map((a) => [a.kind, JSON.parse(a.data).symbol]), [['price_suspect', 'BTC-USD'], ['price_cleared', 'BTC-USD']])
    const denials = query<{data: string}>(state, 'bot.sqlite', "SELECT data FROM audit WHERE kind = 'order_denied'").map((d) => JSON.parse(d.data) as {code: string; symbol: string})
    assert.ok(denials.every((d) => d.code !== 'SUSPECT_PRICE' || d.symbol === 'BTC-USD'))
    assert.ok(run.events.some((e) => e.type === 'notice' && /BTC-USD: price .* held as suspect/.test(String(e.message))))
  })
})
