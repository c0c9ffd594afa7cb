import {type Exposition, sampleValue, samplesNamed} from './exposition.js'

/** What `bot metrics` shows: plain data for the text view and --json alike. Percentages as in the config (0..100). */
export interface MetricsSummary {
  host: string
  port: number
  url: string
  pid: number
  info: {version: string; venue: string; exchange: string; quoteCurrency: string} | null
  equity: number | null
  cash: number | null
  exposurePct: number | null
  exposureValue: number | null
  capPct: number | null
  /** Exposure above the cap; null until both are known. */
  overCap: boolean | null
  positions: {symbol: string; tier: string; value: number}[]
  /** Cycles completed since the bot started. */
  cycles: number | null
  lastCycleAt: string | null
  lastCycleAgeSeconds: number | null
  trimFailuresInARow: number | null
  killSwitch: boolean | null
  orders: Tally
  denials: Tally
  exchangeErrors: Tally
  alerts: Tally
}

/** A counter's total and its non-zero parts by one label. */
export interface Tally {
  total: number
  by: Record<string, number>
}

const pct = (ratio: number | null) => (ratio === null ? null : ratio * 100)

export function summarize(e: Exposition, exporter: {host: string; port: number; url: string; pid: number}, now = Date.now()): MetricsSummary {
  const info = samplesNamed(e, 'bot_info')[0]
  const exposure = sampleValue(e, 'bot_exposure_ratio')
  const cap = sampleValue(e, 'bot_exposure_cap_ratio')
  const cycles = sampleValue(e, 'bot_cycle_duration_seconds_count')
  const last = sampleValue(e, 'bot_last_cycle_completed_timestamp_seconds')
  // 0 means no cycle has completed yet (the gauge's initial value)
  const lastAt = last !== null && last > 0 ? last : null
  const kill = sampleValue(e, 'bot_kill_switch_active')
  return {
    host: exporter.host,
    port: exporter.port,
    url: exporter.url,
    pid: exporter.pid,
    info: info ? {version: info.labels.version ?? '', venue: info.labels.venue ?? '', exchange: info.labels.exchange ?? '', quoteCurrency: info.labels.quote_currency ?? ''} : null,
    equity: sampleValue(e, 'bot_equity'),
    cash: sampleValue(e, 'bot_cash'),
    exposurePct: pct(exposure),
    exposureValue: sampleValue(e, 'bot_exposure_value'),
    capPct: pct(cap),
    overCap: exposure === null || cap === null || lastAt === null ? null : exposure > cap,
    positions: samplesNamed(e, 'bot_position_value')
      .map((s) => ({symbol: s.labels.symbol ?? '', tier: s.labels.tier ?? '', value: s.value}))
      .sort((a, b) => b.value - a.value),
    cycles,
    lastCycleAt: lastAt === null ? null : new Date(lastAt * 1000).toISOString(),
    lastCycleAgeSeconds: lastAt === null ? null : Math.max(0, Math.round(now / 1000 - lastAt)),
    trimFailuresInARow: sampleValue(e, 'bot_trim_consecutive_failures'),
    killSwitch: kill === null ? null : kill === 1,
    orders: tally(e, 'bot_orders_total', 'outcome'),
    denials: tally(e, 'bot_risk_denials_total', 'code'),
    exchangeErrors: tally(e, 'bot_exchange_errors_total', 'kind'),
    alerts: tally(e, 'bot_alerts_total', 'outcome'),
  }
}

function tally(e: Exposition, name: string, label: string): Tally {
  const by: Record<string, number> = {}
  let total = 0
  for (const s of samplesNamed(e, name)) {
    total += s.value
    const key = s.labels[label] ?? ''
    if (s.value !== 0) by[key] = (by[key] ?? 0) + s.value
  }

  return {total, by}
}
