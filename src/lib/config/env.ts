import {formatPath, type PathSegment} from './issues.js'

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

export interface EnvResult {
  data: unknown
  /** Paths whose value came from the environment: never echo them back. */
  secretPaths: Set<string>
  /** The same paths, each with the variables its value came from (to name them instead of the value). */
  variables: Map<string, string[]>
  missing: {path: PathSegment[]; name: string}[]
}

/** How a message shows a config value: the value itself, or the variables it came from, never their content. */
export function shownValue(variables: ReadonlyMap<string, string[]> | undefined, path: readonly PathSegment[], value: string): string {
  const names = variables?.get(formatPath(path))
  return names ? `the value of ${names.map((n) => `$${n}`).join(', ')}` : value
}

/** Replace `${VAR}` in string values with the environment's value; a missing variable is reported, never guessed. */
export function interpolateEnv(data: unknown, env: NodeJS.ProcessEnv): EnvResult {
  const secretPaths = new Set<string>()
  const variables = new Map<string, string[]>()
  const missing: EnvResult['missing'] = []
  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value
      const used: string[] = []
      const out = value.replace(REF, (_, name: string) => {
        used.push(name)
        const v = env[name]
        if (v === undefined || v === '') {
          missing.push({path, name})
          return ''
        }

        return v
      })
      if (used.length > 0) {
        secretPaths.add(formatPath(path))
        variables.set(formatPath(path), used)
      }

      return out
    }

    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]))
    if (value !== null && typeof value === 'object') {
      // fromEntries defines own properties: a `__proto__` key stays a (unknown) key instead of setting the prototype.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]))
    }

    return value
  }

  return {data: walk(data, []), secretPaths, variables, missing}
}
