import http from 'node:http'
import type {AddressInfo} from 'node:net'

/**
 * A pass-through HTTP proxy on 127.0.0.1 in front of the loopback Coinbase that keeps every Authorization
 * header it forwards (the JWTs ccxt signed), so a test can look for them in error messages. With `reflect`
 * on, it answers instead like a careless gateway: a 400 whose body repeats the request's credentials.
 */
export interface RecordingProxy {
  readonly url: string
  /** Every Authorization header seen, in order. */
  readonly authorizations: string[]
  /** Answer 400 with the request's Authorization header (and the JWT's key id) in the body. */
  reflect: 'off' | 'text' | 'json'
  close(): Promise<void>
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target)
  const authorizations: string[] = []
  const proxy: RecordingProxy = {url: '', authorizations, reflect: 'off', close: async () => {}}
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization
    if (auth) authorizations.push(auth)
    if (proxy.reflect !== 'off' && auth) {
      const kid = (() => {
        try {
          return String(JSON.parse(Buffer.from(auth.split(' ')[1].split('.')[0], 'base64url').toString()).kid)
        } catch {
          return ''
        }
      })()
      const detail = `refused request with Authorization: ${auth} for key ${kid}`
      const body = proxy.reflect === 'json' ? JSON.stringify({error: 'INVALID_ARGUMENT', error_details: detail, message: detail}) : `Bad Request\n${detail}\n`
      res.writeHead(400, {'content-type': proxy.reflect === 'json' ? 'application/json' : 'text/plain'})
      res.end(body)
      return
    }

    // Host is kept as the client sent it: the JWT names the URL ccxt called, i.e. this proxy.
    const upstream = http.request({host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers}, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  })
  return proxy
}
