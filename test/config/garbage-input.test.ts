import assert from 'node:assert/strict'
import {closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import path from 'node:path'

import {assertNoStackTrace, type ConfigName, CONFIG_NAMES, freshConfig, removeTempConfigs, validateInProcess, validateJson, validateText} from './support.js'

const LIMIT_MS = 10_000
const MB = 1024 * 1024

/** Deterministic bytes (xorshift32), so a failure can be reproduced. */
function randomBytes(n: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }

  return out
}

/** Nine levels of anchors, each a list of nine aliases of the one before: 9^9 (387 million) leaves once expanded. */
function aliasBomb(indent: string): string {
  const lines = [`${indent}l0: &a0 ["lol"]`]
  for (let i = 1; i <= 9; i++) lines.push(`${indent}l${i}: &a${i} [${Array.from({length: 9}, () => `*a${i - 1}`).join(', ')}]`)
  return lines.join('\n')
}

interface Case {
  name: string
  file: ConfigName
  /** Puts the garbage in place of `file` (a path inside a fresh copy of config/). */
  make: (file: string) => void
  code: string
  message: RegExp
}

const CASES: Case[] = [
  {
    name: 'binary bytes with a NUL',
    file: 'app.yaml',
    make(file) {
      const bytes = randomBytes(64 * 1024)
      bytes[1000] = 0
      writeFileSync(file, bytes)
    },
    code: 'binary_file', message: /file contains binary data \(a NUL byte\); expected YAML text/,
  },
  {
    name: 'a 50 MB file (the real policy.yaml, then sparse padding) is refused by its size',
    file: 'policy.yaml',
    make(file) {
      const head = readFileSync(file)
      const fd = openSync(file, 'w')
      writeSync(fd, head)
      writeSync(fd, Buffer.from('#'))
      // The rest is sparse zeros: a 50 MB file written in no time. Read as text it would be a NUL, so the size
      // check must come first for the message below.
      ftruncateSync(fd, 50 * MB)
      closeSync(fd)
    },
    code: 'file_too_large', message: /file is 50\.0 MB; a config file may be at most 1 MB/,
  },
  {
    name: 'a file just under 1 MB of padding is read (the size limit is what refuses 50 MB)',
    file: 'policy.yaml',
    make(file) {
      const text = readFileSync(file, 'utf8').replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pct: 250')
      writeFileSync(file, `${text}#${'x'.repeat(MB - text.length - 100)}\n`)
    },
    code: 'too_big', message: /expected a number <= 100, found 250/,
  },
  {
    name: '10,000 levels of [ under tiers',
    file: 'universe.yaml',
    make: (file) => writeFileSync(file, `tiers: ${'['.repeat(10_000)}\n`),
    code: 'too_deep', message: /nesting is deeper than 64 levels/,
  },
  {
    name: '10,000 levels of { in a flow mapping',
    file: 'signals.yaml',
    make: (file) => writeFileSync(file, `${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`),
    code: 'too_deep', message: /nesting is deeper than 64 levels/,
  },
  {
    name: 'an alias bomb (billion laughs) inside tiers',
    file: 'universe.yaml',
    make: (file) => writeFileSync(file, `tiers:\n  tier1:\n    symbols: [BTC-USD]\n${aliasBomb('  ')}\n`),
    code: 'too_large', message: /document expands to more than 100000 values \(alias bomb\?\)/,
  },
  {
    name: 'an alias bomb of mappings inside a signal',
    file: 'signals.yaml',
    make(file) {
      const lines = ['signals:', '  - type: momentum', '    k0: &a0 {x: 1}']
      for (let i = 1; i <= 9; i++) lines.push(`    k${i}: &a${i} {${Array.from({length: 9}, (_, j) => `m${j}: *a${i - 1}`).join(', ')}}`)
      writeFileSync(file, `${lines.join('\n')}\n`)
    },
    code: 'too_large', message: /alias bomb/,
  },
  {
    name: 'a huge single line (900 KB value)',
    file: 'app.yaml',
    make: (file) => writeFileSync(file, `mode: ${'x'.repeat(900 * 1024)}\n`),
    code: 'invalid_value', message: /expected one of "paper", "live", found "x{57}\.\.\."/,
  },
  {
    name: 'a huge single line of 200,000 list items',
    file: 'universe.yaml',
    make: (file) => writeFileSync(file, `excluded_symbols: [${Array.from({length: 200_000}, () => 'A').join(',')}]\n`),
    code: 'too_large', message: /expands to more than 100000 values/,
  },
  {
    name: 'invalid UTF-8',
    file: 'app.yaml',
    make(file) {
      const text = readFileSync(file)
      writeFileSync(file, Buffer.concat([text, Buffer.from('# caf'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('\n')]))
    },
    code: 'not_utf8', message: /file is not valid UTF-8 text/,
  },
  {
    name: 'a directory where the file should be',
    file: 'signals.yaml',
    make(file) {
      rmSync(file)
      mkdirSync(file)
      writeFileSync(path.join(file, 'signals.yaml'), 'signals: []\n')
    },
    code: 'not_a_file', message: /is not a regular file/,
  },
]

describe('bot validate: garbage input', function () {
  after(removeTempConfigs)

  for (const c of CASES) {
    it(`${c.file}: ${c.name}`, () => {
      const dir = freshConfig()
      const file = path.join(dir, c.file)
      c.make(file)

      const started = Date.now()
      const human = validateText(dir)
      const elapsed = Date.now() - started
      assert.ok(elapsed < LIMIT_MS, `took ${elapsed} ms`)
      assert.equal(human.status, 1, `${human.stdout}${human.stderr}`)
      assertNoStackTrace(human)

      const lines = `${human.stdout}${human.stderr}`.split('\n')
      const about = lines.filter((l) => l.startsWith(`${file}:`))
      assert.equal(about.length, 1, `one issue line for ${c.file}:\n${human.stderr}`)
      assert.ok(human.stderr.includes(about[0]), 'a problem goes to stderr')
      assert.match(about[0], c.message)
      assert.ok(about[0].length < 300, `a short line, not the input echoed: ${about[0].length} chars`)
      assert.ok(lines.includes(`❌ ${file}`))
      for (const other of ['app.yaml', 'policy.yaml', 'universe.yaml', 'signals.yaml'].filter((n) => n !== c.file)) {
        assert.ok(lines.includes(`✅ ${path.join(dir, other)}`), `${other} still validates:\n${human.stdout}`)
      }

      // The CLI run above proved it finishes; the same check in this process gives the codes.
      const {report} = validateInProcess(dir)
      assert.deepEqual(report.issues.map((i) => [i.file, i.code]), [[file, c.code]])
    })
  }

  it('--json reports four hostile files at once, quickly, with exit 1 and no stack trace', () => {
    const dir = freshConfig()
    const picked: Record<ConfigName, string> = {
      'app.yaml': 'binary bytes with a NUL',
      'policy.yaml': 'a 50 MB file (the real policy.yaml, then sparse padding) is refused by its size',
      'universe.yaml': 'an alias bomb (billion laughs) inside tiers',
      'signals.yaml': '10,000 levels of { in a flow mapping',
    }
    const cases = CONFIG_NAMES.map((name) => CASES.find((c) => c.file === name && c.name === picked[name])!)
    for (const c of cases) c.make(path.join(dir, c.file))

    const started = Date.now()
    const {result, report} = validateJson(dir)
    const elapsed = Date.now() - started
    assert.ok(elapsed < LIMIT_MS, `took ${elapsed} ms`)
    assert.equal(result.status, 1)
    assert.equal(result.stderr, '')
    assertNoStackTrace(result)
    assert.deepEqual(report.issues.map((i) => [i.file, i.code]), cases.map((c) => [path.join(dir, c.file), c.code]))
    for (const issue of report.issues) assert.ok(issue.message.length < 300, `a short message: ${issue.message.length} chars`)
  })
})
