import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {ROOT, STACK_TRACE} from '../helpers/cli.js'
import {
  checkRow, type ConfigName, CONFIG_NAMES, describeIssues, type Edit, editConfig, firstContent, freshConfig, issueLine, key,
  type Locate, removeTempConfigs, replace, type Row, text, type Validated, validateInProcess, validateThroughCli,
} from './support.js'

const SECRET = 'not-a-url-secret123'

const ROWS: Row[] = [
  // ---------------------------------------------------------------- app.yaml
  {
    name: 'wrong type: a word where seconds are expected',
    file: 'app.yaml', edit: replace('  interval_seconds: 60', '  interval_seconds: sixty'),
    path: 'loop.interval_seconds', code: 'invalid_type', message: 'expected a number, found "sixty"', at: key('interval_seconds'),
  },
  {
    name: 'out of range: metrics port above 65535',
    file: 'app.yaml', edit: replace('  port: 9090', '  port: 70000'),
    path: 'metrics.port', code: 'too_big', message: 'expected a number <= 65535, found 70000', at: key('port'),
  },
  {
    name: 'out of range: negative maker fee',
    file: 'app.yaml', edit: replace('      maker: 40', '      maker: -1'),
    path: 'exchange.sim.fees_bps.maker', code: 'too_small', message: 'expected a number >= 0, found -1', at: key('maker'),
  },
  {
    name: 'out of range: a probability above 1',
    file: 'app.yaml', edit: replace('      reject_order_rate: 0', '      reject_order_rate: 1.5'),
    path: 'exchange.sim.faults.reject_order_rate', code: 'too_big', message: 'expected a number <= 1, found 1.5', at: key('reject_order_rate'),
  },
  {
    name: 'wrong type: a fraction where a whole number is expected',
    file: 'app.yaml', edit: replace('  timeout_ms: 3000', '  timeout_ms: 2999.5'),
    path: 'alerts.timeout_ms', code: 'invalid_type', message: 'expected a whole number, found 2999.5', at: key('timeout_ms', 2),
  },
  {
    name: 'bad enum: mode',
    file: 'app.yaml', edit: replace(/^mode: paper$/m, 'mode: yolo'),
    path: 'mode', code: 'invalid_value', message: 'expected one of "paper", "live", found "yolo"', at: key('mode'),
  },
  {
    name: 'bad enum: alert sink type',
    file: 'app.yaml', edit: replace('    - type: console', '    - type: pager'),
    path: 'alerts.sinks[0].type', code: 'invalid_value', message: 'unknown type "pager"; expected one of "console", "webhook", "slack", "alertmanager"', at: key('type'),
  },
  {
    name: 'bad enum: alert severity',
    file: 'app.yaml', edit: replace('      min_severity: info', '      min_severity: loud'),
    path: 'alerts.sinks[0].min_severity', code: 'invalid_value', message: 'expected one of "info", "warning", "critical", found "loud"', at: key('min_severity'),
  },
  {
    name: 'bad enum: logging level',
    file: 'app.yaml', edit: replace('  level: info', '  level: verbose'),
    path: 'logging.level', code: 'invalid_value', message: 'expected one of "debug", "info", "warning", "error", found "verbose"', at: key('level'),
  },
  {
    name: 'bad format: lower-case quote currency',
    file: 'app.yaml', edit: replace('  quote_currency: USD', '  quote_currency: usd'),
    path: 'exchange.quote_currency', code: 'invalid_format', message: 'expected a currency code like USD, found "usd"', at: key('quote_currency'),
  },
  {
    name: 'bad format: the credential itself instead of the name of its variable',
    file: 'app.yaml', edit: replace('  api_key_env: BOT_API_KEY', '  api_key_env: sk-live-abc'),
    path: 'exchange.api_key_env', code: 'invalid_format', message: 'expected an environment variable name', at: key('api_key_env'),
  },
  {
    name: 'bad key in a record: lower-case currency as a balance',
    file: 'app.yaml', edit: replace('      USD: 100000', '      usd: 100000'),
    path: 'exchange.sim.start_balances.usd', code: 'invalid_key', message: 'invalid name "usd": expected a currency code like USD', at: key('usd'),
  },
  {
    name: 'unknown key with a did-you-mean suggestion',
    file: 'app.yaml', edit: replace('  interval_seconds: 60', '  interval_secs: 60'),
    path: 'loop.interval_secs', code: 'unknown_key', message: 'unknown key "interval_secs"; did you mean "interval_seconds"?', at: key('interval_secs'),
  },
  {
    name: 'unknown key in an alert sink of another type',
    file: 'app.yaml', edit: replace('      min_severity: info', '      min_severity: info\n      url: https://hooks.example.com/x'),
    path: 'alerts.sinks[0].url', code: 'unknown_key', message: 'unknown key "url"; expected one of: type, min_severity', at: key('url'),
  },
  {
    name: 'a __proto__ key is an unknown key, not a way to set other keys',
    file: 'app.yaml', edit: replace(/^mode: paper$/m, '__proto__:\n  mode: live\nmode: paper'),
    path: '__proto__', code: 'unknown_key', message: 'unknown key "__proto__"; expected one of: mode, exchange', at: key('__proto__'),
  },
  {
    name: 'tab indentation',
    file: 'app.yaml', edit: replace('  port: 9090', '\tport: 9090'),
    path: '', code: 'tab_indent', message: 'tab characters must not be used in indentation', at: text('\tport'),
  },
  {
    name: 'a list instead of a mapping',
    file: 'app.yaml', edit: replace(/^mode: paper[^]*$/m, '- mode: paper\n- exchange: sim\n'),
    path: '', code: 'not_a_mapping', message: 'expected a mapping of settings (key: value) at the top level, found a list', at: firstContent,
  },
  {
    name: 'unset ${ENV_VAR} names the variable',
    file: 'app.yaml', edit: replace('    - type: console\n      min_severity: info', '    - type: slack\n      url: ${BOT_TEST_UNSET_WEBHOOK}'),
    env: {BOT_TEST_UNSET_WEBHOOK: undefined},
    path: 'alerts.sinks[0].url', code: 'env_unset', message: 'environment variable BOT_TEST_UNSET_WEBHOOK is not set', at: key('url'),
  },
  {
    name: 'a set ${ENV_VAR} with an invalid URL is reported without its value',
    file: 'app.yaml', edit: replace('    - type: console\n      min_severity: info', '    - type: webhook\n      url: ${BOT_TEST_WEBHOOK}'),
    env: {BOT_TEST_WEBHOOK: SECRET}, hidden: [SECRET, 'secret123'],
    path: 'alerts.sinks[0].url', code: 'invalid_url', message: 'expected an http(s) URL', at: key('url'),
  },
  {
    name: 'a set ${ENV_VAR} of the wrong type is reported without its value',
    file: 'app.yaml', edit: replace('  port: 9090', '  port: ${BOT_TEST_PORT}'),
    env: {BOT_TEST_PORT: 'port-secret123'}, hidden: ['secret123'],
    path: 'metrics.port', code: 'invalid_type', message: 'expected a number, found a value from the environment (not shown)', at: key('port'),
  },
  {
    name: 'a fee far beyond any venue (1,000,000 bps) is out of bounds',
    file: 'app.yaml', edit: replace('      taker: 60', '      taker: 1000000'),
    path: 'exchange.sim.fees_bps.taker', code: 'too_big', message: 'expected a number <= 1000, found 1000000', at: key('taker'),
  },
  {
    name: 'slippage of 30,000 bps is out of bounds',
    file: 'app.yaml', edit: replace('        tier3: 15\n', '        tier3: 30000\n'),
    path: 'exchange.sim.costs.slippage_bps.tier3', code: 'too_big', message: 'expected a number <= 1000, found 30000', at: key('tier3', 2),
  },
  {
    name: 'a __proto__ key inside a map is an unknown key, not silently dropped',
    file: 'app.yaml', edit: replace('      USD: 100000', '      USD: 100000\n      __proto__: 5'),
    path: 'exchange.sim.start_balances.__proto__', code: 'unknown_key', message: 'unknown key "__proto__"', at: key('__proto__'),
  },
  {
    name: 'an exchange.id from the environment that fails its format is not shown',
    file: 'app.yaml', edit: replace('  id: sim', '  id: ${BOT_TEST_EXCHANGE}'),
    env: {BOT_TEST_EXCHANGE: 'Secret-Exchange-123'}, hidden: ['Secret-Exchange-123', 'secret-exchange-123'],
    path: 'exchange.id', code: 'invalid_format', message: 'found a value from the environment (not shown)', at: key('id'),
  },
  {
    name: 'cross-field: port + port_retries beyond 65535',
    file: 'app.yaml', edit: replace('  port: 9090', '  port: 65534'),
    path: 'metrics.port_retries', code: 'port_range', message: 'port 65534 plus 3 retries reaches 65537; ports end at 65535', at: key('port_retries'),
  },
  {
    name: 'cross-field: mode live with the simulated exchange',
    file: 'app.yaml', edit: replace(/^mode: paper$/m, 'mode: live'),
    path: 'mode', code: 'live_needs_exchange', message: 'mode "live" needs a real exchange', at: key('mode'),
  },
  {
    name: 'alert URL that is not http(s)',
    file: 'app.yaml', edit: replace('    - type: console\n      min_severity: info', '    - type: webhook\n      url: ftp://example.com/hook'),
    path: 'alerts.sinks[0].url', code: 'invalid_url', message: 'expected an http(s) URL', at: key('url'),
  },
  {
    name: 'pushgateway URL that is not http(s)',
    file: 'app.yaml', edit: replace('  pushgateway_url: null', '  pushgateway_url: localhost:9091'),
    path: 'metrics.pushgateway_url', code: 'invalid_url', message: 'expected an http(s) URL', at: key('pushgateway_url'),
  },
  {
    name: 'REST URL: plain http to a host that is not this machine',
    file: 'app.yaml', edit: replace('  rest_url: null', '  rest_url: http://api.example.com'),
    path: 'exchange.rest_url', code: 'invalid_format', message: 'or http:// to a loopback host (127.0.0.1, [::1], localhost), found "http://api.example.com"', at: key('rest_url'),
  },
  {
    name: 'REST URL: a loopback name used as a subdomain of another host',
    file: 'app.yaml', edit: replace('  rest_url: null', '  rest_url: http://127.0.0.1.example.com:8080'),
    path: 'exchange.rest_url', code: 'invalid_format', message: 'found "http://127.0.0.1.example.com:8080"', at: key('rest_url'),
  },
  {
    name: 'REST URL: a path (ccxt keeps the exchange\'s own paths, so it would be ignored)',
    file: 'app.yaml', edit: replace('  rest_url: null', '  rest_url: https://api-sandbox.example.com/api/v3'),
    path: 'exchange.rest_url', code: 'invalid_format', message: 'expected an https:// URL (scheme, host, optional port)', at: key('rest_url'),
  },
  {
    name: 'cross-file: sim cost for a tier universe.yaml does not define',
    file: 'app.yaml', edit: replace('        tier3: 10\n', '        tier9: 10\n'),
    path: 'exchange.sim.costs.spread_bps.tier9', code: 'unknown_tier', message: 'tier "tier9" is not defined in universe.yaml', at: key('tier9'),
  },
  {
    name: 'bad format: the audit key variable written in lower case is not echoed',
    file: 'app.yaml', edit: replace('  audit_key_env: BOT_AUDIT_KEY', '  audit_key_env: bot_audit_key'), hidden: ['bot_audit_key'],
    path: 'state.audit_key_env', code: 'invalid_format', message: 'expected an environment variable name', at: key('audit_key_env'),
  },

  // ---------------------------------------------------------------- policy.yaml
  {
    name: 'unknown key with a did-you-mean suggestion',
    file: 'policy.yaml', edit: replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pc: 25.0'),
    path: 'risk.max_total_at_risk_pc', code: 'unknown_key', message: 'unknown key "max_total_at_risk_pc"; did you mean "max_total_at_risk_pct"?', at: key('max_total_at_risk_pc'),
  },
  {
    name: 'unknown key with no near match lists the known keys',
    file: 'policy.yaml', edit: replace('  min_order_notional: 10', '  zebra_stripes: 10\n  min_order_notional: 10'),
    path: 'risk.zebra_stripes', code: 'unknown_key', message: /^unknown key "zebra_stripes"; expected one of: max_total_at_risk_pct, .*min_order_notional/, notInMessage: 'did you mean',
    at: key('zebra_stripes'),
  },
  {
    name: 'a nested __proto__ key is reported, not silently dropped',
    file: 'policy.yaml', edit: replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pct: 25.0\n  __proto__: {max_total_at_risk_pct: 90}'),
    path: 'risk.__proto__', code: 'unknown_key', message: 'unknown key "__proto__"', at: key('__proto__'),
  },
  {
    name: 'wrong type: text for a percentage',
    file: 'policy.yaml', edit: replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pct: "lots"'),
    path: 'risk.max_total_at_risk_pct', code: 'invalid_type', message: 'expected a number, found "lots"', at: key('max_total_at_risk_pct'),
  },
  {
    name: 'out of range: a percentage above 100',
    file: 'policy.yaml', edit: replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pct: 150'),
    path: 'risk.max_total_at_risk_pct', code: 'too_big', message: 'expected a number <= 100, found 150', at: key('max_total_at_risk_pct'),
  },
  {
    name: 'out of range: a zero exposure cap',
    file: 'policy.yaml', edit: replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pct: 0'),
    path: 'risk.max_total_at_risk_pct', code: 'too_small', message: 'expected a number > 0, found 0', at: key('max_total_at_risk_pct'),
  },
  {
    name: 'wrong type: yes is not a boolean in YAML 1.2',
    file: 'policy.yaml', edit: replace('  auto_trim_to_risk_cap: true', '  auto_trim_to_risk_cap: yes'),
    path: 'portfolio_management.auto_trim_to_risk_cap', code: 'invalid_type', message: 'expected true or false, found "yes"', at: key('auto_trim_to_risk_cap'),
  },
  {
    name: 'out of range: zero TWAP slices',
    file: 'policy.yaml', edit: replace('      slices: 4', '      slices: 0'),
    path: 'execution.twap_by_tier.tier3.slices', code: 'too_small', message: 'expected a number > 0, found 0', at: key('slices', 3),
  },
  {
    name: 'bad tier name',
    file: 'policy.yaml', edit: replace('    tier2: 5', '    Tier-2: 5'),
    path: 'risk.max_position_pct_by_tier.Tier-2', code: 'invalid_key', message: 'invalid name "Tier-2": expected a tier name like tier1', at: key('Tier-2'),
  },
  {
    name: 'bad symbol format as a record key',
    file: 'policy.yaml', edit: replace('  max_position_pct_by_symbol: {}', '  max_position_pct_by_symbol: {btc/usd: 5}'),
    path: 'risk.max_position_pct_by_symbol["btc/usd"]', code: 'invalid_key', message: 'invalid name "btc/usd": expected a symbol like BTC-USD', at: key('btc/usd'),
  },
  {
    name: 'duplicate key',
    file: 'policy.yaml', edit: replace('  max_order_notional: 5000', '  max_order_notional: 5000\n  max_order_notional: 6000'),
    path: '', code: 'duplicate_key', message: 'duplicate key', at: key('max_order_notional', 2),
  },
  {
    name: 'YAML syntax error',
    file: 'policy.yaml', edit: replace('  price_collar_pct: 2.0', '  price_collar_pct: 2.0: 3'),
    path: '', code: 'yaml_syntax', message: 'YAML syntax: bad indentation of a mapping entry', at: text('2.0: 3', 1, 3),
  },
  {
    name: 'empty file',
    file: 'policy.yaml', edit: () => '',
    path: '', code: 'empty_file', message: 'file is empty; expected a YAML mapping of settings', at: null,
  },
  {
    name: 'cross-field: a tier position cap above max_total_at_risk_pct',
    file: 'policy.yaml', edit: replace('    tier1: 10', '    tier1: 30'),
    path: 'risk.max_position_pct_by_tier.tier1', code: 'cap_above_total', message: 'position cap 30% is above max_total_at_risk_pct 25%', at: key('tier1'),
  },
  {
    name: 'cross-field: a symbol position cap above max_total_at_risk_pct',
    file: 'policy.yaml', edit: replace('  max_position_pct_by_symbol: {}', '  max_position_pct_by_symbol: {ETH-USD: 40}'),
    path: 'risk.max_position_pct_by_symbol.ETH-USD', code: 'cap_above_total', message: 'position cap 40% is above max_total_at_risk_pct 25%', at: key('ETH-USD'),
  },
  {
    name: 'cross-field: trim_buffer_pct as large as the cap',
    file: 'policy.yaml', edit: replace('  trim_buffer_pct: 2.0', '  trim_buffer_pct: 25'),
    path: 'portfolio_management.trim_buffer_pct', code: 'trim_target', message: 'must stay above 0 and below the cap', at: key('trim_buffer_pct'),
  },
  {
    name: 'cross-field: min_order_notional not below max_order_notional',
    file: 'policy.yaml', edit: replace('  min_order_notional: 10', '  min_order_notional: 5000'),
    path: 'risk.min_order_notional', code: 'min_above_max', message: 'min_order_notional 5000 must be below max_order_notional 5000', at: key('min_order_notional'),
  },
  {
    name: 'cross-file: a tier cap for a tier universe.yaml does not define',
    file: 'policy.yaml', edit: replace('    tier3: 2.5', '    tier3: 2.5\n    tier4: 1'),
    path: 'risk.max_position_pct_by_tier.tier4', code: 'unknown_tier', message: 'tier "tier4" is not defined in universe.yaml (tiers: tier1, tier2, tier3)', at: key('tier4'),
  },
  {
    name: 'cross-file: TWAP settings for a tier universe.yaml does not define',
    file: 'policy.yaml', edit: replace('    tier3:\n      slices: 4', '    tier5:\n      slices: 4'),
    path: 'execution.twap_by_tier.tier5', code: 'unknown_tier', message: 'tier "tier5" is not defined in universe.yaml', at: key('tier5'),
  },
  {
    name: 'cross-file: a universe tier without a position cap',
    file: 'policy.yaml', edit: replace('    tier3: 2.5\n', ''),
    path: 'risk.max_position_pct_by_tier', code: 'missing_tier_cap', message: 'tier "tier3" of universe.yaml has no position cap here', at: key('max_position_pct_by_tier'),
  },
  {
    name: 'cross-file: a symbol cap for a symbol in no tier',
    file: 'policy.yaml', edit: replace('  max_position_pct_by_symbol: {}', '  max_position_pct_by_symbol: {PEPE-USD: 1}'),
    path: 'risk.max_position_pct_by_symbol.PEPE-USD', code: 'unknown_symbol', message: 'PEPE-USD is not in any tier of universe.yaml', at: key('PEPE-USD'),
  },
  {
    name: 'out of range: a zero bad-tick threshold',
    file: 'policy.yaml', edit: replace('  max_bar_move_pct: 30', '  max_bar_move_pct: 0'),
    path: 'risk.max_bar_move_pct', code: 'too_small', message: 'expected a number > 0, found 0', at: key('max_bar_move_pct'),
  },

  // ---------------------------------------------------------------- universe.yaml
  {
    name: 'missing required key: tiers',
    file: 'universe.yaml', edit: replace(/^tiers:\n(?: .*\n|\n(?= ))*/m, ''),
    path: 'tiers', code: 'missing_key', message: 'required, expected a mapping', at: firstContent,
  },
  {
    name: 'no tier at all',
    file: 'universe.yaml', edit: replace(/^tiers:\n(?: .*\n|\n(?= ))*/m, 'tiers: {}\n'),
    path: 'tiers', code: 'custom', message: 'at least one tier', at: key('tiers'),
  },
  {
    name: 'a tier without symbols',
    file: 'universe.yaml', edit: replace('    symbols: [BTC-USD, ETH-USD, SOL-USD]', '    symbols: []'),
    path: 'tiers.tier1.symbols', code: 'too_small', message: 'expected at least 1 item, found 0 items', at: key('symbols'),
  },
  {
    name: 'bad symbol format: lower case',
    file: 'universe.yaml', edit: replace('HBAR-USD', 'hbar-usd'),
    path: 'tiers.tier3.symbols[9]', code: 'invalid_format', message: 'expected a symbol like BTC-USD (BASE-QUOTE, upper case), found "hbar-usd"', at: text('hbar-usd'),
  },
  {
    name: 'bad symbol format: wrong separator',
    file: 'universe.yaml', edit: replace('  - ETH-USD', '  - ETH/USD'),
    path: 'force_eligible_symbols[1]', code: 'invalid_format', message: 'found "ETH/USD"', at: text('ETH/USD'),
  },
  {
    name: 'bad tier name',
    file: 'universe.yaml', edit: replace('  tier2:', '  Tier 2:'),
    path: 'tiers["Tier 2"]', code: 'invalid_key', message: 'invalid name "Tier 2": expected a tier name like tier1 (lower case, digits, _)', at: key('Tier 2'),
  },
  {
    name: 'out of range: zero spread limit',
    file: 'universe.yaml', edit: replace('    max_spread_pct: 0.2', '    max_spread_pct: 0'),
    path: 'tiers.tier2.max_spread_pct', code: 'too_small', message: 'expected a number > 0, found 0', at: key('max_spread_pct', 2),
  },
  {
    name: 'unknown key in a tier with a did-you-mean suggestion',
    file: 'universe.yaml', edit: replace('    max_spread_pct: 0.5', '    max_spred_pct: 0.5'),
    path: 'tiers.tier3.max_spred_pct', code: 'unknown_key', message: 'did you mean "max_spread_pct"?', at: key('max_spred_pct'),
  },
  {
    name: 'a flow list on the line after its key is located item by item',
    file: 'universe.yaml', edit: replace('    symbols: [BTC-USD, ETH-USD, SOL-USD]', '    symbols:\n      [BTC-USD, ETH-USD, sol-usd]'),
    path: 'tiers.tier1.symbols[2]', code: 'invalid_format', message: 'found "sol-usd"', at: text('sol-usd'),
  },
  {
    name: 'cross-file: a symbol in two tiers',
    file: 'universe.yaml', edit: replace('[AVAX-USD, ', '[AVAX-USD, BTC-USD, '),
    path: 'tiers.tier2.symbols[1]', code: 'symbol_in_two_tiers', message: 'BTC-USD is already in tier tier1', at: text('BTC-USD', 2),
  },
  {
    name: 'cross-file: a force_eligible symbol in no tier',
    file: 'universe.yaml', edit: replace('  - SOL-USD', '  - SOL-USD\n  - PEPE-USD'),
    path: 'force_eligible_symbols[3]', code: 'unknown_symbol', message: 'PEPE-USD is not in any tier', at: text('PEPE-USD'),
  },
  {
    name: 'cross-file: a symbol quoted in another currency than exchange.quote_currency',
    file: 'universe.yaml', edit: replace('XTZ-USD]', 'XTZ-USD, BTC-EUR]'),
    path: 'tiers.tier3.symbols[15]', code: 'wrong_quote', message: 'BTC-EUR is not quoted in USD (exchange.quote_currency in app.yaml)', at: text('BTC-EUR'),
  },
  {
    name: 'cross-file: a symbol both forced and excluded',
    file: 'universe.yaml', edit: replace('excluded_symbols: []', 'excluded_symbols: [ETH-USD]'),
    path: 'force_eligible_symbols[1]', code: 'forced_and_excluded', message: 'ETH-USD is also in excluded_symbols', at: text('- ETH-USD', 1, 2),
  },
  {
    name: 'cross-file: a tier named like an Object method still needs a cap in policy.yaml',
    file: 'universe.yaml', edit: replace('XTZ-USD]\n', 'XTZ-USD]\n  constructor:\n    symbols: [ZEC-USD]\n'),
    issueFile: 'policy.yaml', path: 'risk.max_position_pct_by_tier', code: 'missing_tier_cap', message: 'tier "constructor" of universe.yaml has no position cap here',
    at: () => key('max_position_pct_by_tier')(readFileSync(path.join(ROOT, 'config', 'policy.yaml'), 'utf8')),
  },
  {
    name: 'out of range: a hysteresis band above 100 %',
    file: 'universe.yaml', edit: replace(/^hysteresis_pct: 10$/m, 'hysteresis_pct: 150'),
    path: 'hysteresis_pct', code: 'too_big', message: 'expected a number <= 100, found 150', at: key('hysteresis_pct'),
  },
  {
    name: 'missing file',
    file: 'universe.yaml', edit: () => null,
    path: '', code: 'missing_file', message: 'file not found', at: null,
  },

  {
    name: 'a forced symbol from the environment that is in no tier is named by its variable, never shown',
    file: 'universe.yaml', edit: replace('  - SOL-USD\n', '  - ${BOT_TEST_SYMBOL}\n'),
    env: {BOT_TEST_SYMBOL: 'SECRETKEY-USD'}, hidden: ['SECRETKEY'],
    path: 'force_eligible_symbols[2]', code: 'unknown_symbol', message: 'the value of $BOT_TEST_SYMBOL is not in any tier', at: text('${BOT_TEST_SYMBOL}'),
  },
  {
    name: 'a __proto__ key inside a tier map of policy.yaml is reported',
    file: 'policy.yaml', edit: replace('    tier3: 2.5\n', '    tier3: 2.5\n    __proto__: 3\n'),
    path: 'risk.max_position_pct_by_tier.__proto__', code: 'unknown_key', message: 'unknown key "__proto__"', at: key('__proto__'),
  },
  // ---------------------------------------------------------------- signals.yaml
  {
    name: 'missing required key: signals',
    file: 'signals.yaml', edit: replace(/^signals:\n(?: .*\n)*/m, ''),
    path: 'signals', code: 'missing_key', message: 'required, expected a list', at: firstContent,
  },
  {
    name: 'an empty signal list',
    file: 'signals.yaml', edit: replace(/^signals:\n(?: .*\n)*/m, 'signals: []\n'),
    path: 'signals', code: 'too_small', message: 'expected at least 1 item, found 0 items', at: key('signals'),
  },
  {
    name: 'bad enum: signal type',
    file: 'signals.yaml', edit: replace('  - type: rsi', '  - type: macd'),
    path: 'signals[2].type', code: 'invalid_value', message: 'unknown type "macd"; expected one of "momentum", "ma_trend", "rsi"', at: key('type', 3),
  },
  {
    name: 'a signal without a type',
    file: 'signals.yaml', edit: replace('  - type: momentum\n    weight: 1.0', '  - weight: 1.0'),
    path: 'signals[0].type', code: 'missing_key', message: 'required; expected one of "momentum", "ma_trend", "rsi"', at: key('weight'),
  },
  {
    name: 'out of range: zero weight',
    file: 'signals.yaml', edit: replace('    weight: 0.5', '    weight: 0'),
    path: 'signals[2].weight', code: 'too_small', message: 'expected a number > 0, found 0', at: key('weight', 3),
  },
  {
    name: 'out of range: entry threshold above 1',
    file: 'signals.yaml', edit: replace('entry_threshold: 0.3', 'entry_threshold: 2'),
    path: 'entry_threshold', code: 'too_big', message: 'expected a number <= 1, found 2', at: key('entry_threshold'),
  },
  {
    name: 'unknown key in a signal with a did-you-mean suggestion',
    file: 'signals.yaml', edit: replace('    lookback_bars: 24', '    lookback: 24'),
    path: 'signals[0].lookback', code: 'unknown_key', message: 'unknown key "lookback"; did you mean "lookback_bars"?', at: key('lookback'),
  },
  {
    name: 'a flow-mapping signal is located key by key',
    file: 'signals.yaml', edit: replace(/  - type: rsi\n(?: {4}.*\n)*/, '  - {type: rsi, weight: 0.5,\n     period: 1}\n'),
    path: 'signals[2].period', code: 'too_small', message: 'expected a number >= 2, found 1', at: key('period'),
  },
  {
    name: 'cross-field: ma_trend fast_bars not below slow_bars',
    file: 'signals.yaml', edit: replace('    fast_bars: 12', '    fast_bars: 48'),
    path: 'signals[1].fast_bars', code: 'custom', message: 'fast_bars must be below slow_bars', at: key('fast_bars'),
  },
  {
    name: 'cross-field: rsi oversold not below overbought',
    file: 'signals.yaml', edit: replace('    oversold: 30', '    oversold: 75'),
    path: 'signals[2].oversold', code: 'custom', message: 'oversold must be below overbought', at: key('oversold'),
  },
  {
    name: 'cross-field: exit_threshold not below entry_threshold',
    file: 'signals.yaml', edit: replace('exit_threshold: -0.1', 'exit_threshold: 0.3'),
    path: 'exit_threshold', code: 'custom', message: 'exit_threshold must be below entry_threshold', at: key('exit_threshold'),
  },
  {
    name: 'cross-file: signal symbols not in the universe',
    file: 'signals.yaml', edit: replace('    scale_pct: 5', '    scale_pct: 5\n    symbols: [BTC-USD, PEPE-USD]'),
    path: 'signals[0].symbols[1]', code: 'unknown_symbol', message: 'PEPE-USD is not in any tier of universe.yaml', at: text('PEPE-USD'),
  },
  {
    name: 'a scalar instead of a mapping',
    file: 'signals.yaml', edit: replace(/^signals:[^]*$/m, 'momentum and rsi, please\n'),
    path: '', code: 'not_a_mapping', message: 'expected a mapping of settings (key: value) at the top level, found a string', at: firstContent,
  },
]

