import {readFileSync, statSync} from 'node:fs'
import yaml from 'js-yaml'

import {causeOf} from '../files.js'
import {type ConfigIssue, formatPath, type PathSegment} from './issues.js'

export const MAX_CONFIG_BYTES = 1024 * 1024
const MAX_DEPTH = 64
const MAX_EXPANDED_NODES = 100_000

export interface Position {
  line: number
  column: number
}

/** A parsed YAML document and the line:column of every key and list item in it. */
export interface YamlSource {
  file: string
  data: unknown
  positions: Map<string, Position>
}

export type YamlResult = {ok: true; source: YamlSource} | {ok: false; issue: ConfigIssue}

interface Frame {
  offset: number
  kind: string | null
  result: unknown
  children: Frame[]
}

function fileIssue(file: string, code: string, message: string, line: number | null = null, column: number | null = null): YamlResult {
  return {ok: false, issue: {file, line, column, path: '', code, message}}
}

/** Read and parse one config file; every failure becomes one clear issue, never an exception. */
export function readYamlFile(absPath: string, file: string): YamlResult {
  let size: number
  try {
    const st = statSync(absPath)
    if (!st.isFile()) return fileIssue(file, 'not_a_file', 'is not a regular file')
    size = st.size
  } catch (error) {
    // Only a file that is really absent is "not found"; a folder bot may not read or a symlink loop says so.
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? fileIssue(file, 'missing_file', 'file not found') : fileIssue(file, 'unreadable_file', `cannot read file: ${causeOf(error)}`)
  }

  if (size > MAX_CONFIG_BYTES) {
    return fileIssue(file, 'file_too_large', `file is ${(size / 1024 / 1024).toFixed(1)} MB; a config file may be at most 1 MB`)
  }

  let text: string
  try {
    const bytes = readFileSync(absPath)
    const nul = bytes.indexOf(0)
    if (nul !== -1) return binaryIssue(file, bytes.subarray(0, nul).toString('utf8'))
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch (error) {
    // TextDecoder's error has a code too (ERR_ENCODING_INVALID_ENCODED_DATA); only a failed read is unreadable.
    const code = (error as NodeJS.ErrnoException).code
    if (code && code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') return fileIssue(file, 'unreadable_file', `cannot read file: ${causeOf(error)}`)
    return fileIssue(file, 'not_utf8', 'file is not valid UTF-8 text')
  }

  return parseYaml(text, file)
}

function binaryIssue(file: string, before: string): YamlResult {
  const lines = before.split('\n')
  return fileIssue(file, 'binary_file', 'file contains binary data (a NUL byte); expected YAML text', lines.length, lines.at(-1)!.length + 1)
}

export function parseYaml(text: string, file: string): YamlResult {
  if (text.replace(/^\uFEFF/, '').trim() === '' || stripComments(text).trim() === '') {
    return fileIssue(file, 'empty_file', 'file is empty; expected a YAML mapping of settings')
  }

  const root: Frame = {offset: 0, kind: null, result: undefined, children: []}
  const stack: Frame[] = [root]
  let aliases = 0
  let data: unknown
  try {
    data = yaml.load(text, {
      filename: file,
      schema: yaml.CORE_SCHEMA,
      maxDepth: MAX_DEPTH,
      listener(event, state) {
        if (event === 'open') {
          const frame: Frame = {offset: skipBlank(text, state.position), kind: null, result: undefined, children: []}
          if (text.charCodeAt(frame.offset) === 0x2a /* '*' */ && ++aliases > 1000) {
            throw new yaml.YAMLException('too many aliases (more than 1000)')
          }

          stack.push(frame)
        } else {
          const frame = stack.pop()!
          frame.kind = state.kind
          frame.result = state.result
          stack.at(-1)!.children.push(frame)
        }
      },
    } as yaml.LoadOptions)
  } catch (error) {
    if (error instanceof yaml.YAMLException) {
      const mark = (error as yaml.YAMLException & {mark?: {line: number; column: number}}).mark
      const reason = error.reason ?? error.message
      const code = /duplicated mapping key/.test(reason) ? 'duplicate_key' : /tab characters/.test(reason) ? 'tab_indent' : /exceeded maxDepth/.test(reason) ? 'too_deep' : 'yaml_syntax'
      const message = code === 'duplicate_key' ? 'duplicate key (each key may appear once in a mapping)' : code === 'too_deep' ? `nesting is deeper than ${MAX_DEPTH} levels` : `YAML syntax: ${reason}`
      return fileIssue(file, code, message, mark ? mark.line + 1 : null, mark ? mark.column + 1 : null)
    }

    if (error instanceof RangeError) return fileIssue(file, 'too_deep', `nesting is deeper than ${MAX_DEPTH} levels`)
    throw error
  }

  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const found = data === null || data === undefined ? 'nothing' : Array.isArray(data) ? 'a list' : `a ${typeof data}`
    const at = toPosition(root.children.at(-1)?.offset ?? 0, lineStartOffsets(text))
    return fileIssue(file, 'not_a_mapping', `expected a mapping of settings (key: value) at the top level, found ${found}`, at.line, at.column)
  }

  if (expandedSize(data, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES) {
    return fileIssue(file, 'too_large', `document expands to more than ${MAX_EXPANDED_NODES} values (alias bomb?)`)
  }

  const positions = new Map<string, Position>()
  const lineStarts = lineStartOffsets(text)
  const top = root.children.at(-1)
  if (top) indexPositions(top, [], positions, lineStarts)
  return {ok: true, source: {file, data, positions}}
}

function stripComments(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/^\s*#.*$/gm, '').replace(/^---\s*$/gm, '').replace(/^\.\.\.\s*$/gm, '')
}

function skipBlank(text: string, from: number): number {
  let i = from
  while (i < text.length) {
    const ch = text[i]
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++
    else if (ch === '#') while (i < text.length && text[i] !== '\n') i++
    else break
  }

  return i
}

/** Counts values as a reader walking the tree would see them, so shared (aliased) subtrees count every time. */
function expandedSize(value: unknown, budget: number): number {
  let count = 0
  const walk = (v: unknown): void => {
    if (++count > budget) return
    if (Array.isArray(v)) for (const x of v) { walk(x); if (count > budget) return }
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) { walk(x); if (count > budget) return }
  }

  walk(value)
  return count
}

function lineStartOffsets(text: string): number[] {
  const starts = [0]
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1)
  return starts
}

