import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {requireValidConfig} from '../../src/lib/config/index.js'
import {BIN, runCli, STACK_TRACE} from '../helpers/cli.js'
import {configCopy, tempDir} from '../helpers/fixtures.js'
import {query, runJson, simAccount} from '../helpers/run.js'

/**
 * `bot convert` end to end, through the built CLI on the bundled replay: the route it takes (convert, its
 * fallback, market, TWAP, two legs), what it leaves in bot.sqlite, its audit log and the sim's own account,
 * and what it refuses. Expectations are recomputed from the rows it wrote, never copied from its output.
 */

interface Step {kind: string; id: string | null; symbol: string; side: string; amount: number; price: number; status: string; filled: number; fee: number; reason: string}
interface Result {from: string; to: string; amount: number; route: string; steps: Step[]; received: number; fees: number; dryRun: boolean; outcome: string; denial: {code: string; message: string} | null; note: string | null}
interface Order {client_order_id: string; cycle: number; time: number; symbol: string; side: string; amount: number; price: number; action: string; reason: string; status: string; filled: number; average_price: number | null; fee: number; schedule_id: string | null}
interface Conversion {id: string; cycle: number; from_ccy: string; to_ccy: string; amount: number; status: string; attempts: number; received: number; fee: number; error: string | null}
interface Audit {seq: number; kind: string; data: string}

