import {Command, Flags, Interfaces} from '@oclif/core'

import {BotError, ExitCode} from '../errors.js'

export type BotFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BotCommand)['baseFlags'] & T['flags']>

/**
 * Shared flags and error rendering: every failure leaves as one line (or one JSON document) with a
 * documented exit code, never as a stack trace.
 */
export abstract class BotCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    'config-dir': Flags.directory({description: 'Folder holding app.yaml, policy.yaml, universe.yaml and signals.yaml', default: './config', helpGroup: 'GLOBAL'}),
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    const known = err instanceof BotError
    const exitCode = known ? err.exitCode : err.oclif?.exit ?? ExitCode.Failed
    if (err.name === 'ExitError') throw err
    const message = known ? err.message : oneLine(err.message || String(err))
    if (this.jsonEnabled()) {
      this.logJson({ok: false, error: {code: known ? err.code : exitCode === ExitCode.Usage ? 'USAGE' : 'INTERNAL', message, details: known ? err.details : []}})
    } else {
      for (const line of known ? err.details : []) process.stderr.write(`${line}\n`)
      process.stderr.write(`Error: ${message}\n`)
      if (!known && exitCode !== ExitCode.Usage) process.stderr.write('(this is a bug in bot; set DEBUG=bot* for details)\n')
    }

    if (process.env.DEBUG && !known) process.stderr.write(`${err.stack}\n`)
    this.exit(exitCode)
  }
}

function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 500)
}
