import type {ActiveAlert, AlertStateStore} from '../alerts/state.js'
import type {StateStore} from './store.js'

/** The alert service's memory, in bot.sqlite: one row per alert still raised. */
export function sqliteAlertStore(store: StateStore): AlertStateStore {
  const all = store.db.prepare('SELECT body FROM alerts ORDER BY key').pluck()
  const save = store.db.prepare('INSERT INTO alerts (key, body) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET body = excluded.body')
  const remove = store.db.prepare('DELETE FROM alerts WHERE key = ?')
  return {
    load: () => (all.all() as string[]).map((b) => JSON.parse(b) as ActiveAlert),
    save: (alert) => {
      save.run(alert.key, JSON.stringify(alert))
    },
    remove: (key) => {
      remove.run(key)
    },
  }
}
