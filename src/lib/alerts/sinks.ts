import {BotError} from '../errors.js'
import {type HttpRequest, type HttpResult, postJson, signature} from './http.js'
import type {AlertsConfig, ContextValue, Severity, SinkConfig, SinkType} from './types.js'

/** The header carrying a webhook's HMAC signature (format: see `signature`). */
export const SIGNATURE_HEADER = 'X-Bot-Signature'

/**
 * Alertmanager auto-resolves an alert that is not re-sent before its endsAt. Each firing alert is sent with
 * endsAt = now + this hold, so it stays active across one missed reminder, and a bot that died stops showing
 * as a live problem after at most that long. A resolve sends endsAt = now.
 */
export const alertmanagerHoldMs = (dedupMs: number) => Math.max(2 * dedupMs, 15 * 60_000)

/** One message to one sink; `severity` is what this sink is told (for a resolve: what it last got). */
export interface SinkMessage {
  status: 'firing' | 'resolved'
  code: string
  key: string
  severity: Severity
  summary: string
  action: string | null
  context: Record<string, ContextValue>
  /** The caller's time of this raise or resolve. */
  time: number
  raisedAt: number
  /** This sink got the alert before (a reminder or an escalation). */
  reminder: boolean
  /** The severity this sink got before, when it differs: that Alertmanager label set is resolved. */
  previousSeverity: Severity | null
}

export interface Sink {
  /** `<type>#<index in alerts.sinks>`: never the URL. */
  name: string
  minSeverity: Severity
  deliver(message: SinkMessage): Promise<HttpResult>
}

export interface SinkEnv {
  env: NodeJS.ProcessEnv
  writeLine: (line: string, severity: Severity) => void
  instance: string
  version: string
  /** Wall clock (ms), for Alertmanager's startsAt/endsAt and signature timestamps. */
  now: () => number
  alerts: AlertsConfig
}

type UrlSinkConfig = Extract<SinkConfig, {url: string}>
type Format<C> = (m: SinkMessage, config: C, env: SinkEnv, secret: string | null) => HttpRequest

const iso = (ms: number) => new Date(ms).toISOString()
/** Control characters (newlines, terminal escapes) become spaces: one line, nothing a terminal obeys. */
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
const figures = (context: Record<string, ContextValue>) =>
  Object.entries(context).map(([k, v]) => `${oneLine(k)}=${oneLine(String(v))}`).join(' ')

export function consoleLine(m: SinkMessage): string {
  if (m.status === 'resolved') return `RESOLVED ${m.code}: ${oneLine(m.summary)}${m.key === m.code ? '' : ` (key ${oneLine(m.key)})`}`
  const parts = [`${m.severity.toUpperCase()} ${m.code}${m.reminder ? ' (reminder)' : ''}: ${oneLine(m.summary)}`]
  if (m.action) parts.push(`action: ${oneLine(m.action)}`)
  const f = figures(m.context)
  if (f) parts.push(f)
  if (m.key !== m.code) parts.push(`key ${oneLine(m.key)}`)
  return parts.join(' | ')
}

const webhookBody: Format<UrlSinkConfig & {hmac_secret_env?: string}> = (m, config, env, secret) => {
  const body = JSON.stringify({
    status: m.status, code: m.code, severity: m.severity, summary: m.summary, action: m.action, key: m.key,
    context: m.context, time: iso(m.time), raisedAt: iso(m.raisedAt), reminder: m.reminder, instance: env.instance,
    version: env.version,
  })
  const headers: Record<string, string> = secret ? {[SIGNATURE_HEADER]: signature(secret, body, Math.floor(env.now() / 1000))} : {}
  return {url: config.url, body, headers}
}

