import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {BotError} from '../../src/lib/errors.js'
import {BUNDLED_DATA_DIR, generateCandleSet, loadCandleDir} from '../../src/lib/exchange/replay/candle-files.js'

/** Rows of a bundled file, parsed independently of the loader under test. */
function rawRows(symbol: string): number[][] {
  const text = fs.readFileSync(path.join(BUNDLED_DATA_DIR, `${symbol}-1h.csv`), 'utf8').trim()
  return text.split('\n').slice(1).map((line) => line.split(',').map(Number))
}

const GOOD = ['timestamp,open,high,low,close,volume', '1701086400,10,11,9,10.5,100', '1701090000,10.5,12,10,11,50']

describe('candle files', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-candles-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  /** Writes BTC-USD.csv with these lines into the temp dir, loads it and returns the BotError message. */
  function loadError(lines: string[]): string {
    fs.writeFileSync(path.join(tmp, 'BTC-USD.csv'), lines.join('\n') + '\n')
    try {
      loadCandleDir(tmp)
    } catch (error) {
      assert.ok(error instanceof BotError, `expected a BotError, got ${String(error)}`)
      assert.ok(!error.message.includes('\n'), 'one-line message')
      return error.message
    }

    assert.fail('loading should have failed')
  }

  it('loads the 26 bundled symbols, columnar, with an hourly bar', () => {
    const set = loadCandleDir(BUNDLED_DATA_DIR)
    assert.equal(set.symbols.length, 26)
    assert.equal(set.barMs, 3_600_000)
    assert.ok(set.symbols.includes('BTC-USD') && set.symbols.includes('DOGE-USD'))
    for (const symbol of ['BTC-USD', 'DASH-USD']) {
      const rows = rawRows(symbol)
      const s = set.series.get(symbol)!
      assert.equal(s.time.length, rows.length)
      const k = rows.length - 1
      assert.deepEqual([s.time[k], s.open[k], s.high[k], s.low[k], s.close[k], s.volume[k]], [rows[k][0] * 1000, ...rows[k].slice(1)])
      const quoteVolume = rows.reduce((sum, r) => sum + r[4] * r[5], 0)
      assert.equal(s.quoteVolumePrefix.length, rows.length + 1)
      assert.ok(Math.abs(s.quoteVolumePrefix[rows.length] - quoteVolume) <= 1e-9 * quoteVolume)
    }
  })

  it('loads only the symbols asked for, and names a missing one with the folder', () => {
    const set = loadCandleDir(BUNDLED_DATA_DIR, ['ETH-USD', 'BTC-USD'])
    assert.deepEqual(set.symbols, ['BTC-USD', 'ETH-USD'])
    assert.deepEqual([...set.series.keys()], ['BTC-USD', 'ETH-USD'])
    assert.throws(
      () => loadCandleDir(BUNDLED_DATA_DIR, ['BTC-USD', 'NOPE-USD']),
      (e: Error) => e instanceof BotError && e.message.includes('NOPE-USD') && e.message.includes('coinbase-usd-1h'),
    )
  })

  it('loads all bundled files well under 100 ms', () => {
    let best = Number.POSITIVE_INFINITY
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      loadCandleDir(BUNDLED_DATA_DIR)
      best = Math.min(best, performance.now() - t0)
    }

    assert.ok(best < 100, `best of 3 loads took ${best.toFixed(1)} ms`)
  })

  it('accepts CRLF line ends and a trailing blank line', () => {
    fs.writeFileSync(path.join(tmp, 'BTC-USD-1h.csv'), GOOD.join('\r\n') + '\r\n\r\n')
    const s = loadCandleDir(tmp).series.get('BTC-USD')!
    assert.deepEqual([...s.close], [10.5, 11])
    assert.deepEqual([...s.time], [1701086400000, 1701090000000])
  })

  it('rejects a bad header, naming file:1', () => {
    const message = loadError(['time,open,high,low,close,volume', ...GOOD.slice(1)])
    assert.match(message, /BTC-USD\.csv:1: header must be/)
  })

  it('rejects a non-numeric field, naming file:line and the column', () => {
    const message = loadError([...GOOD, '1701093600,11,12,x10,11,5'])
    assert.match(message, /BTC-USD\.csv:4: low "x10" is not a finite number/)
    assert.match(loadError([GOOD[0], '1701086400,10,11,9,10.5,']), /BTC-USD\.csv:2: volume "" is not/)
    assert.match(loadError([GOOD[0], '1701086400,10,11,9,10.5']), /BTC-USD\.csv:2: expected 6 fields/)
    assert.match(loadError([GOOD[0], '1701086400,10,11,9,10.5,1,2']), /BTC-USD\.csv:2: expected 6 fields/)
    assert.match(loadError([GOOD[0], '1701086400,10,11,9,10.5,Infinity']), /BTC-USD\.csv:2: volume/)
  })

  it('rejects timestamps that do not ascend', () => {
    const message = loadError([...GOOD, '1701086400,11,12,10,11,5'])
    assert.match(message, /BTC-USD\.csv:4: timestamp 1701086400 is not after the previous one/)
  })

  it('rejects a negative price, a negative volume and an inconsistent bar', () => {
    assert.match(loadError([GOOD[0], '1701086400,-10,11,9,10.5,100']), /BTC-USD\.csv:2: prices must be > 0/)
    assert.match(loadError([...GOOD, '1701093600,11,12,10,11,-5']), /BTC-USD\.csv:4: volume -5 is negative/)
    assert.match(loadError([...GOOD, '1701093600,11,12,10,13,5']), /BTC-USD\.csv:4: .*between low 10 and high 12/)
  })

  it('names a missing or empty folder', () => {
    const missing = path.join(tmp, 'nope')
    assert.throws(() => loadCandleDir(missing), (e: Error) => e instanceof BotError && e.message.includes(missing))
    assert.throws(() => loadCandleDir(tmp), (e: Error) => e instanceof BotError && e.message.includes(tmp))
    fs.writeFileSync(path.join(tmp, 'BTC-USD.csv'), '')
    assert.throws(() => loadCandleDir(tmp), /BTC-USD\.csv: file is empty/)
  })

  it('infers the bar length as the most common gap', () => {
    const rows = [GOOD[0], '1701086400,1,1,1,1,1', '1701086700,1,1,1,1,1', '1701087000,1,1,1,1,1', '1701087600,1,1,1,1,1']
    fs.writeFileSync(path.join(tmp, 'ETH-USD.csv'), rows.join('\n'))
    assert.equal(loadCandleDir(tmp).barMs, 300_000)
  })

  it('generates deterministic aligned synthetic data for 1,000 symbols', () => {
    const a = generateCandleSet(1000, 50, 7)
    const b = generateCandleSet(1000, 50, 7)
    assert.equal(a.symbols.length, 1000)
    assert.equal(a.symbols[0], 'S0001-USD')
    assert.equal(a.symbols[999], 'S1000-USD')
    assert.equal(a.barMs, 3_600_000)
    assert.deepEqual(a.series.get('S0500-USD')!.close, b.series.get('S0500-USD')!.close)
    assert.notDeepEqual(generateCandleSet(1, 50, 8).series.get('S0001-USD')!.close, a.series.get('S0001-USD')!.close)
    const s = a.series.get('S0042-USD')!
    assert.deepEqual(s.time, a.series.get('S0001-USD')!.time)
    for (let i = 0; i < 50; i++) {
      assert.ok(s.low[i] > 0 && s.low[i] <= Math.min(s.open[i], s.close[i]) && s.high[i] >= Math.max(s.open[i], s.close[i]))
      if (i > 0) assert.equal(s.open[i], s.close[i - 1])
    }
  })
})
