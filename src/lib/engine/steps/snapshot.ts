import {buildPortfolio} from '../../market/snapshot.js'
import {atRiskValue} from '../../risk/exposure.js'
import {barsNeeded} from '../../signals/indicators.js'
import type {OrderState, Ticker} from '../../exchange/port.js'
import type {OrderRow} from '../../state/store.js'
import type {CycleState, Engine} from '../context.js'

/** Bars of history fed at the first start: plenty more than the slowest indicator needs. */
const historyLimit = (engine: Engine) => Math.max(1000, 4 * barsNeeded(engine.config.signals.signals))

/** Step 3. Balances, prices and open orders at one instant; new closed bars go into the indicators. */
export async function snapshot(engine: Engine, cs: CycleState): Promise<void> {
  const {exchange, config} = engine
  const [raw, balances, openOrders] = [await exchange.tickers(engine.symbols), await exchange.balances(), await exchange.openOrders()]
  const {tickers, suspect} = guardPrices(engine, cs, raw)
  cs.market = {time: cs.now, markets: engine.markets, tickers, suspect}
  const live = engine.store.liveOrders()
  const onBook = new Set(openOrders.map((o) => o.clientOrderId))
  // An order whose outcome is still unknown counts as on the book: it may fill, so it is committed risk.
  const unknown = live.filter((r) => r.status === 'sent' && !onBook.has(r.client_order_id)).map(asOpenOrder)
  cs.portfolio = buildPortfolio(config.app.exchange.quote_currency, balances, tickers, [...openOrders, ...unknown])
  cs.atRisk = atRiskValue(cs.portfolio, (s) => tickers.get(s)?.last)
  const since = new Map<string, number>()
  for (const symbol of engine.symbols) since.set(symbol, engine.signals.lastBarTime(symbol))
  for (const [symbol, bars] of await exchange.newCandles(since, historyLimit(engine))) engine.signals.feed(symbol, bars)
  adoptUnknownHoldings(engine, cs, new Set(live.map((o) => o.symbol)))
}

/**
 * Every ticker through the price guard: a suspect price is replaced by the last good one (bid and ask moved
 * with it) and the symbol is marked, so nothing is valued or traded on a bad tick. Each verdict is audited.
 */
function guardPrices(engine: Engine, cs: CycleState, raw: Map<string, Ticker>): {tickers: Map<string, Ticker>; suspect: Map<string, string>} {
  const suspect = new Map<string, string>()
  const tickers = raw
  for (const [symbol, t] of raw) {
    const check = engine.prices.check(symbol, t.last)
    if (check.verdict === 'ok') continue
    const move = `${check.movePct.toFixed(1)}%`
    if (check.verdict === 'suspect') {
      const scale = check.trusted / t.last
      tickers.set(symbol, {...t, last: check.trusted, bid: t.bid * scale, ask: t.ask * scale})
      suspect.set(symbol, `price ${t.last} is ${move} from the last good ${check.trusted} (max_bar_move_pct ${engine.config.policy.risk.max_bar_move_pct}); held as suspect until the next price`)
    }

    engine.store.audit.append(cs.now, `price_${check.verdict}`, {symbol, price: t.last, movePct: check.movePct, trusted: check.trusted})
    engine.observe({type: 'notice', level: check.verdict === 'suspect' ? 'warning' : 'info', message: check.verdict === 'suspect'
      ? `${symbol}: price ${t.last} moved ${move} from the last good ${check.trusted}: held as suspect, no order on it this cycle`
      : `${symbol}: the suspect price was ${check.verdict === 'confirmed' ? 'confirmed by the next one' : 'a glitch: the next price is back near the last good one'}`})
  }

  return {tickers, suspect}
}

function asOpenOrder(row: OrderRow): OrderState {
  return {
    id: row.exchange_order_id ?? '', clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, type: row.type,
    amount: row.amount, price: row.price, filled: row.filled, averagePrice: row.average_price, fee: row.fee, status: 'open',
    reason: 'outcome unknown', createdAt: row.time, updatedAt: row.time,
  }
}

/**
 * Before the first cycle: feed each symbol's history into the indicators. The first bar ever fed is stored
 * as the symbol's anchor, so after a restart the same history is replayed and the indicators match exactly.
 */
export async function warmUp(engine: Engine): Promise<void> {
  const fresh: [string, number][] = []
  for (const symbol of engine.symbols) {
    const anchor = engine.anchors.get(symbol)
    const bars = anchor === undefined
      ? await engine.exchange.candles(symbol, 0, historyLimit(engine))
      : await engine.exchange.candles(symbol, anchor - 1, Number.MAX_SAFE_INTEGER)
    if (bars.length === 0) continue
    if (anchor === undefined) fresh.push([symbol, bars[0].time])
    engine.signals.feed(symbol, bars)
  }

  engine.store.transaction(() => {
    for (const [symbol, time] of fresh) engine.store.setAnchor(symbol, time)
  })
  for (const [symbol, time] of fresh) engine.anchors.set(symbol, time)
  // Prices are judged from the last close the indicators accepted, so a bad tick right after a restart is caught too.
  for (const symbol of engine.symbols) {
    const good = engine.signals.guard.lastGood(symbol)
    if (good !== undefined) engine.prices.seed(symbol, good)
  }
}

/** Holdings bot did not buy (start balances, deposits) get a position at today's price, so P&L is defined. */
function adoptUnknownHoldings(engine: Engine, cs: CycleState, live: Set<string>): void {
  const known = new Map(engine.store.positions().map((p) => [p.symbol, p.amount]))
  for (const h of cs.portfolio!.holdings.values()) {
    const amount = known.get(h.symbol) ?? 0
    if (live.has(h.symbol) || Math.abs(amount - h.amount) <= h.amount * 1e-9 || h.price <= 0) continue
    engine.store.transaction(() => {
      engine.store.adoptPosition(h.symbol, h.amount, h.price)
      engine.store.audit.append(cs.now, 'position_adopted', {symbol: h.symbol, amount: h.amount, was: amount, price: h.price})
    })
  }
}
