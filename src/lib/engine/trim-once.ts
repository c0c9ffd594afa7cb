import type {EngineEvent} from './events.js'
import {BotError} from '../errors.js'
import {exposurePct} from '../risk/exposure.js'
import type {TrimCycleOutcome} from '../trim/escalation.js'
import type {TrimSkip} from '../trim/plan.js'
import {nextCycle, runCycle} from './cycle.js'
import {openEngine, type OpenOptions} from './open.js'
import {snapshot} from './steps/snapshot.js'
import {trim} from './steps/trim.js'

export interface TrimSellResult {
  symbol: string
  tier: string
  amount: number
  /** Exposure the sell removes, in quote currency. */
  value: number
  reason: string
  /** With --dry-run: would it pass the pre-trade checks; otherwise what the exchange said (open, closed, rejected...). */
  status: string
  clientOrderId: string | null
}

/** `bot trim --json`: one document (see the README). */
export interface TrimResult {
  dryRun: boolean
  needed: boolean
  exposurePct: number
  capPct: number
  targetPct: number
  /** Quote currency to sell to reach the target. */
  excess: number
  held: {symbol: string; tier: string | null; amount: number; value: number}[]
  sells: TrimSellResult[]
  skipped: TrimSkip[]
  /** Exposure once the sells that went out (or would go out) fill at their expected prices. */
  exposureAfterPct: number
  outcome: TrimCycleOutcome | 'preview'
  trimFailures: number
}

/**
 * `bot trim`: the loop's own steps once — pre-flight, snapshot, trim plan and execution — as a cycle of kind
 * 'trim' (audited like any other). `dryRun` only looks: no lock, nothing written, so it works beside a
 * running bot; trading while a bot runs on the state dir is refused: that loop already trims.
 */
export async function trimOnce(options: OpenOptions & {dryRun: boolean}): Promise<TrimResult> {
  const events: EngineEvent[] = []
  const observe = (e: EngineEvent) => {
    events.push(e)
    options.observe(e)
  }

  const opened = await openForTrim({...options, observe, command: 'trim'}, options.dryRun)
  try {
    const {engine} = opened
    const at = nextCycle(engine, 'trim')
    if (options.dryRun) {
      const snap = await snapshot(engine, at, 'look')
      const {trim: t, plan} = await trim(engine, at, snap, null)
      const denied = new Map(plan.denied.filter((d) => d.action === 'trim').map((d) => [`${d.symbol}:${d.amount}`, d.denial.code]))
      const sells = t.sells.map((s) => ({...s, status: denied.get(`${s.symbol}:${s.amount}`) ?? 'would send', clientOrderId: null}))
      return {...t, dryRun: true, held: held(snap.portfolio.holdings, engine.tierOf), sells, exposureAfterPct: t.needed ? t.exposureAfterPct : t.exposurePct, outcome: 'preview', trimFailures: engine.store.counter('trim_failures')}
    }

    const report = await runCycle(engine, at)
    const t = events.find((e): e is Extract<EngineEvent, {type: 'trim'}> => e.type === 'trim')
    const orders = engine.store.cycleOrders(at.cycle).filter((o) => o.action === 'trim')
    const sells = orders.map((o) => ({symbol: o.symbol, tier: engine.tierOf.get(o.symbol) ?? '(untiered)', amount: o.amount, value: 0, reason: o.reason, status: o.status, clientOrderId: o.client_order_id}))
    for (const s of sells) s.value = t?.sells.find((x) => x.symbol === s.symbol && x.amount === s.amount)?.value ?? 0
    const markets = await engine.market.markets()
    const out = sells.filter((s) => s.status !== 'rejected' && s.status !== 'abandoned' && s.status !== 'intent')
    // Once they fill: each sell takes its value off exposure, and its costs (fee, bid below last) off equity.
    const atRisk = (report.exposurePct / 100) * report.equity - out.reduce((n, s) => n + s.value, 0)
    const equity = report.equity - out.reduce((n, s) => n + s.value - (orders.find((o) => o.client_order_id === s.clientOrderId)!.price * s.amount * (1 - (markets.get(s.symbol)?.takerBps ?? 0) / 1e4)), 0)
    return {
      dryRun: false, needed: t !== undefined, exposurePct: report.exposurePct, capPct: report.capPct,
      targetPct: t?.targetPct ?? report.capPct - engine.config.policy.portfolio_management.trim_buffer_pct, excess: t?.excess ?? 0,
      held: held(new Map(report.positions.map((p) => [p.symbol, p])), engine.tierOf),
      sells, skipped: t?.skipped ?? [], exposureAfterPct: out.length > 0 ? exposurePct(atRisk, equity) : report.exposurePct,
      outcome: t?.outcome ?? 'not_needed', trimFailures: report.trimFailures,
    }
  } finally {
    await opened.close()
  }
}

async function openForTrim(options: OpenOptions, dryRun: boolean) {
  try {
    return await openEngine(options, dryRun ? 'preview' : 'once')
  } catch (error) {
    if (error instanceof BotError && error.code === 'LOCKED') {
      throw new BotError(`${error.message.replace(/; stop it.*$/, '')}: its loop already trims every cycle; \`bot trim --dry-run\` shows the plan without trading`, 'LOCKED')
    }

    throw error
  }
}

function held(holdings: ReadonlyMap<string, {symbol: string; amount: number; value: number}>, tierOf: ReadonlyMap<string, string>): TrimResult['held'] {
  return [...holdings.values()].map((h) => ({symbol: h.symbol, tier: tierOf.get(h.symbol) ?? null, amount: h.amount, value: h.value})).sort((a, b) => b.value - a.value)
}
