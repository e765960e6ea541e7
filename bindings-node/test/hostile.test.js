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