/** Rows also run through the real CLI, one of each kind, so exit codes, the printed JSON and the absence of stack traces stay covered. */
const THROUGH_CLI: [ConfigName, string][] = [
  ['policy.yaml', 'YAML syntax error'],
  ['app.yaml', 'unknown key with a did-you-mean suggestion'],
  ['app.yaml', 'a set ${ENV_VAR} with an invalid URL is reported without its value'],
  ['universe.yaml', 'cross-file: a tier named like an Object method still needs a cap in policy.yaml'],
]

/** Each file broken once: every file is reported, each with its one issue, in one run. */
function checkAllFourBroken(validate: (dir: string) => Validated): void {
  const dir = freshConfig()
  const edits: Record<ConfigName, Edit> = {
    'app.yaml': replace(/^mode: paper$/m, 'mode: yolo'),
    'policy.yaml': replace('  max_total_at_risk_pct: 25.0', '  max_total_at_risk_pc: 25.0'),
    'universe.yaml': replace('HBAR-USD', 'hbar-usd'),
    'signals.yaml': replace('  - type: rsi', '  - type: macd'),
  }
  const expected: Record<ConfigName, [string, Locate]> = {
    'app.yaml': ['mode', key('mode')],
    'policy.yaml': ['risk.max_total_at_risk_pc', key('max_total_at_risk_pc')],
    'universe.yaml': ['tiers.tier3.symbols[9]', text('hbar-usd')],
    'signals.yaml': ['signals[2].type', key('type', 3)],
  }
  const texts = Object.fromEntries(CONFIG_NAMES.map((name) => [name, editConfig(dir, name, edits[name])!]))

  const {report, human, printed} = validate(dir)
  for (const out of printed) assert.doesNotMatch(out, STACK_TRACE, out)
  assert.equal(report.ok, false)
  assert.deepEqual(report.files.map((f) => [path.basename(f.file), f.ok]), CONFIG_NAMES.map((n) => [n, false]))
  assert.equal(report.issues.length, 4, describeIssues(report.issues))
  for (const name of CONFIG_NAMES) {
    const [issuePath, at] = expected[name]
    const issue = report.issues.find((i) => path.basename(i.file) === name)
    assert.ok(issue, `no issue for ${name}`)
    assert.equal(issue.path, issuePath)
    assert.equal(issue.line, at(texts[name]).line, issueLine(issue))
  }

  const lines = human.split('\n')
  for (const name of CONFIG_NAMES) {
    const file = path.join(dir, name)
    assert.equal(lines.filter((l) => l === `❌ ${file}`).length, 1, `one ❌ line for ${name}:\n${human}`)
    assert.equal(lines.filter((l) => l.startsWith(`${file}:`)).length, 1, `one issue line for ${name}`)
  }

  assert.equal(lines.filter((l) => l.startsWith('✅')).length, 0)
  assert.ok(lines.includes('❌ 4 problems in 4 files: bot will not start until they are fixed.'), human)
}

describe('bot validate: invalid configurations', function () {
  after(removeTempConfigs)

  it('has a row for at least 45 invalid configurations', () => {
    assert.ok(ROWS.length >= 45, `${ROWS.length} rows`)
  })

  for (const row of ROWS) it(`${row.file}: ${row.name}`, () => checkRow(row, validateInProcess))

  it('reports all four files in one run when each is broken', () => checkAllFourBroken(validateInProcess))

  describe('through the CLI', () => {
    for (const [file, name] of THROUGH_CLI) {
      const row = ROWS.find((r) => r.file === file && r.name === name)
      it(`${file}: ${name}`, () => {
        assert.ok(row, `no row ${file}: ${name}`)
        checkRow(row, validateThroughCli)
      })
    }

    it('reports all four files in one run when each is broken', () => checkAllFourBroken(validateThroughCli))
  })
})
