import type {ConvertQuote} from '../../domain.js'
import {ExchangeError} from '../../exchange/ports.js'
import {floorToStep} from '../../execution/amounts.js'
import type {PlannedOrder} from '../../execution/plan.js'
import {type ConversionRow, parseQuote} from '../../state/routes.js'
import type {CycleAt, Engine} from '../context.js'
import {writeIntent} from './execute.js'
import {killSwitchOn} from './kill-switch.js'
import {twapOf} from './route.js'
import type {Snapshot} from './snapshot.js'

type Conversion = Extract<import('../events.js').EngineEvent, {type: 'convert'}>

/**
 * The converts this cycle stored, each: quote, commit, and the trade's final status; an expired quote or a
 * trade that ends failed is a failure, tried again up to convert_max_attempts; then the same amount goes out
 * as a market (or TWAP) sell, stored as an intent before it is sent. Every attempt is audited with its reason.
 */
export async function runConversions(engine: Engine, at: CycleAt, snap: Snapshot): Promise<void> {
  for (const row of engine.store.routes.cycleConversions(at.cycle)) {
    if (row.status !== 'intent' && row.status !== 'quoted') continue
    await convertOne(engine, at, snap, row)
  }
}

async function convertOne(engine: Engine, at: CycleAt, snap: Snapshot, start: ConversionRow): Promise<void> {
  const {store, broker} = engine
  const max = engine.config.policy.execution.convert_max_attempts
  let row = start
  const save = (next: ConversionRow, kind: string, data: object) => {
    store.transaction(() => {
      store.routes.updateConversion(next)
      store.audit.append(at.now, kind, {id: next.id, attempt: next.attempts, ...data})
    })
    row = next
  }

  while (row.attempts < max || row.status === 'quoted') {
    if (killSwitchOn(engine)) {
      save({...row, status: 'abandoned', error: 'KILL_SWITCH'}, 'convert_abandoned', {reason: 'KILL_SWITCH'})
      return publish(engine, at, row, 'abandoned', 'convert')
    }

    let quote = parseQuote(row)
    try {
      if (!quote) {
        quote = await broker.convertQuote(row.from_ccy, row.to_ccy, row.amount)
        // Held before the commit leaves: if its answer is lost, the same quote is committed again (idempotent).
        save({...row, status: 'quoted', attempts: row.attempts + 1, quote: JSON.stringify(quote)}, 'convert_quoted', {quoteId: quote.id, toAmount: quote.toAmount, fee: quote.fee})
      }

      const result = await broker.convertCommit(quote)
      if (result.status === 'completed') return completed(engine, at, row, quote, result.toAmount, save, snap.market.markets.has(row.symbol))
      save({...row, status: 'intent', quote: null, error: result.reason}, 'convert_failed', {reason: result.reason ?? 'FAILED'})
    } catch (error) {
      if (!(error instanceof ExchangeError) || error.kind === 'fatal') throw error
      if (row.status === 'quoted' && error.kind !== 'rejected') {
        // The commit may have gone through: leave it quoted; the next reconcile looks it up before anything else.
        engine.observe({type: 'notice', level: 'warning', message: `convert ${row.id} outcome unknown (${error.code}); will reconcile`})
        return
      }

      save({...row, status: 'intent', attempts: row.status === 'quoted' ? row.attempts : row.attempts + 1, quote: null, error: error.code}, 'convert_failed', {reason: `${error.code}: ${error.message}`})
    }
  }

  if (!snap.market.markets.has(row.symbol)) {
    // Convert was the whole route (a coin with no market): nothing to fall back to.
    const reason = `${row.error ?? 'FAILED'}; no ${row.symbol} market to fall back to`
    save({...row, status: 'abandoned', error: reason}, 'convert_abandoned', {reason})
    return publish(engine, at, {...row, error: reason}, 'abandoned', 'convert')
  }

  fallBack(engine, at, snap, row, save)
}

