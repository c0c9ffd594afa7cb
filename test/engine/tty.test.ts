import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import path from 'node:path'

import {BIN, ROOT, STACK_TRACE} from '../helpers/cli.js'
import {tempDir} from '../helpers/fixtures.js'

describe('bot run on a terminal', function () {
  this.timeout(60_000)
  let t: ReturnType<typeof tempDir>
  beforeEach(() => { t = tempDir() })
  afterEach(() => t.cleanup())

  const onPty = (env: Record<string, string> = {}) => spawnSync('python3', [path.join(ROOT, 'test/helpers/pty-run.py'), '#2 ', '40', process.execPath, BIN, 'run', '--state-dir', t.dir, '--interval', '1'], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: {...process.env, NO_COLOR: '1', ...env}})

  it('stops on Ctrl-C with its summary and exit 0, spinner and all', () => {
    const r = onPty()
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /Run summary \(\d+ cycles.*stopped by signal\)/)
    assert.match(r.stdout, /EXIT=0\s*$/)
    assert.doesNotMatch(r.stdout, STACK_TRACE)
  })

  it('prints sanely on a terminal that reports no size (no spinner there)', () => {
    const r = onPty({PTY_NO_SIZE: '1'})
    assert.match(r.stdout, /EXIT=0\s*$/)
    assert.ok(r.stdout.length < 20_000, `${r.stdout.length} bytes for a few cycles`)
  })
})
