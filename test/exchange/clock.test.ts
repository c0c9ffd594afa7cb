import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {getEventListeners} from 'node:events'

import {sleep, WallClock} from '../../src/lib/exchange/ports.js'

/** Node's largest timer delay; a longer one fires after 1 ms with a TimeoutOverflowWarning. */
const TIMER_MAX = 2 ** 31 - 1
/** Slack for a loaded machine: these are bounds on behaviour, not on speed. */
const SLACK = 500

const never = () => new AbortController().signal
const abortAfter = (ms: number) => {
  const c = new AbortController()
  setTimeout(() => c.abort(), ms)
  return c.signal
}

async function timed<T>(fn: () => Promise<T>): Promise<{value: T; ms: number; end: number}> {
  const start = Date.now()
  const value = await fn()
  const end = Date.now()
  return {value, ms: end - start, end}
}

describe('wall clock', () => {
  const clock = new WallClock()

  it('tells the time of day', () => {
    const before = Date.now()
    const now = clock.now()
    assert.equal(clock.kind, 'wall')
    assert.ok(now >= before && now <= Date.now())
  })

  it('sleepUntil resolves true at the time asked, not before', async () => {
    const target = Date.now() + 150
    const {value, end} = await timed(() => clock.sleepUntil(target, never()))
    assert.equal(value, true)
    assert.ok(end >= target, `returned ${target - end} ms early`)
    assert.ok(end < target + SLACK, `returned ${end - target} ms late`)
  })

  it('sleepUntil returns false soon after the stop signal fires mid-wait', async () => {
    const {value, ms} = await timed(() => clock.sleepUntil(Date.now() + 60_000, abortAfter(100)))
    assert.equal(value, false)
    assert.ok(ms >= 90, `returned after ${ms} ms, before the signal`)
    assert.ok(ms < 100 + SLACK, `returned ${ms} ms after the start`)
  })

  it('sleepUntil returns at once for a time already past, true unless stopped', async () => {
    const past = await timed(() => clock.sleepUntil(Date.now() - 60_000, never()))
    assert.equal(past.value, true)
    assert.ok(past.ms < 50, `took ${past.ms} ms`)
    const stopped = new AbortController()
    stopped.abort()
    const aborted = await timed(() => clock.sleepUntil(Date.now() + 60_000, stopped.signal))
    assert.equal(aborted.value, false)
    assert.ok(aborted.ms < 50, `took ${aborted.ms} ms`)
  })

  it('a single timer past the limit does warn on this Node (so the next test can fail)', () => {
    const script = "process.on('warning', (w) => console.log(w.name)); setTimeout(() => {}, 2 ** 31)"
    const out = execFileSync(process.execPath, ['-e', script], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    assert.match(out, /TimeoutOverflowWarning/)
  })

  it('cuts a wait beyond the timer limit into slices: no overflow warning, and the stop still ends it', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const {value, ms} = await timed(() => clock.sleepUntil(Date.now() + 10 * TIMER_MAX, abortAfter(150)))
      assert.equal(value, false)
      assert.ok(ms >= 140 && ms < 150 + SLACK, `returned after ${ms} ms`)
      await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on a later tick
      const overflow = warnings.filter((w) => w.name === 'TimeoutOverflowWarning')
      assert.equal(overflow.length, 0, `${overflow.length} overflow warnings, the first: ${overflow[0]?.message}`)
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('sleep', () => {
  it('resolves after the time given', async () => {
    const {ms} = await timed(() => sleep(100, never()))
    assert.ok(ms >= 99 && ms < 100 + SLACK, `slept ${ms} ms`) // Date.now() and the timer clock may differ by 1 ms
  })

  it('resolves at once for no time, or a signal already fired', async () => {
    assert.ok((await timed(() => sleep(0, never()))).ms < 50)
    assert.ok((await timed(() => sleep(-5, never()))).ms < 50)
    const stopped = new AbortController()
    stopped.abort()
    assert.ok((await timed(() => sleep(60_000, stopped.signal))).ms < 50)
  })

  it('resolves soon after the signal fires', async () => {
    const {ms} = await timed(() => sleep(60_000, abortAfter(50)))
    assert.ok(ms >= 40 && ms < 50 + SLACK, `slept ${ms} ms`)
  })

  it('leaves no listener on a long-lived stop signal, whichever way it ends', async () => {
    const c = new AbortController()
    for (let i = 0; i < 20; i++) await sleep(1, c.signal)
    assert.equal(getEventListeners(c.signal, 'abort').length, 0)
    const pending = sleep(60_000, c.signal)
    assert.equal(getEventListeners(c.signal, 'abort').length, 1)
    c.abort()
    await pending
    assert.equal(getEventListeners(c.signal, 'abort').length, 0)
  })
})
