import assert from 'node:assert/strict'

import {CircuitBreaker, MarketsLoader, Resilience} from '../../src/lib/exchange/ccxt/resilience.js'
import {ExchangeError} from '../../src/lib/exchange/ports.js'

/** The retry, breaker and markets-reload rules on their own, on a clock the test moves. */

const transient = () => new ExchangeError('503', 'retryable', 'EXCHANGE_UNAVAILABLE')
const classify = (e: unknown) => (e instanceof ExchangeError ? e : new ExchangeError(String(e), 'fatal', 'ADAPTER_BUG'))

function clocked() {
  let now = 1_000_000
  const slept: number[] = []
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
    slept,
    sleep: async (ms: number) => {
      slept.push(ms)
      now += ms
    },
  }
}

describe('ccxt adapter: retries, circuit breaker, markets reload', () => {
  it('backoff doubles from the base, with jitter in [0.5, 1), and a rate limit starts from its own base', async () => {
    const c = clocked()
    const draws = [0, 0.999, 0.5]
    const r = new Resilience({exchangeId: 'x', retry: {attempts: 4, baseDelayMs: 100, rateLimitDelayMs: 1000, maxDelayMs: 10_000, budgetMs: 60_000}, breaker: {failureThreshold: 5, cooldownMs: 1000}, classify, sleep: c.sleep, now: c.now, random: () => draws.shift()!})
    const failures = [transient(), transient(), new ExchangeError('429', 'rate_limited', 'RATE_LIMITED')]
    assert.equal(await r.retry('op', async () => {
      const f = failures.shift()
      if (f) throw f
      return 'ok'
    }), 'ok')
    assert.deepEqual(c.slept, [50, 200, 3000])
  })

  it('never sleeps past the time budget, and never retries a refusal', async () => {
    const c = clocked()
    const r = new Resilience({exchangeId: 'x', retry: {attempts: 10, baseDelayMs: 1000, rateLimitDelayMs: 1000, maxDelayMs: 60_000, budgetMs: 2500}, breaker: {failureThreshold: 5, cooldownMs: 1000}, classify, sleep: c.sleep, now: c.now, random: () => 0.999})
    let calls = 0
    await assert.rejects(r.retry('op', async () => {
      calls++
      throw transient()
    }), /time budget 2500 ms/)
    assert.deepEqual([calls, c.slept.map(Math.round)], [2, [1000]])
    calls = 0
    await assert.rejects(r.retry('op', async () => {
      calls++
      throw new ExchangeError('no', 'rejected', 'INVALID_ORDER')
    }), (e: ExchangeError) => e.kind === 'rejected')
    assert.equal(calls, 1)
  })

  it('once() classifies and never retries', async () => {
    const r = new Resilience({exchangeId: 'x', retry: {attempts: 5, baseDelayMs: 1, rateLimitDelayMs: 1, maxDelayMs: 1, budgetMs: 1000}, breaker: {failureThreshold: 5, cooldownMs: 1000}, classify})
    let calls = 0
    await assert.rejects(r.once('createOrder', async () => {
      calls++
      throw transient()
    }), (e: ExchangeError) => e.code === 'EXCHANGE_UNAVAILABLE')
    assert.equal(calls, 1)
  })

  it('the breaker: closed -> open at the threshold -> half-open with one trial at a time -> closed', () => {
    const c = clocked()
    const b = new CircuitBreaker({failureThreshold: 2, cooldownMs: 1000}, c.now)
    const states: string[] = []
    b.onChange((s) => states.push(s.state))
    b.admit('x')
    b.record(transient())
    b.admit('x')
    b.record(new ExchangeError('no', 'rejected', 'X'))
    assert.equal(b.snapshot().consecutiveFailures, 0, 'a refusal resets the count: the exchange answered')
    for (let i = 0; i < 2; i++) {
      b.admit('x')
      b.record(transient())
    }

    assert.deepEqual(b.snapshot(), {state: 'open', consecutiveFailures: 2, openedAt: c.now(), retryAt: c.now() + 1000, lastError: 'EXCHANGE_UNAVAILABLE: 503'})
    assert.throws(() => b.admit('x'), (e: ExchangeError) => e.code === 'CIRCUIT_OPEN' && e.kind === 'retryable' && /next try in 1 s/.test(e.message))
    c.advance(1000)
    b.admit('x')
    assert.throws(() => b.admit('x'), /a trial call is under way/)
    b.record(null)
    assert.deepEqual([b.snapshot().state, b.snapshot().consecutiveFailures], ['closed', 0])
    assert.deepEqual(states, ['open', 'half-open', 'closed'])
  })

  it('markets: loaded once, reloaded with reload=true after a failure and when stale; a failed refresh keeps the old ones', async () => {
    const c = clocked()
    const calls: boolean[] = []
    const outcomes: Array<'ok' | 'fail'> = ['fail', 'ok', 'fail', 'ok']
    const loader = new MarketsLoader(async (reload) => {
      calls.push(reload)
      if (outcomes.shift() === 'fail') throw transient()
    }, 60 * 60_000, c.now)
    await assert.rejects(loader.ensure(), /503/)
    await loader.ensure()
    await loader.ensure()
    assert.deepEqual([calls, loader.generation], [[false, true], 1])
    c.advance(60 * 60_000)
    await loader.ensure()
    assert.deepEqual([calls, loader.generation], [[false, true, true], 1], 'the stale refresh failed, the old markets serve')
    await loader.ensure()
    assert.equal(calls.length, 3, 'a failed refresh is not tried again at once')
    c.advance(60_000)
    await loader.ensure()
    assert.deepEqual([calls, loader.generation], [[false, true, true, true], 2])
  })
})
