import type {Hook} from '@oclif/core'

import {ExitCode} from '../lib/errors.js'

/** An unknown command is a usage error: one line naming what exists, exit 2. */
const hook: Hook.CommandNotFound = async function (options) {
  const known = options.config.commands.map((c) => c.id).filter((id) => !id.includes(':')).sort()
  process.stderr.write(`Error: unknown command "${options.id.replaceAll(':', ' ')}"; commands: ${known.join(', ')} (see bot --help)\n`)
  this.exit(ExitCode.Usage)
}

export default hook
