import {Pushgateway, type Registry} from 'prom-client'

export interface PushOptions {
  /** app.yaml metrics.pushgateway_url */
  url: string
  registry: Registry
  /** The one-shot command that ran (trim, convert, ...): the grouping label `command`. */
  command: string
  /** Bound on the whole push. */
  timeoutMs?: number
}

export type PushResult = {pushed: true} | {pushed: false; warning: string}

export const PUSH_JOB = 'bot'

/**
 * Pushes a one-shot command's metrics to the Pushgateway under job="bot", command="<command>". PUT replaces
 * the group, so it always holds the last run. A failure is returned as a one-line warning, never thrown: a
 * cron job's exit code is about its work, not about monitoring. The URL is shown without credentials or path.
 */
export async function pushMetrics(options: PushOptions): Promise<PushResult> {
  const timeoutMs = options.timeoutMs ?? 5000
  let where: string
  try {
    const u = new URL(options.url)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)')
    where = `${u.protocol}//${u.host}`
  } catch {
    return {pushed: false, warning: 'metrics not pushed: metrics.pushgateway_url in app.yaml is not an http(s) URL'}
  }

  // `timeout` bounds an idle socket; `signal` bounds the whole request, a slow trickle included.
  const gateway = new Pushgateway(options.url, {timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs)}, options.registry)
  try {
    await gateway.push({jobName: PUSH_JOB, groupings: {command: options.command}})
    return {pushed: true}
  } catch (error) {
    return {pushed: false, warning: `metrics not pushed to the Pushgateway at ${where}: ${reason(error as Error & {code?: string}, timeoutMs)}`}
  }
}

function reason(error: Error & {code?: string}, timeoutMs: number): string {
  if (error.name === 'AbortError' || error.code === 'ABORT_ERR' || /timed out/.test(error.message)) return `no answer within ${timeoutMs} ms`
  if (error.code) return error.code
  // prom-client: "push failed with status 400, <body>"; the body can be long and multi-line
  return error.message.split('\n')[0].slice(0, 200)
}
