import path from 'node:path'
import type * as z from 'zod/mini'

import {crossCheck, type ConfigFileKey, type PartialConfig} from './cross-checks.js'
import {interpolateEnv, shownValue} from './env.js'
import {resolveLookbacks} from './lookbacks.js'
import {type ConfigIssue, formatPath, type PathSegment} from './issues.js'
import {AppConfig} from './schema/app.js'
import type {AppConfig as ResolvedApp} from './schema/app.js'
import {PolicyConfig} from './schema/policy.js'
import {SignalsConfig} from './schema/signals.js'
import type {SignalsConfig as ResolvedSignals} from './schema/signals.js'
import {UniverseConfig} from './schema/universe.js'
import {toConfigIssues} from './zod-issues.js'
import {positionOf, readYamlFile, type YamlSource} from './yaml-source.js'

export const CONFIG_FILES: Record<ConfigFileKey, {name: string; schema: z.ZodMiniType}> = {
  app: {name: 'app.yaml', schema: AppConfig},
  policy: {name: 'policy.yaml', schema: PolicyConfig},
  universe: {name: 'universe.yaml', schema: UniverseConfig},
  signals: {name: 'signals.yaml', schema: SignalsConfig},
}

export interface BotConfig {
  dir: string
  /** Per file, the key paths whose value came from an environment variable, and which: never print those values. */
  fromEnv: Record<ConfigFileKey, ReadonlyMap<string, string[]>>
  app: ResolvedApp
  policy: PolicyConfig
  universe: UniverseConfig
  signals: ResolvedSignals
}

export interface ValidationReport {
  ok: boolean
  files: {file: string; ok: boolean}[]
  issues: ConfigIssue[]
  config: BotConfig | null
}

const KEYS = Object.keys(CONFIG_FILES) as ConfigFileKey[]

function protoKeyPaths(data: unknown, path: PathSegment[] = [], out: PathSegment[][] = []): PathSegment[][] {
  if (Array.isArray(data)) data.forEach((v, i) => protoKeyPaths(v, [...path, i], out))
  else if (data !== null && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) {
      if (k === '__proto__') out.push([...path, k])
      else protoKeyPaths(v, [...path, k], out)
    }
  }

  return out
}

/**
 * The pre-flight check every command runs first: all four files, every problem in one pass, each pinned to
 * file:line:column. Never throws for bad input.
 */
export function validateConfig(dir: string, env: NodeJS.ProcessEnv = process.env): ValidationReport {
  const issues: ConfigIssue[] = []
  const sources: Partial<Record<ConfigFileKey, YamlSource>> = {}
  const parsed: PartialConfig = {}
  const fromEnv = {app: new Map(), policy: new Map(), universe: new Map(), signals: new Map()} as Record<ConfigFileKey, Map<string, string[]>>
  const display = (key: ConfigFileKey) => path.join(dir, CONFIG_FILES[key].name)

  for (const key of KEYS) {
    const {schema, name} = CONFIG_FILES[key]
    const read = readYamlFile(path.join(dir, name), display(key))
    if (!read.ok) {
      issues.push(read.issue)
      continue
    }

    const source = read.source
    sources[key] = source
    const env_ = interpolateEnv(source.data, env)
    fromEnv[key] = env_.variables
    for (const m of env_.missing) {
      const pos = positionOf(source, m.path)
      issues.push({file: source.file, line: pos?.line ?? null, column: pos?.column ?? null, path: formatPath(m.path), code: 'env_unset', message: `environment variable ${m.name} is not set`})
    }

    const result = schema.safeParse(env_.data)
    const located: ConfigIssue[] = []
    if (!result.success) {
      const unset = new Set(env_.missing.map((m) => formatPath(m.path)))
      located.push(...toConfigIssues(result.error.issues, schema, source, env_.secretPaths).filter((i) => !unset.has(i.path)))
    }

    // zod's records drop a `__proto__` key without a word (strict objects do report it): report it everywhere.
    for (const p of protoKeyPaths(source.data)) {
      if (located.some((i) => i.path === formatPath(p))) continue
      const pos = positionOf(source, p)
      located.push({file: source.file, line: pos?.line ?? null, column: pos?.column ?? null, path: formatPath(p), code: 'unknown_key', message: 'unknown key "__proto__" (a reserved name, never a setting)'})
    }

    issues.push(...located)
    if (result.success && located.length === 0 && env_.missing.length === 0) (parsed as Record<string, unknown>)[key] = result.data
  }

  crossCheck(parsed, (key, p, value) => shownValue(fromEnv[key], p, value), (key, p, message, code = 'cross_check') => {
    const source = sources[key]
    const pos = source ? positionOf(source, p) : null
    issues.push({file: display(key), line: pos?.line ?? null, column: pos?.column ?? null, path: formatPath(p), code, message})
  })

  issues.sort((a, b) => KEYS.findIndex((k) => display(k) === a.file) - KEYS.findIndex((k) => display(k) === b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0))
  const files = KEYS.map((k) => ({file: display(k), ok: !issues.some((i) => i.file === display(k))}))
  const ok = issues.length === 0
  const config = ok ? complete(dir, fromEnv, parsed as Required<PartialConfig>) : null
  return {ok, files, issues, config}
}

function complete(dir: string, fromEnv: BotConfig['fromEnv'], parsed: Required<PartialConfig>): BotConfig {
  const {app, signals} = resolveLookbacks(parsed.app, parsed.signals)
  return {dir, fromEnv, app, policy: parsed.policy, universe: parsed.universe, signals}
}
