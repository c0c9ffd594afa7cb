import {measureSkew} from '../../exchange/ccxt/venue.js'
import {ExchangeError} from '../../exchange/ports.js'
import {isKillSwitchOn} from '../../state/kill-switch.js'
import {raiseAlert, resolveAlert} from '../alerting.js'
import type {CycleAt, Engine} from '../context.js'

const ACTIVE = 'kill_switch_active'
const SKEWED = 'clock_skewed'
export const CLOCK_ALERT = 'CLOCK_SKEW'
/** Cycles between two readings of the exchange's clock while it is in range. */
export const SKEW_CHECK_EVERY = 10
/** The cycle at which this process last read the exchange's clock, per engine: a new process reads it at once. */
const lastReading = new WeakMap<Engine, number>()

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

/** The kill switch as the last cycle found it (stored, so it survives a restart). */
export function killSwitchRecorded(engine: Engine): boolean {
  return engine.store.counter(ACTIVE) === 1
}

/**
 * Step 1b. On a wall clock (paper, live), the exchange's clock is read at a process's first cycle, every
 * SKEW_CHECK_EVERY cycles, and every cycle while it is off. Off by more than loop.max_clock_skew_ms, the
 * cycle is halted as by the kill switch (no order; snapshot and record still run): signed requests and candle
 * windows depend on it. CLOCK_SKEW is raised while off and resolved once back in range. A reading that fails
 * keeps the last verdict and is tried again next cycle. Returns whether trading is halted for the clock.
 */
export async function checkClock(engine: Engine, at: CycleAt): Promise<boolean> {
  if (engine.clock.kind !== 'wall') return false
  const wasSkewed = engine.store.counter(SKEWED) === 1
  const last = lastReading.get(engine)
  if (last !== undefined && !wasSkewed && at.cycle - last < SKEW_CHECK_EVERY && at.cycle >= last) return false
  lastReading.set(engine, at.cycle)
  let skewMs: number
  try {
    skewMs = await measureSkew(engine.market)
  } catch (error) {
    if (!(error instanceof ExchangeError) || error.kind === 'fatal') throw error
    engine.observe({type: 'notice', level: 'warning', message: `could not read the exchange's clock (${error.code}); ${wasSkewed ? 'still halted for clock skew' : 'keeps trading on the last reading'}, tries again next cycle`})
    lastReading.delete(engine)
    return wasSkewed
  }

  const maxMs = engine.config.app.loop.max_clock_skew_ms
  const skewed = Math.abs(skewMs) > maxMs
  const off = `the exchange's clock is ${Math.abs(skewMs)} ms ${skewMs > 0 ? 'ahead of' : 'behind'} this machine's (loop.max_clock_skew_ms ${maxMs})`
  if (skewed !== wasSkewed) {
    engine.store.transaction(() => {
      engine.store.setCounter(SKEWED, skewed ? 1 : 0)
      engine.store.audit.append(at.now, skewed ? 'clock_skew_on' : 'clock_skew_off', {cycle: at.cycle, skewMs, maxMs})
    })
    engine.observe({type: 'notice', level: skewed ? 'warning' : 'info', message: skewed ? `${off}: no order is placed until it is back in range` : `${off}: back in range, trading resumes`})
  }

  if (skewed) {
    await raiseAlert(engine, {
      code: CLOCK_ALERT, severity: 'critical', time: at.now, summary: `${off}: trading halted`,
      action: 'sync this machine\'s clock (timedatectl status; chronyc tracking or systemd-timesyncd); bot resumes by itself once it is back in range',
      context: {skewMs, maxMs},
    })
  } else if (wasSkewed) await resolveAlert(engine, CLOCK_ALERT, `${off}: back in range, trading resumes`, at.now)
  return skewed
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
