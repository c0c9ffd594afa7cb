import type * as z from 'zod/mini'

import type {ConfigIssue, PathSegment} from './issues.js'
import {formatPath} from './issues.js'
import {didYouMean} from './suggest.js'
import {positionOf, type YamlSource} from './yaml-source.js'

type AnySchema = z.ZodMiniType
interface Def {
  type: string
  shape?: Record<string, AnySchema>
  innerType?: AnySchema
  in?: AnySchema
  element?: AnySchema
  valueType?: AnySchema
  options?: AnySchema[]
  discriminator?: string
}

const defOf = (s: AnySchema): Def => (s as unknown as {_zod: {def: Def}})._zod.def

/** The schema that describes the value at `path` in `data`, following defaults, records and discriminated unions. */
function schemaAt(schema: AnySchema, data: unknown, path: readonly PathSegment[]): AnySchema | undefined {
  let s: AnySchema | undefined = schema
  let value: unknown = data
  for (let i = 0; ; i++) {
    s = unwrap(s!, value)
    if (!s || i === path.length) return s
    const seg = path[i]
    const def = defOf(s)
    if (def.type === 'object') s = def.shape?.[String(seg)]
    else if (def.type === 'array') s = def.element
    else if (def.type === 'record') s = def.valueType
    else return undefined
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[seg as string] : undefined
  }
}

function unwrap(schema: AnySchema, value: unknown): AnySchema | undefined {
  let s = schema
  for (;;) {
    const def = defOf(s)
    if (def.innerType) s = def.innerType
    else if (def.type === 'pipe' && def.in) s = def.in
    else if (def.type === 'union' && def.options) {
      const tag = def.discriminator && value && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined
      const match = def.options.find((o) => {
        const shape = defOf(o).shape
        const lit = shape && def.discriminator ? (shape[def.discriminator] as unknown as {_zod: {def: {values?: unknown[]}}})?._zod.def.values : undefined
        return lit?.includes(tag)
      })
      if (!match) return undefined
      s = match
    } else return s
  }
}

export function knownKeys(schema: AnySchema, data: unknown, path: readonly PathSegment[]): string[] {
  const s = schemaAt(schema, data, path)
  const shape = s ? defOf(s).shape : undefined
  return shape ? Object.keys(shape) : []
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let v = data
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[seg as string]
  }

  return v
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'an empty value'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  return String(value)
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list',
  int: 'a whole number', record: 'a mapping', literal: 'a fixed value',
}

function bound(origin: string, limit: unknown, inclusive: boolean, big: boolean): string {
  if (origin === 'array') return big ? `at most ${limit} items` : `at least ${limit} item${limit === 1 ? '' : 's'}`
  if (origin === 'string') return big ? `at most ${limit} characters` : `at least ${limit} character${limit === 1 ? '' : 's'}`
  return `a number ${big ? (inclusive ? '<=' : '<') : inclusive ? '>=' : '>'} ${limit}`
}

/** Turn zod's issues into located, human issues; values that came from the environment are never shown. */
export function toConfigIssues(
  issues: readonly z.core.$ZodIssue[], schema: AnySchema, source: YamlSource, secretPaths: Set<string>,
): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const issue of issues) {
    const path = issue.path as PathSegment[]
    const raw = valueAt(source.data, path)
    const found = secretPaths.has(formatPath(path))
      ? 'a value from the environment (not shown)'
      : typeof path.at(-1) === 'string' && String(path.at(-1)).endsWith('_env') && typeof raw === 'string'
        ? 'a value that is not a variable name (not shown, in case it is a secret pasted by mistake)'
        : describeValue(raw)
    const at = (p: readonly PathSegment[], code: string, message: string) => {
      const pos = positionOf(source, p)
      out.push({file: source.file, line: pos?.line ?? null, column: pos?.column ?? null, path: formatPath(p), code, message})
    }

    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(schema, source.data, path)
        for (const key of issue.keys) {
          const hint = didYouMean(key, known)
          at([...path, key], 'unknown_key', `unknown key ${JSON.stringify(key)}${hint ? `; did you mean "${hint}"?` : known.length > 0 ? `; expected one of: ${known.join(', ')}` : ''}`)
        }

        break
      }

      case 'invalid_type': {
        const expected = TYPE_WORDS[issue.expected] ?? issue.expected
        at(path, raw === undefined ? 'missing_key' : 'invalid_type', raw === undefined ? `required, expected ${expected}` : `expected ${expected}, found ${found}`)
        break
      }

      case 'too_big':
        at(path, 'too_big', `expected ${bound(issue.origin, issue.maximum, issue.inclusive ?? true, true)}, found ${issue.origin === 'array' ? `${(raw as unknown[]).length} items` : found}`)
        break
      case 'too_small':
        at(path, 'too_small', `expected ${bound(issue.origin, issue.minimum, issue.inclusive ?? true, false)}, found ${issue.origin === 'array' ? `${(raw as unknown[]).length} items` : found}`)
        break
      case 'invalid_format':
        at(path, 'invalid_format', `expected ${issue.message}, found ${found}`)
        break
      case 'invalid_value':
        at(path, 'invalid_value', `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found}`)
        break
      case 'invalid_union': {
        const disc = (issue as {discriminator?: string}).discriminator
        const options = (issue as {options?: unknown[]}).options
        if (disc) {
          const p = path.at(-1) === disc ? path : [...path, disc]
          const tag = valueAt(source.data, p)
          const list = options?.length ? `; expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : ''
          at(p, tag === undefined ? 'missing_key' : 'invalid_value', `${tag === undefined ? 'required' : `unknown ${disc} ${describeValue(tag)}`}${list}`)
        } else at(path, 'invalid_union', `expected one of the documented forms, found ${found}`)
        break
      }

      case 'invalid_key': {
        const key = path.at(-1)
        const inner = issue.issues[0]
        at(path, 'invalid_key', `invalid name ${JSON.stringify(key)}: expected ${inner?.message ?? 'a valid name'}`)
        break
      }

      default:
        at(path, issue.code, issue.message)
    }
  }

  return out
}
