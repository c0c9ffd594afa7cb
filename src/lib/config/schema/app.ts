import {z} from 'zod'

import {Currency, NonNegative, NonNegativeInt, Port, Positive, PositiveInt} from './common.js'

const SimCosts = z.strictObject({
  spread_bps: z.record(z.string(), NonNegative).default({}).describe('Half-spread in basis points per tier name; a tier not listed uses "default"'),
  slippage_bps: z.record(z.string(), NonNegative).default({}).describe('Market-order slippage in basis points per tier name; a tier not listed uses "default"'),
})

const SimFaults = z.strictObject({
  reject_order_rate: z.number().min(0).max(1).default(0).describe('Probability that the simulated exchange rejects an order'),
  convert_failure_rate: z.number().min(0).max(1).default(0).describe('Probability that a simulated convert fails'),
  seed: NonNegativeInt.default(1).describe('Seed of the fault generator, so faulty runs are reproducible'),
})

const Sim = z.strictObject({
  data_dir: z.string().min(1).nullable().default(null).describe('Folder of candle CSV files (timestamp,open,high,low,close,volume); null = the bundled Coinbase hourly data'),
  start_balances: z.record(Currency, NonNegative).default({USD: 100000}).describe('Balances at the start of a sim run: cash and/or coins'),
  fees_bps: z.strictObject({maker: NonNegative.default(40), taker: NonNegative.default(60)}).default({maker: 40, taker: 60}),
  costs: SimCosts.default({spread_bps: {}, slippage_bps: {}}),
  max_fill_pct_of_bar_volume: z.number().gt(0).max(100).default(10).describe('Share of a bar\'s volume one order may take; the rest fills on later bars'),
  warmup_bars: NonNegativeInt.default(48).describe('Bars replayed before the first cycle, so indicators are ready'),
  convert_supported: z.boolean().default(true).describe('Whether the simulated exchange offers convert quotes'),
  convert_fee_bps: NonNegative.default(10),
  faults: SimFaults.default({reject_order_rate: 0, convert_failure_rate: 0, seed: 1}),
})

const Exchange = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9]*$/, 'an exchange id: "sim" or a ccxt id such as "coinbase"').default('sim'),
  quote_currency: Currency.default('USD'),
  api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name').default('BOT_API_KEY').describe('Name of the environment variable that holds the API key (never the key itself)'),
  api_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name').default('BOT_API_SECRET'),
  timeout_ms: z.number().int().min(100).max(120000).default(10000),
  sim: Sim.default(Sim.parse({})),
})

const Loop = z.strictObject({
  interval_seconds: Positive.default(60).describe('Seconds between cycles on a real exchange; the sim runs as fast as possible unless --interval is given'),
  max_cycle_seconds: Positive.default(120).describe('A cycle that takes longer is abandoned safely and logged'),
  max_clock_skew_ms: PositiveInt.default(5000).describe('Trading pauses while the exchange clock differs by more than this'),
})

const State = z.strictObject({
  dir: z.string().min(1).default('./data').describe('Folder of the SQLite state, audit log, lock, kill switch and metrics port file'),
})

const KillSwitch = z.strictObject({
  cancel_open_orders: z.boolean().default(true).describe('Cancel every open order when <state dir>/KILL_SWITCH appears'),
})

const Metrics = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default('127.0.0.1').describe('Address the exporter binds; keep 127.0.0.1 unless a scraper runs elsewhere'),
  port: Port.default(9090),
  port_retries: z.number().int().min(0).max(100).default(3).describe('On a port conflict, also try the next N ports'),
  pushgateway_url: z.string().nullable().default(null).describe('Pushgateway for one-shot commands run from cron; null = off'),
})

const UrlSink = {
  url: z.string().min(1).describe('http(s) URL; write ${ENV_VAR} to keep it out of the file'),
  min_severity: z.enum(['info', 'warning', 'critical']).default('warning'),
}

const AlertSink = z.discriminatedUnion('type', [
  z.strictObject({type: z.literal('console'), min_severity: z.enum(['info', 'warning', 'critical']).default('info')}),
  z.strictObject({type: z.literal('webhook'), ...UrlSink}),
  z.strictObject({type: z.literal('slack'), ...UrlSink}),
  z.strictObject({type: z.literal('alertmanager'), ...UrlSink}),
])

const Alerts = z.strictObject({
  timeout_ms: z.number().int().min(50).max(30000).default(3000).describe('An alert that takes longer is dropped and logged, so alerts never stall trading'),
  dedup_seconds: NonNegative.default(3600).describe('The same alert is sent again only after this long'),
  sinks: z.array(AlertSink).default([{type: 'console', min_severity: 'info'}]),
})

const Logging = z.strictObject({
  level: z.enum(['debug', 'info', 'warning', 'error']).default('info'),
})

export const AppConfig = z.strictObject({
  mode: z.enum(['paper', 'live']).default('paper').describe('paper: simulated fills; live: real orders, also needs --live and credentials in the environment'),
  exchange: Exchange.default(Exchange.parse({})),
  loop: Loop.default(Loop.parse({})),
  state: State.default({dir: './data'}),
  kill_switch: KillSwitch.default({cancel_open_orders: true}),
  metrics: Metrics.default(Metrics.parse({})),
  alerts: Alerts.default(Alerts.parse({})),
  logging: Logging.default({level: 'info'}),
})

export type AppConfig = z.infer<typeof AppConfig>
