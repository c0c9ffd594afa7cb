import {formatPath, type PathSegment} from './issues.js'

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

export interface EnvResult {
  data: unknown
  /** Paths whose value came from the environment: never echo them back. */
  secretPaths: Set<string>
  missing: {path: PathSegment[]; name: string}[]
}

/** Replace `${VAR}` in string values with the environment's value; a missing variable is reported, never guessed. */
export function interpolateEnv(data: unknown, env: NodeJS.ProcessEnv): EnvResult {
  const secretPaths = new Set<string>()
  const missing: EnvResult['missing'] = []
  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value
      let used = false
      const out = value.replace(REF, (_, name: string) => {
        used = true
        const v = env[name]
        if (v === undefined || v === '') {
          missing.push({path, name})
          return ''
        }

        return v
      })
      if (used) secretPaths.add(formatPath(path))
      return out
    }

    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]))
    if (value !== null && typeof value === 'object') {
      // fromEntries defines own properties: a `__proto__` key stays a (unknown) key instead of setting the prototype.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]))
    }

    return value
  }

  return {data: walk(data, []), secretPaths, missing}
}
