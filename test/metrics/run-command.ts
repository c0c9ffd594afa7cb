// Runs src/commands/metrics.ts through oclif (flag parsing, --json, error rendering, exit codes) without
// the build: `node --import tsx test/metrics/run-command.ts <args>`. Exit codes as bin/run.js sets them.
import {fileURLToPath} from 'node:url'

import Metrics from '../../src/commands/metrics.js'

try {
  await Metrics.run(process.argv.slice(2), fileURLToPath(new URL('../..', import.meta.url)))
} catch (error) {
  const exit = (error as {oclif?: {exit?: number}}).oclif?.exit
  if (exit === undefined) throw error
  process.exitCode = exit
}