const close = (actual: number, expected: number, what: string, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`)

/** What a sell order brought in quote, from its own row: filled at its average price, less its fee. */
const proceeds = (o: Order) => o.filled * o.average_price! - o.fee

describe('bot convert, through the built CLI', function () {
  this.timeout(120_000)
  let t: ReturnType<typeof tempDir>
  let config: string
  let state: string
  beforeEach(() => {
    t = tempDir()
    state = path.join(t.dir, 'state')
  })
  afterEach(() => t.cleanup())

  /** A config copy with these start balances (YAML lines under start_balances), metrics off, and edits. */
  function setup(balances: Record<string, number>, edit: {app?: (a: string) => string; policy?: (p: string) => string} = {}, dir = 'config'): string {
    const copy = configCopy(path.join(t.dir, dir))
    const rewrite = (name: string, fn: (text: string) => string) => writeFileSync(path.join(copy, name), fn(readFileSync(path.join(copy, name), 'utf8')))
    const lines = Object.entries(balances).map(([c, n]) => `      ${c}: ${n}\n`).join('')
    rewrite('app.yaml', (a) => (edit.app ?? ((x) => x))(a.replace(/ {6}USD: 100000\n/, lines).replace('enabled: true', 'enabled: false')))
    rewrite('policy.yaml', edit.policy ?? ((p) => p))
    return copy
  }

  /** The order size limit would bind first on these amounts; raised so the checks under test are the ones that bind. */
  const bigOrders = (p: string) => p.replace('max_order_notional: 5000', 'max_order_notional: 100000')
  const convertOn = (a: string) => a.replace('convert_supported: false', 'convert_supported: true')

  function convert(...args: string[]) {
    const r = runCli(['convert', ...args, '--config-dir', config, '--state-dir', state])
    assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
    return r
  }

  function convertJson(...args: string[]): {status: number | null; stderr: string; result: Result} {
    const r = convert(...args, '--json')
    return {status: r.status, stderr: `${r.stderr}${r.stdout}`, result: JSON.parse(r.stdout) as Result}
  }

  function history(cycles: number): number {
    const run = runJson(['--config-dir', config, '--state-dir', state, '--cycles', String(cycles)])
    assert.equal(run.status, 0, run.stderr)
    return lastCycle()
  }

  const rows = <T>(sql: string, ...params: unknown[]) => query<T>(state, 'bot.sqlite', sql, ...params)
  const lastCycle = () => rows<{n: number | null}>('SELECT max(cycle) AS n FROM cycles')[0].n ?? 0
  const audit = (after = 0) => rows<Audit>('SELECT seq, kind, data FROM audit WHERE seq > ? ORDER BY seq', after)
  const auditSeq = () => rows<{n: number | null}>('SELECT max(seq) AS n FROM audit')[0].n ?? 0
  const ordersAfter = (cycle: number) => rows<Order>('SELECT * FROM orders WHERE cycle > ? ORDER BY cycle, leg', cycle)
  const simBalances = () => new Map(query<{currency: string; total: number}>(state, 'sim-exchange.sqlite', 'SELECT currency, total FROM sim_balances').map((b) => [b.currency, b.total]))
  const simOrders = () => query<{client_order_id: string; status: string}>(state, 'sim-exchange.sqlite', 'SELECT client_order_id, status FROM sim_orders ORDER BY seq')
  const position = (symbol: string) => rows<{amount: number}>('SELECT amount FROM positions WHERE symbol = ?', symbol)[0]?.amount ?? 0

  it('convert not offered: one market sell, received = its fill less its fee, and the sim\'s USD moved by exactly that', async () => {
    config = setup({USD: 100_000, BTC: 1}, {policy: bigOrders})
    const {status, stderr, result: r} = convertJson('BTC', 'USD', '--amount', '0.5')
    assert.equal(status, 0, stderr)
    assert.equal(r.outcome, 'done')
    assert.equal(r.route, 'market')
    assert.equal(r.dryRun, false)
    assert.equal(r.amount, 0.5)
    assert.deepEqual(r.steps.map((s) => [s.kind, s.symbol, s.side, s.amount]), [['order', 'BTC-USD', 'sell', 0.5]])

    const orders = ordersAfter(0)
    assert.equal(orders.length, 1, 'a convert cycle runs no strategy and no trim: its own order only')
    const [o] = orders
    assert.equal(o.client_order_id, r.steps[0].id)
    assert.equal(o.action, 'convert')
    assert.equal(o.filled, 0.5)
    assert.equal(r.steps[0].filled, o.filled)
    assert.equal(r.steps[0].price, o.average_price)
    assert.equal(rows('SELECT * FROM conversions').length, 0, 'no convert was tried')
    const fills = rows<{amount: number; price: number; fee: number}>('SELECT amount, price, fee FROM fills WHERE client_order_id = ?', o.client_order_id)
    close(fills.reduce((n, f) => n + f.amount * f.price - f.fee, 0), proceeds(o), 'the fills add up to the order row')
    close(r.received, proceeds(o), 'received')
    close(r.fees, o.fee, 'fees')
    assert.ok(r.received > 0 && r.fees > 0)

    const sim = await simAccount(state, config)
    close(sim.balances.USD.total, 100_000 + r.received, 'the sim\'s USD')
    close(sim.balances.BTC.total, 0.5, 'the sim\'s BTC')
    assert.deepEqual([...new Set(sim.fills.map((f) => f.clientOrderId))], [o.client_order_id], 'the sim filled that order and no other')
    assert.deepEqual(simOrders().map((s) => s.client_order_id), [o.client_order_id])
    const cycles = audit().filter((a) => a.kind === 'cycle').map((a) => JSON.parse(a.data).kind)
    assert.ok(cycles.length >= 2 && cycles.every((k) => k === 'convert'), `every cycle it ran is of kind convert (${cycles})`)
  })

  it('convert offered and working: one completed convert, no order, received = the conversion row\'s, the BTC position moved', () => {
    config = setup({USD: 100_000, BTC: 1}, {app: convertOn})
    const before = history(5)
    const [btcBefore, simBefore, seqBefore] = [position('BTC-USD'), simBalances(), auditSeq()]
    assert.ok(btcBefore > 0.1, `the history left BTC to convert (${btcBefore})`)

    const {status, stderr, result: r} = convertJson('BTC', 'USD', '--amount', '0.1')
    assert.equal(status, 0, stderr)
    assert.equal(r.outcome, 'done')
    assert.equal(r.route, 'convert')
    assert.equal(r.steps.length, 1)
    const [step] = r.steps
    assert.equal(step.kind, 'convert')
    assert.equal(step.status, 'completed')

    const conversions = rows<Conversion>('SELECT * FROM conversions WHERE cycle > ?', before)
    assert.equal(conversions.length, 1)
    const [c] = conversions
    assert.deepEqual([c.id, c.from_ccy, c.to_ccy, c.amount, c.status, c.attempts], [step.id, 'BTC', 'USD', 0.1, 'completed', 1])
    assert.equal(r.received, c.received)
    assert.equal(r.fees, c.fee)
    // convert_fee_bps 10 of the gross, as the shipped app.yaml says.
    close(c.fee / (c.received + c.fee), 0.001, 'the convert fee is 10 bps')
    assert.equal(ordersAfter(before).length, 0, 'a completed convert places no order')
    assert.ok(rows<{cycle: number}>('SELECT cycle FROM cycles WHERE cycle > ?', before).length >= 1, 'it ran after the history')

    close(position('BTC-USD'), btcBefore - 0.1, 'bot.sqlite\'s BTC position')
    const simAfter = simBalances()
    close(simAfter.get('BTC')!, simBefore.get('BTC')! - 0.1, 'the sim\'s BTC')
    close(simAfter.get('USD')!, simBefore.get('USD')! + c.received, 'the sim\'s USD')
    const kinds = audit(seqBefore).filter((a) => JSON.parse(a.data).id === c.id).map((a) => a.kind)
    assert.deepEqual(kinds, ['convert_intent', 'convert_quoted', 'convert_completed'])
  })

  it('convert offered but failing every time: each attempt audited with its reason, then the market sell', () => {
    const attempts = 3 // not the default 2: the limit is the policy's
    config = setup({USD: 100_000, BTC: 1}, {
      app: (a) => convertOn(a).replace('convert_failure_rate: 0', 'convert_failure_rate: 1'),
      policy: (p) => bigOrders(p).replace('convert_max_attempts: 2', `convert_max_attempts: ${attempts}`),
    })
    const {status, stderr, result: r} = convertJson('BTC', 'USD', '--amount', '0.5')
    assert.equal(status, 0, stderr)
    assert.equal(r.outcome, 'done')
    assert.equal(r.route, 'market', 'what it took in the end')
    assert.deepEqual(r.steps.map((s) => [s.kind, s.status]), [['convert', 'fell_back'], ['order', 'closed']])

    const [c] = rows<Conversion>('SELECT * FROM conversions')
    assert.deepEqual([c.id, c.status, c.attempts, c.received], [r.steps[0].id, 'fell_back', attempts, 0])
    const [o] = rows<Order>('SELECT * FROM orders')
    assert.deepEqual([o.client_order_id, o.symbol, o.side, o.amount, o.filled], [r.steps[1].id, 'BTC-USD', 'sell', 0.5, 0.5])
    assert.match(o.reason, new RegExp(`convert failed ${attempts}x: market fallback`))
    close(r.received, proceeds(o), 'received is the market sell\'s')

    const trail = audit().filter((a) => JSON.parse(a.data).id === c.id || JSON.parse(a.data).clientOrderId === o.client_order_id)
    const failed = trail.filter((a) => a.kind === 'convert_failed').map((a) => JSON.parse(a.data))
    assert.equal(failed.length, attempts)
    assert.ok(failed.every((f) => typeof f.reason === 'string' && f.reason.length > 0), 'each failure says why')
    assert.deepEqual(failed.map((f) => f.attempt), Array.from({length: attempts}, (_, i) => i + 1))
    const fellBack = trail.filter((a) => a.kind === 'convert_fell_back')
    assert.equal(fellBack.length, 1)
    assert.equal(JSON.parse(fellBack[0].data).route, 'market')
    const intent = trail.find((a) => a.kind === 'order_intent')!
    assert.ok(intent.seq > fellBack[0].seq && fellBack[0].seq > Math.max(...trail.filter((a) => a.kind === 'convert_failed').map((a) => a.seq)), 'failures, then the fallback, then the order')

    const simConverts = query<{body: string}>(state, 'sim-exchange.sqlite', 'SELECT body FROM sim_converts').map((x) => JSON.parse(x.body))
    assert.equal(simConverts.length, attempts, 'every attempt reached the sim')
    assert.ok(simConverts.every((x) => x.status === 'failed'))
    close(simBalances().get('USD')!, 100_000 + r.received, 'only the market sell moved the sim\'s USD')
  })

  it('a tier-3 sell goes out as TWAP slices, one per cycle, each after the last settled; --dry-run shows them and writes nothing', async () => {
    config = setup({USD: 100_000, AAVE: 21.3457})
    const before = history(5)
    assert.equal(rows('SELECT * FROM orders WHERE symbol = \'AAVE-USD\'').length, 0, 'the loop left AAVE alone (under its cap)')
    const slices = requireValidConfig(config).policy.execution.twap_by_tier.tier3.slices
    const held = simBalances().get('AAVE')!

    const files = fileStates(state)
    const dry = convertJson('AAVE', 'USD', '--amount', 'all', '--dry-run')
    assert.equal(dry.status, 0, dry.stderr)
    assert.deepEqual(fileStates(state), files, 'a dry run writes nothing')
    assert.equal(dry.result.dryRun, true)
    assert.equal(dry.result.outcome, 'preview')
    assert.equal(dry.result.route, 'twap')
    assert.equal(dry.result.amount, held, '"all" is what the sim holds')
    assert.equal(dry.result.steps.length, slices)
    assert.ok(dry.result.steps.every((s) => s.kind === 'slice' && s.id === null && s.status === 'would send'))

    const {status, stderr, result: r} = convertJson('AAVE', 'USD', '--amount', 'all')
    assert.equal(status, 0, stderr)
    assert.equal(r.outcome, 'done')
    assert.equal(r.route, 'twap')
    assert.equal(r.amount, held)
    assert.equal(r.steps.length, slices)
    assert.ok(r.steps.every((s) => s.kind === 'slice'))

    const orders = ordersAfter(before)
    assert.deepEqual(orders.map((o) => o.client_order_id), r.steps.map((s) => s.id))
    const scheduleIds = new Set(orders.map((o) => o.schedule_id))
    assert.equal(scheduleIds.size, 1)
    assert.equal(new Set(orders.map((o) => o.cycle)).size, slices, 'one slice per cycle')
    const step = (await simAccount(state, config)).markets.get('AAVE-USD')!.amountStep
    const sum = orders.reduce((n, o) => n + o.amount, 0)
    assert.ok(Math.abs(sum - held) < step / 2, `the slices add up to the amount (${sum} vs ${held})`)
    for (const [i, o] of orders.entries()) {
      assert.equal(o.filled, o.amount, `slice ${i + 1} filled`)
      if (i === 0) continue
      const prev = orders[i - 1]
      const settled = rows<{t: number}>('SELECT max(time) AS t FROM fills WHERE client_order_id = ?', prev.client_order_id)[0].t
      assert.ok(o.cycle > prev.cycle && o.time >= settled, `slice ${i + 1} (at ${o.time}) went out after slice ${i} settled (at ${settled})`)
    }

    close(r.received, orders.reduce((n, o) => n + proceeds(o), 0), 'received is what the slices brought')
    const [schedule] = rows<{id: string; status: string; total: number; slices: number; sent: number}>('SELECT * FROM schedules WHERE cycle > ?', before)
    assert.deepEqual([schedule.id, schedule.status, schedule.total, schedule.slices, schedule.sent], [[...scheduleIds][0], 'done', held, slices, slices])
    const twap = audit().filter((a) => a.kind.startsWith('twap_') && JSON.parse(a.data).id === schedule.id).map((a) => [a.kind, JSON.parse(a.data)])
    assert.deepEqual(twap.map(([k]) => k), ['twap_start', 'twap_end'])
    assert.equal((twap[1][1] as {status: string}).status, 'done')
    assert.ok(!simBalances().get('AAVE'), 'the sim holds no AAVE any more')
  })

  it('between two coins: a sell of the first, then, in a later cycle, a buy of the second sized from what the sell brought', async () => {
    config = setup({USD: 100_000, BTC: 0.5}, {policy: bigOrders})
    const {status, stderr, result: r} = convertJson('BTC', 'ETH', '--amount', '0.1')
    assert.equal(status, 0, stderr)
    assert.equal(r.outcome, 'done')
    assert.equal(r.route, 'market')
    assert.deepEqual(r.steps.map((s) => [s.kind, s.symbol, s.side]), [['order', 'BTC-USD', 'sell'], ['order', 'ETH-USD', 'buy']])

    const [sell, buy] = ordersAfter(0)
    assert.deepEqual([sell.client_order_id, buy.client_order_id], r.steps.map((s) => s.id))
    assert.equal(sell.filled, 0.1)
    const sold = rows<{t: number}>('SELECT max(time) AS t FROM fills WHERE client_order_id = ?', sell.client_order_id)[0].t
    assert.ok(buy.cycle > sell.cycle && buy.time >= sold, 'the buy went out once the sell had filled')
    const {markets} = await simAccount(state, config)
    const eth = markets.get('ETH-USD')!
    const affordable = proceeds(sell) / (buy.price * (1 + eth.takerBps / 1e4))
    assert.ok(buy.amount <= affordable && affordable - buy.amount < eth.amountStep, `the buy spends what the sell brought (${buy.amount} of ${affordable})`)
    assert.equal(r.received, buy.filled)
    assert.equal(buy.filled, buy.amount)
    close(position('ETH-USD'), buy.filled, 'the ETH position')
    close(position('BTC-USD'), 0.4, 'the BTC position')
    const sim = simBalances()
    close(sim.get('ETH')!, buy.filled, 'the sim\'s ETH')
    close(sim.get('BTC')!, 0.4, 'the sim\'s BTC')
  })

  it('above the cap: denied EXPOSURE_CAP, audited, nothing sent; a coin-to-coin whose buy is denied sells nothing', () => {
    config = setup({USD: 100_000}, {policy: bigOrders})
    const {status, result: r} = convertJson('USD', 'BTC', '--amount', '30000')
    assert.equal(status, 1)
    assert.equal(r.outcome, 'denied')
    assert.equal(r.denial?.code, 'EXPOSURE_CAP')
    assert.deepEqual([r.steps.length, r.received], [0, 0])
    assert.equal(rows('SELECT * FROM orders').length, 0)
    assert.equal(simOrders().length, 0, 'the sim saw no order')
    const denied = audit().filter((a) => a.kind === 'order_denied').map((a) => JSON.parse(a.data))
    assert.deepEqual(denied.map((d) => [d.symbol, d.side, d.code]), [['BTC-USD', 'buy', 'EXPOSURE_CAP']])
    assert.ok(denied[0].amount * denied[0].price > 25_000, 'the buy it denied is the one asked for')
    const human = convert('USD', 'BTC', '--amount', '30000')
    assert.equal(human.status, 1)
    assert.match(human.stdout + human.stderr, /denied: EXPOSURE_CAP: exposure would be [\d.]+% > cap 25%/)

    // ETH-USD's tier cap is 10% of equity; 0.4 BTC buys more than that, while exposure is unchanged.
    state = path.join(t.dir, 'state2')
    config = setup({USD: 100_000, BTC: 0.5}, {policy: bigOrders}, 'two')
    const coins = convertJson('BTC', 'ETH', '--amount', '0.4')
    assert.equal(coins.status, 1)
    assert.equal(coins.result.denial?.code, 'TIER_POSITION_CAP')
    assert.match(coins.result.note!, /nothing was sold/)
    assert.equal(rows('SELECT * FROM orders').length, 0, 'the sell was never sent')
    assert.equal(simOrders().length, 0)
    assert.equal(simBalances().get('BTC'), 0.5)
    assert.deepEqual(audit().filter((a) => a.kind === 'order_denied').map((a) => JSON.parse(a.data)).map((d) => [d.symbol, d.side, d.code]), [['ETH-USD', 'buy', 'TIER_POSITION_CAP']])

    // The order size limit binds a convert too (the shipped max_order_notional).
    state = path.join(t.dir, 'state3')
    config = setup({USD: 100_000, BTC: 1}, {}, 'three')
    const big = convertJson('BTC', 'USD', '--amount', '0.5')
    assert.equal(big.status, 1)
    assert.equal(big.result.denial?.code, 'MAX_ORDER_NOTIONAL')
    assert.equal(simOrders().length, 0)
  })

  it('bad input: one line and exit 2; "all" of a coin not held is CONVERT_IMPOSSIBLE and changes nothing', () => {
    config = setup({USD: 100_000, BTC: 0.5})
    const before = history(3)
    const notHeld = ['XTZ', 'MKR', 'ALGO'].find((c) => !simBalances().get(c))!
    const contents = stateContents(state)

    const usage: [string[], RegExp][] = [
      [['XYZ', 'USD', '--amount', '1'], /unknown currency "XYZ"/],
      [['BTC', 'USD', '--amount', 'abc'], /--amount must be a number > 0 or "all", got "abc"/],
      [['BTC', 'USD', '--amount', '-1'], /--amount .*"-1"/],
      [['BTC', 'USD', '--amount', '0'], /--amount .*"0"/],
      [['BTC', 'BTC', '--amount', '1'], /both BTC/],
    ]
    for (const [args, message] of usage) {
      const r = convert(...args)
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`)
    }

    const r = convert(notHeld, 'USD', '--amount', 'all', '--json')
    assert.equal(r.status, 1)
    const error = JSON.parse(r.stdout).error
    assert.equal(error.code, 'CONVERT_IMPOSSIBLE')
    assert.match(error.message, new RegExp(`no free ${notHeld}`))
    const human = convert(notHeld, 'USD', '--amount', 'all')
    assert.equal(human.status, 1)
    assert.equal(human.stderr.trim().split('\n').length, 1)
    assert.equal(lastCycle(), before)
    assert.deepEqual(stateContents(state), contents, 'no row of either database, nor the audit head, changed')
  })

  it('a refused convert on a new state dir creates nothing (README: a refusal changes nothing)', () => {
    config = setup({USD: 100_000})
    const refusals: [string, string[], number][] = [
      ['a bad --amount', ['BTC', 'USD', '--amount', 'abc'], 2],
      ['an unknown currency', ['XYZ', 'USD', '--amount', '1'], 2],
      ['nothing to convert', ['BTC', 'USD', '--amount', 'all'], 1],
    ]
    const left: string[] = []
    for (const [what, args, code] of refusals) {
      assert.equal(convert(...args).status, code, what)
      if (existsSync(state)) left.push(`${what} (exit ${code}) left ${readdirSync(state).join(', ')}`)
      rmSync(state, {recursive: true, force: true})
    }

    // A state dir made by a refusal binds the sim to today's start balances: an edited app.yaml is then refused.
    assert.deepEqual(left, [])
  })

  it('refuses to trade while a bot runs on the state dir, naming it and --dry-run; a dry run still works', async () => {
    config = setup({USD: 100_000, BTC: 0.2})
    const running = spawn(process.execPath, [BIN, 'run', '--json', '--interval', '1', '--config-dir', config, '--state-dir', state], {stdio: ['ignore', 'pipe', 'ignore']})
    try {
      await new Promise<void>((resolve, reject) => {
        running.stdout.on('data', (d) => String(d).includes('"type":"cycle"') && resolve())
        running.on('exit', (code) => reject(new Error(`bot run exited (${code}) before its first cycle`)))
      })
      const refused = convert('BTC', 'USD', '--amount', '0.1')
      assert.equal(refused.status, 1)
      assert.match(refused.stderr, new RegExp(`another bot \\(pid ${running.pid}\\) is running on .*: stop it to convert by hand; \`bot convert --dry-run\` shows the route`))
      assert.equal(refused.stderr.trim().split('\n').length, 1)
      const dry = convertJson('BTC', 'USD', '--amount', '0.1', '--dry-run')
      assert.equal(dry.result.dryRun, true)
      assert.equal(dry.result.route, 'market')
      assert.ok(dry.result.steps.length === 1 && dry.result.steps[0].id === null)
      // The running loop may hold an open BTC order at that instant (a duplicate): the exit code follows the verdict.
      assert.equal(dry.status, dry.result.outcome === 'preview' ? 0 : 1, dry.stderr)
    } finally {
      running.kill('SIGTERM')
      await new Promise((resolve) => running.on('exit', resolve))
    }

    assert.equal(rows('SELECT * FROM orders WHERE action = \'convert\'').length, 0, 'neither left an order')
    assert.equal(audit().filter((a) => a.kind === 'cycle' && JSON.parse(a.data).kind === 'convert').length, 0, 'nor a cycle')
  })
})

/**
 * SQLite's shared-memory index, and a WAL with no frame in it: a read-only connection (this test's own
 * queries included) may create or touch them; neither holds data.
 */
const transient = (dir: string, f: string) => f.endsWith('-shm') || (f.endsWith('-wal') && statSync(path.join(dir, f)).size === 0)

/** Every file of a state dir: size, mtime and content hash (a dry run must leave each as it was). */
function fileStates(dir: string) {
  return readdirSync(dir).filter((f) => !transient(dir, f)).sort().map((f) => {
    const s = statSync(path.join(dir, f))
    return {f, size: s.size, mtime: s.mtimeMs, sha: createHash('sha1').update(readFileSync(path.join(dir, f))).digest('hex')}
  })
}

/** What a state dir holds, logically: every row of every table of both databases, and the other files' text. */
function stateContents(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of readdirSync(dir).filter((x) => !transient(dir, x)).sort()) {
    if (!f.endsWith('.sqlite')) {
      out[f] = readFileSync(path.join(dir, f), 'utf8')
      continue
    }

    const tables = query<{name: string}>(dir, f, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    for (const {name} of tables) out[`${f}:${name}`] = query(dir, f, `SELECT * FROM "${name}" ORDER BY rowid`)
  }

  return out
}
