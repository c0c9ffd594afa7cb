import {addOrders, type OrderPlan, type PlanInput, planOrders} from '../../execution/plan.js'
import type {PortfolioSnapshot} from '../../market/snapshot.js'
import {escalate, trimOutcome, type TrimCycleOutcome} from '../../trim/escalation.js'
import {planTrim, type TrimPlan} from '../../trim/plan.js'
import {raiseAlert, resolveAlert} from '../alerting.js'
import type {CycleAt, Engine} from '../context.js'
import {type Decision, planInput} from './decide.js'
import {feedSignals, type Snapshot} from './snapshot.js'

const FAILURES = 'trim_failures'
const ALERTED = 'trim_alerted'

/**
 * Step 7. When prices have pushed exposure over the cap, sells back to the cap minus the buffer, added to the
 * cycle's plan: after the decision's own sells (a holding the strategy already sells is not trimmed twice),
 * through the same pre-trade checks, within what is left of the order budget. Returns the trim and the plan
 * to execute.
 */
export async function trim(engine: Engine, at: CycleAt, snap: Snapshot, decision: Decision | null): Promise<{trim: TrimPlan; plan: OrderPlan; input: PlanInput}> {
  const input = decision?.input ?? planInput(engine, at, snap, [])
  const plan = decision?.plan ?? planOrders(input)
  const sold = new Map<string, number>()
  for (const o of plan.orders) if (o.side === 'sell') sold.set(o.symbol, (sold.get(o.symbol) ?? 0) + o.amount)
  const {portfolio, atRisk} = afterSells(snap.portfolio, snap.atRisk, sold, snap.scheduled)
  const {policy} = engine.config
  await feedSignals(engine, [...portfolio.holdings.keys()].filter((s) => engine.tierOf.has(s)))
  const budget = Math.max(0, policy.risk.max_orders_per_cycle - plan.orders.length)
  const trimPlan = planTrim({
    market: snap.market, portfolio, atRisk, policy: {...policy, risk: {...policy.risk, max_orders_per_cycle: budget}},
    tierOf: engine.tierOf, excluded: new Set(engine.config.universe.excluded_symbols), score: (s) => engine.signals.score(s),
  })
  // The trim is judged against the exposure the cycle saw, not what the strategy's sells will leave.
  const shown = {...trimPlan, exposurePct: snap.portfolio.equity > 0 ? (snap.atRisk / snap.portfolio.equity) * 100 : 0}
  return {trim: shown, plan: trimPlan.needed ? addOrders(plan, trimPlan.sells.map((x) => ({...x, side: 'sell' as const, action: 'trim' as const})), input) : plan, input}
}

/**
 * The portfolio once the planned sells are done: they leave the holdings (free amount) and the exposure. So
 * do the later slices of TWAP schedules under way (already out of `free`): a trim does not sell them twice.
 */
function afterSells(p: PortfolioSnapshot, atRisk: number, sold: ReadonlyMap<string, number>, scheduled: ReadonlyMap<string, number>): {portfolio: PortfolioSnapshot; atRisk: number} {
  if (sold.size === 0 && scheduled.size === 0) return {portfolio: p, atRisk}
  const holdings = new Map(p.holdings)
  let removed = 0
  for (const symbol of new Set([...sold.keys(), ...scheduled.keys()])) {
    const h = holdings.get(symbol)
    if (!h) continue
    const amount = (sold.get(symbol) ?? 0) + (scheduled.get(symbol) ?? 0)
    const left = Math.max(0, h.amount - amount)
    removed += (h.amount - left) * h.price
    if (left <= 0) holdings.delete(symbol)
    else holdings.set(symbol, {...h, amount: left, free: Math.max(0, h.free - (sold.get(symbol) ?? 0)), value: left * h.price})
  }

  return {portfolio: {...p, holdings}, atRisk: atRisk - removed}
}

/**
 * After execution: what the trim achieved, counted toward escalation (stored, so it survives a restart), the
 * episode's CRITICAL alert raised or resolved, the over-cap warning kept up to date, and one `trim` event.
 * Returns the failures in a row.
 */
