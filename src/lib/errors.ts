/** Exit codes, documented in the README. */
export enum ExitCode {
  Ok = 0,
  /** Invalid config, a trade step that failed, a refused start. */
  Failed = 1,
  /** Bad flags or arguments. */
  Usage = 2,
}

/**
 * An expected failure with a one-line message a person can act on. Anything else reaching the top is a bug,
 * and is still reported in one line.
 */
export class BotError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCode = ExitCode.Failed,
    /** Extra lines shown under the message (e.g. every config problem). */
    readonly details: string[] = [],
  ) {
    super(message)
    this.name = 'BotError'
  }
}

export class UsageError extends BotError {
  constructor(message: string) {
    super(message, 'USAGE', ExitCode.Usage)
  }
}
