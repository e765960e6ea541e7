'use strict'
// The Node quick start: prom-client's API, metricore's core, and the TypeScript-era API.
//
// Prints the registry's Prometheus text on standard output and metricore's own views
// (latency statistics in ms, an HDR blob hdr-histogram-js can read, the legacy
// calculatePercentiles and a shadow experiment) on standard error:
//
//     node bindings-node/examples/quickstart.js > metrics.prom
const { Counter, Gauge, Histogram, Registry, experiment, legacy } = require('..')
const reference = require('../legacy/dist/index.js')

const registry = new Registry()
const requests = new Counter({ name: 'http_requests_total', help: 'Requests served.', labelNames: ['method', 'code'], registers: [registry] })
const inFlight = new Gauge({ name: 'http_requests_in_flight', help: 'Requests being served.', registers: [registry] })
const latency = new Histogram({ name: 'http_request_duration_seconds', help: 'Request latency.', labelNames: ['route'], registers: [registry] })

const api = latency.labels('/api') // kept children: their calls are typed-array stores
for (const [ms, code] of [[12.5, '200'], [8.0, '200'], [250.0, '500'], [31.0, '200']]) {
  inFlight.inc()
  requests.labels('GET', code).inc()
  api.recordMs(ms) // or api.observe(seconds), or const end = api.startTimer(); ...; end()
  inFlight.dec()
}

console.error('p99 of /api:', api.quantile(0.99), 's')
console.error('latencyStats:', api.latencyStats())
console.error('HDR V2 blob for hdr-histogram-js:', api.snapshot().encodeV2(true).toString('base64').slice(0, 24), '...')
// HDR quantiles carry 3 significant digits: agree within that, not to the last bit.
const withinHdr = (a, b) => Object.keys(a).every((k) => Math.abs(a[k] - b[k]) <= 1e-3 * Math.abs(a[k]) + 1e-3)
const percentiles = experiment({
  name: 'percentiles',
  registry,
  control: reference.calculatePercentiles,
  candidate: legacy.calculatePercentiles,
  compare: withinHdr,
})
console.error('legacy calculatePercentiles (shadowed):', percentiles([12.5, 8.0, 250.0, 31.0]))
registry.metrics().then((text) => process.stdout.write(text))
