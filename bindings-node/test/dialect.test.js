'use strict'
// The skin's metrics() in prom-client's dialect (setDialect('prom-client')): the same calls on prom-client and on
// metricore give the same bytes, in both formats. The core's shared workload
// (tests/fixtures/dialects) covers more values; this checks the skin's defaults end to end.
const test = require('node:test')
const assert = require('node:assert/strict')
const prom = require('prom-client')
const m = require('..')

function exercise(lib, registry) {
  const c = new lib.Counter({ name: 'http_requests_total', help: 'Requests \\ served\n"now".', labelNames: ['method', 'code'], registers: [registry] })
  c.inc({ method: 'GET', code: '200' })
  c.inc({ method: 'GET', code: '200' }, 2)
  c.inc({ method: 'POST', code: '500' }, 3)
  const g = new lib.Gauge({ name: 'queue_depth', help: 'Queue depth.', labelNames: ['queue'], registers: [registry] })
  g.set({ queue: 'a' }, 12.5)
  g.set({ queue: 'b' }, Number.NaN)
  g.set({ queue: 'c' }, -1e21)
  g.set({ queue: 'd' }, 1.5e-7)
  const h = new lib.Histogram({ name: 'payload_bytes', help: 'Sizes.', labelNames: ['route'], buckets: [1, 2.5, 10], registers: [registry] })
  for (const v of [0.5, 1, 2.5, 20]) h.observe({ route: '/a' }, v)
}

for (const openMetrics of [false, true]) {
  test(`metrics() is byte for byte prom-client's (${openMetrics ? 'OpenMetrics' : '0.0.4'})`, async () => {
    const peer = new prom.Registry()
    const ours = new m.Registry()
    ours.setDialect('prom-client')
    if (openMetrics) {
      peer.setContentType(prom.Registry.OPENMETRICS_CONTENT_TYPE)
      ours.setContentType(m.Registry.OPENMETRICS_CONTENT_TYPE)
    }
    exercise(prom, peer)
    exercise(m, ours)
    assert.equal(ours.dialect, 'prom-client')
    assert.equal(await ours.metrics(), await peer.metrics())
    assert.equal(ours.metricsSync(), await peer.metrics())
  })
}

test('setDialect selects metricore\'s own spelling or prometheus_client\'s, and refuses others', async () => {
  const reg = new m.Registry()
  const g = new m.Gauge({ name: 'level', help: 'L.', registers: [reg] })
  g.set(3)
  reg.setDialect('canonical')
  assert.match(await reg.metrics(), /^level 3$/m)
  reg.setDialect('prometheus_client')
  assert.match(await reg.metrics(), /^level 3\.0$/m)
  assert.throws(() => reg.setDialect('go'), /unknown exposition dialect/)
})
