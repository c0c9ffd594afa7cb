import {addOrders, type DeniedOrder, type ExtraOrder, type OrderPlan, type PlanInput} from '../execution/plan.js'
import type {CycleAt, Engine} from './context.js'
import type {CycleReport} from './events.js'
import {decide, planInput, universe} from './steps/decide.js'
import {commitPlan, sendIntents} from './steps/execute.js'
import {checkClock, checkKillSwitch} from './steps/kill-switch.js'
import {reconcile} from './steps/reconcile.js'
import {record} from './steps/record.js'
import {dueSlices} from './steps/route.js'
import {type Snapshot, snapshot} from './steps/snapshot.js'
import {judgeTrim, trim} from './steps/trim.js'

/**
 * A command's own orders for a cycle of kind 'convert', sized and checked from that cycle's snapshot (the
 * command decides what a denial means for the rest of its orders; the cycle audits the denials).
 */
export type OwnOrders = (snap: Snapshot, input: PlanInput) => {orders: ExtraOrder[]; denied: DeniedOrder[]}

/**
 * One cycle, as a table of contents (DESIGN.md, "A cycle"). Each step takes what the ones before it
 * returned. Alerts and metrics observe the events the steps emit. No write transaction is open while a step
 * waits on the exchange. `bot trim` runs the same cycle with kind 'trim': no universe, no strategy; `bot
 * convert` with kind 'convert' and its own orders instead of the strategy and the trim.
 */
export async function runCycle(engine: Engine, at: CycleAt, own?: OwnOrders): Promise<CycleReport> {
  const step = stepTimer(engine, at)
  const act = !at.resumed
  const killed = await step('kill switch', () => checkKillSwitch(engine, at)) //                           1
  const halted = killed || (await step('clock', () => checkClock(engine, at))) //                          1b. clock skew pauses trading
  let fills = await step('reconcile', () => reconcile(engine, at)) //                                      2
  const snap = await step('snapshot', () => snapshot(engine, at)) //                                        3
  const eligible = at.kind === 'loop' ? await step('universe', () => universe(engine, at, snap)) : null //  4
  const decision = act && !halted && eligible ? await step('decide', () => decide(engine, at, snap, eligible)) : null // 5-6
  const trimmed = act && !halted && at.kind !== 'convert' ? await step('trim', () => trim(engine, at, snap, decision)) : null // 7
  // The kill switch ends TWAP schedules; a clock out of range only holds their slices back until it is fixed.
  const due = act && !(halted && !killed) ? dueSlices(engine, at, snap, killed) : null //                   8a. TWAP slices due now
  const plan = act && !halted ? withExtras(engine, at, snap, trimmed, own, due?.sells ?? []) : null
  const planStored = at.resumed || (await step('write-ahead', () => commitPlan(engine, at, snap, plan, due))) // 8a. intents
  fills += await step('execute', () => sendIntents(engine, at, snap)) //                                   8b
  const trimFailures = trimmed ? await step('escalate', () => judgeTrim(engine, at, trimmed.trim)) : engine.store.counter('trim_failures') // 7b
  const report = await step('record', () => record(engine, at, {snap, universe: eligible, plan, planStored, halted, fills, trimFailures})) // 9
  engine.auditHead.write(report.audit, at.now)
  engine.observe({type: 'cycle', report}) // only once it is durable
  return report
}

/** The cycle's plan: the strategy's and the trim's, then a command's own orders and the TWAP slices due. */
function withExtras(engine: Engine, at: CycleAt, snap: Snapshot, trimmed: {plan: OrderPlan; input: PlanInput} | null, own: OwnOrders | undefined, slices: ExtraOrder[]): OrderPlan | null {
  if (!own && slices.length === 0) return trimmed?.plan ?? null
  const input = trimmed?.input ?? planInput(engine, at, snap, [])
  const mine = own?.(snap, input) ?? {orders: [], denied: []}
  const base = trimmed?.plan ?? {orders: [], denied: [], exposureAfterPct: input.portfolio.equity > 0 ? (input.atRisk / input.portfolio.equity) * 100 : 0}
  const plan = addOrders(base, [...mine.orders, ...slices], input)
  return {...plan, denied: [...plan.denied, ...mine.denied]}
}

/** The cycle after the last one stored, at the venue's clock now: how a command starts a cycle of its own. */
export function nextCycle(engine: Engine, kind: CycleAt['kind']): CycleAt {
  return {cycle: (engine.store.lastCycle()?.cycle ?? 0) + 1, now: engine.clock.now(), resumed: false, kind}
}

/** Runs a step and tells `engine.timing` how long it took (debug output; never the event stream). */
function stepTimer(engine: Engine, at: CycleAt) {
  return async <T>(name: string, run: () => T | Promise<T>): Promise<T> => {
    const started = performance.now()
    const result = await run()
    engine.timing(at.cycle, name, performance.now() - started)
    return result
  }
}
