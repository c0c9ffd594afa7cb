import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {BotError} from '../../errors.js'
import {durationText} from '../../domain.js'
import {causeOf} from '../../files.js'

/** The bundled data, found from this module upwards: the same code runs from src/, dist/ and a bundled command. */
export const BUNDLED_DATA_DIR = findUp(path.dirname(fileURLToPath(import.meta.url)), path.join('market-data', 'coinbase-usd-1h'))

function findUp(from: string, relative: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative)
    if (fs.existsSync(candidate)) return candidate
    if (path.dirname(dir) === dir) return path.join(from, relative) // not found: the loader names this path
  }
}

/** One symbol's bars, columnar. Times are bar open times in epoch ms, ascending. */
export interface Series {
  time: Float64Array
  open: Float64Array
  high: Float64Array
  low: Float64Array
  close: Float64Array
  volume: Float64Array
  /** quoteVolumePrefix[i] = sum of close*volume over bars 0..i-1 (length n+1): windowed volume in O(1). */
  quoteVolumePrefix: Float64Array
}

export interface CandleSet {
  barMs: number
  symbols: string[]
  series: Map<string, Series>
}

const HEADER = 'timestamp,open,high,low,close,volume'
const SYMBOL_RE = /^([A-Z0-9]{2,12}-[A-Z0-9]{2,6})/
const HOUR_MS = 3_600_000
const FIELD_NAMES = ['timestamp', 'open', 'high', 'low', 'close', 'volume']

/** Paths in messages are relative to the working directory when they are inside it. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
}

function dataError(where: string, what: string): BotError {
  return new BotError(`${where}: ${what}`, 'MARKET_DATA_INVALID')
}

function withPrefix(s: Omit<Series, 'quoteVolumePrefix'>): Series {
  const n = s.time.length
  const prefix = new Float64Array(n + 1)
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + s.close[i] * s.volume[i]
  // A literal, not a spread: V8 gives spread copies a shape each, and every read of them goes megamorphic.
  return {time: s.time, open: s.open, high: s.high, low: s.low, close: s.close, volume: s.volume, quoteVolumePrefix: prefix}
}

function allocSeries(n: number): Omit<Series, 'quoteVolumePrefix'> {
  return {
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  }
}

const POW10 = Array.from({length: 23}, (_, k) => Number(`1e${k}`))

/**
 * Number in text[from, to): plain decimals (up to 15 digits) are parsed inline, exactly (an integer
 * mantissa divided by an exact power of ten is correctly rounded); anything else goes through Number().
 * NaN when the field is not a number. Parsing substrings with Number() alone was the load's main cost.
 */
function parseNumber(text: string, from: number, to: number): number {
  let i = from
  const negative = text.charCodeAt(i) === 45
  if (negative) i++
  let mantissa = 0
  let digits = 0
  let decimals = -1
  for (; i < to; i++) {
    const ch = text.charCodeAt(i)
    if (ch >= 48 && ch <= 57) {
      mantissa = mantissa * 10 + (ch - 48)
      digits++
      if (decimals >= 0) decimals++
    } else if (ch === 46 && decimals < 0) decimals = 0
    else return slowNumber(text, from, to)
  }

  if (digits === 0 || digits > 15) return slowNumber(text, from, to)
  const v = decimals > 0 ? mantissa / POW10[decimals] : mantissa
  return negative ? -v : v
}

// Decimal notation only: Number() alone would also take "", "0x1f" and "Infinity".
const DECIMAL_RE = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i

function slowNumber(text: string, from: number, to: number): number {
  const field = text.slice(from, to).trim()
  return DECIMAL_RE.test(field) ? Number(field) : Number.NaN
}

