import {validateConfig, type ValidationReport} from './config/index.js'
import type {AuditHead} from './state/audit.js'
import {auditKeyFrom} from './state/audit-key.js'
import {type StateVerification, verifyStateDir} from './state/verify.js'

export interface PreflightOptions {
  /** Also verify this state dir's audit log (read-only; a running bot may hold it). */
  stateDir?: string
  /** A head published earlier (a cycle event in the journal) the log must still contain. */
  auditHead?: AuditHead
  env?: NodeJS.ProcessEnv
}

export interface PreflightReport extends Omit<ValidationReport, 'config'> {
  /** Only with a state dir. */
  state?: StateVerification
}

/** The report, and the configuration when it is valid (for the command's output settings; never printed). */
export interface Preflight {
  report: PreflightReport
  config: ValidationReport['config']
}

/** `bot validate`: the config files, and with a state dir, the proof in its audit log. */
export async function preflight(configDir: string, options: PreflightOptions = {}): Promise<Preflight> {
  const env = options.env ?? process.env
  const {config, ...report} = validateConfig(configDir, env)
  if (!config || options.stateDir === undefined) return {report, config}
  const key = auditKeyFrom(config.app.state.audit_key_env, env)
  const state = await verifyStateDir(options.stateDir, key, options.auditHead ?? null)
  return {report: {...report, ok: report.ok && state.ok, state}, config}
}
