import {Flags} from '@oclif/core'

import {BotCommand} from '../lib/cli/bot-command.js'
import {humanLogger, logLines} from '../lib/cli/human.js'
import {requireValidConfig} from '../lib/config/index.js'
import {renderMetricsSummary} from '../lib/metrics/report-text.js'
import {readRunningBot} from '../lib/metrics/scrape.js'
import type {MetricsSummary} from '../lib/metrics/summary.js'

export type MetricsResult = MetricsSummary

export default class Metrics extends BotCommand {
  static override summary = 'Show the running bot\'s metrics: exposure vs cap, equity, positions, last cycle, trims, kill switch.'
  static override description = 'Finds the exporter of the bot running on the state dir (its address is in <state dir>/metrics.json, whichever port it got), scrapes it and summarizes it. Exit 0 when it was read, 1 when no bot is running there (or the config is invalid), 2 on bad usage.'
  static override examples = ['<%= config.bin %> metrics', '<%= config.bin %> metrics --state-dir /var/lib/bot --json', '<%= config.bin %> metrics --raw | grep bot_exposure']
  static override flags = {
    'state-dir': Flags.directory({description: 'State folder of the running bot; default: app.yaml state.dir'}),
    raw: Flags.boolean({description: 'Print the Prometheus exposition text as scraped', default: false, exclusive: ['json']}),
  }

  async run(): Promise<MetricsResult> {
    const {flags} = await this.parse(Metrics)
    const config = requireValidConfig(flags['config-dir'])
    const {text, summary} = await readRunningBot(flags['state-dir'] ?? config.app.state.dir)
    if (flags.raw) process.stdout.write(text)
    else if (!this.jsonEnabled()) {
      const log = humanLogger(config)
      logLines(log, 'info', renderMetricsSummary(summary))
      await log.drained()
    }

    return summary
  }
}
