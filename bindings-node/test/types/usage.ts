// Compiled by `tsc --noEmit --strict` (scripts/test.sh node-types): the hand-written typings
// of the skin describe what a TypeScript user writes.
import * as m from 'metricore'
import { experiment } from 'metricore/shadow'
import * as legacy from 'metricore/legacy'

const registry = new m.Registry()
const requests = new m.Counter({ name: 'http_requests', help: 'Requests.', labelNames: ['method'], registers: [registry] })
const get: m.CounterChild = requests.labels('GET')
get.inc()
requests.inc({ method: 'POST' }, 2)
const latency = new m.Histogram({ name: 'latency_seconds', help: 'L.', buckets: [0.01, 0.1], registers: [registry] })
latency.observe(0.012)
latency.recordMs(12.5)
const stats: m.LatencyStats = latency.latencyStats()
const p99: number = stats.p99Ms + latency.quantile(0.99)
const summary = new m.Summary({ name: 'rpc_seconds', help: 'R.', percentiles: [0.5, 0.99], maxAgeSeconds: 60, ageBuckets: 6, registers: [registry] })
summary.observe(0.2)
const gauge = new m.Gauge({ name: 'inflight', help: 'I.', registers: [registry], collect() { this.set(p99) } })
gauge.inc()
const meter = new m.Meter(60, 6)
meter.mark()
const rps: number = meter.snapshot().ratePerSecond
const blob: Buffer = latency.snapshot().encodeV2(true)
const back: m.HistogramSnapshot = m.decodeV2(blob)
const shapes: Promise<m.ResourceShapes> = registry.sampler().resourceShapesAsync()
const text: Promise<string> = registry.metrics()
const run = experiment({ name: 'percentiles', control: (xs: number[]) => xs.length, candidate: (xs: number[]) => xs.length })
const n: number = run([1, 2, 3])
const pct = legacy.calculatePercentiles([1, 2, 3])
const p999: number = pct.p999
void [rps, back, shapes, text, n, p999, m.collectDefaultMetrics]
