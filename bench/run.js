// Benchmarks, run after `npm run build`: `npm run bench`, or `node bench/run.js [section ...]` for some of them.
// Each section is an async function returning the lines to print; add one to SECTIONS below. Figures are a
// report: a missed target prints FAIL but the exit status stays 0 (it is 1 only when a section cannot run).
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin', 'run.js')
const BARE = path.join(ROOT, 'bench', 'fixtures', 'bare-cli')
const RUNS = 15
const MAX_RATIO = 1.3
const FORBIDDEN = ['ccxt', 'prom-client']

const ENV = {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', OCLIF_SKIP_NEW_VERSION_CHECK: 'true', BOT_SKIP_NEW_VERSION_CHECK: 'true'}

/** Runs `node <args>` to completion; throws with its output if it fails. Returns the wall time in ms. */
function node(args, {cwd = ROOT, env = ENV} = {}) {
  const started = performance.now()
  const r = spawnSync(process.execPath, args, {cwd, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024})
  const elapsed = performance.now() - started
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`)
  return elapsed
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Rows of cells as an aligned text table; numbers are right-aligned. */
export function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map(String))
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  const line = (r, raw) => r.map((c, i) => (typeof raw[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()
  return [line(cells[0], header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map((r, i) => line(r, rows[i]))]
}

const ms = (v) => Number(v.toFixed(1))

/** The bare fixture's manifest, so oclif reads it instead of importing every command (as for bot). */
function prepareBareCli() {
  // Run it inside the fixture: `oclif manifest <path>` first deletes ./oclif.manifest.json of its working
  // directory, whatever <path> is; from ROOT it would delete bot's own manifest.
  node([path.join(ROOT, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest', '.'], {cwd: BARE})
  if (!existsSync(path.join(BARE, 'oclif.manifest.json'))) throw new Error(`oclif manifest did not write ${BARE}/oclif.manifest.json`)
}

/** Cold starts: a new node process per run, `bot validate` and the bare command interleaved. */
async function startup() {
  prepareBareCli()
  const commands = [
    {name: 'bot validate', args: [BIN, 'validate']},
    {name: 'bare oclif command (hello)', args: [path.join(BARE, 'bin', 'run.js'), 'hello']},
  ]
  for (const c of commands) node(c.args) // warm the file cache; not timed
  const times = commands.map(() => [])
  for (let i = 0; i < RUNS; i++) for (const [j, c] of commands.entries()) times[j].push(node(c.args))

  const medians = times.map(median)
  const ratio = medians[0] / medians[1]
  const rows = commands.map((c, j) => [c.name, ms(medians[j]), ms(Math.min(...times[j])), ms(Math.max(...times[j])), RUNS])
  return [
    ...table(['command', 'median ms', 'min ms', 'max ms', 'runs'], rows),
    '',
    `ratio validate / bare: ${ratio.toFixed(2)} (target <= ${MAX_RATIO}): ${ratio <= MAX_RATIO ? 'PASS' : 'FAIL'}`,
  ]
}

/** Which modules `bot validate` loads: it must not pay for the exchange (ccxt) or metrics (prom-client) code. */
async function imports() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bot-bench-'))
  try {
    const trace = path.join(dir, 'modules.txt')
    node(['--import', pathToFileURL(path.join(ROOT, 'bench', 'trace-imports.mjs')).href, BIN, 'validate'], {env: {...ENV, BENCH_TRACE_FILE: trace}})
    const urls = [...new Set(existsSync(trace) ? readFileSync(trace, 'utf8').split('\n').filter(Boolean) : [])]
    const sawCommand = urls.some((u) => u.endsWith('/dist/commands/validate.js'))
    const packages = new Set(urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter(Boolean))
    const verdict = (loaded) => (!sawCommand ? 'FAIL (trace missed validate.js)' : loaded === 0 ? 'PASS' : 'FAIL')
    const rows = FORBIDDEN.map((name) => {
      const loaded = urls.filter((u) => u.includes(`/node_modules/${name}/`)).length
      return [name, loaded, verdict(loaded)]
    })
    // Without oclif.manifest.json, oclif imports every command (and what they import) to find one.
    const otherCommands = urls.filter((u) => u.includes('/dist/commands/') && !u.endsWith('/dist/commands/validate.js')).length
    rows.push(['other bot commands (dist/commands/*)', otherCommands, verdict(otherCommands)])
    return [
      `bot validate loaded ${urls.length} modules from ${packages.size} packages (traced via --import bench/trace-imports.mjs)`,
      '',
      ...table(['loaded from', 'modules', 'result'], rows),
    ]
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/** Add sections here: {name, title, run: async () => string[]}. */
export const SECTIONS = [
  {name: 'startup', title: `Startup: ${RUNS} cold starts each, interleaved`, run: startup},
  {name: 'imports', title: 'Modules loaded by bot validate', run: imports},
  {name: 'replay', title: 'Replay speed and memory through the full loop (targets: >= 1,000,000 symbol-bars/s at 1,000 symbols; <= 0.25 ms per cycle at 26; RSS flat within 10 MB)', run: async () => (await import('./replay.js')).replaySection()},
  {name: 'live', title: 'Live trading against the loopback Coinbase server, real ccxt client (targets: <= 4 REST requests per cycle plus 1 per order; peak RSS of bot run --live <= 110 MB)', run: async () => (await import('./live.js')).liveSection()},
]

export async function main(names = []) {
  if (!existsSync(path.join(ROOT, 'dist', 'commands', 'validate.js')) || !existsSync(path.join(ROOT, 'oclif.manifest.json'))) {
    console.error('bench: build first (npm run build): dist/ or oclif.manifest.json is missing')
    return 1
  }

  const unknown = names.filter((n) => !SECTIONS.some((s) => s.name === n))
  if (unknown.length > 0) {
    console.error(`bench: unknown section ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}`)
    return 1
  }

  let status = 0
  console.log(`bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${os.platform()} ${os.arch()}`)
  for (const section of SECTIONS.filter((s) => names.length === 0 || names.includes(s.name))) {
    console.log(`\n== ${section.title}`)
    try {
      for (const line of await section.run()) console.log(line)
    } catch (error) {
      console.log(`ERROR: ${error instanceof Error ? error.message : String(error)}`)
      status = 1
    }
  }

  return status
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2))
}
