import type {Side} from '../domain.js'
import {BotError, UsageError} from '../errors.js'
import {type ConvertRequest, denialOf, planConversion, type PlannedConversion, previewSlices} from '../execution/conversion.js'
import type {PlanInput} from '../execution/plan.js'
import type {RouteKind} from '../execution/route.js'
import type {Denial} from '../risk/checks.js'
import type {ConversionRow} from '../state/routes.js'
import type {OrderRow} from '../state/store.js'
import type {Engine} from './context.js'
import {nextCycle, type OwnOrders, runCycle} from './cycle.js'
import {openEngine, type OpenOptions} from './open.js'
import {planInput} from './steps/decide.js'
import {type Snapshot, snapshot} from './steps/snapshot.js'

/** One thing `bot convert` did (or, with --dry-run, would do). */
export interface ConvertStep {
  /** convert: the exchange's convert (all its attempts); order: one market order; slice: one TWAP slice. */
  kind: 'convert' | 'order' | 'slice'
  /** The conversion's or the order's id (client order id); null in a dry run. */
  id: string | null
  symbol: string
  side: Side
  /** A convert: of the currency it spends; an order: base units. */
  amount: number
  /** Average fill price, or the expected price while nothing filled. */
  price: number
  /** A convert: completed, fell_back, abandoned...; an order: the exchange's status; a dry run: would send, fallback, or a denial code. */
  status: string
  /** Base units filled (a convert: the amount, once completed). */
  filled: number
  /** In the quote currency. */
  fee: number
  reason: string
}

/** `bot convert --json`: one document (see the README). */
export interface ConvertResult {
  from: string
  to: string
  /** Of `from` ('all' resolved). */
  amount: number
  /** The route taken (planned, with --dry-run): convert, market or twap. */
  route: RouteKind
  steps: ConvertStep[]
  /** Of `to`: what arrived (expected, with --dry-run). */
  received: number
  /** In the quote currency. */
  fees: number
  dryRun: boolean
  /** done | denied | failed | pending (slices or fills still on the way, left to the loop) | preview. */
  outcome: 'done' | 'denied' | 'failed' | 'pending' | 'preview'
  denial: Denial | null
  /** What stopped it or what is left, in one line; null when done. */
  note: string | null
}

export interface ConvertOptions extends OpenOptions {
  request: ConvertRequest
  dryRun: boolean
  /** Stops waiting between slices (SIGINT/SIGTERM): what is left stays scheduled for the loop. */
  stop?: AbortSignal
}

/** On a wall clock: how often an order still open is looked up, and how long past the last slice bot waits. */
const POLL_MS = 2000
const GRACE_MS = 120_000

/**
 * `bot convert FROM TO`: the loop's own route (convert, else market, TWAP for a tier that slices, two legs
 * through the quote currency between two coins) as cycles of kind 'convert', each audited like any other.
 * The legs pass the loop's pre-trade checks first, all of them before anything is sent. It waits for the
 * fills and the slices on the venue's clock (a replay's bars, or real time); what is still on the way when
 * it stops is left to the loop. `dryRun` only looks: no lock, nothing written.
 */
export async function convertOnce(options: ConvertOptions): Promise<ConvertResult> {
  // A read-only look first: a request refused (unknown currency, no route, nothing to convert) or only
  // previewed never opens the state dir for writing, so it changes no file, even a state dir not made yet.
  const look = await openEngine({...options, command: 'convert'}, 'preview')
  let request: ConvertRequest
  try {
    const {engine} = look
    request = await checkedRequest(engine, options.request)
    const at = nextCycle(engine, 'convert')
    const snap = await snapshot(engine, at, 'look')
    const planned = plan(engine, request, planInput(engine, at, snap, []))
    if (planned.problem) throw new BotError(`cannot convert ${request.from} to ${request.to}: ${planned.problem}`, 'CONVERT_IMPOSSIBLE')
    if (options.dryRun) return preview(engine, snap, request, planned)
  } finally {
    await look.close()
  }

  const opened = await openForConvert(options)
  try {
    // The cycle that trades takes (and records) its own snapshot, and checks the legs again on it.
    return await execute(opened.engine, request, options.stop ?? new AbortController().signal)
  } finally {
    await opened.close()
  }
}

async function openForConvert(options: ConvertOptions) {
  try {
    return await openEngine({...options, command: 'convert'}, 'once')
  } catch (error) {
    if (error instanceof BotError && error.code === 'LOCKED') {
      throw new BotError(`${error.message.replace(/; stop it.*$/, '')}: stop it to convert by hand; \`bot convert --dry-run\` shows the route without trading`, 'LOCKED')
    }

    throw error
  }
}

