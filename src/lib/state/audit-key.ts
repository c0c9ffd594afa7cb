import {BotError} from '../errors.js'

export interface AuditKey {
  /** The environment variable it came from, for messages (never the key). */
  variable: string
  key: Buffer
}

const MIN_AUDIT_KEY_LENGTH = 16

/** The audit key from the variable app.yaml names (state.audit_key_env), or null when it is not set. */
export function auditKeyFrom(variable: string, env: NodeJS.ProcessEnv): AuditKey | null {
  const value = env[variable]
  if (value === undefined || value === '') return null
  if (value.length < MIN_AUDIT_KEY_LENGTH) {
    throw new BotError(`$${variable} (the audit key) is shorter than ${MIN_AUDIT_KEY_LENGTH} characters; use a long random value, e.g. \`openssl rand -hex 32\``, 'AUDIT_KEY_WEAK')
  }

  return {variable, key: Buffer.from(value, 'utf8')}
}
