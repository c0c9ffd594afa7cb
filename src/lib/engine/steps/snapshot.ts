import type {OrderState, Ticker} from '../../domain.js'
import {buildPortfolio, type MarketSnapshot, type PortfolioSnapshot} from '../../market/snapshot.js'
import {atRiskValue} from '../../risk/exposure.js'
import {barsNeeded} from '../../signals/indicators.js'
import type {OrderRow} from '../../state/store.js'
import type {CycleAt, Engine} from '../context.js'
import {adoptStrangers} from './reconcile.js'

/** What the exchange looked like at the cycle's instant. */
export interface Snapshot {
  market: MarketSnapshot
  portfolio: PortfolioSnapshot
  /** Value at risk: holdings plus open buys (see risk/exposure.ts). */
  atRisk: number
  /** Each active TWAP schedule's slices, by schedule id: filled, still on the way, and not sent yet (held back from `free`). */
  slices: ReadonlyMap<string, SliceProgress>
  /** The same by symbol. */
  scheduled: ReadonlyMap<string, number>
}

/**
 * Bars the indicators need, plus a margin for bars the price guard holds back or drops: what a warm-up
 * fetches, and the most a cycle asks for after a gap. Never "everything since the start": on a real
 * exchange that would grow without bound.
 */
export function historyBars(engine: Engine): number {
  const need = barsNeeded(engine.config.signals.signals)
  return need + Math.max(10, Math.ceil(need / 4))
}

/**
 * Step 3. Markets, balances, prices and open orders at one instant. `look` (a dry run) judges prices without
 * recording anything, and adopts no holding.
 */
export async function snapshot(engine: Engine, at: CycleAt, mode: 'record' | 'look' = 'record'): Promise<Snapshot> {
  const {market, broker, config} = engine
  const [markets, raw, balances, openOrders] = [await market.markets(), await market.tickers(engine.symbols), await broker.balances(), await broker.openOrders()]
  const {tickers, suspect} = mode === 'record' ? guardPrices(engine, at, raw) : peekPrices(engine, raw)
  if (mode === 'record') adoptStrangers(engine, at, openOrders)
  const live = engine.store.liveOrders()
  const onBook = new Set(openOrders.map((o) => o.clientOrderId))
  // An order whose outcome is still unknown counts as on the book: it may fill, so it is committed risk.
  const unknown = live.filter((r) => r.status === 'sent' && !onBook.has(r.client_order_id)).map(asOpenOrder)
  const {slices, scheduled} = scheduleProgress(engine)
  const portfolio = buildPortfolio(config.app.exchange.quote_currency, balances, tickers, [...openOrders, ...unknown], scheduled)
  // Where an order or a convert is still unsettled, a balance that differs from bot's books is expected.
  const unsettled = new Set([...live.map((o) => o.symbol), ...engine.store.routes.openConversions().map((c) => c.symbol)])
  if (mode === 'record') adoptUnknownHoldings(engine, at, portfolio, unsettled)
  return {market: {time: at.now, markets, tickers, suspect}, portfolio, atRisk: atRiskValue(portfolio, (s) => tickers.get(s)?.last), slices, scheduled}
}

export interface SliceProgress {
  filled: number
  pending: number
  unsent: number
}

/** Per active schedule, and what they have not sent yet summed by symbol. */
function scheduleProgress(engine: Engine): {slices: Map<string, SliceProgress>; scheduled: Map<string, number>} {
  const slices = new Map<string, SliceProgress>()
  const scheduled = new Map<string, number>()
  for (const s of engine.store.routes.activeSchedules()) {
    const {filled, pending} = engine.store.routes.sliceProgress(s.id)
    const unsent = Math.max(0, s.total - filled - pending)
    slices.set(s.id, {filled, pending, unsent})
    scheduled.set(s.symbol, (scheduled.get(s.symbol) ?? 0) + unsent)
  }

  return {slices, scheduled}
}

/**
 * Every ticker through the price guard: a suspect price is replaced by the last good one (bid and ask moved
 * with it) and the symbol is marked, so nothing is valued or traded on a bad tick. Each verdict is audited.
 */
