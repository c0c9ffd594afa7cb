import {readFileSync} from 'node:fs'
import path from 'node:path'

import {BotError} from '../errors.js'
import {addressFilePath, type ExporterAddress, hostPort, processAlive, readAddressFile} from './address-file.js'
import {ExpositionError, parseExposition} from './exposition.js'
import {type MetricsSummary, summarize} from './summary.js'

/** What `bot metrics` reads from a running bot. No prom-client anywhere on this path. */
export interface RunningMetrics {
  exporter: ExporterAddress
  /** The exposition exactly as scraped (`bot metrics --raw`). */
  text: string
  summary: MetricsSummary
}

export interface ScrapeOptions {
  /** Bound on the whole HTTP exchange with the exporter. */
  timeoutMs?: number
  now?: number
}

/**
 * Finds the bot running on `stateDir` through its metrics.json, scrapes its exporter and summarizes it.
 * Every way of not finding it (no file, a dead pid, nothing answering, something else answering) is one
 * BotError: "no bot is running on <state dir>: <why>".
 */
export async function readRunningBot(stateDir: string, options: ScrapeOptions = {}): Promise<RunningMetrics> {
  const exporter = locateExporter(stateDir)
  const text = await fetchExposition(stateDir, exporter, options.timeoutMs ?? 3000)
  let exposition
  try {
    exposition = parseExposition(text)
  } catch (error) {
    if (!(error instanceof ExpositionError)) throw error
    throw new BotError(`the exporter at ${hostPort(exporter.host, exporter.port)} sent metrics bot cannot read (${error.message})`, 'METRICS_UNREADABLE')
  }

  if (!exposition.families.has('bot_info')) throw noBot(stateDir, `${hostPort(exporter.host, exporter.port)} answers, but not with bot's metrics (no bot_info)`)
  return {exporter, text, summary: summarize(exposition, {...exporter, url: scrapeUrl(exporter)}, options.now)}
}

/** The exporter recorded in the state dir, if its process is still alive. */
export function locateExporter(stateDir: string): ExporterAddress {
  const found = readAddressFile(stateDir)
  if ('problem' in found) {
    if (found.problem !== 'missing') throw noBot(stateDir, found.problem)
    const holder = lockHolder(stateDir)
    if (holder !== null) {
      throw new BotError(`a bot (pid ${holder}) is running on ${stateDir} but its metrics exporter is off: metrics.enabled is false, or every port it tried was in use (its log names them)`, 'EXPORTER_OFF')
    }

    throw noBot(stateDir, `no ${addressFilePath(stateDir)}`)
  }

  if (!processAlive(found.pid, found.process_start_time)) throw noBot(stateDir, `${addressFilePath(stateDir)} names pid ${found.pid}, which is not running (left by a bot that did not stop cleanly)`)
  return found
}

/** Where to connect: an exporter bound to every interface is reached on loopback. */
export function scrapeUrl(address: {host: string; port: number}): string {
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host
  return `http://${hostPort(host, address.port)}/metrics`
}

async function fetchExposition(stateDir: string, exporter: ExporterAddress, timeoutMs: number): Promise<string> {
  const at = hostPort(exporter.host, exporter.port)
  try {
    const response = await fetch(scrapeUrl(exporter), {signal: AbortSignal.timeout(timeoutMs), redirect: 'error'})
    const body = await response.text()
    if (response.status !== 200) throw noBot(stateDir, `${at} answered HTTP ${response.status} to GET /metrics`)
    return body
  } catch (error) {
    if (error instanceof BotError) throw error
    const e = error as Error & {cause?: {code?: string}}
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : e.cause?.code ?? e.message
    throw noBot(stateDir, `nothing answers at ${at} (${why}), though pid ${exporter.pid} is alive`)
  }
}

function noBot(stateDir: string, why: string): BotError {
  return new BotError(`no bot is running on ${stateDir}: ${why}`, 'NO_BOT_RUNNING')
}

/** The pid in bot.lock (state/lock.ts's format: "<pid> <start time>"), if that process is alive. */
function lockHolder(stateDir: string): number | null {
  try {
    const [pid, started] = readFileSync(path.join(stateDir, 'bot.lock'), 'utf8').trim().split(' ')
    const holder = Number.parseInt(pid, 10)
    return Number.isInteger(holder) && holder > 0 && processAlive(holder, started || null) ? holder : null
  } catch {
    return null
  }
}
