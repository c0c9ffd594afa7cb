import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import yaml from 'js-yaml'

import {ROOT, runCli, STACK_TRACE} from '../helpers/cli.js'
import {CONFIG_NAMES, editConfig, freshConfig, type JsonReport, removeTempConfigs, replace} from '../config/support.js'

type Schema = Record<string, unknown>

/** Annotations that do not constrain a value. */
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default', 'examples'])

/**
 * A small JSON Schema (2020-12) checker for the keywords z.toJSONSchema emits for our schemas; an unknown
 * keyword fails the check rather than being skipped. Returns the problems as `path: what`.
 */
function check(schema: Schema, value: unknown, at = '$'): string[] {
  const out: string[] = []
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v)
  for (const [kw, arg] of Object.entries(schema)) {
    if (ANNOTATIONS.has(kw)) continue
    const n = value as number
    const s = value as string
    const list = value as unknown[]
    const obj = value as Record<string, unknown>
    const isObj = typeOf(value) === 'object'
    switch (kw) {
      case 'type': {
        const types = [arg].flat() as string[]
        const t = typeOf(value)
        if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) out.push(`${at}: expected ${types.join('|')}, found ${t}`)
        break
      }

      case 'enum': if (!(arg as unknown[]).includes(value)) out.push(`${at}: not in enum`); break
      case 'const': if (arg !== value) out.push(`${at}: expected ${JSON.stringify(arg)}`); break
      case 'minimum': if (typeof value === 'number' && n < (arg as number)) out.push(`${at}: below minimum`); break
      case 'maximum': if (typeof value === 'number' && n > (arg as number)) out.push(`${at}: above maximum`); break
      case 'exclusiveMinimum': if (typeof value === 'number' && n <= (arg as number)) out.push(`${at}: not above exclusiveMinimum`); break
      case 'exclusiveMaximum': if (typeof value === 'number' && n >= (arg as number)) out.push(`${at}: not below exclusiveMaximum`); break
      case 'minLength': if (typeof value === 'string' && s.length < (arg as number)) out.push(`${at}: too short`); break
      case 'maxLength': if (typeof value === 'string' && s.length > (arg as number)) out.push(`${at}: too long`); break
      case 'pattern': if (typeof value === 'string' && !new RegExp(arg as string, 'u').test(s)) out.push(`${at}: does not match ${String(arg)}`); break
      case 'minItems': if (Array.isArray(value) && list.length < (arg as number)) out.push(`${at}: too few items`); break
      case 'maxItems': if (Array.isArray(value) && list.length > (arg as number)) out.push(`${at}: too many items`); break
      case 'items': if (Array.isArray(value)) for (const [i, v] of list.entries()) out.push(...check(arg as Schema, v, `${at}[${i}]`)); break
      case 'required': if (isObj) for (const k of arg as string[]) if (!(k in obj)) out.push(`${at}.${k}: required`); break
      case 'properties': if (isObj) for (const [k, sub] of Object.entries(arg as Record<string, Schema>)) if (k in obj) out.push(...check(sub, obj[k], `${at}.${k}`)); break
      case 'propertyNames': if (isObj) for (const k of Object.keys(obj)) out.push(...check(arg as Schema, k, `${at}{${k}}`)); break
      case 'additionalProperties': {
        if (!isObj) break
        const known = Object.keys((schema.properties ?? {}) as Record<string, Schema>)
        for (const k of Object.keys(obj).filter((x) => !known.includes(x))) {
          if (arg === false) out.push(`${at}.${k}: additional property`)
          else out.push(...check(arg as Schema, obj[k], `${at}.${k}`))
        }

        break
      }

      case 'anyOf':
      case 'oneOf': {
        const passing = (arg as Schema[]).filter((sub) => check(sub, value, at).length === 0).length
        if (kw === 'anyOf' ? passing === 0 : passing !== 1) out.push(`${at}: ${passing} of the ${kw} branches match`)
        break
      }

      case 'allOf': for (const sub of arg as Schema[]) out.push(...check(sub, value, at)); break
      default: out.push(`${at}: schema keyword ${kw} is not supported by this check`)
    }
  }

  return out
}

function loadYaml(dir: string, name: string): Record<string, unknown> {
  return yaml.load(readFileSync(path.join(dir, name), 'utf8'), {schema: yaml.CORE_SCHEMA}) as Record<string, unknown>
}

