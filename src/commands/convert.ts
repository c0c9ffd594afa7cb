import {Args, Flags} from '@oclif/core'

import {BotCommand} from '../lib/cli/bot-command.js'
import {humanLogger, logLines} from '../lib/cli/human.js'
import {renderConvert} from '../lib/cli/render-convert.js'
import {requireValidConfig} from '../lib/config/index.js'
import {type ConvertResult, convertOnce} from '../lib/engine/convert-once.js'
import {ExitCode, UsageError} from '../lib/errors.js'

export default class Convert extends BotCommand {
  static override summary = 'Turn an amount of one currency into another once: the loop\'s own route (convert, market or TWAP).'
  static override description = 'Shows the route it takes (the exchange\'s convert where offered, else a market order, in TWAP slices for a tier that slices, two legs through the quote currency between two coins), checks every leg with the loop\'s pre-trade checks (the exposure cap first), then executes it as audited cycles and waits for the fills and slices on the venue\'s clock. --dry-run prints the route and places nothing (it also works beside a running `bot run`; trading then is refused). Exit 0: done; 1: denied, failed or not finished (it says what was done so far); 2: bad usage.'
  static override examples = ['<%= config.bin %> convert BTC USD --amount all --dry-run', '<%= config.bin %> convert USD ETH --amount 2500 --json', '<%= config.bin %> convert SOL BTC --amount 10 --state-dir /var/lib/bot']
  static override args = {
    from: Args.string({description: 'Currency to spend (e.g. BTC, USD)', required: true}),
    to: Args.string({description: 'Currency to receive', required: true}),
  }

  static override flags = {
    amount: Flags.string({description: 'How much of FROM: a number, or "all" (everything of it that is free)', required: true}),
    'state-dir': Flags.directory({description: 'State folder; default: app.yaml state.dir'}),
    'dry-run': Flags.boolean({description: 'Print the route; place nothing, write nothing', default: false}),
    live: Flags.boolean({description: 'Confirm live trading (app.yaml must also say mode: live)', default: false}),
  }

  async run(): Promise<ConvertResult> {
    const {args, flags} = await this.parse(Convert)
    const amount = parseAmount(flags.amount)
    const config = requireValidConfig(flags['config-dir'])
    const log = humanLogger(config)
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      const result = await convertOnce({
        config, configDir: flags['config-dir'], stateDir: flags['state-dir'], live: flags.live, version: this.config.version, stop: stop.signal,
        request: {from: args.from, to: args.to, amount}, dryRun: flags['dry-run'],
        observe: () => {}, alertLine: (line, severity) => log.log(severity, line),
      })
      const ok = result.outcome === 'done' || result.outcome === 'preview'
      if (!this.jsonEnabled()) logLines(log, ok ? 'info' : 'warning', renderConvert(result))
      await log.drained()
      if (!ok) process.exitCode = ExitCode.Failed
      return result
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

function parseAmount(text: string): number | 'all' {
  if (text.trim().toLowerCase() === 'all') return 'all'
  const n = Number(text)
  if (!/^\s*\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(text) || !Number.isFinite(n) || n <= 0) throw new UsageError(`--amount must be a number > 0 or "all", got "${text}"`)
  return n
}
