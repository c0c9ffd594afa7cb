import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {text} from 'node:stream/consumers'

import {createLogger, eventLevel, type Logger, type LoggerOptions, type LogLevel, redact, type StepTimingEvent} from '../../src/lib/cli/log.js'
import type {EngineEvent} from '../../src/lib/engine/events.js'
import {BotError} from '../../src/lib/errors.js'

const LEVELS: LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical']
/** `time LEVEL message`, the level padded to one fixed-width column. */
const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG   |INFO    |WARNING |ERROR   |CRITICAL) (.*)$/

interface Captured {
  out: string[]
  err: string[]
}

/** Runs `use` on a logger over two real streams and returns what each received, line by line. */
async function capture(options: Partial<LoggerOptions> & {tty?: boolean}, use: (logger: Logger) => void): Promise<Captured> {
  const stdout: PassThrough & {isTTY?: boolean} = new PassThrough()
  const stderr = new PassThrough()
  if (options.tty) stdout.isTTY = true
  const outText = text(stdout)
  const errText = text(stderr)
  use(createLogger({level: 'info', ...options, stdout, stderr}))
  stdout.end()
  stderr.end()
  const lines = (s: string) => (s === '' ? [] : s.replace(/\n$/, '').split('\n'))
  return {out: lines(await outText), err: lines(await errText)}
}

const messageOf = (line: string) => {
  const m = LINE.exec(line)
  assert.ok(m, `not a "time level message" line: ${JSON.stringify(line)}`)
  return m[3]
}

const logEach = (logger: Logger) => {
  for (const level of LEVELS) logger.log(level, `a ${level} line`)
}

