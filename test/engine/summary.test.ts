import assert from 'node:assert/strict'

import type {Balances} from '../../src/lib/domain.js'
import {summarize} from '../../src/lib/engine/summary.js'
import {buildPortfolio, type PortfolioSnapshot} from '../../src/lib/market/snapshot.js'
import {GENESIS_HASH} from '../../src/lib/state/audit.js'
import {type CycleRow, type FillRow, StateStore} from '../../src/lib/state/store.js'
import {snapshotOf, tempDir, ticker} from '../helpers/fixtures.js'

const T0 = Date.UTC(2024, 0, 1)
const HOUR = 3_600_000
const extra = {stateDir: '/state', cyclesThisRun: 2, stoppedBy: 'cycles' as const}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`)
}

/** Largest fall from an earlier value to a later one, as a fraction of the earlier: every pair, no running peak. */
function worstFall(values: number[]): number {
  let worst = 0
  for (let i = 0; i < values.length; i++) for (let j = i + 1; j < values.length; j++) worst = Math.max(worst, (values[i] - values[j]) / values[i])
  return worst
}

describe('run summary', () => {
  let t: ReturnType<typeof tempDir>
  let store: StateStore
  beforeEach(() => {
    t = tempDir()
    store = StateStore.open(t.dir)
  })
  afterEach(() => {
    store.close()
    t.cleanup()
  })

  function insertCycles(equities: number[], denied: number[] = equities.map(() => 0)): CycleRow[] {
    const rows = equities.map((equity, i): CycleRow => ({
      cycle: i + 1, time: T0 + i * HOUR, status: 'done', equity, cash: equity / 2, exposure_pct: 50, exposure_after_pct: 50, orders: 0, denied: denied[i], halted: 0,
    }))
    store.transaction(() => {
      for (const r of rows) store.insertCycle(r)
    })
    return rows
  }

  /** The account at the end: `cash` dollars and 0.1 BTC at `btc`. */
  function finalPortfolio(cash: number, btc: number): PortfolioSnapshot {
    const balances: Balances = {USD: {free: cash, total: cash}, BTC: {free: 0.1, total: 0.1}}
    return buildPortfolio('USD', balances, snapshotOf([ticker('BTC-USD', btc)]).tickers, [])
  }

  function appendAudit(n: number): {seq: number; hash: string}[] {
    store.transaction(() => {
      for (let i = 1; i <= n; i++) store.audit.append(T0 + i, 'test', {i})
    })
    return store.db.prepare('SELECT seq, hash FROM audit ORDER BY seq').all() as {seq: number; hash: string}[]
  }

  it('reports return, drawdown to the final equity, fees, trades, denials, benchmark and the audit head', () => {
    const cycles = insertCycles([10_000, 12_000, 10_800, 11_500], [0, 2, 1, 0])
    store.setMeta('first_equity', '10000')
    store.setMeta('benchmark', JSON.stringify({symbol: 'BTC-USD', price: 40_000}))
    store.insertOrder({client_order_id: 'a', cycle: 2, leg: 0, time: T0 + HOUR, symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.1, price: 40_000, action: 'enter', reason: 't', status: 'intent'})
    store.insertOrder({client_order_id: 'b', cycle: 3, leg: 0, time: T0 + 2 * HOUR, symbol: 'ETH-USD', side: 'sell', type: 'market', amount: 1, price: 3000, action: 'exit', reason: 't', status: 'intent'})
    const fills: FillRow[] = [
      {client_order_id: 'a', time: T0 + HOUR, symbol: 'BTC-USD', side: 'buy', amount: 0.05, price: 40_000, fee: 1.25},
      {client_order_id: 'a', time: T0 + HOUR + 1, symbol: 'BTC-USD', side: 'buy', amount: 0.05, price: 40_010, fee: 1.5},
      {client_order_id: 'b', time: T0 + 2 * HOUR, symbol: 'ETH-USD', side: 'sell', amount: 1, price: 3000, fee: 0.75},
    ]
    for (const f of fills) store.recordFill(f)
    const audit = appendAudit(4)
    const final = finalPortfolio(5000, 46_000)
    assert.equal(final.equity, 9600)

    const s = summarize(store, final, (symbol) => (symbol === 'BTC-USD' ? 46_000 : undefined), 47.9, extra)
    assert.equal(s.stateDir, '/state')
    assert.equal(s.cyclesThisRun, 2)
    assert.equal(s.stoppedBy, 'cycles')
    assert.equal(s.cycles, cycles.length)
    assert.equal(s.from, new Date(cycles[0].time).toISOString())
    assert.equal(s.to, new Date(cycles.at(-1)!.time).toISOString())
    assert.equal(s.startEquity, 10_000)
    assert.equal(s.equity, 9600)
    close(s.returnPct, (9600 / 10_000 - 1) * 100, 'returnPct')
    // The final equity is the run's low: 12,000 -> 9,600 is 20%, where the cycles alone fell 10%.
    close(s.maxDrawdownPct, worstFall([...cycles.map((c) => c.equity), final.equity]) * 100, 'maxDrawdownPct')
    close(s.maxDrawdownPct, 20, 'maxDrawdownPct')
    close(s.fees, fills.reduce((sum, f) => sum + f.fee, 0), 'fees')
    assert.equal(s.trades, fills.length)
    assert.equal(s.ordersDenied, cycles.reduce((sum, c) => sum + c.denied, 0))
    assert.equal(s.exposurePct, 47.9)
    assert.equal(s.benchmark?.symbol, 'BTC-USD')
    close(s.benchmark!.returnPct, (46_000 / 40_000 - 1) * 100, 'benchmark')
    assert.equal(s.auditEntries, audit.length)
    assert.equal(s.auditOk, true)
    assert.equal(s.auditBrokenAt, null)
    assert.deepEqual(s.auditHead, {entries: audit.at(-1)!.seq, hash: audit.at(-1)!.hash})
  })

  it('takes the worst fall inside the run when the end has recovered', () => {
    const equities = [10_000, 8000, 12_000, 9000, 13_000]
    insertCycles(equities)
    store.setMeta('first_equity', '10000')
    const final = finalPortfolio(8900, 46_000)
    const s = summarize(store, final, () => undefined, 0, extra)
    close(s.maxDrawdownPct, worstFall([...equities, final.equity]) * 100, 'maxDrawdownPct')
    close(s.maxDrawdownPct, 25, 'maxDrawdownPct') // 12,000 -> 9,000, not the first fall 10,000 -> 8,000
    close(s.returnPct, (13_500 / 10_000 - 1) * 100, 'returnPct')
  })

  it('leaves the benchmark out when its symbol has no price now, or none was stored', () => {
    insertCycles([10_000])
    store.setMeta('first_equity', '10000')
    assert.equal(summarize(store, finalPortfolio(5000, 46_000), () => 46_000, 0, extra).benchmark, null)
    store.setMeta('benchmark', JSON.stringify({symbol: 'BTC-USD', price: 40_000}))
    assert.equal(summarize(store, finalPortfolio(5000, 46_000), () => undefined, 0, extra).benchmark, null)
  })

  it('summarizes a state dir with no cycles yet against the final equity', () => {
    const final = finalPortfolio(5000, 46_000)
    const s = summarize(store, final, () => 46_000, 0, extra)
    assert.deepEqual(
      [s.cycles, s.from, s.to, s.startEquity, s.returnPct, s.maxDrawdownPct, s.fees, s.trades, s.ordersDenied, s.benchmark],
      [0, null, null, final.equity, 0, 0, 0, 0, 0, null],
    )
    assert.deepEqual([s.auditEntries, s.auditOk, s.auditBrokenAt, s.auditHead], [0, true, null, {entries: 0, hash: GENESIS_HASH}])
  })

  it('reports a broken audit chain: the first bad entry, every entry counted, the head before the break', () => {
    insertCycles([10_000])
    const audit = appendAudit(5)
    store.db.exec('DROP TRIGGER audit_no_update')
    store.db.prepare('UPDATE audit SET data = ? WHERE seq = 3').run(JSON.stringify({i: 42}))
    const s = summarize(store, finalPortfolio(5000, 46_000), () => undefined, 0, extra)
    assert.equal(s.auditOk, false)
    assert.equal(s.auditBrokenAt, 3)
    assert.equal(s.auditEntries, audit.length)
    assert.deepEqual(s.auditHead, {entries: 2, hash: audit[1].hash})
  })
})
