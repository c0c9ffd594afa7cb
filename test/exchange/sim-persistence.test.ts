import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {AppConfig} from '../../src/lib/config/schema/app.js'
import {BotError} from '../../src/lib/errors.js'
import {BUNDLED_DATA_DIR, type CandleSet, loadCandleDir} from '../../src/lib/exchange/candle-files.js'
import {SimExchange} from '../../src/lib/exchange/sim.js'
import {marketOrder} from '../helpers/sim.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const START = {USD: 50_000, ETH: 3}


describe('sim exchange persistence', () => {
  let data: CandleSet
  let tmp: string
  let file: string
  before(() => {
    data = loadCandleDir(BUNDLED_DATA_DIR)
  })
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-sim-state-'))
    file = path.join(tmp, 'sim-exchange.sqlite')
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  function openSim(over: Record<string, unknown> = {}, stateFile: string | null = file, set = data): SimExchange {
    const settings = AppConfig.parse({exchange: {sim: {start_balances: START, ...over}}}).exchange.sim
    return SimExchange.open({data: set, settings, quote: 'USD', tierOf: () => undefined, stateFile})
  }

  /** Everything a client can observe. */
  async function observe(sim: SimExchange) {
    const ids = ['p1', 'p2', 'p3']
    return {
      now: sim.now(),
      remaining: sim.remainingBars(),
      balances: await sim.balances(),
      open: await sim.openOrders(),
      orders: await Promise.all(ids.map((id) => sim.fetchOrderByClientId(id, ''))),
      fills: sim.fills(0),
      tickers: await sim.tickers(['BTC-USD', 'ETH-USD']),
    }
  }

  /** Trades a little: fills, a resting limit order, a convert, an uncommitted quote. */
  async function trade(sim: SimExchange) {
    await sim.createOrder(marketOrder('p1', 'BTC-USD', 'buy', 0.1))
    await sim.createOrder({clientOrderId: 'p2', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.2, price: 1000})
    await sim.advance()
    await sim.createOrder(marketOrder('p3', 'ETH-USD', 'sell', 1))
    await sim.advance()
    await sim.convertCommit(await sim.convertQuote('ETH', 'USD', 0.5))
    return sim.convertQuote('USD', 'ETH', 100)
  }

  it('resumes exactly where it stopped: cursor, balances, orders, fills, quotes', async () => {
    const first = openSim()
    const pending = await trade(first)
    const before = await observe(first)
    await first.close()
    assert.ok(fs.existsSync(file))

    const again = openSim()
    assert.deepEqual(await observe(again), before)
    assert.equal((await again.convertCommit(pending)).status, 'completed')

    // Same path, never interrupted, in memory: both must end in the same place.
    const twin = openSim({}, null)
    await twin.convertCommit(await trade(twin))
    for (const sim of [again, twin]) {
      await sim.cancelOrder('sim-2', 'BTC-USD')
      await sim.createOrder(marketOrder('p4', 'SOL-USD', 'buy', 10))
      for (let i = 0; i < 3; i++) await sim.advance()
    }

    assert.deepEqual(await observe(again), await observe(twin))
    assert.equal((await again.fetchOrderByClientId('p4', 'SOL-USD'))!.id, 'sim-4')
    await again.close()
  })

  it('continues the fault sequence after a restart', async () => {
    const faults = {reject_order_rate: 0.5, seed: 3}
    const statuses = async (sim: SimExchange, from: number, to: number) => {
      const out: string[] = []
      for (let i = from; i < to; i++) out.push((await sim.createOrder(marketOrder(`r${i}`, 'BTC-USD', 'buy', 0.001))).status)
      return out
    }

    const reference = await statuses(openSim({faults}, null), 0, 12)
    assert.ok(reference.includes('rejected') && reference.includes('open'), reference.join())
    const a = openSim({faults})
    const head = await statuses(a, 0, 6)
    await a.close()
    const b = openSim({faults})
    assert.deepEqual([...head, ...(await statuses(b, 6, 12))], reference)
    await b.close()
  })

  it('refuses a state file made for other market data or other start balances', async () => {
    await openSim().close()
    const subset = loadCandleDir(BUNDLED_DATA_DIR, ['BTC-USD', 'ETH-USD'])
    const refused = (e: Error) => e instanceof BotError && e.code === 'SIM_STATE_MISMATCH' && e.message.includes(file)
    assert.throws(() => openSim({}, file, subset), refused)
    assert.throws(() => openSim({start_balances: {USD: 1}}), refused)
    await openSim().close()
  })

  it('keeps what it acknowledged when the process is killed right after', async function () {
    this.timeout(60_000)
    const script = path.join(tmp, 'killed.mts')
    const src = (p: string) => JSON.stringify(path.join(ROOT, 'src/lib', p))
    fs.writeFileSync(
      script,
      `import {AppConfig} from ${src('config/schema/app.ts')}
import {BUNDLED_DATA_DIR, loadCandleDir} from ${src('exchange/candle-files.ts')}
import {SimExchange} from ${src('exchange/sim.ts')}
const settings = AppConfig.parse({exchange: {sim: {start_balances: ${JSON.stringify(START)}}}}).exchange.sim
const sim = SimExchange.open({data: loadCandleDir(BUNDLED_DATA_DIR), settings, quote: 'USD', tierOf: () => undefined, stateFile: process.argv[2]})
await sim.createOrder({clientOrderId: 'k1', symbol: 'BTC-USD', side: 'buy', type: 'market', amount: 0.1})
await sim.advance()
await sim.createOrder({clientOrderId: 'k2', symbol: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.1, price: 1000})
process.stdout.write(JSON.stringify(await sim.balances()))
process.kill(process.pid, 'SIGKILL')
`,
    )
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, file], {cwd: ROOT, encoding: 'utf8'})
    assert.equal(r.signal, 'SIGKILL', r.stderr)
    const sim = openSim()
    assert.deepEqual(await sim.balances(), JSON.parse(r.stdout))
    assert.equal((await sim.fetchOrderByClientId('k1', 'BTC-USD'))!.status, 'closed')
    assert.deepEqual((await sim.openOrders()).map((o) => o.clientOrderId), ['k2'])
    assert.equal(sim.fills(0).length, 1)
    assert.equal(sim.now(), openSim({}, null).now() + sim.barMs)
    await sim.close()
  })
})
