// Live trading against the loopback Coinbase server (test/coinbase, loaded through tsx) with the real ccxt
// client: REST requests per cycle, as the server counted them, and the peak RSS of `bot run --live`. Each
// against its target with PASS/FAIL. Run after `npm run build` (it runs dist/ through bin/run.js).
import {spawn} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin', 'run.js')
const TARGETS = {requestsPerCycle: 4, requestsPerOrder: 1, peakRssMb: 110}
const CYCLES = 120
const KEY_VAR = 'BOT_BENCH_API_KEY'
const SECRET_VAR = 'BOT_BENCH_API_SECRET'

async function loopback() {
  const {tsImport} = await import('tsx/esm/api')
  const {startCoinbaseServer} = await tsImport(path.join(ROOT, 'test/coinbase/server.ts'), import.meta.url)
  const {testKey} = await tsImport(path.join(ROOT, 'test/coinbase/keys.ts'), import.meta.url)
  return {startCoinbaseServer, testKey}
}

/**
 * A server whose bars are on the wall clock, as the exchange's are: a cycle asks for candles only when a new
 * bar has closed (none during the bench). Its prices move one recorded bar every `advanceMs`, so positions
 * drift from their targets and the strategy keeps trading while the bench runs.
 */
function server(cb, key, advanceMs) {
  return cb.startCoinbaseServer({key, halfSpread: 0.0002, startBalances: {USD: 100_000}, autoAdvanceMs: advanceMs})
}

/** The shipped config, live on the loopback server (the rate limiter is off for a plain-http loopback URL). */
function liveConfig(dir, server) {
  const config = path.join(dir, 'config')
  cpSync(path.join(ROOT, 'config'), config, {recursive: true})
  const file = path.join(config, 'app.yaml')
  let text = readFileSync(file, 'utf8')
  for (const [from, to] of [
    [/^mode: paper$/m, 'mode: live'], ['  id: sim', '  id: coinbase'], ['  rest_url: null', `  rest_url: ${server.url}`],
    ['  api_key_env: BOT_API_KEY', `  api_key_env: ${KEY_VAR}`], ['  api_secret_env: BOT_API_SECRET', `  api_secret_env: ${SECRET_VAR}`],
    ['metrics:\n  enabled: true', 'metrics:\n  enabled: false'],
  ]) {
    const next = text.replace(from, to)
    if (next === text) throw new Error(`app.yaml: ${from} not found`)
    text = next
  }

  writeFileSync(file, text)
  return config
}

/** `bot run --live --json` to its end, sampling the process's peak RSS (VmHWM) while it runs. */
function run(configDir, stateDir, key, cycles) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '--live', '--json', '--cycles', String(cycles), '--interval', '0.05', '--config-dir', configDir, '--state-dir', stateDir], {
      env: {...process.env, NO_COLOR: '1', [KEY_VAR]: key.name, [SECRET_VAR]: key.privateKeyPem}, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let peakKb = 0
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]))
      } catch {
        // gone
      }
    }

    const timer = setInterval(sample, 25)
    child.stdout.setEncoding('utf8').on('data', (c) => {
      out += c
      // The last cycle's line: read the high-water mark before the process can exit.
      if (out.includes('"type":"summary"')) sample()
    })
    child.stderr.setEncoding('utf8').on('data', (c) => {
      err += c
    })
    child.on('close', (status) => {
      clearInterval(timer)
      if (status !== 0) return reject(new Error(`bot run --live exited ${status}: ${err.slice(-500)}`))
      resolve({events: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), peakMb: peakKb / 1024})
    })
  })
}

/**
 * Requests per cycle from the server's own log: a cycle's are those that arrived between its start and the
 * next cycle's (the last cycle, followed by the summary's valuation, is left out).
 */
function perCycle(events, requests) {
  const cycles = events.filter((e) => e.type === 'cycle').map((e) => e.report)
  const rows = []
  for (let i = 0; i + 1 < cycles.length; i++) {
    const [from, to] = [cycles[i].time, cycles[i + 1].time]
    const mine = requests.filter((r) => r.at >= from && r.at < to)
    const orders = mine.filter((r) => r.method === 'POST' && r.path === '/api/v3/brokerage/orders')
    const buys = orders.filter((r) => r.body?.side === 'BUY').length
    rows.push({cycle: cycles[i].cycle, requests: mine.length, orders: orders.length, buys, clock: mine.some((r) => r.path === '/api/v3/brokerage/time')})
  }

  return rows
}

const f = (x, d = 2) => x.toLocaleString('en-US', {maximumFractionDigits: d, minimumFractionDigits: d})
const verdict = (ok) => (ok ? 'PASS' : 'FAIL')
const mean = (xs) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)

export async function liveSection() {
  const cb = await loopback()
  const key = cb.testKey()
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bot-bench-live-'))
  const exchange = await server(cb, key, 100)
  const lines = []
  try {
    const config = liveConfig(tmp, exchange)
    const {events, peakMb} = await run(config, path.join(tmp, 'state'), key, CYCLES)
    const rows = perCycle(events, exchange.requests)
    const quiet = rows.filter((r) => r.orders === 0)
    const trading = rows.filter((r) => r.orders > 0)
    // What a cycle's orders cost beyond the requests every cycle makes (its base: 4, or 5 reading the clock).
    const base = (r) => TARGETS.requestsPerCycle + (r.clock ? 1 : 0)
    const perOrder = trading.map((r) => (r.requests - base(r)) / r.orders)
    const quietMax = Math.max(0, ...quiet.map((r) => r.requests))
    const orderMax = Math.max(0, ...perOrder)
    const over = rows.filter((r) => r.requests > TARGETS.requestsPerCycle + r.orders * TARGETS.requestsPerOrder)
    lines.push(`${rows.length} cycles of bot run --live (${CYCLES} run; the last, followed by the summary, left out), ${exchange.orders().length} orders; requests counted by the server`)
    lines.push(`  requests per cycle without orders: ${f(mean(quiet.map((r) => r.requests)))} mean, ${quietMax} max (${quiet.filter((r) => r.clock).length} of ${quiet.length} also read the exchange's clock, every 10th cycle: +1)`)
    lines.push(`  requests per order beyond its cycle's base: ${f(mean(perOrder))} mean, ${f(orderMax)} max (${trading.reduce((n, r) => n + r.buys, 0)} buys, ${trading.reduce((n, r) => n + r.orders - r.buys, 0)} sells in ${trading.length} cycles)`)
    lines.push(`  target <= ${TARGETS.requestsPerCycle} per cycle: ${quietMax}: ${verdict(quietMax <= TARGETS.requestsPerCycle)}`)
    lines.push(`  target <= ${TARGETS.requestsPerOrder} per order: ${f(orderMax)}: ${verdict(orderMax <= TARGETS.requestsPerOrder)}`)
    lines.push(`  cycles over ${TARGETS.requestsPerCycle} + ${TARGETS.requestsPerOrder} per order: ${over.length} of ${rows.length}`)
    lines.push(`peak RSS of bot run --live (VmHWM over ${CYCLES} cycles): ${f(peakMb, 1)} MB`)
    lines.push(`  target <= ${TARGETS.peakRssMb} MB: ${verdict(peakMb <= TARGETS.peakRssMb)}`)
  } finally {
    await exchange.close()
    rmSync(tmp, {recursive: true, force: true})
  }

  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await liveSection()) console.log(l)