/** What is wrong with one parsed row (null = fine); the rules a replay relies on. */
function rowProblem(row: number[], prevTs: number): string | null {
  const [ts, open, high, low, close, volume] = row
  if (ts <= prevTs) return `timestamp ${ts} is not after the previous one (${prevTs})`
  if (open <= 0 || high <= 0 || low <= 0 || close <= 0) {
    return `prices must be > 0 (open ${open}, high ${high}, low ${low}, close ${close})`
  }

  if (volume < 0) return `volume ${volume} is negative`
  if (high < low || open > high || open < low || close > high || close < low) {
    return `open ${open} and close ${close} must lie between low ${low} and high ${high}`
  }

  return null
}

function parseHeader(text: string, shown: string): number {
  const eol = text.indexOf('\n')
  const header = (eol < 0 ? text : text.slice(0, eol)).replace(/\r$/, '').replace(/^\uFEFF/, '')
  if (header !== HEADER) throw dataError(`${shown}:1`, `header must be "${HEADER}", found "${header}"`)
  if (eol < 0) throw dataError(shown, 'no data rows after the header')
  return eol + 1
}

/**
 * Reads the 6 fields of the line text[from, end) into `row`; returns an error message or null. Walks the
 * text with indexOf instead of splitting, to allocate nothing per row.
 */
function readRow(text: string, from: number, end: number, row: number[]): string | null {
  let a = from
  for (let k = 0; k < 6; k++) {
    let comma = text.indexOf(',', a)
    if (comma < 0 || comma > end) comma = end
    if (k < 5 && comma === end) return `expected 6 fields, found ${k + 1}`
    if (k === 5 && comma !== end) return `expected 6 fields, found more`
    row[k] = parseNumber(text, a, comma)
    if (!Number.isFinite(row[k])) return `${FIELD_NAMES[k]} "${text.slice(a, comma).trim()}" is not a finite number`
    a = comma + 1
  }

  return null
}

/** Parses one CSV file; throws BotError naming file:line on the first problem. */
export function parseCandleCsv(raw: string, file: string, shown = displayPath(file)): Series {
  const text = raw.trimEnd()
  if (text.length === 0) throw dataError(shown, 'file is empty')
  let pos = parseHeader(text, shown)
  let rows = 1
  for (let i = text.indexOf('\n', pos); i >= 0; i = text.indexOf('\n', i + 1)) rows++
  const s = allocSeries(rows)
  const row = [0, 0, 0, 0, 0, 0]
  let prevTs = Number.NEGATIVE_INFINITY
  for (let j = 0; j < rows; j++) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = text.length
    const problem = readRow(text, pos, end, row) ?? rowProblem(row, prevTs)
    if (problem !== null) throw dataError(`${shown}:${j + 2}`, problem)
    prevTs = row[0]
    s.time[j] = row[0] * 1000
    s.open[j] = row[1]
    s.high[j] = row[2]
    s.low[j] = row[3]
    s.close[j] = row[4]
    s.volume[j] = row[5]
    pos = end + 1
  }

  return withPrefix(s)
}

/** The most common gap between consecutive bars (0 when there is no pair of bars). */
function commonGap(series: Iterable<Series>): number {
  const counts = new Map<number, number>()
  for (const s of series) {
    for (let i = 1; i < s.time.length; i++) {
      const gap = s.time[i] - s.time[i - 1]
      counts.set(gap, (counts.get(gap) ?? 0) + 1)
    }
  }

  let best = 0
  let bestCount = 0
  for (const [gap, count] of counts) {
    if (count > bestCount || (count === bestCount && gap < best)) [best, bestCount] = [gap, count]
  }

  return best
}

function listCandleFiles(dir: string, shown: string): Map<string, string> {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new BotError(code === 'ENOENT' ? `market data folder ${shown} does not exist` : `cannot read market data folder ${shown}: ${causeOf(error)}`, 'MARKET_DATA_MISSING')
  }

  const files = new Map<string, string>()
  for (const name of names.sort()) {
    const m = name.endsWith('.csv') ? SYMBOL_RE.exec(name) : null
    if (!m) continue
    const other = files.get(m[1])
    if (other) {
      throw dataError(shown, `two files for ${m[1]}: ${path.basename(other)} and ${name}; keep one`)
    }

    files.set(m[1], path.join(dir, name))
  }

  if (files.size === 0) {
    throw new BotError(`market data folder ${shown} has no candle files (<BASE>-<QUOTE>*.csv)`, 'MARKET_DATA_MISSING')
  }

  return files
}

