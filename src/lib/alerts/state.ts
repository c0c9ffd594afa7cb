import type {Severity} from './types.js'

/** What one sink last received for an active alert. */
export interface SinkMark {
  /** The alert's time (caller's clock) of the last delivery. */
  at: number
  severity: Severity
}

/** One raised, not yet resolved condition, as persisted across restarts. */
export interface ActiveAlert {
  key: string
  code: string
  severity: Severity
  summary: string
  /** The alert's time when it was first raised. */
  raisedAt: number
  /** Per sink name (`slack#2`): only sinks that received it, so a resolve goes to exactly those. */
  sent: Record<string, SinkMark>
}

/**
 * Where active alerts survive a restart, so a new process neither repeats an alert still inside its dedup
 * window nor forgets to resolve it. Synchronous, like the bot's SQLite store that will back it.
 */
export interface AlertStateStore {
  load(): ActiveAlert[]
  save(alert: ActiveAlert): void
  remove(key: string): void
}

/** An in-process store (tests, one-off commands). Copies in and out, as a real store would. */
export function memoryAlertStore(initial: ActiveAlert[] = []): AlertStateStore {
  const rows = new Map(initial.map((a) => [a.key, structuredClone(a)]))
  return {
    load: () => [...rows.values()].map((a) => structuredClone(a)),
    save: (alert) => {
      rows.set(alert.key, structuredClone(alert))
    },
    remove: (key) => {
      rows.delete(key)
    },
  }
}
