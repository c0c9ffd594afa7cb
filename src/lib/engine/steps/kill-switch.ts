import {isKillSwitchOn} from '../../state/kill-switch.js'
import {raiseAlert, resolveAlert} from '../alerting.js'
import type {CycleAt, Engine} from '../context.js'

const ACTIVE = 'kill_switch_active'

/**
 * Step 1. A KILL_SWITCH in the state dir halts trading: bot's open orders are cancelled and a CRITICAL
 * event is raised once, when it appears. Returns whether trading is halted this cycle.
 */
export async function checkKillSwitch(engine: Engine, at: CycleAt): Promise<boolean> {
  const on = isKillSwitchOn(engine.stateDir)
  const wasOn = engine.store.counter(ACTIVE) === 1
  if (on === wasOn) return on
  const cancelled = on && engine.config.app.kill_switch.cancel_open_orders ? await cancelOwnOpenOrders(engine) : 0
  engine.store.transaction(() => {
    engine.store.setCounter(ACTIVE, on ? 1 : 0)
    engine.store.audit.append(at.now, on ? 'kill_switch_on' : 'kill_switch_off', {cycle: at.cycle, cancelled})
  })
  engine.observe({type: 'kill_switch', cycle: at.cycle, active: on, cancelled})
  if (on) {
    await raiseAlert(engine, {
      code: 'KILL_SWITCH', severity: 'critical', time: at.now,
      summary: `KILL_SWITCH present in ${engine.stateDir}: trading halted, ${cancelled} open order(s) cancelled`,
      action: `remove ${engine.stateDir}/KILL_SWITCH to resume trading`, context: {cancelled},
    })
  } else await resolveAlert(engine, 'KILL_SWITCH', 'KILL_SWITCH removed: trading resumes', at.now)
  return on
}

/** Also used before every order: the file is checked again, not remembered. */
export function killSwitchOn(engine: Engine): boolean {
  return isKillSwitchOn(engine.stateDir)
}

/** Only bot's own orders: the account may hold orders a person placed by hand. */
async function cancelOwnOpenOrders(engine: Engine): Promise<number> {
  const ours = new Set(engine.store.liveOrders().map((o) => o.client_order_id))
  let n = 0
  for (const order of await engine.broker.openOrders()) {
    if (!ours.has(order.clientOrderId)) continue
    await engine.broker.cancelOrder(order.id, order.symbol)
    n++
  }

  return n
}
