import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {stripVTControlCharacters} from 'node:util'

import type {ConfigIssue} from '../../src/lib/config/issues.js'
import {validateConfig} from '../../src/lib/config/load.js'
import {renderValidation} from '../../src/lib/config/report-text.js'
import {type CliResult, ROOT, runCli, STACK_TRACE} from '../helpers/cli.js'

export const CONFIG_NAMES = ['app.yaml', 'policy.yaml', 'universe.yaml', 'signals.yaml'] as const
export type ConfigName = (typeof CONFIG_NAMES)[number]

/** One entry of `issues` in `bot validate --json`. */
export type JsonIssue = ConfigIssue

export interface JsonReport {
  ok: boolean
  files: {file: string; ok: boolean}[]
  issues: JsonIssue[]
}

const made: string[] = []

/** A copy of the shipped `config/` folder in a fresh temp dir; removed by `removeTempConfigs`. */
export function freshConfig(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bot-config-'))
  made.push(dir)
  cpSync(path.join(ROOT, 'config'), dir, {recursive: true})
  return dir
}

export function removeTempConfigs(): void {
  for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
}

/** A text edit; `null` means "delete the file". */
export type Edit = (text: string) => string | null

/** Replace the first match of `from` (which must occur) with `to`, taken literally (no `$` patterns). */
export function replace(from: string | RegExp, to: string): Edit {
  return (text) => {
    const found = typeof from === 'string' ? text.includes(from) : from.test(text)
    if (!found) throw new Error(`edit does not apply: ${String(from)} not found; did the default config change?`)
    return text.replace(from, () => to)
  }
}

/** Applies the edit to `<dir>/<name>` and returns the new text (null if the file was deleted). */
export function editConfig(dir: string, name: ConfigName, edit: Edit): string | null {
  const file = path.join(dir, name)
  const before = readFileSync(file, 'utf8')
  const after = edit(before)
  if (after === null) {
    unlinkSync(file)
    return null
  }

  assert.notEqual(after, before, `the edit of ${name} changed nothing`)
  writeFileSync(file, after)
  return after
}

export interface Position {
  line: number
  column: number
}

/** Where something is in a text; the expected position of an issue is derived from the edited text with one of these. */
export type Locate = (text: string) => Position

function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset)
  const lineStart = before.lastIndexOf('\n') + 1
  return {line: before.split('\n').length, column: offset - lineStart + 1}
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The `nth` key `name:` (block or flow, not inside a comment line), positioned at the key's first character. */
export function key(name: string, nth = 1): Locate {
  return (text) => {
    const re = new RegExp(`^(?![ \\t]*#)(.*?[\\s{,]|)(["']?)${escape(name)}\\2[ \\t]*:(?=\\s)`, 'gm')
    let m: RegExpExecArray | null
    let seen = 0
    while ((m = re.exec(text)) !== null) {
      if (++seen === nth) return positionAt(text, m.index + m[1].length)
    }

    throw new Error(`key ${name} (#${nth}) not found`)
  }
}

/** The `nth` occurrence of `needle` outside comment lines, at its first character plus `shift`. */
export function text(needle: string, nth = 1, shift = 0): Locate {
  return (t) => {
    let seen = 0
    let offset = 0
    for (const line of t.split('\n')) {
      if (!/^\s*#/.test(line)) {
        for (let i = line.indexOf(needle); i !== -1; i = line.indexOf(needle, i + 1)) {
          if (++seen === nth) return positionAt(t, offset + i + shift)
        }
      }

      offset += line.length + 1
    }

    throw new Error(`${JSON.stringify(needle)} (#${nth}) not found`)
  }
}