function completed(engine: Engine, at: CycleAt, row: ConversionRow, quote: ConvertQuote, received: number, save: (r: ConversionRow, kind: string, data: object) => void, tradable: boolean): void {
  const sold = row.from_ccy !== engine.config.app.exchange.quote_currency
  const [coinAmount, quoteAmount] = sold ? [row.amount, received] : [received, row.amount]
  engine.store.transaction(() => {
    save({...row, status: 'completed', received, fee: quote.fee, error: null}, 'convert_completed', {from: row.from_ccy, to: row.to_ccy, amount: row.amount, received, fee: quote.fee})
    // The position moves as for a fill, so cost basis and P&L stay right; a convert is no order, so no fill row.
    // A coin with no market has no position (it cannot be valued or traded).
    if (tradable) engine.store.movePosition({symbol: row.symbol, side: sold ? 'sell' : 'buy', amount: coinAmount, price: (quoteAmount + (sold ? quote.fee : -quote.fee)) / coinAmount, fee: quote.fee})
  })
  publish(engine, at, {...row, status: 'completed', received, fee: quote.fee}, 'completed', 'convert')
}

/**
 * Every attempt failed: the same amount as a market order (a sell in a TWAP tier as slices), an intent of
 * this cycle like any other. A buy spends the same quote amount, fee included.
 */
function fallBack(engine: Engine, at: CycleAt, snap: Snapshot, row: ConversionRow, save: (r: ConversionRow, kind: string, data: object) => void): void {
  const t = snap.market.tickers.get(row.symbol)
  const market = snap.market.markets.get(row.symbol)
  const sell = row.from_ccy !== engine.config.app.exchange.quote_currency
  const price = (sell ? t?.bid : t?.ask) ?? 0
  const amount = sell ? row.amount : market && price > 0 ? floorToStep(row.amount / (price * (1 + market.takerBps / 1e4)), market.amountStep) : 0
  const order: PlannedOrder = {symbol: row.symbol, tier: engine.tierOf.get(row.symbol) ?? 'default', side: sell ? 'sell' : 'buy', amount, price, action: row.action as PlannedOrder['action'], reason: `${row.reason} (convert failed ${row.attempts}x: market fallback)`}
  const twap = sell ? engine.config.policy.execution.twap_by_tier[order.tier] : undefined
  const routed = twap && twap.slices > 1 ? twapOf(engine, order, twap.slices, twap.spacing_seconds * 1000, snap) : {kind: 'order' as const, order}
  const {store} = engine
  const legs = [...store.cycleOrders(at.cycle).map((o) => o.leg), ...store.routes.cycleConversions(at.cycle).map((c) => c.leg)]
  const route = routed.kind === 'twap' ? 'twap' : 'market'
  store.transaction(() => {
    save({...row, status: 'fell_back'}, 'convert_fell_back', {route, reason: row.error})
    writeIntent(engine, at, Math.max(...legs) + 1, routed)
  })
  publish(engine, at, row, 'fell_back', route)
}

function publish(engine: Engine, at: CycleAt, row: ConversionRow, status: Conversion['status'], route: Conversion['route']): void {
  engine.observe({type: 'convert', cycle: at.cycle, id: row.id, from: row.from_ccy, to: row.to_ccy, amount: row.amount, route, status, attempts: row.attempts, received: row.received, fee: row.fee, reason: row.error})
}

/**
 * Step 2, for converts: one held in a quote when bot stopped may have been committed. It is committed again
 * (an exchange returns the first result for the same quote), so it is never done twice; a convert of an
 * earlier cycle that never got a quote is abandoned, never sent late (the loop decides again).
 */
export async function reconcileConversions(engine: Engine, at: CycleAt): Promise<void> {
  const {store} = engine
  for (const row of store.routes.openConversions()) {
    if (at.resumed && row.cycle === at.cycle) continue // finished by this cycle's send step
    const quote = parseQuote(row)
    const result = quote ? await engine.broker.convertCommit(quote).catch((error: unknown) => {
      if (error instanceof ExchangeError && error.kind !== 'fatal') return null
      throw error
    }) : null
    if (result?.status === 'completed') {
      const save = (next: ConversionRow, kind: string, data: object) => store.transaction(() => {
        store.routes.updateConversion(next)
        store.audit.append(at.now, kind, {id: next.id, attempt: next.attempts, ...data})
      })
      completed(engine, at, row, quote!, result.toAmount, save, (await engine.market.markets()).has(row.symbol))
      continue
    }

    if (quote && result === null) continue // still unknown: looked up again next cycle
    store.transaction(() => {
      store.routes.updateConversion({...row, status: 'abandoned', error: result?.reason ?? 'its cycle has passed'})
      store.audit.append(at.now, 'convert_abandoned', {id: row.id, reason: result?.reason ?? 'its cycle has passed'})
    })
    publish(engine, at, {...row, error: result?.reason ?? 'its cycle has passed'}, 'abandoned', 'convert')
  }
}