function guardPrices(engine: Engine, at: CycleAt, tickers: Map<string, Ticker>): {tickers: Map<string, Ticker>; suspect: Map<string, string>} {
  const suspect = new Map<string, string>()
  const verdicts: {symbol: string; price: number; verdict: string; movePct: number; trusted: number}[] = []
  for (const [symbol, t] of tickers) {
    const check = engine.prices.check(symbol, t.last)
    if (check.verdict === 'ok') continue
    verdicts.push({symbol, price: t.last, ...check})
    const move = `${check.movePct.toFixed(1)}%`
    if (check.verdict === 'suspect') {
      const scale = check.trusted / t.last
      tickers.set(symbol, {...t, last: check.trusted, bid: t.bid * scale, ask: t.ask * scale})
      suspect.set(symbol, `price ${t.last} is ${move} from the last good ${check.trusted} (max_bar_move_pct ${engine.config.policy.risk.max_bar_move_pct}); held as suspect until the next price`)
    }

    engine.observe({type: 'notice', level: check.verdict === 'suspect' ? 'warning' : 'info', message: check.verdict === 'suspect'
      ? `${symbol}: price ${t.last} moved ${move} from the last good ${check.trusted}: held as suspect, no order on it this cycle`
      : `${symbol}: the suspect price was ${check.verdict === 'confirmed' ? 'confirmed by the next one' : 'a glitch: the next price is back near the last good one'}`})
  }

  if (verdicts.length > 0) {
    engine.store.transaction(() => {
      for (const {verdict, ...v} of verdicts) engine.store.audit.append(at.now, `price_${verdict}`, v)
    })
  }

  return {tickers, suspect}
}

/** The guard's view of the prices without moving it: for a look that must change nothing. */
function peekPrices(engine: Engine, tickers: Map<string, Ticker>): {tickers: Map<string, Ticker>; suspect: Map<string, string>} {
  const suspect = new Map<string, string>()
  for (const [symbol, t] of tickers) {
    const trusted = engine.prices.peek(symbol, t.last)
    if (trusted === t.last) continue
    const scale = trusted / t.last
    tickers.set(symbol, {...t, last: trusted, bid: t.bid * scale, ask: t.ask * scale})
    suspect.set(symbol, `price ${t.last} is far from the last good ${trusted} (max_bar_move_pct ${engine.config.policy.risk.max_bar_move_pct})`)
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
 * Brings `symbols`' indicators up to the latest closed bar, in one request. Indicators are fed on demand
 * (only the symbols a decision scores), so a catch-up may span many bars; one that is cut at the history
 * limit starts the symbol afresh from those bars, exactly as a restart's warm-up would.
 */
export async function feedSignals(engine: Engine, symbols: Iterable<string>): Promise<void> {
  const since = new Map<string, number>()
  for (const symbol of symbols) since.set(symbol, engine.signals.lastBarTime(symbol))
  const limit = historyBars(engine)
  const batch = await engine.market.candles(since, limit)
  for (let k = 0; k < batch.symbols.length; k++) {
    const symbol = batch.symbols[k]
    if (batch.to[k] - batch.from[k] >= limit) engine.signals.reset(symbol)
    engine.signals.feed(symbol, batch.columns[k], batch.from[k], batch.to[k])
  }
}

/** Before the first cycle: every symbol's indicators get the last bars they need, in one request. */
export async function warmUp(engine: Engine): Promise<void> {
  await feedSignals(engine, engine.symbols)
  // Prices are judged from the last close the indicators accepted, so a bad tick right after a restart is caught too.
  for (const symbol of engine.symbols) {
    const good = engine.signals.guard.lastGood(symbol)
    if (good !== undefined) engine.prices.seed(symbol, good)
  }
}

/** Holdings bot did not buy (start balances, deposits) get a position at today's price, so P&L is defined. */
function adoptUnknownHoldings(engine: Engine, at: CycleAt, portfolio: PortfolioSnapshot, live: Set<string>): void {
  const known = new Map(engine.store.positions().map((p) => [p.symbol, p.amount]))
  const adopt = [...portfolio.holdings.values()].filter((h) => {
    const amount = known.get(h.symbol) ?? 0
    return !live.has(h.symbol) && Math.abs(amount - h.amount) > h.amount * 1e-9 && h.price > 0
  })
  if (adopt.length === 0) return
  engine.store.transaction(() => {
    for (const h of adopt) {
      engine.store.adoptPosition(h.symbol, h.amount, h.price)
      engine.store.audit.append(at.now, 'position_adopted', {symbol: h.symbol, amount: h.amount, was: known.get(h.symbol) ?? 0, price: h.price})
    }
  })
}