/**
 * A candle file's text. Only a regular file (or a symlink to one) is read: a FIFO or a device would block the
 * read for ever, and a folder or a dangling link is named as what it is.
 */
function readCandleFile(file: string, shown: string): string {
  let st: fs.Stats
  try {
    st = fs.statSync(file)
  } catch (error) {
    const dangling = (error as NodeJS.ErrnoException).code === 'ENOENT' && fs.lstatSync(file, {throwIfNoEntry: false})?.isSymbolicLink()
    throw dataError(shown, dangling ? 'is a symbolic link to a file that does not exist' : `cannot read: ${causeOf(error)}`)
  }

  if (st.isDirectory()) throw dataError(shown, 'is a folder, not a candle file')
  if (!st.isFile()) throw dataError(shown, 'is not a regular file (a FIFO, socket or device?); candle files must be plain files')
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw dataError(shown, `cannot read: ${causeOf(error)}`)
  }
}

export interface LoadOptions {
  /** Names the folder in messages (e.g. by the environment variable it came from) instead of its path. */
  label?: string
  /** The bar length the data must have (the configured timeframe); a file of another length is refused. */
  barMs?: number
}

/**
 * Loads every `<BASE>-<QUOTE>*.csv` of a folder (or only `symbols`). All input is validated; any problem
 * throws a BotError naming file:line.
 */
export function loadCandleDir(dir: string, symbols?: readonly string[], options: LoadOptions = {}): CandleSet {
  const {label} = options
  const shown = label ?? displayPath(dir)
  const files = listCandleFiles(dir, shown)
  let wanted = [...files.keys()]
  if (symbols) {
    const missing = symbols.filter((s) => !files.has(s))
    if (missing.length > 0) {
      throw new BotError(`no candle file for ${missing.join(', ')} in ${shown}`, 'MARKET_DATA_MISSING')
    }

    wanted = [...new Set(symbols)].sort()
  }

  const series = new Map<string, Series>()
  for (const symbol of wanted) {
    const file = files.get(symbol)!
    const fileShown = label ? `${label}/${path.basename(file)}` : displayPath(file)
    const s = parseCandleCsv(readCandleFile(file, fileShown), file, fileShown)
    const gap = commonGap([s])
    if (options.barMs !== undefined && gap !== 0 && gap !== options.barMs) {
      throw dataError(fileShown, `its bars are ${durationText(gap)} apart but the timeframe is ${durationText(options.barMs)} (exchange.timeframe in app.yaml); use data of that bar length or set the timeframe to match`)
    }

    series.set(symbol, s)
  }

  const barMs = options.barMs ?? commonGap(series.values())
  if (barMs === 0) throw dataError(shown, 'cannot infer the bar length: every file has a single bar')
  return {barMs, symbols: wanted, series}
}

/** Index of the last element <= x in an ascending array (-1 if none). */
export function lastAtOrBefore(arr: Float64Array, x: number): number {
  let [lo, hi] = [0, arr.length]
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (arr[mid] <= x) lo = mid + 1
    else hi = mid
  }

  return lo - 1
}

function sameTimes(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Sorted union of two ascending time arrays; the common aligned case costs one comparison pass. */
function mergeTimes(a: Float64Array, b: Float64Array): Float64Array {
  if (sameTimes(a, b)) return a
  const out = new Float64Array(a.length + b.length)
  let [i, j, k] = [0, 0, 0]
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j]
    if (i < a.length && a[i] === v) i++
    if (j < b.length && b[j] === v) j++
    out[k++] = v
  }

  return out.subarray(0, k)
}