/**
 * FROM and TO must be the quote currency, the base of one of its markets, or a coin the exchange converts to
 * and from the quote currency (a usage error otherwise).
 */
async function checkedRequest(engine: Engine, r: ConvertRequest): Promise<ConvertRequest> {
  const quote = engine.config.app.exchange.quote_currency
  const [from, to] = [r.from.toUpperCase(), r.to.toUpperCase()]
  const known = new Set([quote, ...[...(await engine.market.markets()).values()].filter((m) => m.quote === quote).map((m) => m.base)])
  for (const c of [from, to]) {
    // A coin with no market (a stablecoin) may still convert to and from the quote currency.
    if (!known.has(c) && !engine.broker.capabilities.convert(c, quote)) throw new UsageError(`unknown currency "${c}": bot converts between ${quote} and the coins of its ${quote} markets (${[...known].filter((k) => k !== quote).slice(0, 5).join(', ')}, ...)`)
  }

  if (from === to) throw new UsageError(`FROM and TO are both ${from}`)
  return {...r, from, to}
}


function plan(engine: Engine, request: ConvertRequest, input: PlanInput): PlannedConversion {
  const quote = engine.config.app.exchange.quote_currency
  return planConversion({request, plan: input, quote, tierOf: (s) => engine.tierOf.get(s), convertOffered: engine.broker.capabilities.convert(request.from, request.to)})
}

/** --dry-run: the route with its slices at today's prices, each leg's verdict from the pre-trade checks. */
function preview(engine: Engine, snap: Snapshot, request: ConvertRequest, planned: PlannedConversion): ConvertResult {
  const {route} = planned
  const policy = engine.config.policy
  const denied = new Map(planned.denied.map((d) => [`${d.symbol}:${d.side}`, d.denial.code]))
  const reason = `bot convert ${request.from} -> ${request.to}`
  const steps: ConvertStep[] = []
  let received = planned.amount
  let fees = 0
  for (const leg of route.legs) {
    const market = snap.market.markets.get(leg.symbol)!
    const fee = market.takerBps / 1e4
    const status = denied.get(`${leg.symbol}:${leg.side}`) ?? (route.convert ? 'fallback' : 'would send')
    const amounts = leg.side === 'sell' && leg.slices > 1 ? previewSlices(leg, market, policy).amounts : [leg.amount]
    for (const amount of amounts) steps.push({kind: amounts.length > 1 ? 'slice' : 'order', id: null, symbol: leg.symbol, side: leg.side, amount, price: leg.price, status, filled: 0, fee: amount * leg.price * fee, reason})
    fees += leg.amount * leg.price * fee
    received = leg.side === 'sell' ? leg.amount * leg.price * (1 - fee) : leg.amount
  }

  if (route.convert) {
    const order = planned.orders[0] ?? planned.denied[0]
    const {symbol, side, price} = route.legs[0] ?? order
    const then = route.legs.length > 0 ? 'else the orders below' : 'no market to fall back to'
    steps.unshift({kind: 'convert', id: null, symbol, side, amount: planned.amount, price, status: planned.denied[0]?.denial.code ?? 'would try', filled: 0, fee: 0, reason: `${reason}: convert, up to ${policy.execution.convert_max_attempts} attempts, ${then}`})
    if (route.legs.length === 0) received = 0 // what a quote will say: unknown before one is asked for
  }

  const denial = denialOf(planned)
  return {from: request.from, to: request.to, amount: planned.amount, route: route.route, steps, received, fees, dryRun: true, outcome: denial ? 'denied' : 'preview', denial, note: denial ? `${denial.code}: ${denial.message}` : null}
}

/** What this conversion's cycles created: found by id, so slices of the loop's own schedules are not counted. */
class Tracked {
  readonly orders = new Set<string>()
  readonly schedules = new Set<string>()
  readonly conversions = new Set<string>()
  readonly cycles: number[] = []

  constructor(private readonly engine: Engine) {}

  /** After a cycle: what it created for this conversion (its own orders, or later slices of its schedules). */
  collect(cycle: number, own: boolean): void {
    const {store} = this.engine
    this.cycles.push(cycle)
    for (const c of store.routes.cycleConversions(cycle)) if (own) this.conversions.add(c.id)
    for (const o of store.cycleOrders(cycle)) {
      if (o.leg < 0) continue // an order adopted this cycle: reported by the reconcile step, not ours
      const mine = o.schedule_id ? this.schedules.has(o.schedule_id) || (own && store.routes.schedule(o.schedule_id)?.cycle === cycle) : own
      if (!mine) continue
      this.orders.add(o.client_order_id)
      if (o.schedule_id) this.schedules.add(o.schedule_id)
    }
  }

