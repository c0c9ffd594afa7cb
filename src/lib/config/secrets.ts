import type {BotConfig} from './load.js'

/**
 * Every secret value the configuration points at: credentials and the audit key (by the variables it names),
 * alert sink URLs and HMAC secrets, the Pushgateway URL, and any value written as ${ENV_VAR}. Human output is
 * redacted of all of them (see cli/log.ts), whatever the level.
 */
export function secretsOf(config: BotConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const {app} = config
  const out: (string | undefined | null)[] = [
    env[app.exchange.api_key_env], env[app.exchange.api_secret_env], env[app.state.audit_key_env], app.metrics.pushgateway_url,
  ]
  for (const sink of app.alerts.sinks) {
    if ('url' in sink) out.push(sink.url)
    if ('hmac_secret_env' in sink && sink.hmac_secret_env) out.push(env[sink.hmac_secret_env])
  }

  // Values interpolated from the environment, wherever they are: name the variable, never show the value.
  for (const paths of Object.values(config.fromEnv)) {
    for (const names of paths.values()) for (const name of names) out.push(env[name])
  }

  return out.filter((s): s is string => typeof s === 'string' && s.length > 0)
}