describe('bot validate (CLI)', function () {
  const scratch: string[] = []
  const tmp = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bot-cli-'))
    scratch.push(dir)
    return dir
  }

  after(() => {
    removeTempConfigs()
    for (const dir of scratch) rmSync(dir, {recursive: true, force: true})
  })

  it('passes the shipped config with exit 0 and a ✅ per file (default --config-dir ./config)', () => {
    const r = runCli(['validate'], {cwd: ROOT})
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
    assert.equal(r.stderr, '')
    const lines = r.stdout.split('\n')
    for (const name of CONFIG_NAMES) assert.ok(lines.includes(`✅ ${path.join('config', name)}`), r.stdout)
    assert.ok(!r.stdout.includes('❌'))
    assert.ok(lines.includes('✅ All configuration files are valid.'))
  })

  it('--json prints {ok, files, issues} for a valid config', () => {
    const r = runCli(['validate', '--config-dir', path.join(ROOT, 'config'), '--json'])
    assert.equal(r.status, 0, r.stderr)
    const report = JSON.parse(r.stdout) as JsonReport
    assert.deepEqual(Object.keys(report).sort(), ['files', 'issues', 'ok'])
    assert.equal(report.ok, true)
    assert.deepEqual(report.files, CONFIG_NAMES.map((name) => ({file: path.join(ROOT, 'config', name), ok: true})))
    assert.deepEqual(report.issues, [])
  })

  it('--json gives every issue file, line, column, path, code and message', () => {
    const dir = freshConfig()
    editConfig(dir, 'policy.yaml', replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pct: 250'))
    editConfig(dir, 'signals.yaml', () => '')
    const r = runCli(['validate', '--config-dir', dir, '--json'])
    assert.equal(r.status, 1)
    const report = JSON.parse(r.stdout) as JsonReport
    assert.equal(report.ok, false)
    assert.deepEqual(report.files.map((f) => f.ok), [true, false, true, false])
    assert.equal(report.issues.length, 2)
    for (const issue of report.issues) {
      assert.deepEqual(Object.keys(issue).sort(), ['code', 'column', 'file', 'line', 'message', 'path'])
    }

    const [policy, signals] = report.issues
    assert.equal(policy.file, path.join(dir, 'policy.yaml'))
    assert.equal(typeof policy.line, 'number')
    assert.equal(typeof policy.column, 'number')
    assert.equal(policy.path, 'risk.max_total_at_risk_pct')
    assert.equal(policy.code, 'too_big')
    assert.deepEqual({...signals, message: undefined}, {file: path.join(dir, 'signals.yaml'), line: null, column: null, path: '', code: 'empty_file', message: undefined})
  })

  for (const [name, args, says] of [
    ['an unknown flag', ['--bogus'], /Nonexistent flag: --bogus/],
    ['a flag without its value', ['--config-dir'], /Flag --config-dir expects a value/],
    ['--schema without its value', ['--schema'], /Flag --schema expects a value/],
  ] as const) {
    it(`exits 2 on ${name}, with one error line and no stack trace`, () => {
      const r = runCli(['validate', ...args], {cwd: ROOT})
      assert.equal(r.status, 2, `${r.stdout}${r.stderr}`)
      assert.match(r.stderr, says)
      assert.doesNotMatch(r.stderr, /this is a bug/)
      assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
      assert.equal(r.stdout, '')

      const j = runCli(['validate', '--json', ...args], {cwd: ROOT})
      assert.equal(j.status, 2)
      const out = JSON.parse(j.stdout) as {ok: boolean; error: {code: string; message: string}}
      assert.equal(out.ok, false)
      assert.equal(out.error.code, 'USAGE')
      assert.match(out.error.message, says)
      assert.doesNotMatch(j.stdout + j.stderr, STACK_TRACE)
    })
  }

  it('exits 2 on an unknown command, naming the commands that exist', () => {
    const r = runCli(['validat'], {cwd: ROOT})
    assert.equal(r.status, 2)
    assert.match(r.stderr, /unknown command "validat"; commands: .*validate/)
    assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
  })

  it('never echoes what was written in a *_env field (it may be a pasted secret)', () => {
    const dir = freshConfig()
    const app = path.join(dir, 'app.yaml')
    writeFileSync(app, readFileSync(app, 'utf8').replace('api_secret_env: BOT_API_SECRET', 'api_secret_env: "sk-live-THIS-IS-A-SECRET-0123"'))
    const r = runCli(['validate', '--config-dir', dir, '--json'], {cwd: ROOT})
    assert.equal(r.status, 1)
    assert.match(r.stdout, /exchange\.api_secret_env/)
    assert.doesNotMatch(r.stdout + r.stderr, /THIS-IS-A-SECRET/)
  })

  describe('--schema DIR', () => {
    let dir: string
    let schemas: Record<string, Schema>

    before(() => {
      dir = path.join(tmp(), 'schemas', 'nested')
      const r = runCli(['validate', '--schema', dir])
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
      assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
      schemas = Object.fromEntries(CONFIG_NAMES.map((name) => {
        const file = path.join(dir, name.replace('.yaml', '.schema.json'))
        assert.ok(r.stdout.split('\n').includes(`wrote ${file}`), r.stdout)
        return [name, JSON.parse(readFileSync(file, 'utf8')) as Schema]
      }))
    })

    it('writes exactly four *.schema.json files, and --json lists them', () => {
      assert.deepEqual(readdirSync(dir).sort(), ['app.schema.json', 'policy.schema.json', 'signals.schema.json', 'universe.schema.json'])
      const again = tmp()
      const r = runCli(['validate', '--schema', again, '--json'])
      assert.equal(r.status, 0)
      assert.deepEqual(JSON.parse(r.stdout), {schemas: CONFIG_NAMES.map((n) => path.join(again, n.replace('.yaml', '.schema.json')))})
    })

    it('each is a closed JSON Schema object: $schema, type object, additionalProperties false', () => {
      for (const [name, schema] of Object.entries(schemas)) {
        assert.match(String(schema.$schema), /^https:\/\/json-schema\.org\/draft\/2020-12\/schema$/, name)
        assert.equal(schema.type, 'object', name)
        assert.equal(schema.additionalProperties, false, name)
        assert.equal(schema.title, `bot ${name}`)
      }

      const metrics = (schemas['app.yaml'].properties as Record<string, Schema>).metrics
      const port = (metrics.properties as Record<string, Schema>).port
      assert.deepEqual({type: port.type, minimum: port.minimum, maximum: port.maximum}, {type: 'integer', minimum: 1, maximum: 65535})
      assert.deepEqual((schemas['universe.yaml'].required as string[]), ['tiers'])
      assert.deepEqual((schemas['signals.yaml'].required as string[]), ['signals'])
    })

    it('the schemas describe every top-level key of the shipped YAML files', () => {
      for (const [name, schema] of Object.entries(schemas)) {
        const keys = Object.keys(loadYaml(path.join(ROOT, 'config'), name))
        assert.deepEqual(keys.filter((k) => !(k in (schema.properties as Schema))), [], name)
      }
    })

    it('the shipped config validates against them, and a broken one does not', () => {
      for (const [name, schema] of Object.entries(schemas)) {
        assert.deepEqual(check(schema, loadYaml(path.join(ROOT, 'config'), name)), [], name)
      }

      const broken = freshConfig()
      editConfig(broken, 'app.yaml', replace(/^mode: paper$/m, 'mode: yolo'))
      editConfig(broken, 'policy.yaml', replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pc: 25.0'))
      editConfig(broken, 'universe.yaml', replace('HBAR-USD', 'hbar-usd'))
      editConfig(broken, 'signals.yaml', replace('  - type: rsi', '  - type: macd'))
      assert.deepEqual(check(schemas['app.yaml'], loadYaml(broken, 'app.yaml')), ['$.mode: not in enum'])
      assert.deepEqual(check(schemas['policy.yaml'], loadYaml(broken, 'policy.yaml')), ['$.risk.max_total_at_risk_pc: additional property'])
      assert.deepEqual(check(schemas['universe.yaml'], loadYaml(broken, 'universe.yaml')), ['$.tiers.tier3.symbols[9]: does not match ^[A-Z0-9]{2,12}-[A-Z0-9]{2,6}$'])
      assert.deepEqual(check(schemas['signals.yaml'], loadYaml(broken, 'signals.yaml')), ['$.signals[2]: 0 of the oneOf branches match'])
    })

    it('exits 1 with one line, not a stack trace, when the folder cannot be written', () => {
      const r = runCli(['validate', '--schema', path.join(ROOT, 'package.json')])
      assert.equal(r.status, 1)
      assert.match(r.stderr, /^Error: cannot use schema folder .*package\.json: .*package\.json is not a folder$/m)
      assert.doesNotMatch(r.stderr, /this is a bug/)
      assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
    })
  })
})
