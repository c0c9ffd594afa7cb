import {Flags} from '@oclif/core'

import {BotCommand} from '../lib/cli/bot-command.js'
import {humanLogger, logLines} from '../lib/cli/human.js'
import {renderTrim} from '../lib/cli/render-trim.js'
import {requireValidConfig} from '../lib/config/index.js'
import {type TrimResult, trimOnce} from '../lib/engine/trim-once.js'
import {ExitCode} from '../lib/errors.js'

export default class Trim extends BotCommand {
  static override summary = 'Sell back under the exposure cap once: the loop\'s own trim step, for a person or a cron job.'
  static override description = 'Runs the pre-flight checks, takes a snapshot, plans the trim back to max_total_at_risk_pct minus trim_buffer_pct and executes it, as one audited cycle. --dry-run prints the plan and places nothing (it also works while `bot run` holds the state dir; trading then is refused, because that loop already trims). Exit 0: nothing to do, or back under the cap once the sells fill; 1: still over the cap, or it failed; 2: bad usage.'
  static override examples = ['<%= config.bin %> trim --dry-run', '<%= config.bin %> trim --state-dir /var/lib/bot --json', '<%= config.bin %> trim --live']
  static override flags = {
    'state-dir': Flags.directory({description: 'State folder; default: app.yaml state.dir'}),
    'dry-run': Flags.boolean({description: 'Print the plan; place nothing, write nothing', default: false}),
    live: Flags.boolean({description: 'Confirm live trading (app.yaml must also say mode: live)', default: false}),
  }

  async run(): Promise<TrimResult> {
    const {flags} = await this.parse(Trim)
    const config = requireValidConfig(flags['config-dir'])
    const log = humanLogger(config)
    const result = await trimOnce({config, configDir: flags['config-dir'], stateDir: flags['state-dir'], dryRun: flags['dry-run'], live: flags.live, version: this.config.version, observe: () => {}, alertLine: (line, severity) => log.log(severity, line)})
    const over = result.exposureAfterPct > result.capPct
    // Still over the cap needs a person (stderr, and a cron mail even at logging.level warning); the rest is a report.
    if (!this.jsonEnabled()) logLines(log, over ? 'warning' : 'info', renderTrim(result))
    await log.drained()
    if (over) process.exitCode = ExitCode.Failed
    return result
  }
}
