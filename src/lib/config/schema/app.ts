import * as z from 'zod/mini'

import {TIMEFRAMES} from '../../domain.js'
import {Bars, Currency, doc, EnvName, NonNegative, NonNegativeInt, num, opt, Positive, PositiveInt, Probability, section, Severity, text} from './common.js'

/** Basis points of a trading cost: 1000 bps (10 %) is far beyond any real venue, and keeps every fill's proceeds positive. */
const CostBps = () => num({min: 0, max: 1000})

const SimCosts = z.strictObject({
  spread_bps: opt(z.record(z.string(), CostBps()), {}, 'Half-spread in basis points (0..1000) per tier name; a tier not listed uses "default"'),
  slippage_bps: opt(z.record(z.string(), CostBps()), {}, 'Market-order slippage in basis points (0..1000) per tier name; a tier not listed uses "default"'),
})

const SimFaults = z.strictObject({
  reject_order_rate: opt(Probability(), 0, 'Probability that the simulated exchange rejects an order'),
  convert_failure_rate: opt(Probability(), 0, 'Probability that a simulated convert fails'),
  seed: opt(NonNegativeInt(), 1, 'Seed of the fault generator, so faulty runs are reproducible'),
})

const Sim = z.strictObject({
  data_dir: opt(z.nullable(z.string().check(z.minLength(1))), null, 'Folder of candle CSV files (timestamp,open,high,low,close,volume); null = the bundled Coinbase hourly data'),
  start_balances: opt(z.record(Currency, NonNegative()), {USD: 100000}, 'Balances at the start of a sim run: cash and/or coins'),
  fees_bps: section(z.strictObject({maker: opt(CostBps(), 40, 'Maker fee in basis points (0..1000)'), taker: opt(CostBps(), 60, 'Taker fee in basis points (0..1000)')})),
  costs: section(SimCosts),
  max_fill_pct_of_bar_volume: opt(num({gt: 0, max: 100}), 10, 'Share of a bar\'s volume one order may take; the rest fills on later bars'),
  warmup_bars: opt(z.union([NonNegativeInt(), Bars(1, 1_000_000)]), 48, 'Bars replayed before the first cycle, or a duration of whole bars ("2d")'),
  convert_supported: opt(z.boolean(), true, 'Whether the simulated exchange offers convert quotes'),
  convert_fee_bps: opt(CostBps(), 10, 'Convert fee in basis points (0..1000)'),
  faults: section(SimFaults),
})

/**
 * Scheme, host and port only: ccxt keeps the exchange's own paths. Plain http only to this machine (a test
 * server): anywhere else credentials and orders would cross the network unencrypted.
 */
const RestUrl = text(/^(https:\/\/[A-Za-z0-9.-]+|http:\/\/(127\.0\.0\.1|\[::1\]|localhost))(:\d{1,5})?\/?$/, 'an https:// URL (scheme, host, optional port), or http:// to a loopback host (127.0.0.1, [::1], localhost)')

const Exchange = z.strictObject({
  id: opt(text(/^[a-z][a-z0-9]*$/, 'an exchange id: "sim" or a ccxt id such as "coinbase"'), 'sim'),
  timeframe: opt(z.enum([...TIMEFRAMES]), '1h', 'Bar length of the market data; look-backs in bars are bars of this length'),
  quote_currency: opt(Currency, 'USD'),
  api_key_env: opt(EnvName, 'BOT_API_KEY', 'Name of the environment variable that holds the API key (never the key itself)'),
  api_secret_env: opt(EnvName, 'BOT_API_SECRET', 'Name of the environment variable that holds the API secret'),
  timeout_ms: opt(num({min: 100, max: 120000}, true), 10000),
  rest_url: opt(z.nullable(RestUrl), null, 'Base URL of the exchange\'s REST API instead of its own (a sandbox, a test server): https://, or http:// only to a loopback host; null = the exchange\'s'),
  sim: section(Sim),
})

