import assert from 'node:assert/strict'

import {exclusionReason, selectUniverse} from '../../src/lib/universe/eligibility.js'
import {defaultConfig, snapshotOf, ticker} from '../helpers/fixtures.js'

describe('universe eligibility', () => {
  const config = defaultConfig().universe

  it('excludes thin and wide symbols with a reason, and lets forced symbols bypass the filters', () => {
    const snap = snapshotOf([
      ticker('BTC-USD', 40000, {quoteVolume24h: 1}), // forced: volume ignored
      ticker('ETH-USD', 2000, {bid: 1900, ask: 2100}), // forced: spread ignored
      ticker('AVAX-USD', 20, {quoteVolume24h: 50e6}),
      ticker('LINK-USD', 15, {quoteVolume24h: 9e6}), // below tier2's 10M
      ticker('XRP-USD', 0.6, {quoteVolume24h: 50e6, bid: 0.59, ask: 0.61}), // 3.3% spread > 0.2%
    ])
    const u = selectUniverse(config, snap)
    const eligible = new Map(u.eligible.map((e) => [e.symbol, e]))
    assert.equal(eligible.get('BTC-USD')?.forced, true)
    assert.equal(eligible.get('ETH-USD')?.forced, true)
    assert.equal(eligible.get('AVAX-USD')?.forced, false)
    const excluded = new Map(u.excluded.map((x) => [x.symbol, x]))
    assert.equal(excluded.get('LINK-USD')?.code, 'LOW_VOLUME')
    assert.match(exclusionReason(excluded.get('LINK-USD')!), /9\.00M < 10\.00M/)
    assert.equal(excluded.get('XRP-USD')?.code, 'WIDE_SPREAD')
    assert.equal(excluded.get('SOL-USD')?.code, 'NOT_LISTED', 'a forced symbol still needs a market')
    // every configured symbol is accounted for exactly once
    const all = Object.values(config.tiers).flatMap((t) => t.symbols)
    assert.equal(u.eligible.length + u.excluded.length, all.length)
  })

  it('lets a symbol a liquidity filter dropped back in only once it clears the threshold by hysteresis_pct', () => {
    // tier2 needs 10M of volume; with the default 10% band a dropped symbol needs 11M to return.
    const at = (volume: number) => snapshotOf([ticker('LINK-USD', 15, {quoteVolume24h: volume})])
    const status = (volume: number, was?: 'eligible' | 'LOW_VOLUME') => {
      const u = selectUniverse(config, at(volume), () => was)
      return u.eligible.some((e) => e.symbol === 'LINK-USD') ? 'eligible' : u.excluded.find((x) => x.symbol === 'LINK-USD')!.code
    }
    assert.equal(config.hysteresis_pct, 10)
    assert.equal(status(10.5e6, 'eligible'), 'eligible', 'an eligible symbol stays while above the threshold')
    assert.equal(status(9.9e6, 'eligible'), 'LOW_VOLUME')
    assert.equal(status(10.5e6, 'LOW_VOLUME'), 'LOW_VOLUME', 'back above the threshold, but not by the band')
    assert.equal(status(11.1e6, 'LOW_VOLUME'), 'eligible')
    const u = selectUniverse(config, at(10.5e6), () => 'LOW_VOLUME')
    assert.match(exclusionReason(u.excluded.find((x) => x.symbol === 'LINK-USD')!), /10\.50M < 11\.00M/)
  })

  it('honours excluded_symbols even for liquid symbols', () => {
    const u = selectUniverse({...config, excluded_symbols: ['AVAX-USD']}, snapshotOf([ticker('AVAX-USD', 20, {quoteVolume24h: 1e9})]))
    assert.equal(u.excluded.find((x) => x.symbol === 'AVAX-USD')?.code, 'EXCLUDED_BY_CONFIG')
  })

  it('names the symbols whose status changed since the previous one, eligible ones first, and only those', () => {
    const snap = snapshotOf([
      ticker('BTC-USD', 40000),
      ticker('AVAX-USD', 20, {quoteVolume24h: 50e6}),
      ticker('LINK-USD', 15, {quoteVolume24h: 9e6}),
    ])
    const first = selectUniverse(config, snap)
    const all = Object.values(config.tiers).flatMap((t) => t.symbols)
    assert.equal(first.changed.length, all.length, 'with nothing before, every symbol is new')
    const before = new Map([...first.eligible.map((e) => [e.symbol, e.forced ? 'forced' : 'eligible'] as const), ...first.excluded.map((x) => [x.symbol, x.code] as const)])
    assert.deepEqual(selectUniverse(config, snap, (s) => before.get(s)).changed, [], 'the same market: no change')
    const later = snapshotOf([ticker('BTC-USD', 40000), ticker('AVAX-USD', 20, {quoteVolume24h: 1e6}), ticker('LINK-USD', 15, {quoteVolume24h: 20e6})])
    const u = selectUniverse(config, later, (s) => before.get(s))
    assert.deepEqual(u.changed.map((x) => [x.symbol, 'code' in x ? x.code : 'eligible']), [['LINK-USD', 'eligible'], ['AVAX-USD', 'LOW_VOLUME']])
  })
})
