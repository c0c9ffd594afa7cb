import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * ccxt costs ~125 MB and ~450 ms to import, so it is loaded only when a venue opens, and for Coinbase only
 * its class file. Proven in a fresh Node process whose module hooks log every ccxt module resolved.
 */

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..', '..')

function run(exchangeId: string): {before: string[]; after: string[]; opened: string} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ccxt-lazy-'))
  const log = path.join(dir, 'modules.log')
  try {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', path.join(here, 'fixtures', 'module-log-register.mjs'), path.join(here, 'fixtures', 'lazy-child.ts'), exchangeId], {
      cwd: root,
      env: {...process.env, CCXT_MODULE_LOG: log},
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(child.status, 0, `child failed: ${child.stderr}`)
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    const imported = lines.indexOf('#imported')
    const opened = lines.findIndex((l) => l.startsWith('#opened'))
    assert.ok(imported >= 0 && opened > imported, `markers in ${lines.join(' | ')}`)
    const rel = (url: string) => url.slice(url.indexOf('/node_modules/ccxt/') + '/node_modules/ccxt/'.length)
    return {before: lines.slice(0, imported).map(rel), after: lines.slice(imported + 1, opened).map(rel), opened: lines[opened].slice('#opened '.length)}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

describe('ccxt adapter: ccxt is loaded lazily', () => {
  it('importing the adapter loads no ccxt module; opening a coinbase venue loads its class file, not the package', () => {
    const {before, after, opened} = run('coinbase')
    assert.deepEqual(before, [])
    assert.equal(opened, 'class-file')
    assert.ok(after.includes('js/src/coinbase.js'), after.join(', '))
    assert.ok(!after.includes('js/ccxt.js'), 'the package entry point is never loaded')
    assert.ok(!after.some((m) => /js\/src\/(binance|kraken|okx)\.js$/.test(m)), 'no other exchange class')
  })

  it('another exchange id falls back to the whole package, still only when opened', () => {
    const {before, after, opened} = run('kraken')
    assert.deepEqual(before, [])
    assert.equal(opened, 'package')
    assert.ok(after.includes('js/ccxt.js'))
  })

  it('no module under src/lib outside exchange/ccxt imports ccxt', () => {
    const out = spawnSync('grep', ['-rlE', String.raw`from 'ccxt'|import\('ccxt'\)|require\('ccxt'\)`, path.join(root, 'src')], {encoding: 'utf8'})
    const files = out.stdout.trim().split('\n').filter(Boolean).map((f) => path.relative(root, f))
    assert.ok(files.length > 0, 'the adapter itself is found (the search works)')
    assert.deepEqual(files.filter((f) => !f.startsWith(path.join('src', 'lib', 'exchange', 'ccxt') + path.sep)), [])
  })
})
