'use strict'
// Hostile durations and window options: every one must throw a RangeError with the
// ERR_METRICORE_INVALID_CONFIG code and a message naming the metric, never the bare
// GenericFailure Error a panic at the native boundary turns into.
const test = require('node:test')
const assert = require('node:assert/strict')
const m = require('..')

// Above ~1.8e19 s no Duration holds them; the rest are not durations at all.
const HOSTILE_SECONDS = [1e20, 1e300, Number.MAX_VALUE, Infinity, -Infinity, NaN, -1, -1e-9]

function expectConfigError(what, call, metric) {
  assert.throws(call, (e) => {
    assert.equal(e.name, 'RangeError', `${what}: ${e.name} ${e.code} ${e.message}`)
    assert.equal(e.code, 'ERR_METRICORE_INVALID_CONFIG', `${what}: ${e.message}`)
    assert.ok(e.message.includes(`'${metric}'`), `${what}: ${e.message} does not name ${metric}`)
    return true
  }, what)
}

test('hostile window and interval seconds throw RangeErrors naming the metric', () => {
  const registry = new m.Registry()
  const sampler = registry.sampler()
  for (const secs of HOSTILE_SECONDS) {
    expectConfigError(`Meter(${secs})`, () => new m.Meter(secs), 'meter')
    expectConfigError(
      `Histogram windowSeconds ${secs}`,
      () => new m.Histogram({ name: 'lat_seconds', help: 'L.', registers: [registry], windowSeconds: secs }),
      'lat_seconds',
    )
    expectConfigError(
      `Summary maxAgeSeconds ${secs}`,
      () => new m.Summary({ name: 'sum_seconds', help: 'S.', registers: [registry], maxAgeSeconds: secs, ageBuckets: 5 }),
      'sum_seconds',
    )
    expectConfigError(`sampler().start(${secs})`, () => sampler.start(secs), 'resource sampler')
  }
  assert.equal(sampler.isRunning, false)
  assert.deepEqual(registry._native.familyNames(), [], 'no family was registered by a failed constructor')
})

test('the largest valid options still work', () => {
  const meter = new m.Meter(86400, 1000)
  meter.mark(3)
  assert.equal(meter.snapshot().count, 3)
  assert.equal(meter.snapshot().windowSeconds, 86400)
})

// Whole-number options given a number napi would wrap (-1 to 4294967295, 2^32 + 6 to 6) or
// cut (1.5 to 1): each one is a RangeError naming the metric, never a silent conversion.
const HOSTILE_WHOLE = [-1, 1.5, -0.5, 2 ** 64, NaN, Infinity]
// Past 32 bits: hostile for the options the core keeps in 32 bits (or fewer).
const PAST_U32 = 2 ** 32 + 6

test('hostile whole-number options throw RangeErrors naming the metric', () => {
  const registry = new m.Registry()
  // [what, make(value), metric, kept in 32 bits or fewer]
  const options = [
    ['Counter cardinalityLimit', (v) => new m.Counter({ name: 'c_total', help: 'C.', labelNames: ['a'], cardinalityLimit: v, registers: [registry] }), 'c_total', false],
    ['Gauge cardinalityLimit', (v) => new m.Gauge({ name: 'g', help: 'G.', labelNames: ['a'], cardinalityLimit: v, registers: [registry] }), 'g', false],
    ['Histogram cardinalityLimit', (v) => new m.Histogram({ name: 'h1', help: 'H.', labelNames: ['a'], cardinalityLimit: v, registers: [registry] }), 'h1', false],
    ['Histogram lowest', (v) => new m.Histogram({ name: 'h2', help: 'H.', lowest: v, registers: [registry] }), 'h2', false],
    ['Histogram highest', (v) => new m.Histogram({ name: 'h3', help: 'H.', highest: v, registers: [registry] }), 'h3', false],
    ['Histogram significantFigures', (v) => new m.Histogram({ name: 'h4', help: 'H.', significantFigures: v, registers: [registry] }), 'h4', true],
    ['Histogram subWindows', (v) => new m.Histogram({ name: 'h5', help: 'H.', windowSeconds: 60, subWindows: v, registers: [registry] }), 'h5', true],
    ['Summary ageBuckets', (v) => new m.Summary({ name: 's1', help: 'S.', maxAgeSeconds: 60, ageBuckets: v, registers: [registry] }), 's1', true],
    ['Summary significantFigures', (v) => new m.Summary({ name: 's2', help: 'S.', significantFigures: v, registers: [registry] }), 's2', true],
    ['Meter subWindows', (v) => new m.Meter(60, v), 'meter', true],
  ]
  for (const [what, make, metric, narrow] of options) {
    for (const v of narrow ? [...HOSTILE_WHOLE, PAST_U32] : HOSTILE_WHOLE) {
      expectConfigError(`${what} ${v}`, () => make(v), metric)
    }
  }
  assert.equal(registry.metricsSync().trim(), '', 'no family was registered by a failed constructor')
})

test('every core error kind has its own code, collector failures included', () => {
  const codes = m.native.errorCodes()
  assert.deepEqual(codes.CollectorFailed, { code: 'ERR_METRICORE_COLLECTOR_FAILED', class: 'TypeError' })
  assert.deepEqual(codes.CorruptBlob, { code: 'ERR_METRICORE_CORRUPT_BLOB', class: 'TypeError' })
  const all = Object.values(codes).map((c) => c.code)
  assert.equal(new Set(all).size, all.length, `two kinds share a code: ${all}`)
  assert.ok(Object.keys(codes).length >= 8)
})
