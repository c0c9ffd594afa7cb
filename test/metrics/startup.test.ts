import assert from 'node:assert/strict'
import path from 'node:path'

import {build} from 'esbuild'

import {ROOT} from '../helpers/cli.js'

/** The packages a command pulls in once bundled, as scripts/bundle-commands.js bundles it (same externals). */
async function packagesImported(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(ROOT, entry)], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent',
    outdir: path.join(ROOT, 'dist-test-unused'),
    external: ['@oclif/core', 'better-sqlite3', 'ccxt', 'prom-client', 'chalk', 'ora'],
  })
  return Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path))
}

describe('start-up cost: who loads prom-client', function () {
  it('bot validate does not', async function () {
    assert.ok(!(await packagesImported('src/commands/validate.ts')).includes('prom-client'))
  })

  it('bot metrics does not either: reading a running bot needs no prom-client', async function () {
    assert.ok(!(await packagesImported('src/commands/metrics.ts')).includes('prom-client'))
  })

  it('the recorder API and the exchange wrapper do not: the engine may import them statically and load startMetrics lazily', async function () {
    assert.ok(!(await packagesImported('src/lib/metrics/record.ts')).includes('prom-client'))
    assert.ok(!(await packagesImported('src/lib/metrics/instrument-exchange.ts')).includes('prom-client'))
  })

  it('the declarations do (so the checks above can fail)', async function () {
    assert.ok((await packagesImported('src/lib/metrics/metrics.ts')).includes('prom-client'))
    assert.ok((await packagesImported('src/lib/metrics/push.ts')).includes('prom-client'))
    assert.ok((await packagesImported('src/lib/metrics/runtime.ts')).includes('prom-client'))
  })
})