  /** Orders still on the way, schedules with slices to send, converts whose outcome is unknown. */
  pending(): {orders: number; schedules: {id: string; next_at: number; left: number}[]; conversions: number} {
    const {store} = this.engine
    const schedules = [...this.schedules].map((id) => store.routes.schedule(id)!).filter((s) => s.status === 'active').map((s) => ({id: s.id, next_at: s.next_at, left: s.slices - s.sent}))
    return {
      orders: store.liveOrders().filter((o) => this.orders.has(o.client_order_id)).length,
      schedules,
      conversions: store.routes.openConversions().filter((c) => this.conversions.has(c.id)).length,
    }
  }

  rows(): {orders: OrderRow[]; conversions: ConversionRow[]} {
    const {store} = this.engine
    const cycles = [...new Set(this.cycles)]
    return {
      orders: cycles.flatMap((c) => store.cycleOrders(c)).filter((o) => this.orders.has(o.client_order_id)),
      conversions: cycles.flatMap((c) => store.routes.cycleConversions(c)).filter((c) => this.conversions.has(c.id)),
    }
  }
}

/**
 * Leg by leg: a cycle with the leg's order (checked with every leg still to come), then cycles on the
 * venue's clock until its fills are in and its slices are sent; a second leg is sized from what the first
 * brought.
 */
async function execute(engine: Engine, request: ConvertRequest, stop: AbortSignal): Promise<ConvertResult> {
  const quote = engine.config.app.exchange.quote_currency
  const legs = request.from !== quote && request.to !== quote ? [{from: request.from, to: quote}, {from: quote, to: request.to}] : [{from: request.from, to: request.to}]
  const done: Leg[] = []
  let amount: number | 'all' = request.amount
  let resolved = 0
  for (const [i, leg] of legs.entries()) {
    // The first leg is checked with the whole route (nothing is sold when the buy after it would be denied).
    const asked: ConvertRequest = i === 0 ? request : {...leg, amount}
    const result = await runLeg(engine, asked, stop, i === 0 ? legs.length : 1)
    done.push(result)
    if (i === 0) resolved = result.amount
    if (result.outcome !== 'done') break
    if (!(result.received > 0)) {
      result.outcome = 'failed'
      result.note = `${leg.from} -> ${leg.to} brought nothing`
      break
    }

    amount = result.received
  }

  return summarise(engine, request, resolved, done, legs.length)
}

interface Leg {
  amount: number
  outcome: ConvertResult['outcome']
  denial: Denial | null
  note: string | null
  received: number
  tracked: Tracked
}

async function runLeg(engine: Engine, request: ConvertRequest, stop: AbortSignal, legsChecked: number): Promise<Leg> {
  const tracked = new Tracked(engine)
  let planned: PlannedConversion | null = null
  const own: OwnOrders = (_snap, input) => {
    planned = plan(engine, request, input)
    if (planned.problem || planned.denied.length > 0) return {orders: [], denied: planned.denied}
    // Only this leg goes out now; a coin-to-coin first leg was checked together with the buy after it.
    return {orders: planned.orders.slice(0, 1), denied: []}
  }

  const at = nextCycle(engine, 'convert')
  const report = await runCycle(engine, at, own)
  tracked.collect(at.cycle, true)
  const p = planned as PlannedConversion | null
  const leg = (outcome: Leg['outcome'], note: string | null, denial: Denial | null = null): Leg => ({amount: p?.amount ?? 0, outcome, denial, note, received: receivedOf(tracked), tracked})
  if (report.halted) return leg('failed', 'KILL_SWITCH: the kill switch is on; nothing was sent')
  if (!p) return leg('failed', 'no plan')
  if (p.problem) return leg('failed', p.problem)
  const denial = denialOf(p)
  if (denial) return leg('denied', `${denial.code}: ${denial.message}${legsChecked > 1 ? ' (nothing was sold: the whole route was checked first)' : ''}`, denial)
  const waited = await follow(engine, tracked, stop)
  const rows = tracked.rows()
  if (waited) return leg('pending', waited)
  const filled = rows.orders.some((o) => o.filled > 0) || rows.conversions.some((c) => c.status === 'completed')
  if (!filled) return leg('failed', failureOf(rows))
  const dust = [...tracked.schedules].map((id) => engine.store.routes.schedule(id)!).find((s) => s.status !== 'done')
  return leg('done', dust ? `TWAP ${dust.id} ended ${dust.status}: ${dust.note}` : null)
}

