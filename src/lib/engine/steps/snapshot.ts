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
  for (const symbol of engine.symbols) await feedBars(engine, symbol)
  adoptUnknownHoldings(engine, cs)
}

/** Feed closed bars not seen yet. The first bar ever fed is stored as the symbol's anchor, so a restart replays the same history. */
export async function feedBars(engine: Engine, symbol: string): Promise<void> {
  const last = engine.signals.lastBarTime(symbol)
  let since = last
  if (last < 0) {
    const anchor = engine.anchors.get(symbol)
    since = anchor === undefined ? 0 : anchor - 1
  }

  const bars = await engine.exchange.candles(symbol, since, last < 0 && since > 0 ? Number.MAX_SAFE_INTEGER : HISTORY_LIMIT)
  if (bars.length === 0) return
  if (last < 0 && !engine.anchors.has(symbol)) {
    engine.store.setAnchor(symbol, bars[0].time)
    engine.anchors.set(symbol, bars[0].time)
  }

  engine.signals.feed(symbol, bars)
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
