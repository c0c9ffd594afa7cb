import {createAlertService, type AlertDeps, type AlertService, type Severity} from '../../src/lib/alerts/index.js'
import {AppConfig} from '../../src/lib/config/schema/app.js'

export type AlertsConfig = AppConfig['alerts']

/** An `alerts:` section as the real schema parses it (defaults filled in). */
export function alertsConfig(section: Record<string, unknown>): AlertsConfig {
  return AppConfig.parse({alerts: section}).alerts
}

/** The caller's (virtual) clock: 2023-11-15, like the bundled replay. */
export const T0 = Date.UTC(2023, 10, 15)

export interface Harness {
  service: AlertService
  lines: {line: string; severity: Severity}[]
}

/** A service whose console sink writes into `lines`. */
export function harness(section: Record<string, unknown>, deps: Partial<AlertDeps> = {}): Harness {
  const lines: Harness['lines'] = []
  const service = createAlertService(alertsConfig(section), {
    env: {}, writeLine: (line, severity) => lines.push({line, severity}), instance: 'test-bot', version: '9.9.9', ...deps,
  })
  return {service, lines}
}

export const json = (body: string) => JSON.parse(body) as Record<string, unknown>
