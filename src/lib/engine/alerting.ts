import type {Alert, AlertReport} from '../alerts/index.js'
import type {Engine} from './context.js'

/**
 * Alerts go through the alert service (bounded in time: a sink that hangs costs at most its timeout) and
 * every one raised or resolved is also an event, so `--json` readers and the audit see it.
 */
export async function raiseAlert(engine: Engine, alert: Alert): Promise<void> {
  const report = await engine.alerts.raise(alert)
  if (report.deliveries.every((d) => d.outcome === 'deduplicated' || d.outcome === 'below_min_severity')) return
  publish(engine, report, alert.time)
}

/** `code` names the resolution in events and the audit (e.g. TRIM_RESOLVED); default the alert's own code. */
export async function resolveAlert(engine: Engine, key: string, summary: string, time: number, code?: string): Promise<void> {
  const report = await engine.alerts.resolve(key, summary, time)
  if (report) publish(engine, code ? {...report, code} : report, time)
}

function publish(engine: Engine, report: AlertReport, time: number): void {
  const {kind, code, key, severity, summary: message, deliveries} = report
  engine.store.transaction(() => engine.store.audit.append(time, kind === 'raised' ? 'alert' : 'alert_resolved', {code, key, severity, message, deliveries: deliveries.map((d) => ({sink: d.sink, outcome: d.outcome}))}))
  // Without their durations: the event stream of a run must be the same bytes whatever the machine's speed.
  engine.observe({type: 'alert', status: kind === 'raised' ? 'firing' : 'resolved', severity, code, key, message, deliveries: deliveries.map(({ms: _ms, ...d}) => d)})
}