/** The replay timeline (sorted union of every bar open time) and the latest first-bar time of any symbol. */
export function timelineOf(data: CandleSet): {timeline: Float64Array; latestFirst: number} {
  let timeline: Float64Array = new Float64Array(0)
  let latestFirst = Number.NEGATIVE_INFINITY
  for (const symbol of data.symbols) {
    const s = data.series.get(symbol)!
    timeline = timeline.length === 0 ? s.time : mergeTimes(timeline, s.time)
    latestFirst = Math.max(latestFirst, s.time[0])
  }

  return {timeline, latestFirst}
}

/**
 * Per-symbol positions at a replay time: the latest bar at or before it (-1 = none yet) and the first bar
 * of the window of `windowMs` ending there. Moving forward is incremental, so a step costs O(symbols).
 */
export class BarCursor {
  readonly latest: Int32Array
  readonly windowStart: Int32Array
  /** Symbols with at least one bar so far. */
  listed = 0

  constructor(
    private readonly series: readonly Series[],
    private readonly windowMs: number,
    at: number,
  ) {
    this.latest = new Int32Array(series.length)
    this.windowStart = new Int32Array(series.length)
    for (let s = 0; s < series.length; s++) {
      const time = series[s].time
      this.latest[s] = lastAtOrBefore(time, at)
      this.windowStart[s] = lastAtOrBefore(time, at - windowMs) + 1
      if (this.latest[s] >= 0) this.listed++
    }
  }

  /** Moves to a later time `at`. */
  forward(at: number): void {
    const from = at - this.windowMs
    for (let s = 0; s < this.series.length; s++) {
      const time = this.series[s].time
      let c = this.latest[s]
      if (c < 0 && time[0] <= at) this.listed++
      while (c + 1 < time.length && time[c + 1] <= at) c++
      this.latest[s] = c
      let lo = this.windowStart[s]
      while (lo < time.length && time[lo] <= from) lo++
      this.windowStart[s] = lo
    }
  }
}

/** mulberry32: small, fast, seedable; good enough for synthetic prices and fault injection. */
export function mulberry32(state: number): {value: number; state: number} {
  const next = (state + 0x6d2b79f5) | 0
  let t = next
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return {value: ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296, state: next >>> 0}
}

/**
 * Deterministic synthetic hourly bars for benchmarks: `symbolCount` aligned random walks named
 * S0001-USD... starting 2023-01-01 UTC.
 */
export function generateCandleSet(symbolCount: number, bars: number, seed = 1): CandleSet {
  let state = seed >>> 0
  // mulberry32 inlined: millions of draws, no allocation per draw.
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }

  const start = Date.UTC(2023, 0, 1)
  const width = Math.max(4, String(symbolCount).length)
  const symbols: string[] = []
  const series = new Map<string, Series>()
  for (let k = 1; k <= symbolCount; k++) {
    const symbol = `S${String(k).padStart(width, '0')}-USD`
    const s = allocSeries(bars)
    let price = 10 ** (rand() * 6 - 1) // 0.1 .. 100,000: spans every precision class
    const baseVolume = (1e6 / price) * (0.05 + rand())
    for (let i = 0; i < bars; i++) {
      const open = price
      const close = open * Math.exp((rand() - 0.5) * 0.02)
      s.time[i] = start + i * HOUR_MS
      s.open[i] = open
      s.close[i] = close
      s.high[i] = Math.max(open, close) * (1 + rand() * 0.004)
      s.low[i] = Math.min(open, close) * (1 - rand() * 0.004)
      s.volume[i] = baseVolume * (0.2 + rand() * 1.6)
      price = close
    }

    symbols.push(symbol)
    series.set(symbol, withPrefix(s))
  }

  return {barMs: HOUR_MS, symbols, series}
}
