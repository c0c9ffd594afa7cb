import http from 'node:http'
import type {KeyObject} from 'node:crypto'
import type {AddressInfo, Socket} from 'node:net'

import {BUNDLED_DATA_DIR, type CandleSet, loadCandleDir} from '../../src/lib/exchange/replay/candle-files.js'
import {jwtProblem} from './auth.js'
import {Book, type FeeRates, type OrderRecord} from './book.js'
import {type ConvertPair, Converter, type ConvertTrade} from './convert.js'
import {type Fault, FaultControl, type FaultKind} from './faults.js'
import {MarketReplay, type ProductRules} from './market.js'
import {coinbaseRoutes, type Reply, type Route} from './routes.js'
import {errorBody} from './wire.js'

/**
 * A Coinbase Advanced Trade API on 127.0.0.1 for tests, speaking the part of the API that ccxt 4.5.84's
 * `coinbase` class uses, with prices replayed from recorded candles. This file is the HTTP side: routing,
 * JWT auth, fault injection, the request log and the handle tests inspect and steer it through.
 */

export interface CoinbaseServerOptions {
  /** The API key whose JWTs it accepts (see keys.ts). Without one, every private endpoint answers 401. */
  key?: {name: string; publicKey: KeyObject}
  /** Folder of `<BASE>-<QUOTE>*.csv` candle files (default: the bundled Coinbase hourly data). */
  dataDir?: string
  /** Only these products of the folder (default: all). */
  symbols?: readonly string[]
  /** Candles already loaded, instead of `dataDir`. */
  data?: CandleSet
  /** Index of the first current bar in the union of all bar times (default: 300 bars after every product is listed). */
  startBar?: number
  /** Added to every candle time (default: the current bar closes at the start time, rounded down to the bar). */
  timeShiftMs?: number
  /** Advance one bar every this many ms, until the data ends (default: only on advance()). */
  autoAdvanceMs?: number
  /** bid/ask = close -/+ this fraction of it (default 0.0005). */
  halfSpread?: number
  /** Fee rates, reported by transaction_summary and charged on fills (default Coinbase's entry tier: maker 0.006, taker 0.012). */
  fees?: FeeRates
  /** Opening balances by currency (default 10,000 USD). */
  startBalances?: Readonly<Record<string, number>>
  /** Per-product overrides of increments and size limits (default: derived from the price, as the sim does). */
  productRules?: Readonly<Record<string, Partial<ProductRules>>>
  /** Conversions offered (default USDC <-> USD at 1, no fee). */
  convertPairs?: readonly ConvertPair[]
  /** How long a convert quote can be committed (default 10 s). */
  convertQuoteTtlMs?: number
  /** From commit to the trade's terminal status (default 0: terminal from the next request on). */
  convertSettleMs?: number
  /** The server's clock = wall clock + this (default 0). */
  clockOffsetMs?: number
  /** 401 body: Coinbase's plain "Unauthorized" (default; what ccxt users report) or a v3 JSON error. */
  unauthorizedBody?: 'text' | 'json'
}

/** One request as the server saw it. The Authorization header is never kept. */
export interface RequestRecord {
  method: string
  /** Path without the query string. */
  path: string
  /** The query string, without "?" ("" when none). */
  query: string
  /** The parsed JSON body, once the request reached an endpoint past auth (undefined otherwise). */
  body: unknown
  /** HTTP status sent; null when no response was sent (timeout, lost response). */
  status: number | null
  fault: FaultKind | null
  /** Why the JWT was refused (only on 401s). */
  authProblem: string | null
  /** Server clock when it arrived, epoch ms. */
  at: number
}

export interface Balance {
  available: number
  hold: number
  total: number
}

/** What tests may read of the replay. */
export type ReplayView = Pick<MarketReplay, 'barMs' | 'timeShiftMs' | 'barIndex' | 'currentBarStart' | 'barsLeft' | 'listed' | 'rules' | 'bar' | 'quote'>

export interface CoinbaseServer {
  /** http://127.0.0.1:<port>: ccxt's `urls.api.rest`. */
  readonly url: string
  readonly port: number
  /** Every request so far, oldest first. */
  readonly requests: readonly RequestRecord[]
  readonly faults: FaultControl
  /** The replay behind the prices (bar length, time shift, cursor), read-only: advance() moves it. */
  readonly market: ReplayView
  clearRequests(): void
  /** Every order created, oldest first (copies). */
  orders(): OrderRecord[]
  balances(): Record<string, Balance>
  /** The account UUID of a currency (Coinbase's convert API names accounts by UUID); opens an empty one if needed. */
  accountId(currency: string): string
  convertTrades(): ConvertTrade[]
  /** Moves the replay `bars` ahead (default 1), filling resting limit orders the new bars reach. */
  advance(bars?: number): void
  /** The server clock, epoch ms. */
  now(): number
  setClockOffset(ms: number): void
  close(): Promise<void>
}

