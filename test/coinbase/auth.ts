import {type KeyObject, verify} from 'node:crypto'

/**
 * Verification of the ES256 JWT that Coinbase's CDP keys put in `Authorization: Bearer <jwt>`, as ccxt
 * 4.5.84 builds it (coinbase.js createAuthToken): header {alg: ES256, kid: key name, nonce}, payload
 * {iss: coinbase-cloud, sub: key name, nbf, exp = nbf + 120, uri: "METHOD host/path"}. Checking every
 * claim against the server's own clock is what lets tests exercise clock skew and expired tokens.
 */

export interface JwtCheck {
  publicKey: KeyObject
  keyName: string
  /** The server's clock, epoch ms. */
  nowMs: number
  method: string
  /** The Host header the client connected with, e.g. 127.0.0.1:41234. */
  host: string
  /** Path without the query string (Coinbase signs the path only). */
  path: string
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/**
 * Why the request's credentials are refused, or null when they are good. The reason goes to the server's
 * request log (tests read it), never to the client: Coinbase answers every failure the same way.
 */
export function jwtProblem(authorization: string | undefined, check: JwtCheck): string | null {
  if (!authorization) return 'no Authorization header'
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization)
  if (!m) return 'Authorization is not "Bearer <jwt>"'
  const [, h, p, s] = m
  const header = decodeJson(h)
  const payload = decodeJson(p)
  if (!header || !payload) return 'JWT header or payload is not JSON'
  if (header.alg !== 'ES256') return `JWT alg ${String(header.alg)}, expected ES256`
  if (header.kid !== check.keyName) return 'JWT kid is not the key name'
  const signatureOk = verify('sha256', Buffer.from(`${h}.${p}`), {key: check.publicKey, dsaEncoding: 'ieee-p1363'}, Buffer.from(s, 'base64url'))
  if (!signatureOk) return 'JWT signature does not verify'
  if (payload.sub !== check.keyName) return 'JWT sub is not the key name'
  if (payload.iss !== 'coinbase-cloud') return `JWT iss ${String(payload.iss)}, expected coinbase-cloud`
  const now = Math.floor(check.nowMs / 1000)
  if (typeof payload.nbf !== 'number' || payload.nbf > now) return `JWT not valid yet (nbf ${String(payload.nbf)}, server time ${now})`
  if (typeof payload.exp !== 'number' || payload.exp <= now) return `JWT expired (exp ${String(payload.exp)}, server time ${now})`
  // Coinbase expects "GET api.coinbase.com/api/v3/...". ccxt strips only "https://" from its URL, so over
  // plain http its uri keeps "http://": both spellings name the same request.
  const target = `${check.host}${check.path}`
  const accepted = [`${check.method} ${target}`, `${check.method} http://${target}`]
  if (typeof payload.uri !== 'string' || !accepted.includes(payload.uri)) {
    return `JWT uri ${JSON.stringify(payload.uri)} does not name ${check.method} ${target}`
  }

  return null
}