const EMOJI: Record<Severity, string> = {info: ':information_source:', warning: ':warning:', critical: ':rotating_light:'}
/** Slack's mrkdwn treats &, < and > as markup; section text is limited to 3000 characters. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').slice(0, 2800)

const slackBody: Format<UrlSinkConfig> = (m, config, env) => {
  const title = m.status === 'resolved'
    ? `:white_check_mark: *RESOLVED* ${m.code}`
    : `${EMOJI[m.severity]} *${m.severity.toUpperCase()}* ${m.code}${m.reminder ? ' (reminder)' : ''}`
  const lines = [slackEscape(oneLine(m.summary)), ...(m.action ? [`*Action:* ${slackEscape(oneLine(m.action))}`] : [])]
  const about = slackEscape([`key ${m.key}`, env.instance, iso(m.time), figures(m.context)].filter(Boolean).join(' · '))
  const blocks = [
    {type: 'section', text: {type: 'mrkdwn', text: `${title}\n${lines.join('\n')}`.slice(0, 3000)}},
    {type: 'context', elements: [{type: 'mrkdwn', text: about.slice(0, 1900)}]},
  ]
  return {url: config.url, body: JSON.stringify({text: `${title}: ${lines.join(' ')}`, blocks})}
}

/** Annotation names must be Prometheus label names. */
const labelName = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])|^$/, '_')

const alertmanagerBody: Format<UrlSinkConfig> = (m, config, env) => {
  const now = env.now()
  const labels = (severity: Severity) => ({alertname: m.code, severity, key: m.key, instance: env.instance})
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(m.context)) annotations[labelName(k)] = String(v)
  annotations.summary = m.summary
  if (m.action) annotations.action = m.action
  const ended = (severity: Severity) => ({labels: labels(severity), annotations, endsAt: iso(now)})
  const alerts: {labels: Record<string, string>; annotations: Record<string, string>; startsAt?: string; endsAt: string}[] = m.status === 'resolved'
    ? [ended(m.severity)]
    : [{labels: labels(m.severity), annotations, startsAt: iso(now), endsAt: iso(now + alertmanagerHoldMs(env.alerts.dedup_seconds * 1000))}]
  if (m.status === 'firing' && m.previousSeverity && m.previousSeverity !== m.severity) alerts.push(ended(m.previousSeverity))
  // The configured URL is the base (it may sit under a proxy path, with a query or credentials).
  const url = new URL(config.url)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v2/alerts`
  return {url: url.toString(), body: JSON.stringify(alerts)}
}

function consoleSink(config: SinkConfig, name: string, env: SinkEnv): Sink {
  return {
    name,
    minSeverity: config.min_severity,
    async deliver(m) {
      try {
        env.writeLine(consoleLine(m), m.status === 'resolved' ? 'info' : m.severity)
        return {ok: true, attempts: 1}
      } catch {
        return {ok: false, attempts: 1, error: 'write failed'}
      }
    },
  }
}

function httpSink<C extends UrlSinkConfig>(format: Format<C>) {
  return (config: C, name: string, env: SinkEnv, secret: string | null): Sink => {
    const timeoutMs = config.timeout_ms ?? env.alerts.timeout_ms
    const userAgent = `bot/${env.version}`
    return {
      name,
      minSeverity: config.min_severity,
      async deliver(m) {
        let request: HttpRequest
        try {
          request = format(m, config, env, secret)
        } catch (error) {
          // new URL() failed (its message would hold the URL), or a value could not be formatted.
          return {ok: false, attempts: 0, error: (error as {code?: unknown}).code === 'ERR_INVALID_URL' ? 'invalid URL' : 'cannot format the alert'}
        }

        return postJson(request, timeoutMs, userAgent)
      },
    }
  }
}

/** Each sink type as one small named builder, like the pre-trade checks. */
const SINK_BUILDERS: Record<SinkType, (config: never, name: string, env: SinkEnv, secret: string | null) => Sink> = {
  console: consoleSink,
  webhook: httpSink(webhookBody),
  slack: httpSink(slackBody),
  alertmanager: httpSink(alertmanagerBody),
}

/** The configured sinks, in order. An unset HMAC secret variable is a one-line error naming it (never a value). */
export function buildSinks(env: SinkEnv): Sink[] {
  return env.alerts.sinks.map((config, i) => {
    const name = `${config.type}#${i}`
    let secret: string | null = null
    if (config.type === 'webhook' && config.hmac_secret_env) {
      secret = env.env[config.hmac_secret_env] || null
      if (!secret) {
        throw new BotError(`alerts.sinks[${i}].hmac_secret_env: environment variable ${config.hmac_secret_env} is not set (${name} would send unsigned alerts)`, 'ALERT_SECRET_UNSET')
      }
    }

    return SINK_BUILDERS[config.type](config as never, name, env, secret)
  })
}
