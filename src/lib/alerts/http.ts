import {createHmac} from 'node:crypto'

/** Attempts per delivery: network errors and HTTP 5xx are retried, 4xx (and redirects) never. */
export const MAX_ATTEMPTS = 3
const BACKOFF_MS = [100, 250]
/** A retry is started only if this much of the budget would be left after its pause. */
const MIN_ATTEMPT_MS = 50

export interface HttpRequest {
  url: string
  body: string
  headers?: Record<string, string>
}

export interface HttpResult {
  ok: boolean
  attempts: number
  /** A cause that never contains the URL. */
  error?: string
}

type Attempt = {ok: true} | {ok: false; retry: boolean; error: string}

/**
 * POSTs `request` with bounded retries, all inside `timeoutMs`: one deadline covers every attempt and pause,
 * so a sink that accepts and never answers costs at most its timeout.
 */
export async function postJson(request: HttpRequest, timeoutMs: number, userAgent: string): Promise<HttpResult> {
  const target = splitCredentials(request.url)
  if (!target) return {ok: false, attempts: 0, error: 'invalid URL'}
  const headers = {'content-type': 'application/json', 'user-agent': userAgent, ...target.headers, ...request.headers}
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  const deadline = performance.now() + timeoutMs
  let attempts = 0
  try {
    for (;;) {
      attempts++
      const outcome = await attempt(target.url, request.body, headers, controller.signal)
      if (outcome.ok) return {ok: true, attempts}
      if (controller.signal.aborted) return {ok: false, attempts, error: `timeout after ${timeoutMs} ms`}
      const pause = BACKOFF_MS[attempts - 1] ?? 0
      if (!outcome.retry || attempts >= MAX_ATTEMPTS || deadline - performance.now() < pause + MIN_ATTEMPT_MS) {
        return {ok: false, attempts, error: outcome.error}
      }

      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  } finally {
    clearTimeout(timer)
  }
}

async function attempt(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Attempt> {
  try {
    // A redirect is refused rather than followed: a signed body must not travel to another host.
    const response = await fetch(url, {method: 'POST', body, headers, signal, redirect: 'manual'})
    await response.body?.cancel().catch(() => {})
    if (response.ok) return {ok: true}
    return {ok: false, retry: response.status >= 500, error: `HTTP ${response.status}`}
  } catch (error) {
    const cause = causeOf(error)
    return {ok: false, retry: cause !== 'ERR_INVALID_URL', error: cause}
  }
}

/**
 * fetch errors carry the URL in their messages; only an error code is kept (ECONNREFUSED, ENOTFOUND,
 * UND_ERR_SOCKET ...), found on the error, its cause or the first of an AggregateError's errors.
 */
export function causeOf(error: unknown): string {
  const seen = new Set<unknown>()
  let e: unknown = error
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e)
    const code = (e as {code?: unknown}).code
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code
    const inner = (e as {errors?: unknown[]}).errors
    e = (e as {cause?: unknown}).cause ?? (Array.isArray(inner) ? inner[0] : undefined)
  }

  return 'network error'
}

/** fetch refuses URLs with user:password@; they become a Basic Authorization header instead. */
function splitCredentials(raw: string): {url: string; headers: Record<string, string>} | null {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (!url.username && !url.password) return {url: raw, headers: {}}
  const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')
  url.username = ''
  url.password = ''
  return {url: url.toString(), headers: {authorization: `Basic ${basic}`}}
}

/**
 * The webhook signature header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * A receiver recomputes it over the bytes it received and rejects a stale `t` (replays).
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')
  return `t=${unixSeconds},v1=${mac}`
}
