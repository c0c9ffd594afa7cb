import {Flags} from '@oclif/core'

import {BotCommand} from '../lib/cli/bot-command.js'
import {humanLogger, logLines} from '../lib/cli/human.js'
import {leveledValidation} from '../lib/config/report-text.js'
import {ExitCode} from '../lib/errors.js'
import {type PreflightReport, preflight} from '../lib/preflight.js'
import {renderStateVerification} from '../lib/state/report-text.js'
import {parseAuditHead} from '../lib/state/verify.js'

export type ValidateResult = PreflightReport | {schemas: string[]}

export default class Validate extends BotCommand {
  static override summary = 'Check the four config files (and, with --state-dir, the audit log of a state dir); every other command runs the config check first.'
  static override description = 'Reports every problem in app.yaml, policy.yaml, universe.yaml and signals.yaml as file:line:column, key path, what was expected and what was found. With --state-dir it also verifies that state dir\'s audit chain, read-only, against the head in audit-head.json and, with --audit-head, against a head copied from the logs. Exit 0 when valid, 1 when not, 2 on bad usage.'
  static override examples = [
    '<%= config.bin %> validate',
    '<%= config.bin %> validate --config-dir /etc/bot --json',
    '<%= config.bin %> validate --schema ./schemas',
    '<%= config.bin %> validate --state-dir /var/lib/bot --audit-head 1257:ce88e1cd5a8326800d681ba44f47542944af037f8aaba1a5e740905b47d51519',
  ]

  static override flags = {
    schema: Flags.directory({description: 'Write a JSON Schema per config file into this folder (for editors), then exit'}),
    'state-dir': Flags.directory({description: 'Also verify the audit log of this state dir (read-only)'}),
    'audit-head': Flags.string({description: 'A head published earlier, <entries>:<hash> (a cycle event\'s "audit"), that the log must still contain', dependsOn: ['state-dir']}),
  }

  async run(): Promise<ValidateResult> {
    const {flags} = await this.parse(Validate)
    if (flags.schema) {
      const {writeJsonSchemas} = await import('../lib/config/json-schema.js') // only this flag pays for it
      const schemas = writeJsonSchemas(flags.schema)
      if (!this.jsonEnabled()) logLines(humanLogger(null), 'info', schemas.map((file) => `wrote ${file}`))
      return {schemas}
    }

    const auditHead = flags['audit-head'] === undefined ? undefined : parseAuditHead(flags['audit-head'])
    const {report, config} = await preflight(flags['config-dir'], {stateDir: flags['state-dir'], auditHead})
    if (!this.jsonEnabled()) {
      const log = humanLogger(config)
      for (const [level, line] of leveledValidation({...report, ok: report.files.every((f) => f.ok), config: null})) log.log(level, line)
      if (report.state) logLines(log, report.state.ok ? 'info' : 'error', renderStateVerification(report.state))
      await log.drained()
    }

    if (!report.ok) process.exitCode = ExitCode.Failed
    return report
  }
}
