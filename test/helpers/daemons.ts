import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {accessSync, constants, mkdtempSync, rmSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/**
 * External programs the tests run for real (promtool, Prometheus, Alertmanager, Pushgateway), each from a
 * Debian package that `.ci/run` installs. Where one is missing a test skips with the reason, except under
 * CI (CI=true), where a missing binary is a failure: CI must never pass by skipping.
 */

/** The first of `names` found on PATH (or /usr/bin), or null. */
export function findBinary(...names: string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin']
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name)
      try {
        accessSync(candidate, constants.X_OK)
        return candidate
      } catch {}
    }
  }

  return null
}

/**
 * The binary's path; if it is missing, skips the calling test (or suite, from a `before` hook) with a
 * visible reason, or fails under CI.
 */
export function requireBinary(ctx: Mocha.Context, debianPackage: string, ...names: string[]): string {
  const found = findBinary(...names)
  if (found) return found
  const reason = `${names.join(' or ')} not found: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`
  if (process.env.CI === 'true') throw new Error(`${reason}; under CI a missing binary fails instead of skipping`)
  console.log(`      skipped: ${reason}`)
  ctx.skip()
  throw new Error('unreachable') // ctx.skip() throws
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export interface Daemon {
  port: number
  url: string
  /** Its scratch folder (storage, config files); removed by stop(). */
  dir: string
  process: ChildProcess
  output(): string
  stop(): Promise<void>
}

export interface DaemonOptions {
  /** Arguments, given the port it must listen on and its scratch folder. */
  args: (port: number, dir: string) => string[]
  /** Path polled with GET until it answers 200 (e.g. /-/ready). */
  readyPath: string
  timeoutMs?: number
  /** Files to write into the scratch folder before it starts. */
  prepare?: (dir: string, port: number) => void
}

/** Starts `binary` on a free loopback port and waits until `readyPath` answers 200. */
export async function startDaemon(binary: string, options: DaemonOptions): Promise<Daemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bot-${path.basename(binary)}-`))
  const port = await freePort()
  options.prepare?.(dir, port)
  const child = spawn(binary, options.args(port, dir), {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  child.stdout?.on('data', (d) => { log += String(d) })
  child.stderr?.on('data', (d) => { log += String(d) })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }

    rmSync(dir, {recursive: true, force: true})
  }

  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`${binary} exited with ${child.exitCode} before it was ready:\n${log}`)
    }

    try {
      const r = await fetch(`${url}${options.readyPath}`, {signal: AbortSignal.timeout(1000)})
      if (r.ok) break
    } catch {}

    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${binary} did not answer ${options.readyPath} within ${options.timeoutMs ?? 20_000} ms:\n${log}`)
    }

    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  return {port, url, dir, process: child, output: () => log, stop}
}

/** Runs a short-lived program (e.g. promtool) and returns its exit status and output. */
export function runTool(binary: string, args: string[], input?: string): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(binary, args, {encoding: 'utf8', input, timeout: 60_000})
  return {status: r.status, stdout: String(r.stdout), stderr: String(r.stderr)}
}
