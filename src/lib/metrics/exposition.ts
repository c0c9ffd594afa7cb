/**
 * A parser for the Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines and
 * sample lines `name{label="value",...} value [timestamp]`, with escaped label values (\\ \" \n) and the
 * special values NaN, +Inf and -Inf. No prom-client: `bot metrics` reads a running bot with this alone.
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
  /** Milliseconds, when the line carries one. */
  timestamp: number | null
}

export interface Family {
  name: string
  /** counter, gauge, histogram, summary or untyped. */
  type: string
  help: string
  samples: Sample[]
}

export interface Exposition {
  families: Map<string, Family>
  samples: Sample[]
}

export class ExpositionError extends Error {
  constructor(readonly line: number, what: string) {
    super(`line ${line}: ${what}`)
    this.name = 'ExpositionError'
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
/** Sample names that belong to a histogram's or summary's family. */
const CHILD_SUFFIXES = ['_bucket', '_sum', '_count', '_created']

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>()
  const samples: Sample[] = []
  const family = (name: string) => {
    let f = families.get(name)
    if (!f) families.set(name, (f = {name, type: 'untyped', help: '', samples: []}))
    return f
  }

  const lines = text.split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '') continue
    if (line.startsWith('#')) {
      const meta = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line)
      if (!meta) continue // a plain comment
      const [, keyword, name, rest = ''] = meta
      if (!NAME.test(name) || NAME.exec(name)![0] !== name) throw new ExpositionError(i + 1, `bad metric name "${name}" in ${keyword}`)
      if (keyword === 'HELP') family(name).help = unescapeHelp(rest, i + 1)
      else family(name).type = rest.trim() || 'untyped'
      continue
    }

    const sample = parseSample(line, i + 1)
    samples.push(sample)
    family(familyOf(sample.name, families)).samples.push(sample)
  }

  return {families, samples}
}

function familyOf(name: string, families: Map<string, Family>): string {
  if (families.has(name)) return name
  for (const suffix of CHILD_SUFFIXES) {
    if (!name.endsWith(suffix)) continue
    const base = families.get(name.slice(0, -suffix.length))
    if (base && (base.type === 'histogram' || base.type === 'summary')) return base.name
  }

  return name
}

function parseSample(line: string, n: number): Sample {
  const name = NAME.exec(line)?.[0]
  if (!name) throw new ExpositionError(n, `expected a metric name, found "${line.slice(0, 40)}"`)
  let rest = line.slice(name.length)
  let labels: Record<string, string> = {}
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest, n)
    labels = parsed.labels
    rest = rest.slice(parsed.length)
  }

  const fields = rest.trim().split(/\s+/)
  if (fields.length < 1 || fields[0] === '' || fields.length > 2) throw new ExpositionError(n, `expected "value [timestamp]" after ${name}, found "${rest.trim()}"`)
  const value = parseValue(fields[0])
  if (value === null) throw new ExpositionError(n, `${name}: "${fields[0]}" is not a number`)
  let timestamp: number | null = null
  if (fields.length === 2) {
    if (!/^-?\d+$/.test(fields[1])) throw new ExpositionError(n, `${name}: timestamp "${fields[1]}" is not an integer`)
    timestamp = Number(fields[1])
  }

  return {name, labels, value, timestamp}
}

/** Parses `{a="x",b="y",}` at the start of `text`; returns the labels and how many characters they took. */
function parseLabels(text: string, n: number): {labels: Record<string, string>; length: number} {
  const labels: Record<string, string> = {}
  let i = 1
  const skipSpace = () => {
    while (text[i] === ' ' || text[i] === '\t') i++
  }

  for (;;) {
    skipSpace()
    if (text[i] === '}') return {labels, length: i + 1}
    const name = LABEL_NAME.exec(text.slice(i))?.[0]
    if (!name) throw new ExpositionError(n, `expected a label name at column ${i + 1}`)
    i += name.length
    skipSpace()
    if (text[i] !== '=') throw new ExpositionError(n, `expected = after label ${name}`)
    i++
    skipSpace()
    if (text[i] !== '"') throw new ExpositionError(n, `expected a quoted value for label ${name}`)
    let value = ''
    for (i++; ; i++) {
      const c = text[i]
      if (c === undefined) throw new ExpositionError(n, `unterminated value of label ${name}`)
      if (c === '"') break
      if (c === '\\') {
        const next = text[++i]
        if (next === 'n') value += '\n'
        else if (next === '\\' || next === '"') value += next
        else throw new ExpositionError(n, `bad escape "\\${next ?? ''}" in label ${name}`)
      } else {
        value += c
      }
    }

    if (name in labels) throw new ExpositionError(n, `label ${name} appears twice`)
    labels[name] = value
    i++
    skipSpace()
    if (text[i] === ',') i++
    else if (text[i] !== '}') throw new ExpositionError(n, `expected , or } after label ${name}`)
  }
}

/** As Go's ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes "Nan"). */
function parseValue(text: string): number | null {
  if (FLOAT.test(text)) return Number(text)
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text)
  if (!special) return null
  if (special[2].toLowerCase() === 'nan') return Number.NaN
  return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
}

/** HELP text escapes only \\ and \n. */
function unescapeHelp(text: string, n: number): string {
  return text.replace(/\\(.)/g, (all, c: string) => {
    if (c === 'n') return '\n'
    if (c === '\\') return c
    throw new ExpositionError(n, `bad escape "${all}" in HELP`)
  })
}

/** The value of the one sample `name` whose labels include `labels`, or null. */
export function sampleValue(e: Exposition, name: string, labels: Record<string, string> = {}): number | null {
  const found = e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  return found ? found.value : null
}

/** Every sample named `name`. */
export function samplesNamed(e: Exposition, name: string): Sample[] {
  return e.samples.filter((s) => s.name === name)
}
