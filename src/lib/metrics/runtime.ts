import {Registry} from 'prom-client'

import type {AppConfig} from '../config/schema/app.js'
import {type Exporter, type ExporterLog, startExporter} from './exporter.js'
import {createMetrics, type Metrics} from './metrics.js'
import {pushMetrics} from './push.js'
import {type BotInfo, setBotInfo} from './record.js'

export interface MetricsRuntime {
  /** What the engine records into; null when metrics are off or nobody could scrape them. */
  metrics: Metrics | null
  exporter: Exporter | null
  /** Set when app.yaml asks for metrics but no port was free: the caller raises it as a warning alert. */
  warning: string | null
  close(): Promise<void>
}

/**
 * The composition root's one call for `bot run`: metrics per app.yaml `metrics`, the exporter started and
 * its address recorded in the state dir. Import this module lazily (only when metrics.enabled), so a bot
 * without metrics never loads prom-client. A bind error other than a port in use throws (one line).
 */
export async function startMetrics(settings: AppConfig['metrics'], options: {stateDir: string; log: ExporterLog; info: BotInfo}): Promise<MetricsRuntime> {
  if (!settings.enabled) return {metrics: null, exporter: null, warning: null, close: async () => {}}
  const registry = new Registry()
  const exporter = await startExporter({host: settings.host, port: settings.port, portRetries: settings.port_retries, registry, stateDir: options.stateDir, log: options.log})
  if (!exporter.enabled) return {metrics: null, exporter, warning: exporter.message, close: async () => {}}
  // Declared once bound, in the same tick (no scrape sees an empty registry), and only then: collectors
  // such as the event-loop monitor start here and would run for nothing without an exporter.
  const metrics = createMetrics(registry)
  setBotInfo(metrics, options.info)
  return {metrics, exporter, warning: null, close: () => exporter.close()}
}

/**
 * A one-shot command's metrics (bot trim, bot convert from cron): recorded into a registry of their own and
 * pushed to the Pushgateway when the command ends. A failed push is a warning, never the command's failure.
 */
export function pushRegistry(url: string, command: string, info: BotInfo): {metrics: Metrics; warning: null; finish(): Promise<string | null>} {
  const registry = new Registry()
  const metrics = createMetrics(registry, {processMetrics: false})
  setBotInfo(metrics, info)
  return {
    metrics,
    warning: null,
    async finish() {
      const r = await pushMetrics({url, registry, command})
      return r.pushed ? null : r.warning
    },
  }
}
