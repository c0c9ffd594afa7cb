import {Command, Flags, Interfaces} from '@oclif/core'

import {BotError, ExitCode} from '../errors.js'
import {causeOf, isSystemError} from '../files.js'
import {createLogger} from './log.js'

// oclif's own shapes for parsed flags and args (not exported by name).
type FlagOutput = {[name: string]: any} // eslint-disable-line @typescript-eslint/no-explicit-any
type ArgOutput = {[name: string]: any} // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Shared flags and error rendering: every failure leaves as one line (or one JSON document) with a
 * documented exit code, never as a stack trace.
 */
export abstract class BotCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    'config-dir': Flags.directory({description: 'Folder holding app.yaml, policy.yaml, universe.yaml and signals.yaml', default: './config', helpGroup: 'GLOBAL'}),
  }

  /** Every parse failure is a usage error (exit 2); oclif gives some of them (`--flag` without a value) exit 1. */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>, argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    try {
      return await super.parse(options, argv)
    } catch (error) {
      const e = error as Error & {oclif?: {exit?: number}}
      e.oclif = {...e.oclif, exit: ExitCode.Usage}
      throw e
    }
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    if (err.name === 'ExitError') throw err
    const known = asBotError(err)
    const exitCode = known ? known.exitCode : err.oclif?.exit ?? ExitCode.Failed
    const message = known ? known.message : oneLine(err.message || String(err))
    const code = known ? known.code : exitCode === ExitCode.Usage ? 'USAGE' : 'INTERNAL'
    if (this.jsonEnabled()) {
      this.logJson({ok: false, error: {code, message, details: known?.details ?? []}})
    } else {
      // Through the logger: off a terminal, each line gets its time and level like every other line.
      const log = createLogger({level: 'error', stdout: process.stdout, stderr: process.stderr})
      for (const line of known?.details ?? []) log.log('error', line)
      log.log('error', `Error: ${message}`)
      if (!known && exitCode !== ExitCode.Usage) log.log('error', '(this is a bug in bot; set DEBUG=bot* for details)')
      await log.drained()
    }

    if (process.env.DEBUG && !known) process.stderr.write(`${err.stack}\n`)
    this.exit(exitCode)
  }

}

/** Expected failures: ours, and the environment's (an exchange that fails, a full disk under SQLite). */
function asBotError(err: Error & {code?: unknown}): BotError | null {
  if (err instanceof BotError) return err
  if (err.name === 'ExchangeError') return new BotError(`exchange: ${oneLine(err.message)}`, String(err.code))
  if (err.name === 'SqliteError') return new BotError(`state database: ${oneLine(err.message)}`, String(err.code))
  // A file-system failure bot did not wrap with more context is still the machine's, not a bug: name the path.
  if (isSystemError(err)) return new BotError(`${err.syscall} ${err.path ?? ''}: ${causeOf(err)}`.replace(' :', ':'), String(err.code))
  return null
}

function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 500)
}
