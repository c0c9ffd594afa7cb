import type {PortfolioSnapshot} from '../market/snapshot.js'
import type {AuditHead} from '../state/audit.js'
import type {StateStore} from '../state/store.js'

export interface RunSummary {
  stateDir: string
  cycles: number
  cyclesThisRun: number
  stoppedBy: 'cycles' | 'end_of_data' | 'signal'
  from: string | null
  to: string | null
  startEquity: number
  equity: number
  returnPct: number
  maxDrawdownPct: number
  fees: number
  trades: number
  ordersDenied: number
  exposurePct: number
  benchmark: {symbol: string; returnPct: number} | null
  auditEntries: number
  auditOk: boolean
  /** The first entry that does not verify, when the chain is broken. */
  auditBrokenAt: number | null
  /** The chain's last entry and its hash: compare with a head published earlier. */
  auditHead: AuditHead
}

export function summarize(store: StateStore, final: PortfolioSnapshot, priceOf: (symbol: string) => number | undefined, exposurePct: number, extra: Pick<RunSummary, 'stateDir' | 'cyclesThisRun' | 'stoppedBy'>): RunSummary {
  const cycles = store.cycles()
  const start = Number(store.getMeta('first_equity') ?? final.equity)
  let peak = 0
  let maxDrawdown = 0
  for (const c of [...cycles.map((x) => x.equity), final.equity]) {
    peak = Math.max(peak, c)
    if (peak > 0) maxDrawdown = Math.max(maxDrawdown, (peak - c) / peak)
  }

  const fills = store.fills()
  const bench = JSON.parse(store.getMeta('benchmark') ?? 'null') as {symbol: string; price: number} | null
  const benchNow = bench ? priceOf(bench.symbol) ?? Number.NaN : Number.NaN
  const audit = store.audit.verify()
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString())
  return {
    ...extra,
    cycles: cycles.length,
    from: iso(cycles[0]?.time),
    to: iso(cycles.at(-1)?.time),
    startEquity: start,
    equity: final.equity,
    returnPct: start > 0 ? (final.equity / start - 1) * 100 : 0,
    maxDrawdownPct: maxDrawdown * 100,
    fees: fills.reduce((sum, f) => sum + f.fee, 0),
    trades: fills.length,
    ordersDenied: cycles.reduce((sum, c) => sum + c.denied, 0),
    exposurePct,
    benchmark: bench && benchNow > 0 ? {symbol: bench.symbol, returnPct: (benchNow / bench.price - 1) * 100} : null,
    auditEntries: audit.entries,
    auditOk: audit.ok,
    auditBrokenAt: audit.brokenAt,
    auditHead: audit.head,
  }
}