const Loop = z.strictObject({
  interval_seconds: opt(Positive(), 60, 'Seconds between cycles on a real exchange; the sim runs as fast as possible unless --interval is given'),
  max_cycle_seconds: opt(Positive(), 120, 'A cycle that takes longer is abandoned safely and logged'),
  max_clock_skew_ms: opt(PositiveInt(), 5000, 'Trading pauses while the exchange clock differs by more than this'),
})

const State = z.strictObject({
  dir: opt(z.string().check(z.minLength(1)), './data', 'Folder of the SQLite state, audit log, lock, kill switch and metrics port file'),
  audit_key_env: opt(EnvName, 'BOT_AUDIT_KEY', 'Name of the environment variable holding the audit key; when it is set, the audit chain is an HMAC chain nobody can recompute without the key'),
})

const KillSwitch = z.strictObject({
  cancel_open_orders: opt(z.boolean(), true, 'Cancel every open order when <state dir>/KILL_SWITCH appears'),
})

const Metrics = z.strictObject({
  enabled: opt(z.boolean(), true),
  host: opt(z.string().check(z.minLength(1)), '127.0.0.1', 'Address the exporter binds; keep 127.0.0.1 unless a scraper runs elsewhere'),
  port: opt(num({min: 1, max: 65535}, true), 9090),
  port_retries: opt(num({min: 0, max: 100}, true), 3, 'On a port conflict, also try the next N ports'),
  pushgateway_url: opt(z.nullable(z.string()), null, 'Pushgateway for one-shot commands run from cron; null = off'),
})

/** Fields every URL sink shares; a fresh set per sink type, so each gets its own description. */
const urlFields = () => ({
  url: doc(z.string().check(z.minLength(1)), 'http(s) URL; write ${ENV_VAR} to keep it out of the file (it is treated as a secret)'),
  min_severity: opt(Severity, 'warning'),
  timeout_ms: doc(z.optional(num({min: 50, max: 30000}, true)), 'Time limit for this sink\'s delivery, retries included, in milliseconds; default alerts.timeout_ms'),
})

const urlSink = <T extends string>(type: T) => z.strictObject({type: z.literal(type), ...urlFields()})

const AlertSink = z.discriminatedUnion('type', [
  z.strictObject({type: z.literal('console'), min_severity: opt(Severity, 'info')}),
  z.strictObject({
    type: z.literal('webhook'),
    ...urlFields(),
    hmac_secret_env: doc(z.optional(EnvName), 'Name of the environment variable holding the HMAC-SHA256 key that signs each request (header X-Bot-Signature); unset = unsigned'),
  }),
  urlSink('slack'),
  urlSink('alertmanager'),
])

const Alerts = z.strictObject({
  timeout_ms: opt(num({min: 50, max: 30000}, true), 3000, 'Default time limit of a URL sink, retries included: a sink that takes longer is given up for that alert, so alerts never stall trading'),
  dedup_seconds: opt(NonNegative(), 3600, 'The same alert (same key) is sent to a sink again only after this long, as a reminder'),
  sinks: opt(z.array(AlertSink), [{type: 'console', min_severity: 'info'}]),
})

const Logging = z.strictObject({
  level: opt(z.enum(['debug', 'info', 'warning', 'error']), 'info'),
})

export const AppConfig = z.strictObject({
  mode: opt(z.enum(['paper', 'live']), 'paper', 'paper: simulated fills; live: real orders, also needs --live and credentials in the environment'),
  exchange: section(Exchange),
  loop: section(Loop),
  state: section(State),
  kill_switch: section(KillSwitch),
  metrics: section(Metrics),
  alerts: section(Alerts),
  logging: section(Logging),
})

export type AppInput = z.infer<typeof AppConfig>
/** With warm-up resolved to bars (see config/lookbacks.ts). */
export type AppConfig = Omit<AppInput, 'exchange'> & {exchange: Omit<AppInput['exchange'], 'sim'> & {sim: Omit<AppInput['exchange']['sim'], 'warmup_bars'> & {warmup_bars: number}}}
