import http from 'node:http'

import {BotError} from '../errors.js'
import {type ExporterAddress, hostPort, processStartTime, removeAddressFile, writeAddressFile} from './address-file.js'

/** What the exporter serves: a prom-client Registry fits (only its type is needed here). */
export interface MetricsSource {
  metrics(): Promise<string>
  readonly contentType: string
}

export interface ExporterLog {
  info(line: string): void
  warn(line: string): void
  error(line: string): void
}

export interface ExporterOptions {
  /** app.yaml metrics.host */
  host: string
  /** app.yaml metrics.port */
  port: number
  /** app.yaml metrics.port_retries: on a conflict, also try port+1 .. port+portRetries. */
  portRetries: number
  registry: MetricsSource
  /** Where metrics.json records the bound address; null = do not record it. */
  stateDir: string | null
  log: ExporterLog
}

export interface RunningExporter {
  enabled: true
  host: string
  port: number
  url: string
  /** metrics.json, or null when no state dir was given (or it could not be written: see the log). */
  addressFile: string | null
  /** Stops listening, drops open (keep-alive) connections and removes metrics.json if it is still ours. */
  close(): Promise<void>
}

export interface DisabledExporter {
  enabled: false
  host: string
  triedPorts: number[]
  /** One line for the caller's warning alert. */
  message: string
  close(): Promise<void>
}

export type Exporter = RunningExporter | DisabledExporter

/** The configured port, then the next `retries` ones (never past 65535). */
export function candidatePorts(port: number, retries: number): number[] {
  const ports: number[] = []
  for (let p = port; p <= Math.min(port + retries, 65535); p++) ports.push(p)
  return ports
}

/**
 * The port retry, all of it: listen on each candidate in turn, moving on ONLY when the port is in use.
 * Returns the port bound, or null when every candidate was in use. Any other failure (a host that does not
 * resolve, an address that is not this machine's, no permission) is a configuration problem that another
 * port would not fix: it is thrown as one line.
 */
export async function listenOnFirstFreePort(server: http.Server, host: string, ports: readonly number[]): Promise<number | null> {
  for (const port of ports) {
    try {
      await listenOnce(server, host, port)
      return port
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw bindError(host, port, error as NodeJS.ErrnoException)
    }
  }

  return null
}

function listenOnce(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening)
      reject(error)
    }

    const onListening = () => {
      server.off('error', onError)
      resolve()
    }

    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

function bindError(host: string, port: number, error: NodeJS.ErrnoException): BotError {
  const at = `the metrics exporter cannot bind ${hostPort(host, port)}`
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME': return new BotError(`${at}: host "${host}" does not resolve (${error.code}); set metrics.host in app.yaml to an address of this machine, e.g. 127.0.0.1`, 'METRICS_BIND_FAILED')
    case 'EADDRNOTAVAIL': return new BotError(`${at}: ${host} is not an address of this machine (EADDRNOTAVAIL); set metrics.host in app.yaml to one of its addresses, e.g. 127.0.0.1`, 'METRICS_BIND_FAILED')
    case 'EACCES': return new BotError(`${at}: permission denied (EACCES); ports below 1024 need privileges, set metrics.port in app.yaml to 1024 or above`, 'METRICS_BIND_FAILED')
    default: return new BotError(`${at}: ${error.code ?? error.message}`, 'METRICS_BIND_FAILED')
  }
}

/**
 * Serves GET /metrics on host:port, or on the next free port within port_retries, and records the bound
 * address in <state dir>/metrics.json. Every port in use is not fatal: the result is disabled (and says
 * which ports were tried) and trading goes on. Other bind errors throw a one-line BotError.
 */
export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const {host, log} = options
  // A scraper that stalls mid-request is cut off rather than held open.
  const server = http.createServer({requestTimeout: 10_000, headersTimeout: 5000}, (req, res) => void serve(req, res, options.registry, log))
  const ports = candidatePorts(options.port, options.portRetries)
  const port = await listenOnFirstFreePort(server, host, ports)
  if (port === null) {
    const message = `metrics exporter disabled: ${inUse(ports, host)}; free one or change metrics.port / metrics.port_retries in app.yaml (trading continues without metrics)`
    log.error(message)
    return {enabled: false, host, triedPorts: ports, message, close: async () => {}}
  }

  const url = `http://${hostPort(host, port)}/metrics`
  const address: ExporterAddress = {host, port, url, pid: process.pid, process_start_time: processStartTime(process.pid), started_at: new Date().toISOString()}
  const addressFile = recordAddress(options.stateDir, address, log)
  const where = addressFile ? ` (recorded in ${addressFile})` : ''
  if (port === options.port) log.info(`metrics exporter listening on ${url}${where}`)
  else log.warn(`metrics exporter: ${inUse(ports.slice(0, ports.indexOf(port)), host)}; listening on ${hostPort(host, port)} instead${where}`)

  let closing: Promise<void> | null = null
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      if (addressFile) removeAddressFile(addressFile, address)
      server.close(() => resolve())
      server.closeAllConnections() // keep-alive connections would hold close() open until they time out
    })
    return closing
  }

  return {enabled: true, host, port, url, addressFile, close}
}

function inUse(ports: readonly number[], host: string): string {
  return ports.length === 1 ? `port ${ports[0]} on ${host} is in use` : `ports ${ports.join(', ')} on ${host} are all in use`
}

/** A state dir that cannot take the file does not stop the exporter: the address is still in the log. */
function recordAddress(stateDir: string | null, address: ExporterAddress, log: ExporterLog): string | null {
  if (stateDir === null) return null
  try {
    return writeAddressFile(stateDir, address)
  } catch (error) {
    log.warn(`metrics exporter: cannot record its address in ${stateDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; \`bot metrics\` will not find it`)
    return null
  }
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse, registry: MetricsSource, log: ExporterLog): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  if (path !== '/metrics') return reply(res, 404, 'not found: metrics are served at /metrics\n')
  // HEAD is GET without the body (RFC 9110); anything else is refused.
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD')
    return reply(res, 405, 'method not allowed: use GET\n')
  }

  let body: string
  try {
    body = await registry.metrics()
  } catch (error) {
    log.error(`metrics exporter: collecting metrics failed: ${(error as Error).message.split('\n')[0]}`)
    return reply(res, 500, 'collecting metrics failed; see the bot log\n')
  }

  res.writeHead(200, {'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(body)})
  res.end(req.method === 'HEAD' ? undefined : body)
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}
