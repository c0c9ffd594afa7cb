// Replay speed and memory through the full loop. Throughput is timed on the real CLI (`bot run --json` to a
// file, as a user runs it): a full replay minus a one-cycle run of the same setup, so start-up (loading the
// candle files, opening SQLite, warm-up) is left out. Memory is sampled in-process over a long replay.
import {spawnSync} from 'node:child_process'
import {closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin', 'run.js')
/** The loop, for the runs made in a process of their own. */
const LOOP_URL = pathToFileURL(path.join(ROOT, 'dist/lib/engine/loop.js')).href
const RUNS = 5
const TARGETS = {symbolBarsPerSecond: 1_000_000, msPerCycle26: 0.25, rssGrowthMb: 10}

/** Writes `symbols` generated symbols of `bars` hourly bars as CSV files and a config trading them (one tier). */
export async function syntheticSetup(dir, symbols, bars) {
  const {generateCandleSet} = await import(path.join(ROOT, 'dist/lib/exchange/replay/candle-files.js'))
  const set = generateCandleSet(symbols, bars, 7)
  const data = path.join(dir, 'candles')
  mkdirSync(data, {recursive: true})
  // 10 significant digits: what an exchange prints, and the loader's fast number path.
  const n = (x) => Number(x.toPrecision(10))
  for (const [symbol, s] of set.series) {
    const lines = ['timestamp,open,high,low,close,volume']
    for (let i = 0; i < s.time.length; i++) lines.push(`${s.time[i] / 1000},${n(s.open[i])},${n(s.high[i])},${n(s.low[i])},${n(s.close[i])},${n(s.volume[i])}`)
    writeFileSync(path.join(data, `${symbol}-1h.csv`), `${lines.join('\n')}\n`)
  }

  const config = path.join(dir, 'config')
  cpSync(path.join(ROOT, 'config'), config, {recursive: true})
  writeFileSync(path.join(config, 'universe.yaml'), `tiers:\n  tier1:\n    symbols: [${set.symbols.join(', ')}]\n    min_24h_quote_volume: 0\n    max_spread_pct: 5\nforce_eligible_symbols: [${set.symbols.slice(0, 3).join(', ')}]\nexcluded_symbols: []\n`)
  const edit = (file, fn) => writeFileSync(path.join(config, file), fn(readFileSync(path.join(config, file), 'utf8')))
  edit('app.yaml', (t) => t.replace('data_dir: null', `data_dir: ${JSON.stringify(data)}`).replace(/ {8}tier[23]: \d+\n/g, ''))
  edit('policy.yaml', (t) => t.replace(/ {4}tier2: 5\n {4}tier3: 2\.5\n/, '').replace(/ {4}tier2:\n {6}slices: 2\n {6}spacing_seconds: 30\n {4}tier3:\n {6}slices: 4\n {6}spacing_seconds: 60\n/, ''))
  return config
}

/** `bot run --json` into a file on a fresh state dir; returns wall ms and the summary line. */
function timedRun(configDir, stateDir, extra = []) {
  rmSync(stateDir, {recursive: true, force: true})
  const outFile = `${stateDir}.jsonl`
  const fd = openSync(outFile, 'w')
  const started = performance.now()
  const r = spawnSync(process.execPath, [BIN, 'run', '--json', '--config-dir', configDir, '--state-dir', stateDir, ...extra], {stdio: ['ignore', fd, 'pipe'], encoding: 'utf8'})
  const ms = performance.now() - started
  closeSync(fd)
  if (r.status !== 0) throw new Error(`bot run exited ${r.status}: ${r.stderr}`)
  const lines = readFileSync(outFile, 'utf8').trimEnd().split('\n')
  return {ms, summary: JSON.parse(lines.at(-1))}
}

/** Loop time of a whole replay: median over RUNS of (full run - one-cycle run), per cycle. */
function loopTime(configDir, tmp) {
  const perCycle = []
  let cycles = 0
  for (let i = 0; i < RUNS; i++) {
    const full = timedRun(configDir, path.join(tmp, 'full'))
    const one = timedRun(configDir, path.join(tmp, 'one'), ['--cycles', '1'])
    cycles = full.summary.cycles
    perCycle.push((full.ms - one.ms) / (cycles - 1))
  }

  perCycle.sort((a, b) => a - b)
  return {cycles, msPerCycle: perCycle[Math.floor(perCycle.length / 2)], spread: [perCycle[0], perCycle.at(-1)]}
}

/**
 * The same replay run `times` times in one process, each on a fresh state dir, events written as JSON lines
 * to a file as `bot run --json` does: per-cycle time of the first run and of the last, from the second cycle
 * to the end. The target is measured cold (one process, one run); this shows what of it is JIT warm-up.
 */
function warmLoop(configDir, tmp, times) {
  const script = `
    const {runBot} = await import(${JSON.stringify(LOOP_URL)})
    const {openSync, writeSync, closeSync, rmSync} = await import('node:fs')
    const perCycle = []
    for (let run = 0; run < ${times}; run++) {
      const stateDir = ${JSON.stringify(path.join(tmp, 'warm'))} + run
      const fd = openSync(stateDir + '.jsonl', 'w')
      let cycles = 0, from = 0, to = 0
      await runBot({configDir: ${JSON.stringify(configDir)}, stateDir, stop: new AbortController().signal, observe: (e) => {
        writeSync(fd, JSON.stringify(e) + '\\n')
        if (e.type !== 'cycle') return
        if (++cycles === 2) from = performance.now()
        to = performance.now()
      }})
      closeSync(fd)
      rmSync(stateDir, {recursive: true, force: true})
      perCycle.push((to - from) / (cycles - 2))
    }
    console.log(JSON.stringify(perCycle))`
  return inChild('the warm-loop run', script)
}

/**
 * Memory every 500 cycles of a replay in a process of its own, from cycle 500 (after warm-up) on: RSS and
 * heap after a full garbage collection (what the run holds: a leak grows it), and RSS as found (how far
 * V8 lets garbage pile up before collecting it, which is not held memory).
 */
function memoryOverTime(configDir, stateDir) {
  const script = `
    const {runBot} = await import(${JSON.stringify(LOOP_URL)})
    const samples = []
    let cycles = 0
    await runBot({configDir: ${JSON.stringify(configDir)}, stateDir: ${JSON.stringify(stateDir)}, stop: new AbortController().signal, observe: (e) => {
      if (e.type !== 'cycle' || ++cycles % 500 !== 0) return
      const asFound = process.memoryUsage().rss
      globalThis.gc()
      const {rss, heapUsed} = process.memoryUsage()
      samples.push({asFound: asFound / 1e6, rss: rss / 1e6, heap: heapUsed / 1e6})
    }})
    console.log(JSON.stringify({cycles, samples}))`
  return inChild('the memory run', script, ['--expose-gc'])
}

/** Runs an ES module script in a node process of its own; returns the JSON of its last output line. */
function inChild(what, script, nodeFlags = []) {
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], {encoding: 'utf8', maxBuffer: 16 * 1024 * 1024})
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1))
}