function toPosition(offset: number, lineStarts: number[]): Position {
  let lo = 0
  let hi = lineStarts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (lineStarts[mid] <= offset) lo = mid
    else hi = mid - 1
  }

  return {line: lo + 1, column: offset - lineStarts[lo] + 1}
}

/**
 * js-yaml reports composeNode open/close events; a mapping's children alternate key, value and a sequence's
 * children are its items. An attempt that js-yaml rolls back leaves extra frames at the front, so pair from the end.
 * A flow collection in block position (`- [a, b]`, or `key:` then `{a: 1}` on the next line) is read by a block
 * mapping attempt that keeps the inner node: a frame whose last child is that same node, so look through it.
 */
function indexPositions(frame: Frame, path: PathSegment[], out: Map<string, Position>, lineStarts: number[]): void {
  const key = formatPath(path)
  if (!out.has(key)) out.set(key, toPosition(frame.offset, lineStarts))
  let inner = frame.children.at(-1)
  while (inner && inner.kind === frame.kind && inner.result === frame.result && typeof frame.result === 'object' && frame.result !== null) {
    frame = inner
    inner = frame.children.at(-1)
  }

  const kids = frame.children
  if (frame.kind === 'mapping' && frame.result && typeof frame.result === 'object') {
    const keys = new Set(Object.keys(frame.result))
    for (let i = kids.length - 2; i >= 0; i -= 2) {
      const name = String(kids[i].result)
      if (!keys.has(name)) break
      const childPath = [...path, name]
      out.set(formatPath(childPath), toPosition(kids[i].offset, lineStarts))
      indexPositions(kids[i + 1], childPath, out, lineStarts)
    }
  } else if (frame.kind === 'sequence' && Array.isArray(frame.result)) {
    const items = kids.slice(-frame.result.length)
    for (const [i, item] of items.entries()) indexPositions(item, [...path, i], out, lineStarts)
  }
}

/** The position of the closest known ancestor of `path`. */
export function positionOf(source: YamlSource, path: readonly PathSegment[]): Position | null {
  for (let n = path.length; n >= 0; n--) {
    const pos = source.positions.get(formatPath(path.slice(0, n)))
    if (pos) return pos
  }

  return null
}
