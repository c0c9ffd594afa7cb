import {isKillSwitchOn} from '../../state/kill-switch.js'
import type {CycleState, Engine} from '../context.js'

const ACTIVE = 'kill_switch_active'

/** Step 1. A present KILL_SWITCH file halts trading: open orders are cancelled and a CRITICAL event is raised once. */
export async function checkKillSwitch(engine: Engine, cs: CycleState): Promise<void> {
  const on = isKillSwitchOn(engine.stateDir)
  const wasOn = engine.store.counter(ACTIVE) === 1
  cs.halted = on
  if (on === wasOn) return
  let cancelled = 0
  if (on && engine.config.app.kill_switch.cancel_open_orders) cancelled = await cancelOwnOpenOrders(engine)
  engine.store.transaction(() => {
    engine.store.setCounter(ACTIVE, on ? 1 : 0)
    engine.store.audit.append(cs.now, on ? 'kill_switch_on' : 'kill_switch_off', {cycle: cs.cycle, cancelled})
  })
  engine.store.checkpoint() // the cancellations happened: their record must not depend on the rest of the cycle
  engine.observe({type: 'kill_switch', cycle: cs.cycle, active: on, cancelled})
  engine.observe(on
    ? {type: 'notice', level: 'critical', message: `KILL_SWITCH present in ${engine.stateDir}: trading halted, ${cancelled} open order(s) cancelled`}
    : {type: 'notice', level: 'info', message: 'KILL_SWITCH removed: trading resumes'})
}

/** Also used before every order: the file is checked again, not remembered. */
export function killSwitchOn(engine: Engine): boolean {
  return isKillSwitchOn(engine.stateDir)
}

/** Only bot's own orders: the account may hold orders a person placed by hand. */
async function cancelOwnOpenOrders(engine: Engine): Promise<number> {
  const ours = new Set(engine.store.liveOrders().map((o) => o.client_order_id))
  let n = 0
  for (const order of await engine.exchange.openOrders()) {
    if (!ours.has(order.clientOrderId)) continue
    await engine.exchange.cancelOrder(order.id, order.symbol)
    n++
  }

  return n
}