const f = (x, d = 2) => x.toLocaleString('en-US', {maximumFractionDigits: d, minimumFractionDigits: d})
const verdict = (ok) => (ok ? 'PASS' : 'FAIL')

export async function replaySection() {
  const lines = []
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bot-bench-'))
  try {
    const bundled = loopTime(path.join(ROOT, 'config'), tmp)
    lines.push(`bundled data, 26 symbols, ${bundled.cycles} cycles: ${f(bundled.msPerCycle, 3)} ms per cycle (runs ${f(bundled.spread[0], 3)}..${f(bundled.spread[1], 3)}), ${f(26 / bundled.msPerCycle * 1000, 0)} symbol-bars/s`)
    lines.push(`  target <= ${TARGETS.msPerCycle26} ms per cycle at 26 symbols: ${verdict(bundled.msPerCycle <= TARGETS.msPerCycle26)}`)
    const warm = warmLoop(path.join(ROOT, 'config'), tmp, 6)
    lines.push(`  not the target's measure, for what of it is JIT warm-up: the same replay 6 times in one process, in-process: ${f(warm[0], 3)} ms per cycle in the first run, ${f(warm.at(-1), 3)} in the last`)

    const big = await syntheticSetup(path.join(tmp, 'big'), 1000, 1500)
    const wide = loopTime(big, tmp)
    const rate = 1000 / wide.msPerCycle * 1000
    lines.push(`generated data, 1,000 symbols, ${wide.cycles} cycles: ${f(wide.msPerCycle, 3)} ms per cycle (runs ${f(wide.spread[0], 3)}..${f(wide.spread[1], 3)}), ${f(rate, 0)} symbol-bars/s`)
    lines.push(`  target >= ${TARGETS.symbolBarsPerSecond.toLocaleString('en-US')} symbol-bars/s at 1,000 symbols: ${verdict(rate >= TARGETS.symbolBarsPerSecond)}`)

    const long = await syntheticSetup(path.join(tmp, 'long'), 250, 5600)
    const mem = memoryOverTime(long, path.join(tmp, 'long-state'))
    const series = (key) => mem.samples.map((x) => f(x[key], 0)).join(' ')
    const rss = mem.samples.map((x) => x.rss)
    const growth = Math.max(...rss) - rss[0]
    lines.push(`generated data, 250 symbols, ${mem.cycles} cycles, every 500 cycles from cycle 500:`)
    lines.push(`  RSS after a full GC:  ${series('rss')} MB`)
    lines.push(`  heap after a full GC: ${series('heap')} MB`)
    lines.push(`  RSS as found:         ${series('asFound')} MB (garbage not yet collected included)`)
    lines.push(`  target RSS growth after a full GC <= ${TARGETS.rssGrowthMb} MB after warm-up (cycle 500 on): ${f(growth, 1)} MB: ${verdict(growth <= TARGETS.rssGrowthMb)}`)
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }

  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await replaySection()) console.log(l)
