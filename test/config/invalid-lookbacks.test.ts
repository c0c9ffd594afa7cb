import {checkRow, key, removeTempConfigs, replace, type Row, validateInProcess} from './support.js'

const TF = 'the 1h timeframe (exchange.timeframe in app.yaml)'

/** The timeframe and look-backs written as durations: each must be a whole number of bars, within the bars allowed. */
const ROWS: Row[] = [
  {
    name: 'bad enum: a timeframe the market data does not come in',
    file: 'app.yaml', edit: replace('  timeframe: 1h', '  timeframe: 2h'),
    path: 'exchange.timeframe', code: 'invalid_value', message: 'expected one of "1m", "5m", "15m", "1h", "4h", "1d", found "2h"', at: key('timeframe'),
  },
  {
    name: 'a warm-up duration that is not a whole number of bars',
    file: 'app.yaml', edit: replace('    warmup_bars: 48', '    warmup_bars: 90m'),
    path: 'exchange.sim.warmup_bars', code: 'not_whole_bars', message: `90m is not a whole number of bars of ${TF}`, at: key('warmup_bars'),
  },
  {
    name: 'a look-back duration that is not a whole number of bars',
    file: 'signals.yaml', edit: replace('    lookback_bars: 24', '    lookback_bars: "90m"'),
    path: 'signals[0].lookback_bars', code: 'not_whole_bars', message: `90m is not a whole number of bars of ${TF}`, at: key('lookback_bars'),
  },
  {
    name: 'a look-back duration of more bars than allowed (60d = 1440 bars > 1000)',
    file: 'signals.yaml', edit: replace('    slow_bars: 48', '    slow_bars: "60d"'),
    path: 'signals[1].slow_bars', code: 'bars_out_of_range', message: `60d is 1440 bars of ${TF}; expected 1 to 1000`, at: key('slow_bars'),
  },
  {
    name: 'a look-back duration of fewer bars than allowed (rsi period 1h = 1 bar < 2)',
    file: 'signals.yaml', edit: replace('    period: 14', '    period: "1h"'),
    path: 'signals[2].period', code: 'bars_out_of_range', message: `1h is 1 bar of ${TF}; expected 2 to 500`, at: key('period'),
  },
  {
    name: 'cross-field: a fast_bars duration not below slow_bars in bars (2d = 48 bars >= 24)',
    file: 'signals.yaml', edit: replace('    fast_bars: 12\n    slow_bars: 48', '    fast_bars: "2d"\n    slow_bars: 24'),
    path: 'signals[1].fast_bars', code: 'custom', message: 'fast_bars must be below slow_bars', at: key('fast_bars'),
  },
  {
    name: 'cross-field: two durations compare as durations (12h is not below 720m)',
    file: 'signals.yaml', edit: replace('    fast_bars: 12\n    slow_bars: 48', '    fast_bars: 12h\n    slow_bars: 720m'),
    path: 'signals[1].fast_bars', code: 'custom', message: 'fast_bars must be below slow_bars', at: key('fast_bars'),
  },
]

describe('bot validate: invalid timeframe and look-backs', function () {
  after(removeTempConfigs)

  for (const row of ROWS) it(`${row.file}: ${row.name}`, () => checkRow(row, validateInProcess))
})
