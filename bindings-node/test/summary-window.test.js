'use strict'
// A Summary's maxAgeSeconds window follows JavaScript's time (Date.now(), which fake
// timers move), as prom-client's does: both are driven by one mocked clock and read
// side by side.
const test = require('node:test')
const assert = require('node:assert/strict')
const prom = require('prom-client')
const m = require('..')

/** Quantile values and the all-time count of a get() result. */
function shape({ values }) {
  return values.map((v) => (v.metricName === undefined ? ['q', v.labels.quantile, v.value] : [v.metricName, v.value]))
}

test('maxAgeSeconds/ageBuckets windows rotate on JavaScript\'s time, beside prom-client', async (t) => {
  let now = 1_700_000_000_000
  t.mock.method(Date, 'now', () => now)
  const made = [prom, m].map((lib) => {
    const s = new lib.Summary({ name: 'job_seconds', help: 'J.', percentiles: [0.5, 0.99], maxAgeSeconds: 5, ageBuckets: 5, labelNames: ['q'], registers: [new lib.Registry()] })
    s.observe({ q: 'a' }, 100)
    s.labels('b').observe(100)
    return s
  })
  for (const step of [0, 1001, 1001, 1001, 1001, 1001, 3000, 10_000]) {
    now += step
    const [theirs, ours] = await Promise.all(made.map((s) => s.get()))
    assert.deepEqual(shape(ours), shape(theirs), `after ${step} ms`)
    if (step === 10_000) made.forEach((s) => s.observe({ q: 'a' }, 100))
  }
  const [theirs, ours] = await Promise.all(made.map((s) => s.get()))
  assert.deepEqual(shape(ours), shape(theirs), 'a new observation after the window emptied')
  assert.ok(shape(ours).some(([kind, , v]) => kind === 'q' && v === 100))
})

test('the window also rotates in the exposition, and a clock set back moves nothing', async (t) => {
  let now = 5_000_000
  t.mock.method(Date, 'now', () => now)
  const registry = new m.Registry()
  const s = new m.Summary({ name: 'back_seconds', help: 'B.', percentiles: [0.5], maxAgeSeconds: 2, ageBuckets: 2, registers: [registry] })
  s.observe(7)
  assert.match(registry.metricsSync(), /^back_seconds\{quantile="0.5"\} 7$/m)
  now = 0 // a fake clock set back: no time passes
  assert.match(registry.metricsSync(), /^back_seconds\{quantile="0.5"\} 7$/m)
  now = 2_500
  assert.match(await registry.metrics(), /^back_seconds\{quantile="0.5"\} 0$/m)
  assert.match(await registry.metrics(), /^back_seconds_count 1$/m)
})
