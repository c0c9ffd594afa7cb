import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {CycleReport} from '../../src/lib/engine/events.js'
import {runBot} from '../../src/lib/engine/loop.js'
import {configCopy, defaultConfig, tempDir} from '../helpers/fixtures.js'
import {query} from '../helpers/run.js'

describe('a run that starts over-exposed (start balances in coins)', function () {
  this.timeout(120_000)
  const policy = defaultConfig().policy
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  it('buys nothing while over the cap and sells the oversized position down in max_order_notional slices', async () => {
    const config = configCopy(t.dir)
    const app = path.join(config, 'app.yaml')
    // 1.5 BTC at ~38,000 next to 50,000 USD: about 53% at risk against a 25% cap, BTC alone far over its 10% tier cap.
    writeFileSync(app, readFileSync(app, 'utf8').replace('      USD: 100000', '      USD: 50000\n      BTC: 1.5'))
    const stateDir = path.join(t.dir, 'state')
    const reports: CycleReport[] = []
    await runBot({configDir: config, stateDir, cycles: 40, stop: new AbortController().signal, observe: (e) => e.type === 'cycle' && reports.push(e.report)})

    const cap = policy.risk.max_total_at_risk_pct
    assert.ok(reports[0].exposurePct > 2 * cap, `starts at ${reports[0].exposurePct}%`)
    const orders = query<{cycle: number; symbol: string; side: string; amount: number; price: number}>(stateDir, 'bot.sqlite', "SELECT cycle, symbol, side, amount, price FROM orders WHERE status <> 'abandoned' ORDER BY cycle, leg")
    const overCap = new Set(reports.filter((r) => r.exposurePct > cap).map((r) => r.cycle))
    assert.deepEqual(orders.filter((o) => o.side === 'buy' && overCap.has(o.cycle)), [], 'no buy while over the cap')
    const btcSells = orders.filter((o) => o.symbol === 'BTC-USD' && o.side === 'sell')
    assert.ok(btcSells.length >= 5, `BTC is sold down over several cycles (${btcSells.length} sells)`)
    for (const s of btcSells) assert.ok(s.amount * s.price <= policy.risk.max_order_notional + 1e-9, `sell notional ${s.amount * s.price}`)
    assert.ok(reports.at(-1)!.exposurePct < reports[0].exposurePct - 15, `exposure falls: ${reports[0].exposurePct}% -> ${reports.at(-1)!.exposurePct}%`)
    const adopted = query<{data: string}>(stateDir, 'bot.sqlite', "SELECT data FROM audit WHERE kind = 'position_adopted'")
    assert.equal(adopted.length, 1, 'the start balance is adopted once, with its price as cost basis')
    assert.equal(JSON.parse(adopted[0].data).symbol, 'BTC-USD')
  })
})
