'use strict'
// The TypeScript-era API twice: the legacy reference (legacy/dist, compiled from
// legacy/src) and metricore/legacy (lib/legacy.js, on the native core). Each behaviour is
// checked against hand-computed values on both, and the two against each other.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const m = require('..')
const native = require('../lib/legacy.js')
const { mulberry32: prng } = require('../test-support')

let legacy
try {
  legacy = require('../legacy/dist/index.js')
} catch (e) {
  throw new Error('legacy/dist/index.js is missing: run `npm run build` (or `npm run build:legacy`) in bindings-node first', {
    cause: e,
  })
}

const impls = { legacy, native }

/** Within HDR precision: relative 1e-3 plus 1 µs (0.001 ms). */
function close(actual, expected, what) {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: ${actual} should be NaN`)
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * 1e-3 + 1e-3, `${what}: ${actual} vs ${expected}`)
}

/** Deep equality where numbers only need to be close. */
function closeDeep(actual, expected, what = 'value') {
  if (typeof expected === 'number') return close(actual, expected, what)
  if (expected === null || typeof expected !== 'object') return assert.equal(actual, expected, what)
  assert.equal(typeof actual, 'object', what)
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `${what}: keys`)
  for (const k of Object.keys(expected)) closeDeep(actual[k], expected[k], `${what}.${k}`)
}

/** A settable clock. */
function clock(start = 0) {
  const c = { t: start, now: () => c.t }
  return c
}

test('both export the same API; the enums have the same values', () => {
  const extra = Object.keys(native).filter((k) => !(k in legacy))
  assert.deepEqual(extra, ['HIGHEST_MS'])
  for (const k of Object.keys(legacy)) assert.equal(typeof native[k], typeof legacy[k], k)
  for (const e of ['Severity', 'BottleneckType', 'AnomalySeverity', 'TrendDirection', 'TransactionType', 'SpanType', 'AnalyzedFigure']) {
    assert.deepEqual({ ...native[e] }, { ...legacy[e] }, e)
  }
  assert.deepEqual(legacy.Severity, { LOW: 'low', MEDIUM: 'medium', HIGH: 'high', CRITICAL: 'critical' })
  assert.deepEqual(legacy.BottleneckType, { CPU: 'cpu', MEMORY: 'memory', IO: 'io' })
  assert.deepEqual(native.THRESHOLDS, legacy.THRESHOLDS)
  assert.deepEqual(native.HEALTH_PENALTY, legacy.HEALTH_PENALTY)
})

test('lib/legacy.d.ts and the reference types agree (tsc --strict)', () => {
  const tsc = path.join(__dirname, '..', 'node_modules', '.bin', 'tsc')
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', '--moduleResolution', 'node', '--types', 'node']
  const r = spawnSync(tsc, [...args, path.join(__dirname, 'legacy.typing.ts')], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stdout + r.stderr)
})

test('calculatePercentiles: nearest rank, sorted[ceil(q * n) - 1], on hand-computed arrays', () => {
  const cases = [
    // ceil(0.5*4)=2 -> 20; ceil(0.95*4)=4 -> 40 (the legacy index q*(n-1) would give 30 for p50 = 25 interpolated).
    { values: [40, 10, 30, 20], want: { min: 10, max: 40, avg: 25, p50: 20, p95: 40, p99: 40, p999: 40 } },
    // 1..20: p50 -> 10th, p95 -> 19th, p99 -> ceil(19.8) = 20th.
    { values: Array.from({ length: 20 }, (_, i) => 20 - i), want: { min: 1, max: 20, avg: 10.5, p50: 10, p95: 19, p99: 20, p999: 20 } },
    // 1..1000 ms: p999 -> ceil(999) = 999th.
    { values: Array.from({ length: 1000 }, (_, i) => i + 1), want: { min: 1, max: 1000, avg: 500.5, p50: 500, p95: 950, p99: 990, p999: 999 } },
    { values: [7.25], want: { min: 7.25, max: 7.25, avg: 7.25, p50: 7.25, p95: 7.25, p99: 7.25, p999: 7.25 } },
    // Sub-millisecond and hour-long durations keep their digits.
    { values: [0.001, 0.0025, 3_600_000], want: { min: 0.001, max: 3_600_000, avg: 3_600_000.0035 / 3, p50: 0.0025, p95: 3_600_000, p99: 3_600_000, p999: 3_600_000 } },
  ]
  for (const { values, want } of cases) {
    assert.deepEqual(legacy.calculatePercentiles(values), want)
    const got = native.calculatePercentiles(values)
    closeDeep(got, want, `native ${values.length} values`)
    // min, max and avg are exact natively too.
    for (const k of ['min', 'max', 'avg']) assert.equal(got[k], want[k], k)
  }
})

test('calculatePercentiles: the input is not modified (a frozen array works)', () => {
  for (const [name, impl] of Object.entries(impls)) {
    const values = [3, 1, 2]
    impl.calculatePercentiles(values)
    assert.deepEqual(values, [3, 1, 2], name)
    assert.equal(impl.calculatePercentiles(Object.freeze([5, 4])).min, 4, name)
  }
})

test('calculatePercentiles: no values gives NaN in every field', () => {
  for (const impl of Object.values(impls)) {
    const s = impl.calculatePercentiles([])
    assert.deepEqual(Object.keys(s), ['min', 'max', 'avg', 'p50', 'p95', 'p99', 'p999'])
    for (const v of Object.values(s)) assert.ok(Number.isNaN(v))
  }
})

test('calculatePercentiles: legacy and native agree on random arrays from 1 µs to an hour', () => {
  const rand = prng(3)
  for (let round = 0; round < 60; round++) {
    const n = 1 + Math.floor(rand() * 300)
    // Log-uniform over 1e-3 .. 3.6e6 ms.
    const values = Array.from({ length: n }, () => 10 ** (-3 + rand() * 9.556))
    closeDeep(native.calculatePercentiles(values), legacy.calculatePercentiles(values), `round ${round}`)
  }
})

test('calculatePercentiles: native rejects bad values with a code; legacy summarises negatives', () => {
  const bad = [
    [[1, -1], RangeError, 'ERR_METRICORE_INVALID_VALUE', /values\[1\] must be a number of milliseconds in 0\.\.604800000, not -1/],
    [[NaN], RangeError, 'ERR_METRICORE_INVALID_VALUE', /not NaN/],
    [[Infinity], RangeError, 'ERR_METRICORE_INVALID_VALUE', /not Infinity/],
    [[native.HIGHEST_MS + 1], RangeError, 'ERR_METRICORE_INVALID_VALUE', /in 0\.\.604800000/],
    [[1, '2'], TypeError, 'ERR_METRICORE_INVALID_TYPE', /values\[1\] must be a number, not string/],
    ['1,2', TypeError, 'ERR_METRICORE_INVALID_TYPE', /values must be an array, not string/],
  ]
  for (const [values, Class, code, message] of bad) {
    assert.throws(() => native.calculatePercentiles(values), (e) => e instanceof Class && e.code === code && message.test(e.message))
  }
  // The documented difference: the reference takes negatives as numbers.
  assert.deepEqual(legacy.calculatePercentiles([-5, 5]), { min: -5, max: 5, avg: 0, p50: -5, p95: 5, p99: 5, p999: 5 })
  // A failed call leaves the next one right.
  close(native.calculatePercentiles([2, 4]).p50, 2, 'p50 after an error')
})

const CPU_TEXTS = {
  type: 'cpu',
  impact: 'High CPU usage may cause request queuing',
  recommendations: ['Scale horizontally', 'Optimize CPU-intensive operations', 'Enable CPU throttling'],
}
const MEMORY_TEXTS = {
  type: 'memory',
  impact: 'High memory usage may cause swapping',
  recommendations: ['Increase memory allocation', 'Optimize memory usage', 'Enable memory limits'],
}
const IO_TEXTS = {
  type: 'io',
  impact: 'High disk queue indicates I/O bottleneck',
  recommendations: ['Use faster storage (SSD)', 'Implement caching', 'Optimize I/O patterns'],
}

test('detectBottlenecks: the legacy thresholds at and around 80 %, 85 % and 10', () => {
  const resources = (cpu, used, free, queueLength) => ({ resources: { cpu: { usage: cpu }, memory: { used, free }, disk: { queueLength } } })
  for (const [name, impl] of Object.entries(impls)) {
    const a = new impl.RealtimePerformanceAnalyzer()
    assert.deepEqual(a.detectBottlenecks(resources(80, 85, 15, 10)), [], `${name}: at the thresholds`)
    const over = a.detectBottlenecks(resources(80.01, 85.5, 14.5, 10.5))
    assert.deepEqual(
      over.map((b) => ({ type: b.type, impact: b.impact, recommendations: b.recommendations })),
      [CPU_TEXTS, MEMORY_TEXTS, IO_TEXTS],
      name,
    )
    assert.deepEqual(over.map((b) => [b.severity, b.threshold]), [['low', 80], ['low', 85], ['high', 10]], name)
    assert.equal(over[0].value, 80.01)
    assert.equal(over[1].value, 85.5)
    // IO is HIGH however long the queue.
    assert.equal(a.detectBottlenecks(resources(0, 1, 99, 1e6))[0].severity, 'high')
    // Missing, null and NaN figures are skipped.
    assert.deepEqual(a.detectBottlenecks({ resources: { cpu: null, memory: { used: 99 }, disk: { queueLength: NaN } } }), [])
    assert.deepEqual(a.detectBottlenecks({}), [])
  }
})

test('calculateSeverity: thirds of warning..critical, CRITICAL from critical', () => {
  const table = [
    [70, 'low'], [80.5, 'low'], [84.99, 'low'], [85, 'medium'], [89.99, 'medium'],
    [90, 'high'], [94.99, 'high'], [95, 'critical'], [120, 'critical'],
  ]
  for (const [name, impl] of Object.entries(impls)) {
    const a = new impl.RealtimePerformanceAnalyzer()
    for (const [value, want] of table) assert.equal(a.calculateSeverity(value, 80, 95), want, `${name} ${value}`)
    // Memory's span 85..95: thirds at 88.33 and 91.67.
    assert.deepEqual([88.3, 88.4, 91.6, 91.7].map((v) => a.calculateSeverity(v, 85, 95)), ['low', 'medium', 'medium', 'high'])
    assert.throws(() => a.calculateSeverity(90, 95, 80), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_CONFIG' })
    const memory = a.detectBottlenecks({ resources: { memory: { used: 96, free: 4 } } })
    assert.equal(memory[0].severity, 'critical', name)
  }
})

test('analyze: health score, capacity and the legacy key order', () => {
  const metrics = {
    timestamp: 1000,
    resources: { cpu: { usage: 92 }, memory: { used: 50, free: 50 }, disk: { queueLength: 12 } },
    throughput: { requests: { total: 200, failed: 20, rps: 46 } },
  }
  for (const [name, impl] of Object.entries(impls)) {
    const analysis = new impl.RealtimePerformanceAnalyzer().analyze(metrics)
    assert.deepEqual(Object.keys(analysis), ['health', 'bottlenecks', 'trends', 'anomalies', 'capacity'])
    // 100 - 20 (CPU HIGH) - 20 (IO) - 10 (10 % failed).
    assert.equal(analysis.health, 50, name)
    assert.deepEqual(analysis.capacity, { cpuHeadroom: 8, memoryHeadroom: 50, limitingResource: 'cpu', estimatedMaxRps: 50 })
    assert.deepEqual(analysis.trends, [])
    assert.deepEqual(analysis.anomalies, [])
  }
  // The health score stays within 0..100 and the error penalty stops at 40.
  const a = new legacy.RealtimePerformanceAnalyzer()
  const worst = { resources: { cpu: { usage: 99 }, memory: { used: 99, free: 1 }, disk: { queueLength: 99 } }, throughput: { requests: { total: 1, failed: 1 } } }
  assert.equal(a.calculateHealthScore(worst), 0)
  assert.equal(a.calculateHealthScore({ throughput: { requests: { total: 10, failed: 10 } } }), 60)
  assert.equal(new native.RealtimePerformanceAnalyzer().calculateHealthScore(worst), 0)
})

test('anomalies: mean + 3 sigma of what was seen before; critical above twice the threshold', () => {
  for (const [name, impl] of Object.entries(impls)) {
    const a = new impl.RealtimePerformanceAnalyzer({ anomalyMinSamples: 10 })
    const at = (i, usage) => ({ timestamp: i * 1000, resources: { cpu: { usage } } })
    // 49, 51, 49, ... : mean 50, population stddev 1, threshold 53.
    for (let i = 0; i < 9; i++) assert.deepEqual(a.analyze(at(i, i % 2 ? 51 : 49)).anomalies, [], `${name}: too few yet`)
    assert.deepEqual(a.analyze(at(9, 51)).anomalies, [])
    const warning = a.detectAnomalies(at(10, 60))
    assert.deepEqual(warning, [{ metric: 'cpu.usage', value: 60, threshold: 53, mean: 50, stddev: 1, severity: 'warning', timestamp: 10000 }], name)
    assert.deepEqual(a.detectAnomalies(at(10, 53)), [], `${name}: at the threshold`)
    assert.equal(a.detectAnomalies(at(10, 106.5))[0].severity, 'critical')
  }
})

test('trends: least-squares slope per second and direction', () => {
  for (const [name, impl] of Object.entries(impls)) {
    const a = new impl.RealtimePerformanceAnalyzer()
    a.observe({ timestamp: 0, resources: { cpu: { usage: 10 }, disk: { queueLength: 5 } } })
    a.observe({ timestamp: 1000, resources: { cpu: { usage: 20 }, disk: { queueLength: 5.01 } } })
    const trends = a.analyzeTrends({ timestamp: 2000, resources: { cpu: { usage: 30 }, disk: { queueLength: 5 } } })
    assert.deepEqual(trends, [
      { metric: 'cpu.usage', direction: 'rising', slope: 10, samples: 3 },
      { metric: 'disk.queueLength', direction: 'stable', slope: 0, samples: 3 },
    ], name)
    // analyzeTrends does not remember: 10 and 20 seen, then 0 at 3 s.
    const falling = a.analyzeTrends({ timestamp: 3000, resources: { cpu: { usage: 0 } } })
    assert.equal(falling[0].samples, 3)
    assert.equal(falling[0].direction, 'falling', name)
    // Centred at t = 4/3 s, v = 10: sxy = -20, sxx = 14/3.
    close(falling[0].slope, -20 / (14 / 3), 'slope')
    const b = new impl.RealtimePerformanceAnalyzer()
    b.observe({ timestamp: 0, latency: { requestLatency: { p99: 100 } } })
    assert.deepEqual(b.analyzeTrends({ timestamp: 4000, latency: { requestLatency: { p99: 20 } } }), [
      { metric: 'latency.p99', direction: 'falling', slope: -20, samples: 2 },
    ])
  }
})

test('analyzer history: legacy and native agree over a long random run', () => {
  const rand = prng(7)
  const a = new legacy.RealtimePerformanceAnalyzer({ historySize: 50 })
  const b = new native.RealtimePerformanceAnalyzer({ historySize: 50 })
  for (let i = 0; i < 200; i++) {
    const metrics = {
      timestamp: 1.7e12 + i * 10_000,
      resources: { cpu: { usage: 40 + rand() * 10 + (i % 37 === 0 ? 50 : 0) }, memory: { used: 50 + rand() * 40, free: 50 } },
      latency: { requestLatency: { p99: 5 + rand() * i } },
      throughput: { requests: { total: 100 + i, failed: i % 5, rps: rand() * 100 } },
    }
    closeDeep(b.analyze(metrics), a.analyze(metrics), `step ${i}`)
  }
})

test('native analyzer: a figure that is not a number is a TypeError with a code', () => {
  const a = new native.RealtimePerformanceAnalyzer()
  assert.throws(() => a.analyze({ resources: { cpu: { usage: '90' } } }), {
    name: 'TypeError',
    code: 'ERR_METRICORE_INVALID_TYPE',
    message: 'analyzer: resources.cpu.usage must be a number or null, not string',
  })
  assert.throws(() => a.analyze(null), { code: 'ERR_METRICORE_INVALID_TYPE' })
  assert.throws(() => new native.RealtimePerformanceAnalyzer({ historySize: 1 }), { code: 'ERR_METRICORE_INVALID_CONFIG' })
})

test('profileOperation: sync, async and failing operations, with an injected clock', async () => {
  for (const [name, impl] of Object.entries(impls)) {
    const c = clock(100)
    const profiler = new impl.AdvancedProfiler({ now: () => (c.t += 12.5) - 12.5 })
    const sync = await profiler.profileOperation(() => 42)
    assert.equal(sync.result, 42)
    assert.deepEqual(Object.keys(sync.profile), ['duration', 'memory', 'cpu'])
    assert.equal(sync.profile.duration, 12.5, name)
    assert.deepEqual(Object.keys(sync.profile.memory), ['heapUsed', 'external', 'arrayBuffers'])
    assert.deepEqual(Object.keys(sync.profile.cpu), ['user', 'system'])
    for (const v of [...Object.values(sync.profile.memory), ...Object.values(sync.profile.cpu)]) assert.equal(typeof v, 'number')

    const async = await profiler.profileOperation(() => new Promise((resolve) => setImmediate(resolve, 'later')))
    assert.equal(async.result, 'later')

    const boom = new Error('boom')
    for (const op of [() => { throw boom }, async () => { throw boom }]) {
      const failure = await profiler.profileOperation(op).then(() => assert.fail('should reject'), (f) => f)
      assert.ok(!(failure instanceof Error), `${name}: the legacy code rejects with a plain object`)
      assert.deepEqual(failure, { error: boom, profile: { duration: 12.5, failed: true } })
    }
    await assert.rejects(profiler.profileOperation('not a function'), { code: 'ERR_METRICORE_INVALID_TYPE' })
  }
})

test('profileOperation: the default clock measures wall time; native records it', async () => {
  for (const impl of Object.values(impls)) {
    const { profile } = await new impl.AdvancedProfiler().profileOperation(() => new Promise((r) => setTimeout(r, 20)))
    assert.ok(profile.duration >= 19 && profile.duration < 2000, `${profile.duration}`)
  }
  const registry = new m.Registry()
  const profiler = new native.AdvancedProfiler({ registry })
  assert.equal(profiler.registry, registry)
  await profiler.profileOperation(() => 1)
  await profiler.profileOperation(() => Promise.reject(new Error('x'))).catch(() => {})
  const text = registry.metricsSync()
  assert.match(text, /^profiled_operation_duration_seconds_count\{outcome="ok"\} 1$/m)
  assert.match(text, /^profiled_operation_duration_seconds_count\{outcome="failed"\} 1$/m)
})

test('tracer: breakdown, self time, percentiles and dependencies with an injected clock', () => {
  for (const [name, impl] of Object.entries(impls)) {
    const c = clock(1000)
    const tracer = new impl.APMTransactionTracer({ now: c.now })
    const tx = tracer.startTransaction('GET /users', 'request')
    c.t = 1010
    const query = tracer.startSpan(tx, 'SELECT * FROM users')
    c.t = 1020
    const call = tracer.startSpan(tx, 'http.get /profile')
    c.t = 1030
    tracer.endSpan(query) // 1010..1030
    c.t = 1050
    assert.equal(tracer.endSpan(call), call) // 1020..1050, overlapping the query
    c.t = 1060
    const render = tracer.startSpan(tx, 'render')
    c.t = 1070
    tracer.endSpan(render)
    c.t = 1090
    const cached = tracer.startSpan(tx, 'cache.get user:1') // left open: ends with the transaction
    tracer.recordError(tx, new TypeError('bad'), cached)
    c.t = 1100
    const metrics = tracer.endTransaction(tx)
    // Native percentiles come from an HDR histogram: equal within its precision.
    const same = impl === legacy ? assert.deepEqual : closeDeep
    same(metrics, {
      name: 'GET /users',
      type: 'request',
      duration: 100,
      spanCount: 4,
      errorCount: 1,
      // Covered: 1010..1050, 1060..1070, 1090..1100 = 60 ms.
      breakdown: { self: 40, types: { db: 20, external: 30, custom: 10, cache: 10 } },
      percentiles: { min: 10, max: 30, avg: 17.5, p50: 10, p95: 30, p99: 30, p999: 30 },
      dependencies: [
        { type: 'cache', name: 'cache.get user:1', calls: 1, duration: 10 },
        { type: 'db', name: 'SELECT * FROM users', calls: 1, duration: 20 },
        { type: 'external', name: 'http.get /profile', calls: 1, duration: 30 },
      ],
    }, name)
    assert.deepEqual(cached.endTime, 1100)
    assert.deepEqual(tx.errors, [{ name: 'TypeError', message: 'bad', spanId: cached.id, timestamp: 1090 }])
    assert.equal(tx.endTime, 1100)
    const ids = [tx.id, ...tx.spans.map((s) => s.id)]
    assert.equal(new Set(ids).size, ids.length)
    assert.ok(tx.spans.every((s) => s.transactionId === tx.id))
    assert.match(query.stackTrace, /legacy\.test\.js/, `${name}: the stack starts at the caller`)
    assert.throws(() => tracer.endSpan(query), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_VALUE', message: "endSpan: span 'SELECT * FROM users' has already ended" })
    assert.throws(() => tracer.endTransaction(tx), { code: 'ERR_METRICORE_INVALID_VALUE', message: "endTransaction: transaction 'GET /users' has already ended" })
    assert.throws(() => tracer.startSpan(tx, 'late'), { code: 'ERR_METRICORE_INVALID_VALUE', message: "startSpan: transaction 'GET /users' has ended" })
    const empty = new impl.APMTransactionTracer({ now: c.now, captureStackTrace: false })
    const lone = empty.startTransaction('job', impl.TransactionType.BACKGROUND)
    assert.equal(empty.startSpan(lone, 'x').stackTrace, null)
    c.t = 1200
    // The open span covers the whole transaction.
    assert.deepEqual(empty.endTransaction(lone).breakdown, { self: 0, types: { custom: 100 } })
  }
})

test('tracer: inferSpanType rules', () => {
  const table = {
    'db.users.find': 'db', 'DB:query': 'db', 'SELECT 1': 'db', 'insert into t': 'db', 'sql query': 'db',
    'selection': 'custom', 'cache.get': 'cache', 'redis GET k': 'cache', 'memcached get': 'cache',
    'http.get': 'external', 'HTTP POST /x': 'external', 'https://api': 'external', 'grpc Users/Get': 'external',
    'render': 'custom', 'database': 'custom', '': 'custom',
  }
  for (const impl of Object.values(impls)) {
    const tracer = new impl.APMTransactionTracer()
    for (const [span, type] of Object.entries(table)) assert.equal(tracer.inferSpanType(span), type, span)
  }
})

test('native tracer: histograms, foreign objects and a backwards clock', () => {
  const registry = new m.Registry()
  const c = clock(0)
  const tracer = new native.APMTransactionTracer({ now: c.now, registry })
  const tx = tracer.startTransaction('checkout', 'request')
  const span = tracer.startSpan(tx, 'db.orders.insert')
  c.t = 4
  tracer.endSpan(span)
  c.t = 10
  tracer.endTransaction(tx)
  const text = registry.metricsSync()
  assert.match(text, /^apm_span_duration_seconds_count\{type="db"\} 1$/m)
  assert.match(text, /^apm_span_duration_seconds_sum\{type="db"\} 0\.004$/m)
  assert.match(text, /^apm_transaction_duration_seconds_sum\{transaction="checkout",type="request"\} 0\.01$/m)

  const other = new native.APMTransactionTracer()
  assert.throws(() => other.startSpan(tx, 'x'), { name: 'TypeError', code: 'ERR_METRICORE_INVALID_TYPE', message: 'startSpan: the transaction was not started by this tracer' })
  assert.throws(() => tracer.startTransaction(1, 'request'), { code: 'ERR_METRICORE_INVALID_TYPE' })
  const late = tracer.startTransaction('late', 'job')
  const open = tracer.startSpan(late, 'x')
  c.t = 5
  assert.throws(() => tracer.endSpan(open), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_VALUE' })
  assert.equal(open.endTime, null, 'nothing changes on error')
  c.t = 20
  assert.equal(tracer.endTransaction(late).duration, 10)
})

/** The same recordings on a collector of each implementation. */
function record(collector, c) {
  c.t = 10_000.5
  collector.recordLatency(12, { route: '/a' })
  collector.recordLatency(3.25, { route: '/b' })
  collector.recordLatency(250)
  collector.recordRequest({ success: true, bytesIn: 1000, bytesOut: 250_000 })
  collector.recordRequest({ success: false })
  collector.recordRequest()
  collector.recordTransaction('begin')
  collector.recordTransaction('begin')
  collector.recordTransaction('commit')
  collector.recordContent('upload')
  collector.recordContent('cacheHit', 3)
  collector.recordNetworkRTT('peer-b', 10)
  collector.recordNetworkRTT('peer-a', 20)
  collector.recordNetworkRTT('peer-a', null)
  c.t = 11_000
  collector.recordNetworkRTT('peer-a', 26)
  collector.recordNetworkRTT('peer-a', 23)
  collector.recordDbQuery('users.select', 4, 2)
  collector.recordDbQuery('users.select', 6, 1)
  collector.recordServiceCall('auth', 'check', 8, 200)
  collector.recordServiceCall('auth', 'check', 9, '503')
}

const STATS = (values) => legacy.calculatePercentiles(values)

test('collectMetrics: shape and figures, the same in both', async () => {
  const snapshots = {}
  for (const [name, impl] of Object.entries(impls)) {
    const c = clock()
    const collector = new impl.PerformanceCollector({ now: c.now, labelNames: ['route'] })
    record(collector, c)
    collector.registerCollector('queueDepth', () => 7)
    collector.registerCollector('async', async () => ({ ok: true }))
    c.t = 12_000
    const s = await collector.collectMetrics()
    snapshots[name] = s
    assert.deepEqual(Object.keys(s), ['timestamp', 'node', 'latency', 'throughput', 'resources', 'custom'])
    assert.equal(s.timestamp, 12_000)
    assert.equal(s.node.pid, process.pid)
    assert.deepEqual(Object.keys(s.node), ['hostname', 'pid', 'platform', 'arch', 'nodeVersion', 'cpuCount', 'totalMemory'])
    closeDeep(s.latency, {
      requestLatency: STATS([12, 3.25, 250]),
      byLabels: [
        { labels: { route: '/a' }, stats: STATS([12]) },
        { labels: { route: '/b' }, stats: STATS([3.25]) },
      ],
      // peer-a: answered 20, 26, 23 (mean 23), jitter |26-20|, |23-26| (mean 4.5), 1 of 4 lost.
      networkRTT: [
        { peer: 'peer-a', latency: 23, jitter: 4.5, packetLoss: 25, probes: 4 },
        { peer: 'peer-b', latency: 10, jitter: NaN, packetLoss: 0, probes: 1 },
      ],
      dbLatency: [{ operation: 'users.select', count: 2, duration: 5, rowsAffected: 3 }],
      serviceLatency: [
        { service: 'auth', method: 'check', status: '200', count: 1, duration: 8 },
        { service: 'auth', method: 'check', status: '503', count: 1, duration: 9 },
      ],
    }, `${name} latency`)
    assert.deepEqual(s.throughput, {
      requests: { total: 3, successful: 2, failed: 1, rps: 3 / 60, rpm: 3 },
      data: { bytesIn: 1000, bytesOut: 250_000, mbpsIn: (1000 * 8) / 1e6 / 60, mbpsOut: (250_000 * 8) / 1e6 / 60 },
      transactions: { tps: 1 / 60, committed: 1, rolledBack: 0, pending: 1 },
      content: { uploads: 1, downloads: 0, cacheHits: 3, cacheMisses: 0 },
    }, name)
    assert.deepEqual(Object.keys(s.resources), ['cpu', 'memory', 'disk', 'network'])
    for (const section of Object.values(s.resources)) {
      if (section === null) continue
      for (const [k, v] of Object.entries(section)) {
        if (k === 'loadAvg' || k === 'packets') continue
        assert.ok(v === null || (typeof v === 'number' && Number.isFinite(v)), `${name} resources ${k}: ${v}`)
      }
    }
    assert.ok(s.resources.memory !== null && s.resources.memory.used > 0, `${name}: memory is available on this platform`)
    assert.deepEqual(s.custom, { queueDepth: 7, async: { ok: true } })
  }
  const { resources: _a, ...nativeRest } = snapshots.native
  const { resources: _b, ...legacyRest } = snapshots.legacy
  closeDeep(nativeRest, legacyRest, 'native vs legacy')
})

test('collectMetrics: the window is the last windowSeconds whole seconds', async () => {
  for (const [name, impl] of Object.entries(impls)) {
    const c = clock(500)
    const collector = new impl.PerformanceCollector({ now: c.now, windowSeconds: 60 })
    collector.recordLatency(5) // second 0
    collector.recordRequest()
    c.t = 30_000
    collector.recordLatency(7) // second 30
    collector.recordRequest()
    c.t = 59_999
    let s = await collector.collectMetrics()
    assert.equal(s.latency.requestLatency.min, 5, `${name}: second 0 is in the window of second 59`)
    assert.equal(s.throughput.requests.rpm, 2)
    c.t = 60_000
    s = await collector.collectMetrics()
    assert.equal(s.latency.requestLatency.min, 7, `${name}: second 0 left at second 60`)
    assert.equal(s.throughput.requests.rpm, 1)
    assert.equal(s.throughput.requests.total, 2, 'totals keep counting')
    c.t = 200_000
    s = await collector.collectMetrics()
    assert.ok(Number.isNaN(s.latency.requestLatency.p99), `${name}: an empty window`)
    assert.equal(s.throughput.requests.rps, 0)
    // A slot comes back into use a window later.
    collector.recordLatency(9)
    s = await collector.collectMetrics()
    assert.deepEqual(s.latency.requestLatency, STATS([9]))
  }
})

test('collectMetrics: a clock that goes back to an earlier second restarts the window', async () => {
  for (const [name, impl] of Object.entries(impls)) {
    const c = clock(500_000)
    const collector = new impl.PerformanceCollector({ now: c.now, windowSeconds: 60 })
    collector.recordLatency(5)
    collector.recordRequest()
    c.t = 500_999 // the same second: nothing restarts
    collector.recordLatency(6)
    c.t = 440_000 // 60 s back: second 500 would otherwise count until the clock passes it again
    collector.recordLatency(7)
    c.t = 499_500 // second 440 is still in the window of second 499; 500 is not counted
    const s = await collector.collectMetrics()
    assert.deepEqual(s.latency.requestLatency, STATS([7]), name)
    assert.equal(s.throughput.requests.rps, 0)
    assert.equal(s.throughput.requests.total, 1, `${name}: totals stay`)
  }
})

test('collectMetrics: legacy and native agree over a long random run', async () => {
  const rand = prng(11)
  const c = clock(1.7e12)
  const a = new legacy.PerformanceCollector({ now: c.now, windowSeconds: 10, labelNames: ['op'] })
  const b = new native.PerformanceCollector({ now: c.now, windowSeconds: 10, labelNames: ['op'] })
  for (let step = 0; step < 40; step++) {
    for (let i = 0; i < 25; i++) {
      c.t += rand() * 400
      const ms = 10 ** (-2 + rand() * 5)
      const op = rand() < 0.5 ? 'read' : 'write'
      const peer = `p${Math.floor(rand() * 3)}`
      const rtt = rand() < 0.1 ? null : rand() * 50
      const bytes = Math.floor(rand() * 5000)
      for (const col of [a, b]) {
        col.recordLatency(ms, { op })
        col.recordRequest({ success: rand() < 2, bytesIn: bytes })
        col.recordNetworkRTT(peer, rtt)
        col.recordDbQuery(op, ms, bytes % 7)
      }
    }
    const [sa, sb] = await Promise.all([a.collectMetrics(), b.collectMetrics()])
    closeDeep(sb.latency, sa.latency, `step ${step} latency`)
    closeDeep(sb.throughput, sa.throughput, `step ${step} throughput`)
  }
})

test('collectors: duplicate names, failing collectors, and nothing recorded is lost', async () => {
  for (const [name, impl] of Object.entries(impls)) {
    const c = clock(1000)
    const collector = new impl.PerformanceCollector({ now: c.now })
    collector.registerCollector('x', () => 1)
    assert.throws(() => collector.registerCollector('x', () => 2), {
      name: 'RangeError',
      code: 'ERR_METRICORE_INVALID_CONFIG',
      message: "registerCollector: a collector named 'x' is already registered",
    })
    assert.throws(() => collector.registerCollector('y', 'nope'), { code: 'ERR_METRICORE_INVALID_TYPE' })
    collector.recordLatency(4)
    collector.registerCollector('broken', async () => { throw new Error('down') })
    await assert.rejects(collector.collectMetrics(), { message: 'down' })
    assert.equal(collector.unregisterCollector('broken'), true)
    assert.equal(collector.unregisterCollector('broken'), false)
    const s = await collector.collectMetrics()
    assert.equal(s.latency.requestLatency.max, 4, name)
    assert.deepEqual(s.custom, { x: 1 })
    assert.throws(() => new impl.PerformanceCollector({ windowSeconds: 1.5 }), { code: 'ERR_METRICORE_INVALID_CONFIG' })
    assert.throws(() => collector.recordTransaction('abort'), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_VALUE' })
    assert.throws(() => collector.recordContent('delete'), { code: 'ERR_METRICORE_INVALID_VALUE' })
  }
})

test('labels must match labelNames, in both', () => {
  for (const impl of Object.values(impls)) {
    const collector = new impl.PerformanceCollector({ labelNames: ['route', 'method'] })
    assert.throws(() => collector.recordLatency(1, { route: '/' }), {
      name: 'TypeError',
      code: 'ERR_METRICORE_INVALID_LABELS',
      message: 'recordLatency: labels must have exactly the label names [route, method], not [route]',
    })
    assert.throws(() => collector.recordLatency(1, { route: '/', method: {} }), { code: 'ERR_METRICORE_INVALID_TYPE' })
    assert.throws(() => collector.recordLatency(1, 'route'), { code: 'ERR_METRICORE_INVALID_TYPE' })
  }
})

test('native collector: bad values are errors with a code, and nothing is recorded', async () => {
  const c = clock(5000)
  const collector = new native.PerformanceCollector({ now: c.now })
  collector.recordLatency(2)
  collector.recordRequest({ bytesIn: 10 })
  const bad = [
    [() => collector.recordLatency(-1), RangeError, 'ERR_METRICORE_INVALID_VALUE', 'recordLatency: the latency must be a number of milliseconds in 0..604800000, not -1'],
    [() => collector.recordLatency(NaN), RangeError, 'ERR_METRICORE_INVALID_VALUE', 'recordLatency: the latency must be a number of milliseconds in 0..604800000, not NaN'],
    [() => collector.recordLatency('5'), TypeError, 'ERR_METRICORE_INVALID_TYPE', 'recordLatency: the latency must be a number, not string'],
    [() => collector.recordRequest({ bytesIn: 1.5 }), RangeError, 'ERR_METRICORE_INVALID_VALUE', 'recordRequest: bytesIn must be a whole number >= 0, not 1.5'],
    [() => collector.recordRequest({ bytesOut: -3 }), RangeError, 'ERR_METRICORE_INVALID_VALUE', 'recordRequest: bytesOut must be a whole number >= 0, not -3'],
    [() => collector.recordNetworkRTT(7, 1), TypeError, 'ERR_METRICORE_INVALID_TYPE', 'recordNetworkRTT: the peer must be a string, not number'],
    [() => collector.recordDbQuery('q', 1, -1), RangeError, 'ERR_METRICORE_INVALID_VALUE', 'recordDbQuery: rowsAffected must be a whole number >= 0, not -1'],
    [() => collector.recordServiceCall('s', 'm', 1, null), TypeError, 'ERR_METRICORE_INVALID_TYPE', 'recordServiceCall: the status must be a string or number, not object'],
    [() => collector.recordContent('upload', 0.5), RangeError, 'ERR_METRICORE_INVALID_VALUE', 'recordContent: the count must be a whole number >= 0, not 0.5'],
  ]
  for (const [call, Class, code, message] of bad) {
    assert.throws(call, (e) => e instanceof Class && e.code === code && e.message === message, message)
  }
  const s = await collector.collectMetrics()
  assert.deepEqual(s.latency.requestLatency, STATS([2]))
  assert.equal(s.throughput.requests.total, 1)
  assert.equal(s.throughput.data.bytesIn, 10)
  assert.deepEqual(s.latency.dbLatency, [])
  // The reference takes what the old system took.
  const old = new legacy.PerformanceCollector({ now: c.now })
  old.recordLatency(-1)
  old.recordRequest({ bytesIn: 1.5 })
  const so = await old.collectMetrics()
  assert.equal(so.latency.requestLatency.min, -1)
  assert.equal(so.throughput.data.bytesIn, 1.5)
})

test('label values holding NUL never merge two label sets (services and labelled latency)', async () => {
  const c = clock()
  const collector = new native.PerformanceCollector({ now: c.now, labelNames: ['a', 'b'] })
  c.t = 10_000
  collector.recordServiceCall('x\0y', 'z', 5, 200)
  collector.recordServiceCall('x', 'y\0z', 7, 200)
  collector.recordLatency(5, { a: 'x\0y', b: 'z' })
  collector.recordLatency(7, { a: 'x', b: 'y\0z' })
  c.t = 11_000
  const { latency } = await collector.collectMetrics()
  assert.deepEqual(
    latency.serviceLatency.map((s) => [s.service, s.method, s.count, s.duration]),
    [['x', 'y\0z', 1, 7], ['x\0y', 'z', 1, 5]],
  )
  assert.deepEqual(
    latency.byLabels.map((e) => [e.labels, e.stats.min, e.stats.max]),
    [[{ a: 'x', b: 'y\0z' }, 7, 7], [{ a: 'x\0y', b: 'z' }, 5, 5]],
  )
})