/**
 * Cycles of kind 'convert' on the venue's clock until nothing of the conversion is on the way: a replay moves
 * bar by bar; a wall clock waits for the next slice, and polls every few seconds while an order is open.
 * Returns why it stopped early (what is left goes on in the loop), or null when everything settled.
 */
async function follow(engine: Engine, tracked: Tracked, stop: AbortSignal): Promise<string | null> {
  const wall = engine.clock.kind === 'wall'
  let deadline = Number.POSITIVE_INFINITY
  for (;;) {
    const pending = tracked.pending()
    if (pending.orders === 0 && pending.schedules.length === 0 && pending.conversions === 0) return null
    const left = `${pending.orders} order(s) on the way, ${pending.schedules.reduce((n, s) => n + s.left, 0)} slice(s) to send`
    if (stop.aborted) return `stopped: ${left}; the loop (bot run) carries on with them`
    const now = engine.clock.now()
    const due = Math.min(...pending.schedules.map((s) => s.next_at))
    if (wall && deadline === Number.POSITIVE_INFINITY) deadline = Math.max(now, Number.isFinite(due) ? due : now) + GRACE_MS + Math.max(0, ...pending.schedules.map((s) => s.left)) * POLL_MS
    const next = !wall ? now + 1 : pending.orders > 0 || pending.conversions > 0 || !Number.isFinite(due) ? now + POLL_MS : Math.max(now, due)
    if (wall && next > deadline) return `timed out: ${left}; the loop (bot run) reconciles them`
    if (!(await engine.clock.sleepUntil(next, stop))) return stop.aborted ? `stopped: ${left}; the loop (bot run) carries on with them` : `the market data ends: ${left}`
    const at = nextCycle(engine, 'convert')
    await runCycle(engine, at)
    tracked.collect(at.cycle, false)
  }
}

/** What the leg brought: its sells bring quote (net of fees), its buys coins, a completed convert its amount. */
function receivedOf(tracked: Tracked): number {
  const {orders, conversions} = tracked.rows()
  const fromOrders = orders.reduce((n, o) => n + (o.side === 'sell' ? o.filled * (o.average_price ?? o.price) - o.fee : o.filled), 0)
  return fromOrders + conversions.filter((c) => c.status === 'completed').reduce((n, c) => n + c.received, 0)
}

function failureOf(rows: {orders: OrderRow[]; conversions: ConversionRow[]}): string {
  const o = rows.orders.find((x) => x.error) ?? rows.orders[0]
  const c = rows.conversions.find((x) => x.error)
  return o ? `${o.client_order_id} ${o.status}${o.error ? `: ${o.error}` : ''}` : c ? `convert ${c.id} ${c.status}: ${c.error}` : 'nothing was sent'
}

function summarise(engine: Engine, request: ConvertRequest, amount: number, legs: Leg[], planned: number): ConvertResult {
  const steps: ConvertStep[] = []
  let fees = 0
  let slices = false
  let converted = false
  for (const leg of legs) {
    const {orders, conversions} = leg.tracked.rows()
    for (const c of conversions) {
      const side: Side = c.from_ccy === engine.config.app.exchange.quote_currency ? 'buy' : 'sell'
      converted ||= c.status === 'completed'
      fees += c.fee
      steps.push({kind: 'convert', id: c.id, symbol: c.symbol, side, amount: c.amount, price: 0, status: c.status, filled: c.status === 'completed' ? c.amount : 0, fee: c.fee, reason: c.error ?? c.reason})
    }

    for (const o of orders) {
      slices ||= o.schedule_id !== null && o.schedule_id !== undefined
      fees += o.fee
      steps.push({kind: o.schedule_id ? 'slice' : 'order', id: o.client_order_id, symbol: o.symbol, side: o.side, amount: o.amount, price: o.average_price ?? o.price, status: o.status, filled: o.filled, fee: o.fee, reason: o.error ?? o.reason})
    }
  }

  const last = legs.at(-1)!
  const complete = last.outcome === 'done' && legs.length === planned
  const outcome = complete ? 'done' : last.outcome === 'done' ? 'failed' : last.outcome
  const soFar = legs.length > 1 ? ` (the first leg brought ${legs[0].received})` : ''
  return {
    from: request.from, to: request.to, amount, route: converted ? 'convert' : slices ? 'twap' : 'market', steps,
    received: legs.length === planned ? last.received : 0, fees, dryRun: false, outcome, denial: last.denial, note: last.note ? `${last.note}${outcome === 'done' ? '' : soFar}` : null,
  }
}
