import {Flags} from '@oclif/core'

import {BotCommand} from '../lib/cli/bot-command.js'
import {validateConfig, type ValidationReport} from '../lib/config/index.js'
import {renderValidation} from '../lib/config/report-text.js'
import {BotError, ExitCode} from '../lib/errors.js'

export type ValidateResult = Omit<ValidationReport, 'config'> | {schemas: string[]}

export default class Validate extends BotCommand {
  static override summary = 'Check the four config files; every other command runs this check first.'
  static override description = 'Reports every problem in app.yaml, policy.yaml, universe.yaml and signals.yaml as file:line:column, key path, what was expected and what was found. Exit 0 when valid, 1 when not, 2 on bad usage.'
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate --config-dir /etc/bot --json', '<%= config.bin %> validate --schema ./schemas']
  static override flags = {
    schema: Flags.directory({description: 'Write a JSON Schema per config file into this folder (for editors), then exit'}),
  }

  async run(): Promise<ValidateResult> {
    const {flags} = await this.parse(Validate)
    if (flags.schema) {
      let schemas: string[]
      try {
        const {writeJsonSchemas} = await import('../lib/config/json-schema.js') // only this flag pays for it
        schemas = writeJsonSchemas(flags.schema)
      } catch (error) {
        throw new BotError(`cannot write JSON Schemas to ${flags.schema}: ${(error as Error).message}`, 'SCHEMA_WRITE_FAILED')
      }

      if (!this.jsonEnabled()) for (const file of schemas) this.log(`wrote ${file}`)
      return {schemas}
    }

    const {config: _config, ...report} = validateConfig(flags['config-dir'])
    if (!this.jsonEnabled()) for (const line of renderValidation({...report, config: null})) this.log(line)
    if (!report.ok) process.exitCode = ExitCode.Failed
    return report
  }
}
