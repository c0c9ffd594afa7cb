import assert from 'node:assert/strict'

import {Counter, Gauge, Histogram, Registry} from 'prom-client'

import {ExpositionError, parseExposition, sampleValue} from '../../src/lib/metrics/exposition.js'

describe('exposition parser', function () {
  it('reads HELP, TYPE, escaped label values, special values, timestamps and a histogram\'s family', function () {
    const text = [
      '# HELP bot_x A help with a \\\\ backslash and a \\n newline',
      '# TYPE bot_x gauge',
      'bot_x{a="say \\"hi\\"",b="line1\\nline2",c="back\\\\slash",d="{},=# "} 1.5e3',
      'bot_x{a="",} -0.25 1700000000000',
      '# a plain comment, ignored',
      '',
      '   bot_y   NaN',
      'bot_y{k="inf"} +Inf',
      'bot_y{k="minus"} -Inf',
      'bot_y{k="pc"} Nan',
      '# TYPE bot_h histogram',
      'bot_h_bucket{le="0.5"} 1',
      'bot_h_bucket{le="+Inf"} 3',
      'bot_h_sum 4.25',
      'bot_h_count 3',
      'bot_h_other 9',
    ].join('\n')
    const e = parseExposition(text)
    const x = e.families.get('bot_x')!
    assert.equal(x.type, 'gauge')
    assert.equal(x.help, 'A help with a \\ backslash and a \n newline')
    assert.deepEqual(x.samples[0], {name: 'bot_x', labels: {a: 'say "hi"', b: 'line1\nline2', c: 'back\\slash', d: '{},=# '}, value: 1500, timestamp: null})
    assert.deepEqual(x.samples[1], {name: 'bot_x', labels: {a: ''}, value: -0.25, timestamp: 1_700_000_000_000})
    assert.ok(Number.isNaN(sampleValue(e, 'bot_y')))
    assert.equal(e.families.get('bot_y')!.type, 'untyped')
    assert.equal(sampleValue(e, 'bot_y', {k: 'inf'}), Number.POSITIVE_INFINITY)
    assert.equal(sampleValue(e, 'bot_y', {k: 'minus'}), Number.NEGATIVE_INFINITY)
    assert.ok(Number.isNaN(sampleValue(e, 'bot_y', {k: 'pc'})))
    const h = e.families.get('bot_h')!
    assert.equal(h.type, 'histogram')
    assert.deepEqual(h.samples.map((s) => s.name), ['bot_h_bucket', 'bot_h_bucket', 'bot_h_sum', 'bot_h_count'])
    assert.equal(h.samples[1].labels.le, '+Inf')
    assert.equal(e.families.get('bot_h_other')!.samples.length, 1)
    assert.equal(e.samples.length, 11)
  })

  it('reads back exactly what prom-client wrote, label values with quotes, backslashes and newlines included', async function () {
    const registry = new Registry()
    const g = new Gauge({name: 'bot_t', help: 'help "quoted" \\ and\nnewline', labelNames: ['v'], registers: [registry]})
    const tricky = ['plain', 'a "quoted" word', 'back\\slash', 'two\nlines', 'trailing\\', '\\"', 'ünïcödé €']
    tricky.forEach((v, i) => g.set({v}, i + 0.5))
    g.set({v: 'nan'}, Number.NaN)
    const c = new Counter({name: 'bot_c_total', help: 'c', registers: [registry]})
    c.inc(7)
    const h = new Histogram({name: 'bot_d_seconds', help: 'd', buckets: [0.1, 1], registers: [registry]})
    for (const v of [0.05, 0.5, 5]) h.observe(v)
    const e = parseExposition(await registry.metrics())
    assert.equal(e.families.get('bot_t')!.help, 'help "quoted" \\ and\nnewline')
    tricky.forEach((v, i) => assert.equal(sampleValue(e, 'bot_t', {v}), i + 0.5, JSON.stringify(v)))
    assert.ok(Number.isNaN(sampleValue(e, 'bot_t', {v: 'nan'})))
    assert.equal(sampleValue(e, 'bot_c_total'), 7)
    assert.equal(e.families.get('bot_c_total')!.type, 'counter')
    assert.equal(sampleValue(e, 'bot_d_seconds_bucket', {le: '0.1'}), 1)
    assert.equal(sampleValue(e, 'bot_d_seconds_bucket', {le: '1'}), 2)
    assert.equal(sampleValue(e, 'bot_d_seconds_bucket', {le: '+Inf'}), 3)
    assert.equal(sampleValue(e, 'bot_d_seconds_sum'), 5.55)
    assert.equal(e.families.get('bot_d_seconds')!.samples.length, 5)
  })

  it('refuses malformed lines with the line number', function () {
    const bad: [string, RegExp][] = [
      ['bot_x{a="unterminated} 1', /^line 1: unterminated value of label a$/],
      ['ok 1\nbot_x{a=1} 1', /^line 2: expected a quoted value for label a$/],
      ['bot_x{a="\\t"} 1', /^line 1: bad escape "\\t" in label a$/],
      ['bot_x{a="1" b="2"} 1', /^line 1: expected , or } after label a$/],
      ['bot_x{a="1",a="2"} 1', /^line 1: label a appears twice$/],
      ['bot_x one', /^line 1: bot_x: "one" is not a number$/],
      ['bot_x 0x10', /^line 1: bot_x: "0x10" is not a number$/],
      ['bot_x', /^line 1: expected "value \[timestamp\]" after bot_x, found ""$/],
      ['bot_x 1 2 3', /^line 1: expected "value \[timestamp\]"/],
      ['bot_x 1 12.5', /^line 1: bot_x: timestamp "12.5" is not an integer$/],
      ['9bot 1', /^line 1: expected a metric name/],
      ['# TYPE 9bot gauge', /^line 1: bad metric name "9bot" in TYPE$/],
      ['# HELP bot_x bad \\q escape', /^line 1: bad escape "\\q" in HELP$/],
    ]
    for (const [text, message] of bad) {
      assert.throws(() => parseExposition(text), (error: Error) => {
        assert.ok(error instanceof ExpositionError, text)
        assert.match(error.message, message, text)
        return true
      })
    }
  })
})