/** The first line that is not blank or a comment: where a whole-document issue is pinned. */
export const firstContent: Locate = (t) => {
  const lines = t.split('\n')
  const i = lines.findIndex((l) => l.trim() !== '' && !/^\s*#/.test(l))
  assert.notEqual(i, -1, 'the text has no content line')
  return {line: i + 1, column: lines[i].length - lines[i].trimStart().length + 1}
}

export interface Validation {
  result: CliResult
  report: JsonReport
}

/** `bot validate --config-dir <dir> --json`, parsed. */
export function validateJson(dir: string, env: NodeJS.ProcessEnv = {}): Validation {
  const result = runCli(['validate', '--config-dir', dir, '--json'], {env})
  let report: JsonReport
  try {
    report = JSON.parse(result.stdout) as JsonReport
  } catch {
    throw new Error(`--json did not print JSON (status ${result.status}):\n${result.stdout}\n${result.stderr}`)
  }

  return {result, report}
}

/** `bot validate --config-dir <dir>`, the human report. */
export function validateText(dir: string, env: NodeJS.ProcessEnv = {}): CliResult {
  return runCli(['validate', '--config-dir', dir], {env})
}

export function assertNoStackTrace(r: CliResult): void {
  assert.doesNotMatch(r.stdout, STACK_TRACE, `stack trace in stdout:\n${r.stdout}`)
  assert.doesNotMatch(r.stderr, STACK_TRACE, `stack trace in stderr:\n${r.stderr}`)
}

/** The line `bot validate` prints for an issue (same format as formatIssue in src/lib/config/issues.ts). */
export function issueLine(i: JsonIssue): string {
  const where = i.line === null ? i.file : `${i.file}:${i.line}:${i.column ?? 1}`
  return i.path ? `${where} ${i.path}: ${i.message}` : `${where}: ${i.message}`
}

export const describeIssues = (issues: JsonIssue[]): string => issues.map((i) => `  ${issueLine(i)} [${i.code}]`).join('\n') || '  (none)'

export type Env = Record<string, string | undefined>

/** What `bot validate` reports on a config dir: the `--json` document and the human text, however it was run. */
export interface Validated {
  report: JsonReport
  /** The human report as printed, without colour. */
  human: string
  /** Everything that was printed, to search for leaked secrets and stack traces. */
  printed: string[]
}

/**
 * The library behind `bot validate`, in this process: `env` over process.env as the CLI would see it, the
 * report as `--json` prints it, and the human lines as the command renders them. Colour codes are stripped,
 * as chalk may already be loaded in colour by whichever test imported it first.
 */
export function validateInProcess(dir: string, env: Env = {}): Validated {
  const {ok, files, issues} = validateConfig(dir, {...process.env, ...env})
  const report = JSON.parse(JSON.stringify({ok, files, issues})) as JsonReport
  const lines = renderValidation({ok: files.every((f) => f.ok), files, issues, config: null})
  const human = lines.map((l) => `${stripVTControlCharacters(l)}\n`).join('')
  return {report, human, printed: [JSON.stringify(report), human]}
}

/**
 * `bot validate` through the real CLI, `--json` and human: both exit 1 with no stack trace; --json prints only
 * JSON on stdout; the human form puts what is wrong on stderr (❌ lines, problems, the verdict), the rest on stdout.
 */
export function validateThroughCli(dir: string, env: Env = {}): Validated {
  const {result, report} = validateJson(dir, env)
  const human = validateText(dir, env)
  for (const r of [result, human]) {
    assert.equal(r.status, 1, `exit status\n${r.stdout}${r.stderr}`)
    assertNoStackTrace(r)
  }

  assert.equal(result.stderr, '')
  assert.ok(!human.stdout.includes('❌'), `what is wrong goes to stderr:\n${human.stdout}`)
  assert.match(human.stderr, /^❌ \d+ problems? in \d+ files?: bot will not start/m)
  assert.deepEqual(Object.keys(report).sort(), ['files', 'issues', 'ok'])
  for (const issue of report.issues) assert.deepEqual(Object.keys(issue).sort(), ['code', 'column', 'file', 'line', 'message', 'path'])
  return {report, human: `${human.stdout}${human.stderr}`, printed: [result.stdout, result.stderr, human.rawStdout, human.rawStderr]}
}

/**
 * One invalid configuration: the default config/ with one edit to one file. `at` derives the expected
 * line:column of the issue from the edited text (null: the issue is about the whole file and has no position).
 */
export interface Row {
  name: string
  file: ConfigName
  edit: Edit
  path: string
  code: string
  message: string | RegExp
  at: Locate | null
  env?: Env
  /** Text that must appear nowhere in the output (secrets from the environment). */
  hidden?: string[]
  /** Text the message must not contain. */
  notInMessage?: string
  /** The file the issue is reported in, when a cross-file rule reports it in the other file (default: `file`). */
  issueFile?: ConfigName
}

/** Applies the row's edit to a fresh config, validates it with `validate`, and checks the one issue the row expects. */
export function checkRow(row: Row, validate: (dir: string, env?: Env) => Validated): void {
  const dir = freshConfig()
  const edited = editConfig(dir, row.file, row.edit)
  const expected = row.at && edited !== null ? row.at(edited) : null
  const issueFile = row.issueFile ?? row.file

  const {report, human, printed} = validate(dir, row.env)
  assert.equal(report.ok, false)
  assert.deepEqual(report.files.filter((f) => !f.ok).map((f) => path.basename(f.file)), [issueFile], `only ${issueFile} fails`)

  const issue = report.issues.find((i) => i.path === row.path && i.code === row.code)
  assert.ok(issue, `no ${row.code} issue at "${row.path}"; issues:\n${describeIssues(report.issues)}`)
  assert.equal(issue.file, path.join(dir, issueFile))
  assert.equal(issue.line, expected?.line ?? null, `line of ${issueLine(issue)}`)
  assert.equal(issue.column, expected?.column ?? null, `column of ${issueLine(issue)}`)
  if (typeof row.message === 'string') assert.ok(issue.message.includes(row.message), `message: ${issue.message}`)
  else assert.match(issue.message, row.message)
  if (row.notInMessage) assert.ok(!issue.message.includes(row.notInMessage), `message: ${issue.message}`)

  const lines = human.split('\n')
  const where = expected ? `${issue.file}:${expected.line}:` : `${issue.file}:`
  const shown = lines.find((l) => l.startsWith(where) && l.includes(issue.message))
  assert.ok(shown, `no line starting with ${where} for the issue in:\n${human}`)
  assert.equal(shown, issueLine(issue))
  if (row.path) assert.ok(shown.includes(` ${row.path}: `), shown)
  assert.ok(lines.includes(`❌ ${issue.file}`), human)

  for (const out of printed) {
    assert.doesNotMatch(out, STACK_TRACE, `stack trace in:\n${out}`)
    for (const secret of row.hidden ?? []) assert.ok(!out.includes(secret), `${secret} leaked:\n${out}`)
  }
}
