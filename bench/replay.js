// Replay throughput through the full loop (bot run's own code path, in-process), in symbol-bars per second.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const {runBot} = await import(path.join(ROOT, 'dist/lib/engine/loop.js'))
const {generateCandleSet} = await import(path.join(ROOT, 'dist/lib/exchange/candle-files.js'))

/** Run the loop to the end of the data; returns loop-only and total timings. */
async function timeRun(configDir, stateDir) {
  const t0 = performance.now()
  let loopStart = 0
  let cycles = 0
  const summary = await runBot({
    configDir, stateDir, stop: new AbortController().signal,
    observe: (e) => { if (e.type === 'cycle') cycles++ },
    onStart: () => { loopStart = performance.now() },
  })
  const t1 = performance.now()
  return {summary, cycles, loopMs: t1 - loopStart, totalMs: t1 - t0}
}

/** A config folder and CSV data for `symbols` generated symbols of `bars` hourly bars each. */
function syntheticSetup(dir, symbols, bars) {
  const set = generateCandleSet(symbols, bars, 7)
  const data = path.join(dir, 'data')
  mkdirSync(data, {recursive: true})
  for (const [symbol, s] of set.series) {
    const lines = ['timestamp,open,high,low,close,volume']
    for (let i = 0; i < s.time.length; i++) lines.push(`${s.time[i] / 1000},${s.open[i]},${s.high[i]},${s.low[i]},${s.close[i]},${s.volume[i]}`)
    writeFileSync(path.join(data, `${symbol}.csv`), lines.join('\n') + '\n')
  }

  const config = path.join(dir, 'config')
  cpSync(path.join(ROOT, 'config'), config, {recursive: true})
  const all = set.symbols
  const third = Math.ceil(all.length / 3)
  const tiers = [all.slice(0, third), all.slice(third, 2 * third), all.slice(2 * third)]
  writeFileSync(path.join(config, 'universe.yaml'), [
    'tiers:',
    ...tiers.flatMap((syms, i) => [`  tier${i + 1}:`, `    symbols: [${syms.join(', ')}]`, '    min_24h_quote_volume: 0', '    max_spread_pct: 1']),
    `force_eligible_symbols: [${all.slice(0, 3).join(', ')}]`,
    '',
  ].join('\n'))
  const app = path.join(config, 'app.yaml')
  writeFileSync(app, readFileSync(app, 'utf8').replace('data_dir: null', `data_dir: ${JSON.stringify(data)}`).replace('warmup_bars: 48', 'warmup_bars: 48'))
  return {config, symbolBars: all.length * bars}
}

export async function replaySection() {
  const lines = []
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bot-bench-'))
  try {
    const bundled = await timeRun(path.join(ROOT, 'config'), path.join(tmp, 'bundled'))
    const symbolBars = bundled.cycles * 26
    lines.push(row('bundled 26 symbols x 1h', bundled, symbolBars))
    const synth = syntheticSetup(path.join(tmp, 'synthetic'), 1000, 1000)
    const big = await timeRun(synth.config, path.join(tmp, 'synthetic-state'))
    lines.push(row('generated 1,000 symbols', big, big.cycles * 1000))
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }

  return lines
}

function row(name, r, symbolBars) {
  const perSec = symbolBars / (r.loopMs / 1000)
  const peakMb = process.resourceUsage().maxRSS / 1024
  return `${name.padEnd(26)} ${String(r.cycles).padStart(5)} cycles  ${symbolBars.toLocaleString('en-US').padStart(10)} symbol-bars  loop ${r.loopMs.toFixed(0).padStart(6)} ms  ${Math.round(perSec).toLocaleString('en-US').padStart(11)} symbol-bars/s  (with start-up ${r.totalMs.toFixed(0)} ms; peak RSS so far ${peakMb.toFixed(0)} MB)`
}

export {timeRun, syntheticSetup}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await replaySection()) console.log(l)
