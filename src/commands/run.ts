import {Flags} from '@oclif/core'
import ora from 'ora'

import {BotCommand} from '../lib/cli/bot-command.js'
import {intervalFlag, MAX_INTERVAL_SECONDS} from '../lib/cli/flags.js'
import {humanLogger, logLines} from '../lib/cli/human.js'
import {eventLevel, type LogLevel} from '../lib/cli/log.js'
import {LineWriter} from '../lib/cli/output.js'
import {renderEvent, renderSummary} from '../lib/cli/render-run.js'
import {chalk} from '../lib/cli/style.js'
import {requireValidConfig} from '../lib/config/index.js'
import type {EngineEvent} from '../lib/engine/events.js'
import {runBot} from '../lib/engine/loop.js'
import type {RunSummary} from '../lib/engine/summary.js'

export type RunResult = RunSummary & {type: 'summary'}

export default class Run extends BotCommand {
  static override summary = 'Run the autonomous trading loop.'
  static override description = 'Validates the config, takes the state-dir lock, then cycles: kill switch, reconcile, snapshot, universe, signals, risk, execute, record. On the simulated exchange it replays market data as fast as possible and resumes where a previous run stopped. SIGINT/SIGTERM finish the current cycle and exit 0.'
  static override examples = ['<%= config.bin %> run', '<%= config.bin %> run --cycles 24 --json', '<%= config.bin %> run --state-dir /var/lib/bot --interval 1']
  static override flags = {
    'state-dir': Flags.directory({description: 'State folder (SQLite state, audit log, lock, KILL_SWITCH); default: app.yaml state.dir'}),
    cycles: Flags.integer({description: 'Stop after this many cycles', min: 1}),
    interval: intervalFlag({description: `Seconds between cycles, decimals allowed (0.2); at most ${MAX_INTERVAL_SECONDS} (default: as fast as possible on the sim, loop.interval_seconds on a real exchange)`}),
    live: Flags.boolean({description: 'Confirm live trading (app.yaml must also say mode: live)', default: false}),
    verbose: Flags.boolean({char: 'v', description: 'Print debug lines too (each cycle step with its duration): logging.level debug', default: false}),
  }

  async run(): Promise<RunResult> {
    const {flags} = await this.parse(Run)
    const json = this.jsonEnabled()
    const config = requireValidConfig(flags['config-dir'])
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    // `on`, not `once`: a handler that stays registered tells the spinner's exit hook (signal-exit) that
    // someone handles the signal, so it does not re-raise it and kill the process mid-cycle.
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const out = new LineWriter(process.stdout)
    const log = humanLogger(config, {verbose: flags.verbose})
    // A terminal that reports no width (some ptys) cannot be redrawn in place: no spinner there.
    const spinner = !json && process.stderr.isTTY && process.stderr.columns > 0 ? ora({stream: process.stderr, text: 'starting'}).start() : null
    const say = (level: LogLevel, line: string) => {
      if (json || !log.enabled(level)) return
      spinner?.clear()
      log.log(level, line)
      spinner?.render()
    }

    const emit = (value: unknown) => out.write(JSON.stringify(value))
    try {
      const summary = await runBot({
        config, configDir: flags['config-dir'], stateDir: flags['state-dir'], cycles: flags.cycles, intervalSeconds: flags.interval, live: flags.live, stop: stop.signal, version: this.config.version,
        flush: async () => {
          await out.drained()
          await log.drained()
        },
        alertLine: (line, severity) => say(severity, severity === 'critical' ? chalk.red.bold(line) : severity === 'warning' ? chalk.yellow(line) : line),
        observe: (e: EngineEvent) => {
          if (json) return emit(e)
          const line = renderEvent(e)
          if (line !== null) say(eventLevel(e), line)
          if (spinner && e.type === 'cycle') spinner.text = `cycle ${e.report.cycle}`
        },
        // Built only when shown: a replay runs eleven steps a cycle.
        timing: !json && log.enabled('debug') ? (cycle, step, ms) => say('debug', `   cycle ${cycle} ${step} ${ms.toFixed(3)} ms`) : undefined,
        onStart: (info) => (json ? emit({type: 'start', ...info}) : say('info', `bot: ${info.description}; state ${info.stateDir}${info.resumedFrom ? `, resuming after cycle ${info.resumedFrom}` : ''}\n     signals: ${info.lookbacks}`)),
      })
      spinner?.stop()
      if (!json) logLines(log, 'info', renderSummary(summary))
      await log.drained()
      return {type: 'summary', ...summary}
    } finally {
      spinner?.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }

  /** JSON lines: every event and the final summary (or the error) on one line each. */
  protected override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`)
  }
}