export async function judgeTrim(engine: Engine, at: CycleAt, t: TrimPlan): Promise<number> {
  const {store, config} = engine
  const mine = t.needed ? store.cycleOrders(at.cycle).filter((o) => o.action === 'trim') : []
  const accepted = mine.filter((o) => o.status !== 'rejected' && o.status !== 'abandoned' && o.status !== 'intent').length
  const outcome = trimOutcome(t.needed, t.sells.length, accepted, t.shortfall)
  const before = {failures: store.counter(FAILURES), alerted: store.counter(ALERTED) === 1}
  const step = escalate(before, outcome, config.policy.portfolio_management.max_trim_failures_before_alert)
  if (step.state.failures !== before.failures || step.state.alerted !== before.alerted) {
    store.transaction(() => {
      store.setCounter(FAILURES, step.state.failures)
      store.setCounter(ALERTED, step.state.alerted ? 1 : 0)
    })
  }

  if (t.needed) publishTrim(engine, at, t, outcome, step.state.failures, accepted)
  await overCapAlert(engine, at, t)
  if (step.action === 'alert') await escalationAlert(engine, at, t, step.state.failures)
  if (step.action === 'resolve') await resolveAlert(engine, 'TRIM_ESCALATION', `auto-trim works again: ${accepted} sell(s) out, exposure ${t.exposurePct.toFixed(1)}% of a ${t.capPct}% cap`, at.now, 'TRIM_RESOLVED')
  return step.state.failures
}

function publishTrim(engine: Engine, at: CycleAt, t: TrimPlan, outcome: TrimCycleOutcome, failures: number, accepted: number): void {
  const event = {
    cycle: at.cycle, outcome, exposurePct: t.exposurePct, capPct: t.capPct, targetPct: t.targetPct, excess: t.excess, shortfall: t.shortfall,
    sells: t.sells.map(({symbol, tier, amount, value, reason}) => ({symbol, tier, amount, value, reason})), skipped: t.skipped, accepted, trimFailures: failures,
  }
  engine.store.transaction(() => engine.store.audit.append(at.now, 'trim', event))
  engine.observe({type: 'trim', ...event})
}

async function overCapAlert(engine: Engine, at: CycleAt, t: TrimPlan): Promise<void> {
  if (!(t.exposurePct > t.capPct)) return resolveAlert(engine, 'OVER_CAP', `exposure back under the cap: ${t.exposurePct.toFixed(1)}% of ${t.capPct}%`, at.now)
  const trimming = engine.config.policy.portfolio_management.auto_trim_to_risk_cap
  await raiseAlert(engine, {
    code: 'OVER_CAP', severity: 'warning', time: at.now,
    summary: `exposure ${t.exposurePct.toFixed(1)}% is over the ${t.capPct}% cap${trimming ? '; auto-trim is selling back under it' : ' and auto-trim is off'}`,
    action: trimming ? 'none needed unless trimming fails (a TRIM_ESCALATION alert would follow)' : 'sell by hand, or turn on portfolio_management.auto_trim_to_risk_cap',
    context: {exposure_pct: round(t.exposurePct), cap_pct: t.capPct},
  })
}

async function escalationAlert(engine: Engine, at: CycleAt, t: TrimPlan, failures: number): Promise<void> {
  const skipped = t.skipped.map((s) => `${s.symbol} ${s.code}`).join(', ')
  await raiseAlert(engine, {
    code: 'TRIM_ESCALATION', severity: 'critical', time: at.now,
    summary: `auto-trim failed ${failures} cycles in a row: exposure ${t.exposurePct.toFixed(1)}% vs ${t.capPct}% cap, ${t.excess.toFixed(2)} ${engine.config.app.exchange.quote_currency} over the target`,
    action: `manual intervention needed: add cash or sell positions by hand${skipped ? ` (not sellable now: ${skipped})` : ''}; \`bot trim --dry-run\` shows why`,
    context: {consecutive_failures: failures, exposure_pct: round(t.exposurePct), cap_pct: t.capPct, excess: round(t.excess)},
  })
}

const round = (x: number) => Math.round(x * 100) / 100
