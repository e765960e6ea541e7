// Code written against prom-client 15's typings, with only the import changed: it compiles
// against metricore's (scripts/test.sh node-types).
import * as client from 'metricore'
import { Counter, Gauge, Histogram, Registry, Summary, register } from 'metricore'

const registry = new Registry(Registry.OPENMETRICS_CONTENT_TYPE)
registry.setDefaultLabels({ app: 'api' })
const requests = new Counter({ name: 'http_requests_total', help: 'Requests.', labelNames: ['method', 'code'] as const, registers: [registry, register] })
requests.inc({ method: 'GET', code: 200 })
requests.labels('POST', '500').inc(2)
requests.labels({ method: 'GET', code: '200' }).inc()
requests.remove('POST', '500')
const inflight = new Gauge({ name: 'inflight', help: 'In flight.', collect() { this.set(1) } })
inflight.set({}, 3)
const end = inflight.startTimer()
const secs: number = end()
const latency = new Histogram({ name: 'latency_seconds', help: 'L.', buckets: client.exponentialBuckets(0.001, 2, 10), labelNames: ['route'] })
latency.zero({ route: '/' })
const stop = latency.startTimer({ route: '/' })
stop({ route: '/a' })
const traced = new Counter({ name: 'traced_total', help: 'T.', enableExemplars: true, registers: [registry] })
traced.inc({ labels: {}, value: 1, exemplarLabels: { trace_id: 'abc' } })
const rpc = new Summary({ name: 'rpc_seconds', help: 'R.', percentiles: [0.5, 0.99], maxAgeSeconds: 600, ageBuckets: 5 })
rpc.observe(0.2)
async function scrape(): Promise<string> {
  const one: client.MetricObjectWithValues<client.MetricValue<string>> = await requests.get()
  const all = await registry.getMetricsAsJSON()
  const merged = Registry.merge([registry, new Registry(Registry.OPENMETRICS_CONTENT_TYPE)])
  const type: string = merged.contentType
  void [one.values[0].value, all.length, type, client.linearBuckets(0, 1, 3), client.validateMetricName('x')]
  return `${client.prometheusContentType}\n${await register.metrics()}`
}
client.collectDefaultMetrics({ prefix: 'app_', labels: { pod: 'a' } })
const gateway = new client.Pushgateway('http://127.0.0.1:9091', { timeout: 5000 }, registry)
void gateway.pushAdd({ jobName: 'batch', groupings: { instance: 'a' } })
void [secs, scrape]
