'use strict'
// Exemplars in prom-client's calling form (enableExemplars, inc({labels, value,
// exemplarLabels}), observe({...}), startTimer with exemplar labels), written and read
// beside prom-client's.
const test = require('node:test')
const assert = require('node:assert/strict')
const prom = require('prom-client')
const m = require('..')

/** The exposition with each exemplar's timestamp replaced, and the timestamps. */
function split(text) {
  const stamps = []
  const rest = text.replace(/( # \{[^}]*\} \S+) (\S+)$/gm, (_, head, ts) => {
    stamps.push(Number(ts))
    return `${head} <ts>`
  })
  return { rest, stamps }
}

function workload(lib) {
  const registry = new lib.Registry(lib.Registry.OPENMETRICS_CONTENT_TYPE)
  const c = new lib.Counter({ name: 'requests_total', help: 'R.', labelNames: ['code'], enableExemplars: true, registers: [registry] })
  c.inc({ labels: { code: '200' }, value: 2, exemplarLabels: { trace_id: 'abc' } })
  c.inc({ labels: { code: '200' } })
  c.inc({ labels: { code: '500' }, exemplarLabels: { trace_id: 'def', span_id: '1' } })
  const h = new lib.Histogram({ name: 'latency_seconds', help: 'L.', labelNames: ['route'], buckets: [0.1, 1], enableExemplars: true, registers: [registry] })
  h.observe({ labels: { route: '/a' }, value: 0.05, exemplarLabels: { trace_id: 'x1' } })
  h.observe({ labels: { route: '/a' }, value: 0.5, exemplarLabels: { trace_id: 'x2' } })
  h.observe({ labels: { route: '/a' }, value: 5 })
  return registry
}

test('exemplars are written as prom-client writes them, stamped with JavaScript\'s time', async (t) => {
  // Both stamp an exemplar with Date.now() / 1000; a fixed clock makes the texts comparable byte for byte.
  t.mock.method(Date, 'now', () => 1678654679123)
  const theirs = await workload(prom).metrics()
  const ours = await workload(m).metrics()
  assert.equal(ours, theirs)
  assert.equal(split(ours).stamps.length, 4)
  assert.deepEqual(new Set(split(ours).stamps), new Set([1678654679.123]))
})

test('exemplars need an OpenMetrics registry, as in prom-client', () => {
  for (const lib of [prom, m]) {
    assert.throws(() => new lib.Counter({ name: 'x_total', help: 'X.', enableExemplars: true, registers: [new lib.Registry()] }), {
      name: 'TypeError',
      message: 'Exemplars are supported only on OpenMetrics registries',
    })
  }
})

test('exemplar labels past 128 characters: prom-client\'s RangeError, the value still recorded', async () => {
  const outcomes = []
  for (const lib of [prom, m]) {
    const registry = new lib.Registry(lib.Registry.OPENMETRICS_CONTENT_TYPE)
    const h = new lib.Histogram({ name: 'long_seconds', help: 'L.', buckets: [1], enableExemplars: true, registers: [registry] })
    let thrown
    try {
      h.observe({ labels: {}, value: 0.5, exemplarLabels: { traceId: 'j'.repeat(100), spanId: 'j'.repeat(100) } })
    } catch (e) {
      thrown = { class: e.constructor.name, message: e.message }
    }
    // The observation counts in both; prom-client also writes an empty exemplar it made
    // before refusing the labels, which metricore does not.
    const text = await registry.metrics()
    outcomes.push({ thrown, count: /^long_seconds_count (\S+)$/m.exec(text)[1] })
  }
  assert.deepEqual(outcomes[1], outcomes[0])
  assert.deepEqual(outcomes[1], { thrown: { class: 'RangeError', message: 'Label set size must be smaller than 128 UTF-8 chars' }, count: '1' })
})

test('get() carries the exemplars as prom-client\'s does ({labelSet, value, timestamp}, null for a bucket without)', async () => {
  const shapes = []
  for (const lib of [prom, m]) {
    const registry = workload(lib)
    const json = await registry.getMetricsAsJSON()
    shapes.push(
      json.map((f) => ({
        name: f.name,
        exemplars: f.values
          .map((v) => (v.exemplar === undefined ? 'none' : v.exemplar === null ? null : { labelSet: v.exemplar.labelSet, value: v.exemplar.value }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      })),
    )
  }
  assert.deepEqual(shapes[1], shapes[0])
})
