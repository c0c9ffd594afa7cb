import path from 'node:path'

import {type AlertService, createAlertService, type Severity} from '../alerts/index.js'
import {requireValidConfig} from '../config/index.js'
import type {BotConfig} from '../config/load.js'
import {BotError} from '../errors.js'
import {PriceGuard} from '../market/price-guard.js'
import type {Metrics} from '../metrics/metrics.js'
import {instrumentBroker, instrumentMarketData} from '../metrics/instrument-exchange.js'
import {metricsObserver, setKillSwitch} from '../metrics/record.js'
import {SignalBook} from '../signals/scores.js'
import {sqliteAlertStore} from '../state/alert-store.js'
import {AuditHeadFile} from '../state/audit-head.js'
import {auditKeyFrom} from '../state/audit-key.js'
import {acquireLock, type StateLock} from '../state/lock.js'
import {prepareState} from '../state/prepare.js'
import {readRun} from '../state/read-only.js'
import {StateStore} from '../state/store.js'
import {tierMap} from '../universe/eligibility.js'
import {raiseAlert} from './alerting.js'
import type {Engine} from './context.js'
import type {EngineEvent, EngineObserver} from './events.js'
import {killSwitchRecorded} from './steps/kill-switch.js'
import {warmUp} from './steps/snapshot.js'
import {prepareVenue, randomNamespace, type Venue} from './venue.js'
import {ExchangeWatch, retryTransient} from './venues/watch.js'

/**
 * What a command opens the engine for: `run` (the loop: a metrics exporter), `once` (one trading step from
 * cron: the lock, metrics pushed to a Pushgateway at the end), `preview` (a dry run: read-only, no lock, no
 * alert, nothing written, so it works beside a running bot).
 */
export type OpenMode = 'run' | 'once' | 'preview'

export interface OpenOptions {
  configDir: string
  /** The configuration, when the command already validated it (the pre-flight runs once). */
  config?: BotConfig
  /** Overrides app.yaml state.dir. */
  stateDir?: string
  intervalSeconds?: number
  live?: boolean
  observe: EngineObserver
  /** Where the console alert sink writes (default: nowhere; every alert is also an event). */
  alertLine?: (line: string, severity: Severity) => void
  /** Where the exchange credentials', the audit key's and alert secrets' variables are read (default: process.env). */
  env?: NodeJS.ProcessEnv
  /** bot's version, for bot_info and alert bodies. */
  version?: string
  /** The one-shot command (trim, convert) for the Pushgateway's grouping label. */
  command?: string
  /** Each cycle step's duration, for debug output (never an event: timings would make the JSON differ run to run). */
  timing?: (cycle: number, step: string, ms: number) => void
}

export interface OpenedEngine {
  engine: Engine
  venue: Venue
  config: BotConfig
  stateDir: string
  /** Records the duration of one cycle (metrics), if metrics are on. */
  cycleTook(seconds: number): void
  /** The metrics the loop records into; null when they are off. */
  metrics: Metrics | null
  /** A real exchange's circuit breaker and requests (no-ops on the sim). */
  watch: ExchangeWatch
  /** Releases everything (and pushes a one-shot's metrics); call once, also after a failure. */
  close(): Promise<void>
}

interface Metering {
  metrics: Metrics | null
  warning: string | null
  finish(): Promise<string | null>
}

/**
 * The composition root for every command that trades: validates, checks live trading's opt-ins and
 * credentials, loads the venue's data (or ccxt), takes the state dir's lock, checks the state dir (one run,
 * audit chain intact), opens the venue, alerts and metrics, and warms the indicators up. Every refusal comes
 * before the first write and the first request; on any failure what was opened is released.
 */
