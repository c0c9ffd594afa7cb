import http from 'node:http'
import type net from 'node:net'

/** One request as the receiver saw it: the raw body bytes (as text), exactly what a signature covers. */
export interface Received {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  body: string
}

/** What to do with the n-th request (0-based): answer with a status (and headers), or accept it and never answer. */
export type Reply = number | {status: number; headers: Record<string, string>} | 'hang'

export interface Receiver {
  url: string
  requests: Received[]
  /** Resolves once `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** A real HTTP server on 127.0.0.1 that records every request. */
export async function startReceiver(reply: (request: Received, n: number) => Reply = () => 200): Promise<Receiver> {
  const requests: Received[] = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const received: Received = {method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8')}
      requests.push(received)
      const r = reply(received, requests.length - 1)
      if (r === 'hang') return
      const {status, headers} = typeof r === 'number' ? {status: r, headers: {}} : r
      res.writeHead(status, {'content-type': 'text/plain', ...headers}).end(status < 300 ? 'ok' : 'nope')
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async waitFor(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} requests, got ${requests.length}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}
