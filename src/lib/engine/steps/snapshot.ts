import {buildPortfolio} from '../../market/snapshot.js'
import {atRiskValue} from '../../risk/exposure.js'
import type {CycleState, Engine} from '../context.js'

const HISTORY_LIMIT = 1000

/** Step 3. Balances, prices and open orders at one instant; new closed bars go into the indicators. */
export async function snapshot(engine: Engine, cs: CycleState): Promise<void> {
  const {exchange, config} = engine
  const [tickers, balances, openOrders] = [await exchange.tickers(engine.symbols), await exchange.balances(), await exchange.openOrders()]
  cs.market = {time: cs.now, markets: engine.markets, tickers}
  cs.portfolio = buildPortfolio(config.app.exchange.quote_currency, balances, tickers, openOrders)
  cs.atRisk = atRiskValue(cs.portfolio, (s) => tickers.get(s)?.last)
  const since = new Map<string, number>()
  for (const symbol of engine.symbols) since.set(symbol, engine.signals.lastBarTime(symbol))
  for (const [symbol, bars] of await exchange.newCandles(since, HISTORY_LIMIT)) engine.signals.feed(symbol, bars)
  adoptUnknownHoldings(engine, cs)
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
      ? await engine.exchange.candles(symbol, 0, HISTORY_LIMIT)
      : await engine.exchange.candles(symbol, anchor - 1, Number.MAX_SAFE_INTEGER)
    if (bars.length === 0) continue
    if (anchor === undefined) fresh.push([symbol, bars[0].time])
    engine.signals.feed(symbol, bars)
  }

  engine.store.transaction(() => {
    for (const [symbol, time] of fresh) engine.store.setAnchor(symbol, time)
  })
  for (const [symbol, time] of fresh) engine.anchors.set(symbol, time)
}

/** Holdings bot did not buy (start balances, deposits) get a position at today's price, so P&L is defined. */
function adoptUnknownHoldings(engine: Engine, cs: CycleState): void {
  const known = new Map(engine.store.positions().map((p) => [p.symbol, p.amount]))
  const live = new Set(engine.store.liveOrders().map((o) => o.symbol))
  for (const h of cs.portfolio!.holdings.values()) {
    const amount = known.get(h.symbol) ?? 0
    if (live.has(h.symbol) || Math.abs(amount - h.amount) <= h.amount * 1e-9 || h.price <= 0) continue
    engine.store.transaction(() => {
      engine.store.adoptPosition(h.symbol, h.amount, h.price)
      engine.store.audit.append(cs.now, 'position_adopted', {symbol: h.symbol, amount: h.amount, was: amount, price: h.price})
    })
  }
}