describe('createLogger', () => {
  describe('levels', () => {
    const expected: Record<LoggerOptions['level'], LogLevel[]> = {
      debug: ['debug', 'info', 'warning', 'error', 'critical'],
      info: ['info', 'warning', 'error', 'critical'],
      warning: ['warning', 'error', 'critical'],
      error: ['error', 'critical'],
    }
    for (const [level, shown] of Object.entries(expected) as [LoggerOptions['level'], LogLevel[]][]) {
      it(`at ${level}, shows ${shown.join(', ')} and nothing else`, async () => {
        const {out, err} = await capture({level, tty: true}, logEach)
        assert.deepEqual([...out, ...err].sort(), shown.map((l) => `a ${l} line`).sort())
        const logger = createLogger({level, stdout: new PassThrough(), stderr: new PassThrough()})
        assert.deepEqual(LEVELS.filter((l) => logger.enabled(l)), shown)
      })
    }

    it('refuses a level it does not know, naming the config key', () => {
      for (const level of ['verbose', 'critical', 'INFO']) {
        assert.throws(() => createLogger({level: level as 'info', stdout: new PassThrough(), stderr: new PassThrough()}),
          (e: unknown) => e instanceof BotError && e.message === `logging.level: expected debug, info, warning or error, found "${level}"`)
      }
    })
  })

  describe('streams', () => {
    it('sends warnings, errors and criticals to stderr and exactly those', async () => {
      for (const tty of [true, false]) {
        const {out, err} = await capture({level: 'debug', tty}, logEach)
        const strip = (lines: string[]) => (tty ? lines : lines.map(messageOf))
        assert.deepEqual(strip(out), ['a debug line', 'a info line'])
        assert.deepEqual(strip(err), ['a warning line', 'a error line', 'a critical line'])
      }
    })
  })

  describe('format', () => {
    it('off a terminal, prefixes each line with the UTC time in milliseconds and the level', async () => {
      const before = Date.now()
      const {out, err} = await capture({level: 'debug'}, logEach)
      const after = Date.now()
      const lines = [...out, ...err]
      assert.equal(lines.length, 5)
      for (const line of lines) {
        const [, time, level, message] = LINE.exec(line) ?? assert.fail(`not a "time level message" line: ${line}`)
        const t = Date.parse(time)
        assert.ok(t >= before && t <= after, `${time} is not between ${new Date(before).toISOString()} and ${new Date(after).toISOString()}`)
        assert.equal(new Date(t).toISOString(), time)
        assert.equal(message, `a ${level.trimEnd().toLowerCase()} line`)
      }
    })

    it('puts every message in the same column, whatever the level', async () => {
      const now = () => new Date(Date.UTC(2026, 10, 30, 5, 12, 3, 123))
      const {out, err} = await capture({level: 'debug', now}, (logger) => {
        logger.log('info', 'cycle 12 equity 10,000.00')
        logger.log('critical', 'KILL_SWITCH present')
        logger.log('warning', 'order abc outcome unknown')
        logger.log('debug', 'step timing')
      })
      assert.deepEqual(out, [
        '2026-11-30T05:12:03.123Z INFO     cycle 12 equity 10,000.00',
        '2026-11-30T05:12:03.123Z DEBUG    step timing',
      ])
      assert.deepEqual(err, [
        '2026-11-30T05:12:03.123Z CRITICAL KILL_SWITCH present',
        '2026-11-30T05:12:03.123Z WARNING  order abc outcome unknown',
      ])
    })

    it('prints lines as given on a terminal', async () => {
      const line = '#12   2026-11-30 05:00  equity 10,000.00  exposure 1.0% -> 2.0% / 25.0%'
      const {out, err} = await capture({tty: true}, (logger) => {
        logger.log('info', line)
        logger.log('critical', ' CRITICAL  KILL_SWITCH present')
      })
      assert.deepEqual(out, [line])
      assert.deepEqual(err, [' CRITICAL  KILL_SWITCH present'])
    })

    it('prefixes every line of a multi-line message, whatever the line break', async () => {
      const message = 'bot: paper on sim\n     signals: 24h\r\nthird\rfourth\n'
      const {out} = await capture({}, (logger) => logger.log('info', message))
      assert.equal(out.length, 4)
      assert.deepEqual(out.map(messageOf), ['bot: paper on sim', '     signals: 24h', 'third', 'fourth'])
      assert.equal(new Set(out.map((l) => l.slice(0, 24))).size, 1, 'one time for the whole message')
      const {out: tty} = await capture({tty: true}, (logger) => logger.log('info', message))
      assert.deepEqual(tty, ['bot: paper on sim', '     signals: 24h', 'third', 'fourth'])
    })

    it('keeps an empty line a line, without trailing padding', async () => {
      const {out} = await capture({now: () => new Date(0)}, (logger) => {
        logger.log('info', '')
        logger.log('info', 'a\n\nb')
      })
      assert.deepEqual(out, [
        '1970-01-01T00:00:00.000Z INFO',
        '1970-01-01T00:00:00.000Z INFO     a',
        '1970-01-01T00:00:00.000Z INFO',
        '1970-01-01T00:00:00.000Z INFO     b',
      ])
    })
  })

  describe('secrets', () => {
    const key = 'ak_live_0123456789abcdef'
    const webhook = 'https://hooks.example.test/services/T000/B000/XXXXsecretXXXX'

    it('never prints a registered secret, on either stream, on or off a terminal', async () => {
      for (const tty of [true, false]) {
        const {out, err} = await capture({tty, secrets: [key, undefined, webhook, null]}, (logger) => {
          logger.log('info', `using key ${key}`)
          logger.log('error', `alert to ${webhook} failed: 500\nretrying ${webhook}`)
        })
        const all = [...out, ...err].join('\n')
        assert.ok(!all.includes(key) && !all.includes('0123456789abcdef') && !all.includes('XXXXsecretXXXX'), all)
        const strip = (lines: string[]) => (tty ? lines : lines.map(messageOf))
        assert.deepEqual(strip(out), ['using key ***'])
        assert.deepEqual(strip(err), ['alert to *** failed: 500', 'retrying ***'])
      }
    })

    it('redacts a secret that spans a line break before splitting the message', async () => {
      const multi = 'line-one-of-a-pem\nline-two-of-a-pem'
      const {out} = await capture({tty: true, secrets: [multi]}, (logger) => logger.log('info', `key: ${multi} end`))
      assert.deepEqual(out, ['key: *** end'])
    })
  })
})

describe('redact', () => {
  it('replaces every occurrence of each secret', () => {
    assert.equal(redact('a=SECRET-ONE b=SECRET-TWO c=SECRET-ONE', ['SECRET-ONE', 'SECRET-TWO']), 'a=*** b=*** c=***')
  })

  it('leaves values shorter than 8 characters alone, and redacts from 8 on', () => {
    assert.equal(redact('BTC-USD buy 0.5 at 1234567', ['BTC-USD', '1234567', 'buy', '']), 'BTC-USD buy 0.5 at 1234567')
    assert.equal(redact('pin 12345678 ok', ['12345678']), 'pin *** ok')
  })

  it('blanks a secret whole when another secret is part of it, overlaps it or touches it', () => {
    const token = 'T0KEN-abcdefgh'
    const url = `https://hooks.example.test/${token}`
    assert.equal(redact(`post ${url} now`, [token, url]), 'post *** now')
    assert.equal(redact(`post ${url} now`, [url, token]), 'post *** now')
    assert.equal(redact('xxABCDEFGH1234ZYXWVUyy', ['ABCDEFGH1234', '1234ZYXWVU']), 'xx***yy')
    assert.equal(redact('xxAAAAAAAABBBBBBBByy', ['AAAAAAAA', 'BBBBBBBB']), 'xx***yy')
    assert.equal(redact('aaaaaaaaaa', ['aaaaaaaa']), '***')
  })

  it('returns text without secrets unchanged', () => {
    assert.equal(redact('cycle 12 equity 10,000.00', ['not-in-there-at-all']), 'cycle 12 equity 10,000.00')
    assert.equal(redact('', ['whatever-secret']), '')
  })
})