export async function openEngine(options: OpenOptions, mode: OpenMode): Promise<OpenedEngine> {
  const config = options.config ?? requireValidConfig(options.configDir)
  const env = options.env ?? process.env
  const stateDir = options.stateDir ?? config.app.state.dir
  const prepared = prepareVenue(config, {stateDir, intervalSeconds: options.intervalSeconds, live: options.live ?? false, env})
  await prepared.load?.()
  const auditKey = auditKeyFrom(config.app.state.audit_key_env, env)
  const lock: StateLock | null = mode === 'preview' ? null : acquireLock(stateDir)
  const closers: (() => unknown)[] = [() => lock?.release()]
  const closeAll = async () => {
    for (const close of closers.reverse()) await close()
  }

  try {
    let store: StateStore
    let venue: Venue
    if (mode === 'preview') {
      const run = readRun(stateDir)
      venue = await prepared.open(run.run, {readOnly: true})
      store = run.store
    } else {
      const state = await refuseLoudly(() => prepareState(stateDir, {pairedFiles: prepared.pairedFiles, auditKey}), config, stateDir, options)
      try {
        venue = await prepared.open(state.run)
      } catch (error) {
        state.abandon()
        throw error
      }

      store = state.open()
      store.setDurability(venue.durability)
      for (const message of state.notices) options.observe({type: 'notice', level: 'warning', message})
    }

    closers.push(() => venue.market.close(), () => venue.broker.close(), () => store.close())
    const auditHead = AuditHeadFile.in(stateDir)
    closers.push(() => auditHead.close())
    const alerts = mode === 'preview'
      ? createAlertService({...config.app.alerts, sinks: []}, {env, writeLine: () => {}})
      : createAlertService(config.app.alerts, {env, writeLine: options.alertLine ?? (() => {}), store: sqliteAlertStore(store), instance: path.resolve(stateDir), version: options.version})
    closers.push(() => alerts.close())
    const meter = await openMetrics(config, stateDir, mode, options)
    closers.push(async () => {
      const warning = await meter.finish()
      if (warning) options.observe({type: 'notice', level: 'warning', message: warning})
    })
    const observe = combine(options.observe, metricsObserver(meter.metrics))
    const watch = new ExchangeWatch(venue.exchange, meter.metrics)
    closers.push(() => watch.settle())
    if (mode !== 'preview') auditHead.write(store.audit.current(), venue.clock.now())
    const engine = await createEngine(config, stateDir, {...venue, market: instrumentMarketData(venue.market, meter.metrics), broker: instrumentBroker(venue.broker, meter.metrics)}, {store, auditHead, alerts, observe, timing: options.timing})
    setKillSwitch(meter.metrics, killSwitchRecorded(engine))
    if (meter.warning) await raiseAlert(engine, {code: 'EXPORTER_DISABLED', severity: 'warning', time: venue.clock.now(), summary: meter.warning, action: 'free one of the ports or set metrics.port / port_retries in app.yaml; bot keeps trading without metrics'})
    return {
      engine, venue, config, stateDir,
      cycleTook: (seconds) => meter.metrics?.cycleDuration.observe(seconds),
      metrics: meter.metrics, watch,
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/** `run`: the exporter (its port retry is in metrics/exporter.ts); `once`: a registry pushed at the end; `preview`: none. */
async function openMetrics(config: BotConfig, stateDir: string, mode: OpenMode, options: OpenOptions): Promise<Metering> {
  const none: Metering = {metrics: null, warning: null, finish: async () => null}
  const settings = config.app.metrics
  const info = {version: options.version ?? 'unknown', venue: config.app.exchange.id === 'sim' ? 'sim' : config.app.mode, exchange: config.app.exchange.id, quoteCurrency: config.app.exchange.quote_currency}
  if (mode === 'run' && settings.enabled) {
    const {startMetrics} = await import('../metrics/runtime.js') // prom-client is loaded only when metrics are on
    const log = {
      info: (line: string) => options.observe({type: 'notice', level: 'info', message: line}),
      warn: (line: string) => options.observe({type: 'notice', level: 'warning', message: line}),
      error: (line: string) => options.observe({type: 'notice', level: 'warning', message: line}),
    }
    const rt = await startMetrics(settings, {stateDir, log, info})
    return {metrics: rt.metrics, warning: rt.warning, finish: async () => {
      await rt.close()
      return null
    }}
  }

  if (mode === 'once' && settings.enabled && settings.pushgateway_url !== null) {
    const {pushRegistry} = await import('../metrics/runtime.js')
    return pushRegistry(settings.pushgateway_url, options.command ?? 'once', info)
  }

  return none
}

function combine(a: EngineObserver, b: EngineObserver): EngineObserver {
  return (e: EngineEvent) => {
    a(e)
    b(e)
  }
}

interface Parts {
  store: StateStore
  auditHead: AuditHeadFile
  alerts: AlertService
  observe: EngineObserver
  timing?: OpenOptions['timing']
}

async function createEngine(config: BotConfig, stateDir: string, venue: Venue, parts: Parts): Promise<Engine> {
  const {store} = parts
  const tierOf = tierMap(config.universe)
  const symbols = [...tierOf.keys()]
  let idPrefix = store.getMeta('id_prefix')
  if (idPrefix === null) {
    idPrefix = venue.idNamespace || randomNamespace()
    if (!store.db.readonly) store.setMeta('id_prefix', idPrefix)
  }

  const btc = `BTC-${config.app.exchange.quote_currency}`
  const maxMove = config.policy.risk.max_bar_move_pct
  const eligibility = new Map([...store.eligibility()].map(([s, status]) => [s, status.replace(/^excluded:/, '')]))
  const engine: Engine = {
    config, stateDir, market: venue.market, broker: venue.broker, clock: venue.clock, store,
    signals: new SignalBook(config.signals, new PriceGuard(maxMove)), prices: new PriceGuard(maxMove),
    symbols, tierOf, idPrefix, benchmark: symbols.includes(btc) ? btc : symbols[0] ?? null,
    observe: parts.observe, eligibility, auditHead: parts.auditHead, alerts: parts.alerts, timing: parts.timing ?? (() => {}),
  }
  // A real exchange may fail a request now and then: the warm-up is tried again before the start is given up.
  await retryTransient(() => warmUp(engine), venue.clock.kind === 'wall' ? 3 : 1, Math.min(2000, venue.intervalMs))
  return engine
}

/**
 * A start refused because the audit log cannot be proved is worth a person's attention right away: it goes to
 * the alert sinks (there is no trustworthy state to keep alert memory in, so in memory) before the refusal.
 */
async function refuseLoudly<T>(open: () => T, config: BotConfig, stateDir: string, options: OpenOptions): Promise<T> {
  try {
    return open()
  } catch (error) {
    if (error instanceof BotError && error.code.startsWith('AUDIT_')) {
      const alerts = createAlertService(config.app.alerts, {env: options.env ?? process.env, writeLine: options.alertLine ?? (() => {}), instance: path.resolve(stateDir)})
      await alerts.raise({code: 'AUDIT_CHAIN_BROKEN', severity: 'critical', time: Date.now(), summary: error.message, action: 'compare the state dir with a head published earlier (bot validate --state-dir DIR --audit-head N:HASH) and restore it from a backup; bot will not trade on it'})
      await alerts.close()
    }

    throw error
  }
}
