import {BotError} from '../errors.js'
import {buildSinks, type Sink, type SinkMessage} from './sinks.js'
import {type ActiveAlert, type AlertStateStore, memoryAlertStore} from './state.js'
import {type Alert, type AlertReport, type AlertsConfig, type AlertService, type Delivery, SEVERITY_RANK, type Severity} from './types.js'

export interface AlertDeps {
  /** Where `hmac_secret_env` names are looked up. */
  env: NodeJS.ProcessEnv
  /** The console sink's output: the CLI decides where text goes (stderr, JSON lines, a log). A resolve comes as 'info'. */
  writeLine: (line: string, severity: Severity) => void
  /** Active alerts across restarts; default in memory (forgotten on exit). */
  store?: AlertStateStore
  /** Names this bot in Alertmanager labels and webhook bodies, e.g. its state dir; default "bot". */
  instance?: string
  version?: string
  /** Wall clock in ms (Alertmanager times, signature timestamps); never the bot's virtual clock. Default Date.now. */
  now?: () => number
}

const elapsed = (start: number) => Math.round(performance.now() - start)
const skipped = (sink: Sink, outcome: 'deduplicated' | 'below_min_severity'): Delivery => ({sink: sink.name, outcome, attempts: 0, ms: 0})
const lineOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]

async function send(sink: Sink, message: SinkMessage): Promise<Delivery> {
  const start = performance.now()
  const r = await sink.deliver(message)
  return r.ok
    ? {sink: sink.name, outcome: 'sent', attempts: r.attempts, ms: elapsed(start)}
    : {sink: sink.name, outcome: 'failed', attempts: r.attempts, ms: elapsed(start), error: r.error}
}

function persist(report: AlertReport, write: () => void): AlertReport {
  try {
    write()
  } catch (error) {
    report.error = `alert state not saved: ${lineOf(error)}`
  }

  return report
}

const closedDeliveries = (names: string[]): Delivery[] =>
  names.map((sink) => ({sink, outcome: 'failed', attempts: 0, ms: 0, error: 'alert service closed'}))

/** What raise and resolve share: the sinks, the dedup window and the active alerts (memory and store). */
interface Ledger {
  sinks: Sink[]
  windowMs: number
  state: Map<string, ActiveAlert>
  store: AlertStateStore
  closed: boolean
}

async function raiseNow(l: Ledger, alert: Alert, key: string, time: number): Promise<AlertReport> {
  const {code, severity, summary} = alert
  const report: AlertReport = {kind: 'raised', code, key, severity, summary, deliveries: []}
  if (l.closed) return {...report, deliveries: closedDeliveries(l.sinks.map((s) => s.name))}
  const prev = l.state.get(key)
  const record: ActiveAlert = {key, code, severity, summary, raisedAt: prev?.raisedAt ?? time, sent: {...prev?.sent}}
  const rank = SEVERITY_RANK[severity]
  report.deliveries = await Promise.all(l.sinks.map(async (sink) => {
    if (rank < SEVERITY_RANK[sink.minSeverity]) return skipped(sink, 'below_min_severity')
    const mark = record.sent[sink.name]
    // Within the window only an escalation goes out again; after it, a reminder.
    if (mark && time - mark.at < l.windowMs && rank <= SEVERITY_RANK[mark.severity]) return skipped(sink, 'deduplicated')
    const delivery = await send(sink, {
      status: 'firing', code, key, severity, summary, action: alert.action ?? null, context: alert.context ?? {},
      time, raisedAt: record.raisedAt, reminder: mark?.severity === severity, previousSeverity: mark?.severity ?? null,
    })
    if (delivery.outcome === 'sent') record.sent[sink.name] = {at: time, severity}
    return delivery
  }))
  l.state.set(key, record)
  return persist(report, () => l.store.save(record))
}

async function resolveNow(l: Ledger, key: string, summary: string, time: number): Promise<AlertReport | null> {
  const record = l.state.get(key)
  if (!record) return null
  const report: AlertReport = {kind: 'resolved', code: record.code, key, severity: record.severity, summary, deliveries: []}
  const targets = l.sinks.filter((s) => record.sent[s.name])
  // Closed: the key stays active (and stored), so the next process resolves it.
  if (l.closed) return {...report, deliveries: closedDeliveries(targets.map((s) => s.name))}
  report.deliveries = await Promise.all(targets.map((sink) => send(sink, {
    status: 'resolved', code: record.code, key, severity: record.sent[sink.name].severity, summary, action: null,
    context: {}, time, raisedAt: record.raisedAt, reminder: false, previousSeverity: null,
  })))
  l.state.delete(key)
  return persist(report, () => l.store.remove(key))
}

/** Runs tasks of one key one after another; different keys run side by side. */
function keyedQueue() {
  const queues = new Map<string, Promise<unknown>>()
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const next = (queues.get(key) ?? Promise.resolve()).then(task)
      const tail = next.catch(() => {})
      queues.set(key, tail)
      void tail.then(() => queues.get(key) === tail && queues.delete(key))
      return next
    },
    idle: () => Promise.all(queues.values()),
  }
}

const unprocessed = (report: Omit<AlertReport, 'deliveries' | 'error'>, error: unknown): AlertReport =>
  ({...report, deliveries: [], error: `alert not processed: ${error instanceof Error ? error.name : 'error'}`})

/**
 * Alerts for a person, never in the way of trading: every sink is delivered in parallel within its own
 * time limit, failures come back in the report (no throw), and sinks are named `<type>#<index>`, never by URL.
 * Calls for the same key run one after another, so a raise and a resolve of one condition never cross.
 */
export function createAlertService(config: AlertsConfig, deps: AlertDeps): AlertService {
  const now = deps.now ?? Date.now
  const sinks = buildSinks({env: deps.env, writeLine: deps.writeLine, instance: deps.instance ?? 'bot', version: deps.version ?? '0', now, alerts: config})
  // A caller's time that is not a number would break every window and timestamp: the wall clock stands in.
  const timeOf = (time: number) => (Number.isFinite(time) ? time : now())
  const store = deps.store ?? memoryAlertStore()
  const ledger: Ledger = {sinks, windowMs: config.dedup_seconds * 1000, state: new Map(), store, closed: false}
  try {
    for (const a of store.load()) ledger.state.set(a.key, a)
  } catch (error) {
    throw new BotError(`cannot load the alert state: ${lineOf(error)}`, 'ALERT_STATE_UNREADABLE')
  }

  const queue = keyedQueue()
  return {
    raise(alert) {
      const key = alert.key ?? alert.code
      return queue.run(key, () => raiseNow(ledger, alert, key, timeOf(alert.time)))
        .catch((error) => unprocessed({kind: 'raised', code: alert.code, key, severity: alert.severity, summary: alert.summary}, error))
    },
    resolve(key, summary, time) {
      return queue.run(key, () => resolveNow(ledger, key, summary, timeOf(time)))
        .catch((error) => unprocessed({kind: 'resolved', code: key, key, severity: 'info', summary}, error))
    },
    active: () => [...ledger.state.keys()],
    async close() {
      ledger.closed = true
      await queue.idle()
    },
  }
}
