import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import path from 'node:path'

import {shownValue} from '../../config/env.js'
import type {BotConfig} from '../../config/load.js'
import {durationText, TIMEFRAME_MS} from '../../domain.js'
import {BotError} from '../../errors.js'
// No ccxt is loaded by this import: openCcxtVenue loads it (only its exchange's class where it can).
import {type BreakerOptions, type CcxtVenue, type Credentials, DEFAULT_BREAKER, DEFAULT_RETRY, openCcxtVenue, type RetryOptions} from '../../exchange/ccxt/index.js'
import {ExchangeError, WallClock} from '../../exchange/ports.js'
import {SimBroker} from '../../exchange/sim-broker/broker.js'
import {tierMap} from '../../universe/eligibility.js'
import type {PreparedVenue, VenueOptions} from '../venue.js'
import {SIM_STATE_FILE, startBalancesText} from './sim.js'

/**
 * Retries and the circuit breaker's pause sized to the loop: a wait longer than the time to the next cycle
 * buys nothing (that cycle asks again), and retries must leave the cycle time to finish inside
 * loop.max_cycle_seconds. With the shipped 60 s interval these are the adapter's defaults.
 */
export function resilienceFor(intervalMs: number, maxCycleMs: number): {retry: RetryOptions; breaker: Partial<BreakerOptions>} {
  return {
    retry: {
      attempts: DEFAULT_RETRY.attempts,
      baseDelayMs: Math.min(DEFAULT_RETRY.baseDelayMs, intervalMs / 4),
      rateLimitDelayMs: Math.min(DEFAULT_RETRY.rateLimitDelayMs, intervalMs / 2),
      maxDelayMs: Math.min(DEFAULT_RETRY.maxDelayMs, intervalMs),
      budgetMs: Math.min(DEFAULT_RETRY.budgetMs, maxCycleMs / 4),
    },
    breaker: {cooldownMs: Math.min(DEFAULT_BREAKER.cooldownMs, intervalMs)},
  }
}

/**
 * A REST URL of plain http, which the config accepts only for a loopback host: a server on this machine (a
 * test server), not the exchange. ccxt's limiter paces requests to the exchange's published limits (Coinbase:
 * 10 public requests a second), which would only slow such a server's tests down; it stays on for https.
 */
function localServer(restUrl: string | undefined): boolean {
  return restUrl !== undefined && /^http:\/\//i.test(restUrl)
}

/**
 * A venue that cannot be opened, as a refusal naming the setting: an exchange.id written as ${VAR} is shown by
 * the variable's name, never by its value.
 */
function refusalOf(error: unknown, config: BotConfig): unknown {
  if (!(error instanceof ExchangeError)) return error
  const {id} = config.app.exchange
  const shown = shownValue(config.fromEnv.app, ['exchange', 'id'], `"${id}"`)
  if (error.code === 'UNKNOWN_EXCHANGE') return new BotError(`exchange.id ${shown}: ccxt has no such exchange (write a ccxt id, e.g. coinbase, or sim)`, error.code)
  const message = config.fromEnv.app.has('exchange.id') ? error.message.split(id).join(shown) : error.message
  return new BotError(`exchange.id ${shown}: ${message}`, error.code)
}

/** A client-order-id namespace of its own, for an account bot may share with other state dirs or people. */
export function randomNamespace(): string {
  return `r${randomBytes(4).toString('hex')}`
}

/**
 * The API key and secret for live trading, from the environment variables app.yaml names (never from a
 * file). Refused in one line, naming the variables and never a value, when one is unset or empty.
 */
export function credentialsFrom(config: BotConfig, env: NodeJS.ProcessEnv): Credentials {
  const {api_key_env: keyVar, api_secret_env: secretVar} = config.app.exchange
  const [apiKey, secret] = [env[keyVar], env[secretVar]]
  const missing = [[keyVar, 'exchange.api_key_env', apiKey], [secretVar, 'exchange.api_secret_env', secret]].filter(([, , v]) => !v?.trim())
  if (missing.length > 0) {
    const named = missing.map(([name, field]) => `$${name} (${field})`).join(' and ')
    throw new BotError(`live trading needs the exchange's API credentials in the environment: ${named} ${missing.length > 1 ? 'are' : 'is'} not set; nothing was sent and no file was written`, 'CREDENTIALS_MISSING')
  }

  return {apiKey: apiKey!.trim(), secret: secret!}
}

/**
 * A real exchange through ccxt. paper: its public market data (no credentials are read), the simulated
 * broker filling against it (its account in sim-exchange.sqlite beside bot.sqlite, start balances from
 * exchange.sim) and the wall clock. live: its market data and its broker (real orders), the wall clock,
 * bot.sqlite synced before every order. Everything that can refuse does so here, before a file is written:
 * the credentials now, ccxt's class and the exchange's timeframes in load().
 */
export function prepareExchangeVenue(config: BotConfig, options: VenueOptions): PreparedVenue {
  const {app} = config
  const ex = app.exchange
  const live = app.mode === 'live'
  const stateFile = path.join(options.stateDir, SIM_STATE_FILE)
  const credentials = live ? credentialsFrom(config, options.env ?? process.env) : null
  if (live && existsSync(stateFile)) {
    throw new BotError(`${SIM_STATE_FILE} in ${options.stateDir} holds a simulated account: live trading needs a state dir of its own (state.dir or --state-dir)`, 'STATE_MISMATCH')
  }

  const intervalMs = (options.intervalSeconds ?? app.loop.interval_seconds) * 1000
  const restUrl = ex.rest_url ?? undefined
  const at = restUrl === undefined ? '' : ` at ${shownValue(config.fromEnv.app, ['exchange', 'rest_url'], restUrl)}`
  const bars = durationText(TIMEFRAME_MS[ex.timeframe])
  let loaded: Promise<CcxtVenue> | null = null
  const load = () => {
    loaded ??= openCcxtVenue({
      exchangeId: ex.id, restUrl, credentials, timeoutMs: ex.timeout_ms, quote: ex.quote_currency, timeframe: ex.timeframe,
      ...resilienceFor(intervalMs, app.loop.max_cycle_seconds * 1000), rateLimit: !localServer(restUrl),
    }).catch((error: unknown) => {
      throw refusalOf(error, config)
    })
    return loaded
  }

  return {
    pairedFiles: live ? [] : [stateFile],
    async load() {
      await load()
    },
    async open(run, {readOnly = false} = {}) {
      const ccxt = await load()
      const clock = new WallClock()
      const tierOf = tierMap(config.universe)
      const broker = live
        ? ccxt.broker!
        : SimBroker.open({
          market: ccxt.market, clock, settings: ex.sim, quote: ex.quote_currency, tierOf: (s) => tierOf.get(s), stateFile, run, readOnly,
          identity: {market: `paper:${ex.id}`, marketSummary: `${ex.id} market data (paper)`, startBalances: startBalancesText(ex.sim.start_balances)},
        })
      return {
        market: ccxt.market,
        broker,
        clock,
        intervalMs,
        idNamespace: randomNamespace(),
        // Orders reach a real account: bot.sqlite is synced before each one is sent.
        durability: live ? 'full' : 'os',
        description: live
          ? `LIVE trading on ${ex.id}${at}: real orders (${bars} bars, a cycle every ${durationText(intervalMs)})`
          : `paper trading on ${ex.id}'s public market data${at}: simulated fills, no credentials used (${bars} bars, a cycle every ${durationText(intervalMs)})`,
        exchange: ccxt,
      }
    },
  }
}