const candleCache = new Map<string, CandleSet>()

/** Loaded once per folder and selection: candle sets are never modified, and parsing 26 files costs time. */
function loadData(options: CoinbaseServerOptions): CandleSet {
  if (options.data) return options.data
  const dir = options.dataDir ?? BUNDLED_DATA_DIR
  const key = JSON.stringify([dir, options.symbols ?? null])
  let data = candleCache.get(key)
  if (!data) {
    data = loadCandleDir(dir, options.symbols)
    candleCache.set(key, data)
  }

  return data
}

/** The page a CDN in front of Coinbase answers a burst with (v3 has been seen sending HTML on 429). */
const HTML_429 = [
  '<html>',
  '<head><title>429 Too Many Requests</title></head>',
  '<body>',
  '<center><h1>429 Too Many Requests</h1></center>',
  '<hr><center>cloudflare</center>',
  '</body>',
  '</html>',
].join('\r\n')
/** Coinbase answers a refused JWT with a bare "Unauthorized" (ccxt issues #22182, #23987 quote it). */
const UNAUTHORIZED_TEXT: Reply = {status: 401, body: 'Unauthorized\n'}
const UNAUTHORIZED_JSON: Reply = {status: 401, body: errorBody('UNAUTHENTICATED', 'invalid or expired JWT')}
const TEXT_5XX: Record<number, string> = {500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable'}
const MAX_BODY = 1 << 20

/** A request on its way through the server. */
interface Incoming {
  req: http.IncomingMessage
  method: string
  url: URL
  rawBody: string
  fault: Fault | null
  record: RequestRecord
}

class LoopbackCoinbase implements CoinbaseServer {
  readonly faults = new FaultControl()
  readonly market: MarketReplay
  readonly requests: RequestRecord[] = []
  private readonly book: Book
  private readonly converter: Converter
  private readonly routes: Route[]
  private readonly http: http.Server
  private readonly held = new Set<Socket>()
  private clockOffsetMs: number
  private timer: NodeJS.Timeout | null = null
  port = 0

  constructor(private readonly options: CoinbaseServerOptions) {
    this.clockOffsetMs = options.clockOffsetMs ?? 0
    const now = () => this.now()
    this.market = new MarketReplay({
      data: loadData(options),
      startBar: options.startBar,
      timeShiftMs: options.timeShiftMs,
      startTimeMs: this.now(),
      halfSpread: options.halfSpread ?? 0.0005,
      rules: options.productRules,
    })
    this.book = new Book(this.market, options.fees ?? {maker: 0.006, taker: 0.012}, options.startBalances ?? {USD: 10_000}, now)
    const pairs = options.convertPairs ?? [{from: 'USDC', to: 'USD', rate: 1, feeRate: 0}, {from: 'USD', to: 'USDC', rate: 1, feeRate: 0}]
    for (const p of pairs) for (const cur of [p.from, p.to]) this.book.account(cur)
    this.converter = new Converter(this.book, {pairs, quoteTtlMs: options.convertQuoteTtlMs ?? 10_000, settleMs: options.convertSettleMs ?? 0}, now)
    this.routes = coinbaseRoutes({market: this.market, book: this.book, converter: this.converter, now, pricingTier: 'Advanced 1'})
    this.http = http.createServer((req, res) => this.receive(req, res))
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject)
      this.http.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (this.http.address() as AddressInfo).port
    const every = this.options.autoAdvanceMs
    if (every !== undefined) {
      this.timer = setInterval(() => (this.market.barsLeft() > 0 ? this.advance(1) : this.stopTimer()), every)
      this.timer.unref()
    }
  }

  now(): number {
    return Date.now() + this.clockOffsetMs
  }

  setClockOffset(ms: number): void {
    this.clockOffsetMs = ms
  }

  advance(bars = 1): void {
    this.market.advance(bars, (productId, bar) => this.book.onBar(productId, bar))
  }

  clearRequests(): void {
    this.requests.length = 0
  }

  orders(): OrderRecord[] {
    return this.book.allOrders().map((o) => structuredClone(o))
  }

  balances(): Record<string, Balance> {
    this.converter.settle()
    const out: Record<string, Balance> = {}
    for (const a of this.book.listAccounts()) out[a.currency] = {available: a.available, hold: a.hold, total: a.available + a.hold}
    return out
  }

  accountId(currency: string): string {
    return this.book.account(currency).uuid
  }

  convertTrades(): ConvertTrade[] {
    return this.converter.all().map((t) => structuredClone(t))
  }

  async close(): Promise<void> {
    this.stopTimer()
    for (const socket of this.held) socket.destroy()
    this.http.closeAllConnections()
    await new Promise<void>((resolve) => this.http.close(() => resolve()))
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) chunks.push(chunk)
    })
    req.on('end', () => {
      try {
        this.serve(req, res, Buffer.concat(chunks).toString('utf8'))
      } catch (error) {
        // A bug here must fail the test that met it, not the process: the client gets a 500 saying what broke.
        const record = this.requests.at(-1)
        if (record && !res.headersSent) this.sendText(res, record, 500, `loopback Coinbase failed: ${(error as Error).stack}\n`, 'text/plain')
      }
    })
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): void {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const record: RequestRecord = {method, path: url.pathname, query: url.search.slice(1), body: undefined, status: null, fault: null, authProblem: null, at: this.now()}
    this.requests.push(record)
    this.converter.settle()
    // Faults act like the gateway in front of Coinbase: before auth, and before the API sees the request.
    const fault = this.faults.take(method, url.pathname)
    record.fault = fault?.kind ?? null
    if (fault && this.actOutBefore(fault, res, record)) return
    const reply = this.route({req, method, url, rawBody, fault, record})
    if (fault?.kind === 'response_lost') return this.lose(fault, res, record)
    this.send(res, record, reply)
  }

  /** Faults that replace the answer (the request never reaches the API); true when it handled the request. */
  private actOutBefore(fault: Fault, res: http.ServerResponse, record: RequestRecord): boolean {
    switch (fault.kind) {
      case 'rate_limit_json': {
        // Each API family in its own error shape; ccxt maps them differently (see faults.test.ts).
        const v2 = record.path.startsWith('/v2/')
        const body = v2 ? {errors: [{id: 'rate_limit_exceeded', message: 'Too many requests'}]} : errorBody('RATE_LIMIT_EXCEEDED', 'Too many requests')
        this.send(res, record, {status: 429, body})
        return true
      }

      case 'rate_limit_html':
        this.sendText(res, record, 429, HTML_429, 'text/html')
        return true
      case 'server_error':
        this.sendText(res, record, fault.status, `${TEXT_5XX[fault.status]}\n`, 'text/plain')
        return true
      case 'non_json':
        this.sendText(res, record, 200, '<!DOCTYPE html><html><body>Down for maintenance</body></html>', 'text/html')
        return true
      case 'timeout':
        this.hold(res)
        return true
      default:
        return false
    }
  }

  /** The request was executed; its answer never reaches the client. */
  private lose(fault: Fault, res: http.ServerResponse, record: RequestRecord): void {
    if (fault.lose === 'bad_gateway') return this.sendText(res, record, 502, `${TEXT_5XX[502]}\n`, 'text/plain')
    if (fault.lose === 'hang') return this.hold(res)
    res.socket?.destroy()
  }

  /** Keeps the request open, unanswered, until the client gives up or the server closes. */
  private hold(res: http.ServerResponse): void {
    const socket = res.socket
    if (!socket) return
    this.held.add(socket)
    socket.once('close', () => this.held.delete(socket))
  }

  private route(r: Incoming): Reply {
    const {method, url, record} = r
    for (const route of this.routes) {
      if (route.method !== method) continue
      const m = route.pattern.exec(url.pathname)
      if (!m) continue
      if (route.private) {
        record.authProblem = this.authProblem(r.req, method, url.pathname)
        if (record.authProblem) return this.options.unauthorizedBody === 'json' ? UNAUTHORIZED_JSON : UNAUTHORIZED_TEXT
      }

      let body: unknown
      try {
        body = r.rawBody === '' ? undefined : JSON.parse(r.rawBody)
      } catch {
        return {status: 400, body: errorBody('INVALID_ARGUMENT', 'request body is not JSON')}
      }

      record.body = body
      return route.handle({params: m.slice(1).map(decodeURIComponent), query: url.searchParams, body, fault: r.fault})
    }

    return {status: 404, body: errorBody('NOT_FOUND', `${method} ${url.pathname} is not served by this test server`)}
  }

  private authProblem(req: http.IncomingMessage, method: string, path: string): string | null {
    const key = this.options.key
    if (!key) return 'the server was started without an API key'
    return jwtProblem(req.headers.authorization, {publicKey: key.publicKey, keyName: key.name, nowMs: this.now(), method, host: req.headers.host ?? '', path})
  }

  private send(res: http.ServerResponse, record: RequestRecord, reply: Reply): void {
    if (typeof reply.body === 'string') return this.sendText(res, record, reply.status, reply.body, 'text/plain')
    record.status = reply.status
    const text = JSON.stringify(reply.body)
    res.writeHead(reply.status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text)})
    res.end(text)
  }

  private sendText(res: http.ServerResponse, record: RequestRecord, status: number, text: string, type: string): void {
    record.status = status
    res.writeHead(status, {'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text)})
    res.end(text)
  }
}

/** Starts the server on 127.0.0.1 and a free port. */
export async function startCoinbaseServer(options: CoinbaseServerOptions = {}): Promise<CoinbaseServer> {
  const server = new LoopbackCoinbase(options)
  await server.listen()
  return server
}