describe('drained', () => {
  it('waits for a slow reader to take every line, then resolves', async () => {
    const stdout = new PassThrough({highWaterMark: 16})
    const stderr = new PassThrough({highWaterMark: 16})
    const logger = createLogger({level: 'info', stdout, stderr})
    logger.log('info', 'x'.repeat(100))
    let done = false
    const drained = logger.drained().then(() => {
      done = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(done, false, 'resolved while the line still sits in the buffer')
    const read = text(stdout)
    await drained
    stdout.end()
    stderr.end()
    assert.equal(messageOf((await read).replace(/\n$/, '')), 'x'.repeat(100))
  })
})

describe('eventLevel', () => {
  const report = {
    cycle: 12, time: 0, equity: 10_000, cash: 9000, exposurePct: 10, exposureAfterPct: 12, capPct: 25, orders: 1, denied: 0, fills: 1,
    halted: false, resumed: false, pnl: 0, eligible: 3, forced: 0, excluded: 1, audit: {entries: 4, hash: 'ab'.repeat(32)}, positions: [], trimFailures: 0,
  }
  const cases: [EngineEvent | StepTimingEvent, LogLevel][] = [
    [{type: 'cycle', report}, 'info'],
    [{type: 'universe', cycle: 1, symbol: 'BTC-USD', status: 'eligible', reason: 'liquid'}, 'info'],
    [{type: 'universe', cycle: 1, symbol: 'DOGE-USD', status: 'excluded', reason: 'thin book'}, 'info'],
    [{type: 'order', cycle: 1, clientOrderId: 'c1', symbol: 'BTC-USD', side: 'buy', amount: 0.1, price: 40_000, status: 'open', reason: 'signal'}, 'info'],
    [{type: 'order', cycle: 1, clientOrderId: 'c2', symbol: 'BTC-USD', side: 'sell', amount: 0.1, price: 40_000, status: 'closed', reason: 'signal'}, 'info'],
    [{type: 'denied', cycle: 1, symbol: 'BTC-USD', side: 'buy', denial: {code: 'EXPOSURE_CAP', message: 'over the cap'}}, 'info'],
    [{type: 'reconciled', clientOrderId: 'c1', status: 'closed', note: 'now closed'}, 'info'],
    [{type: 'reconciled', clientOrderId: 'c1', status: 'canceled', note: 'now canceled'}, 'info'],
    [{type: 'reconciled', clientOrderId: 'c3', status: 'abandoned', note: 'the exchange never received it'}, 'warning'],
    [{type: 'reconciled', clientOrderId: 'c4', status: 'unknown', note: 'lookup failed'}, 'warning'],
    [{type: 'kill_switch', cycle: 5, active: true, cancelled: 2}, 'critical'],
    [{type: 'kill_switch', cycle: 6, active: false, cancelled: 0}, 'info'],
    [{type: 'notice', level: 'info', message: 'KILL_SWITCH removed'}, 'info'],
    [{type: 'notice', level: 'warning', message: 'order outcome unknown'}, 'warning'],
    [{type: 'notice', level: 'critical', message: 'KILL_SWITCH present'}, 'critical'],
    [{type: 'step_timing'}, 'debug'],
  ]
  for (const [event, level] of cases) {
    const detail = 'status' in event ? ` ${String(event.status)}` : 'level' in event ? ` ${event.level}` : 'active' in event ? ` active=${event.active}` : ''
    it(`${event.type}${detail} is ${level}`, () => assert.equal(eventLevel(event), level))
  }

  it('covers every engine event type', () => {
    const covered = new Set(cases.map(([e]) => e.type))
    for (const type of ['cycle', 'order', 'denied', 'universe', 'kill_switch', 'reconciled', 'notice', 'step_timing'] satisfies (EngineEvent | StepTimingEvent)['type'][]) {
      assert.ok(covered.has(type), type)
    }
  })
})
