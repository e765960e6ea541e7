'use strict'
// The prom-client-shaped API, metricore's own additions, bad input, promtool, and the same
// calls on prom-client giving the same samples.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const m = require('..')
const { samples, PROMTOOL_SKIP } = require('../test-support')

const fresh = () => new m.Registry()

test('counter: inc, labels, remove, reset', () => {
  const registers = [fresh()]
  const c = new m.Counter({ name: 'http_requests', help: 'Requests.', labelNames: ['method', 'code'], registers })
  c.inc({ method: 'GET', code: 200 })
  c.inc({ code: '200', method: 'GET' }, 4)
  const post = c.labels('POST', '500')
  post.inc()
  post.inc(2)
  assert.equal(c.value({ method: 'GET', code: '200' }), 5)
  assert.equal(post.get(), 3)
  const text = registers[0].metricsSync()
  // prom-client's text: a counter keeps the name it was given.
  assert.match(text, /^http_requests\{method="GET",code="200"\} 5$/m)
  assert.match(text, /^http_requests\{method="POST",code="500"\} 3$/m)
  c.remove('POST', '500')
  assert.doesNotMatch(registers[0].metricsSync(), /POST/)
  c.reset()
  assert.doesNotMatch(registers[0].metricsSync(), /GET/)
  const plain = new m.Counter({ name: 'jobs', help: 'Jobs.', registers })
  plain.inc()
  plain.inc(9)
  assert.equal(plain.value(), 10)
  plain.reset()
  assert.equal(plain.value(), 0)
})

test('label sets differing only in where a NUL falls are separate series', () => {
  const reg = fresh()
  const c = new m.Counter({ name: 'nul_labels', help: 'N.', labelNames: ['a', 'b'], registers: [reg] })
  const first = c.labels('a\0b', 'c')
  const second = c.labels('a', 'b\0c')
  assert.notEqual(first, second)
  first.inc(1)
  second.inc(10)
  c.inc({ a: 'a\0b', b: 'c' }, 100)
  c.inc({ a: 'a', b: 'b\0c' }, 1000)
  c.labels('', '\0').inc(10000)
  c.labels('\0', '').inc(100000)
  assert.equal(c.value({ a: 'a\0b', b: 'c' }), 101)
  assert.equal(c.value({ a: 'a', b: 'b\0c' }), 1010)
  assert.equal(c.labels('', '\0').get(), 10000)
  assert.equal(c.labels('\0', '').get(), 100000)
  assert.equal(c.family.size, 4)
  // Removing one leaves the other cached and counting.
  c.remove('a\0b', 'c')
  assert.equal(c.family.size, 3)
  assert.equal(c.labels('a\0b', 'c').get(), 0, 'a fresh series after the removal')
  assert.equal(c.labels('a', 'b\0c').get(), 1010)
  const g = new m.Gauge({ name: 'nul_gauge', help: 'G.', labelNames: ['x', 'y', 'z'], registers: [reg] })
  g.set({ x: '1\0', y: '2', z: '3' }, 1)
  g.set({ x: '1', y: '\u00002', z: '3' }, 2)
  g.set({ x: '1', y: '2', z: '\u00003' }, 3)
  assert.deepEqual([g.value({ x: '1\0', y: '2', z: '3' }), g.value({ x: '1', y: '\u00002', z: '3' }), g.value({ x: '1', y: '2', z: '\u00003' })], [1, 2, 3])
})

test('gauge: set, inc, dec, setToCurrentTime, startTimer', () => {
  const g = new m.Gauge({ name: 'queue_depth', help: 'Depth.', labelNames: ['q'], registers: [fresh()] })
  g.set({ q: 'a' }, 10)
  g.inc({ q: 'a' })
  g.dec({ q: 'a' }, 3.5)
  assert.equal(g.value({ q: 'a' }), 7.5)
  const t = new m.Gauge({ name: 'temp', help: 'T.', registers: [fresh()] })
  t.set(2)
  t.inc(0.5)
  t.dec()
  assert.equal(t.value(), 1.5)
  const before = Date.now() / 1000
  t.setToCurrentTime()
  assert.ok(Math.abs(t.value() - before) < 5, `setToCurrentTime gave ${t.value()}`)
  const end = t.startTimer()
  const secs = end()
  assert.ok(secs >= 0 && secs < 5)
  assert.equal(t.value(), secs)
})

test('histogram: observe, buckets, startTimer, quantile, latencyStats (ms)', async () => {
  const reg = fresh()
  const h = new m.Histogram({ name: 'latency_seconds', help: 'L.', buckets: [0.01, 0.1, 1], registers: [reg] })
  for (const v of [0.005, 0.05, 0.05, 0.5]) h.observe(v)
  const end = h.startTimer()
  const secs = end()
  assert.ok(secs >= 0 && secs < 1)
  const text = await reg.metrics()
  // The timer's near-zero observation lands in every bucket.
  assert.match(text, /^latency_seconds_bucket\{le="0.01"\} 2$/m)
  assert.match(text, /^latency_seconds_bucket\{le="0.1"\} 4$/m)
  assert.match(text, /^latency_seconds_count 5$/m)
  assert.equal(text, reg.metricsSync())
  const h2 = new m.Histogram({ name: 'op_seconds', help: 'O.', labelNames: ['op'], registers: [reg] })
  for (let i = 1; i <= 100; i++) h2.observe({ op: 'read' }, i / 1000)
  const q = h2.quantile(0.99, { op: 'read' })
  assert.ok(Math.abs(q - 0.099) <= 0.099 * 1e-3, `p99 ${q}`)
  const stats = h2.labels('read').latencyStats()
  assert.equal(stats.count, 100)
  assert.equal(stats.minMs, 1)
  assert.equal(stats.maxMs, 100)
  assert.ok(Math.abs(stats.meanMs - 50.5) < 1e-9)
  assert.ok(Math.abs(stats.p50Ms - 50) <= 0.05)
})

test('HDR V2 blobs round-trip (plain and deflate) and merge', () => {
  const h = new m.Histogram({ name: 'rt_seconds', help: 'R.', registers: [fresh()] })
  for (let i = 1; i <= 1000; i++) h.observe(i / 1e4)
  const snap = h.snapshot()
  for (const deflate of [false, true]) {
    const blob = snap.encodeV2(deflate)
    assert.ok(Buffer.isBuffer(blob) && blob.length > 0)
    const back = m.decodeV2(blob)
    assert.equal(back.count, 1000)
    assert.equal(back.valueAtQuantile(0.5), snap.valueAtQuantile(0.5))
    assert.equal(back.valueAtQuantile(0.999), snap.valueAtQuantile(0.999))
  }
  const into = new m.Histogram({ name: 'into_seconds', help: 'I.', registers: [fresh()] })
  into.merge(m.decodeV2(snap.encodeV2(true)))
  into.merge(snap)
  assert.equal(into.snapshot().count, 2000)
  assert.throws(() => m.decodeV2(Buffer.from('not a blob')), { name: 'TypeError', code: 'ERR_METRICORE_CORRUPT_BLOB' })
})

test('registry: contentType, OpenMetrics, getSingleMetric, clear, async render', async () => {
  const reg = fresh()
  assert.equal(reg.contentType, 'text/plain; version=0.0.4; charset=utf-8')
  assert.equal(m.register.contentType, m.contentType)
  const c = new m.Counter({ name: 'a_total', help: 'A.', registers: [reg] })
  c.inc()
  assert.equal(reg.getSingleMetric('a_total'), c)
  reg.setContentType(m.Registry.OPENMETRICS_CONTENT_TYPE)
  const om = await reg.metrics()
  assert.match(om, /# EOF\n$/)
  assert.throws(() => reg.setContentType('text/html'), { name: 'Error', code: 'ERR_METRICORE_INVALID_CONFIG', message: 'Content type text/html is unsupported' })
  assert.throws(() => new m.Registry('text/html'), { name: 'TypeError', code: 'ERR_METRICORE_INVALID_CONFIG' })
  assert.equal(new m.Registry(m.Registry.OPENMETRICS_CONTENT_TYPE).contentType, m.Registry.OPENMETRICS_CONTENT_TYPE)
  reg.clear()
  assert.equal(reg.getSingleMetric('a_total'), undefined)
  assert.deepEqual(reg._native.familyNames(), [])
  const def = new m.Counter({ name: 'metricore_node_test_default', help: 'D.' })
  def.inc()
  assert.match(m.register.metricsSync(), /^metricore_node_test_default 1$/m)
  m.register.removeSingleMetric('metricore_node_test_default')
  assert.doesNotMatch(m.register.metricsSync(), /metricore_node_test_default/)
})

test('bad input: prom-client\'s error classes and messages, with a code and the metric; what was recorded stays', () => {
  const reg = fresh()
  const c = new m.Counter({ name: 'jobs_done', help: 'J.', labelNames: ['queue'], registers: [reg] })
  c.inc({ queue: 'a' }, 2)
  const decrease = 'It is not possible to decrease a counter'
  const added = `Added label "nope" is not included in initial labelset: [ 'queue' ]`
  const cases = [
    [() => c.inc({ queue: 'a' }, -1), Error, 'ERR_METRICORE_INVALID_VALUE', decrease],
    [() => c.inc({ queue: 'a' }, -0.5), Error, 'ERR_METRICORE_INVALID_VALUE', decrease],
    // prom-client would add NaN; it is refused as prom-client refuses the infinities.
    [() => c.inc({ queue: 'a' }, NaN), TypeError, 'ERR_METRICORE_INVALID_TYPE', 'Value is not a valid number: NaN'],
    [() => c.inc({ queue: 'a' }, Infinity), TypeError, 'ERR_METRICORE_INVALID_TYPE', 'Value is not a valid number: Infinity'],
    [() => c.inc({ queue: 'a' }, '1'), TypeError, 'ERR_METRICORE_INVALID_TYPE', 'Value is not a valid number: 1'],
    [() => c.inc({ nope: 'a' }), Error, 'ERR_METRICORE_INVALID_LABELS', added],
    [() => c.labels('a', 'b'), Error, 'ERR_METRICORE_INVALID_LABELS', 'Invalid number of arguments (2): "a, b" for label names (1): "queue".'],
  ]
  for (const [fn, Class, code, message] of cases) {
    assert.throws(fn, (e) => e.constructor === Class && e.code === code && e.metric === 'jobs_done' && e.message === message, `${fn}`)
  }
  assert.equal(c.value({ queue: 'a' }), 2)
  // As prom-client: a subset of the label names records a series (the others empty).
  c.inc()
  assert.equal(c.value({}), 1)
  // Histograms refuse what prom-client refuses (NaN, the infinities) and take negatives.
  const h = new m.Histogram({ name: 'h_seconds', help: 'H.', buckets: [0.5, 1], registers: [reg] })
  h.observe(0.1)
  for (const v of [NaN, Infinity, -Infinity, 'x', null]) {
    assert.throws(() => h.observe(v), (e) => e.constructor === TypeError && e.code === 'ERR_METRICORE_INVALID_TYPE' && e.message === `Value is not a valid number: ${v}`)
  }
  h.observe(-1)
  const s = h.snapshot()
  assert.deepEqual([s.count, s.sum], [2, -0.9])
  const text = reg.metricsSync()
  assert.match(text, /^h_seconds_bucket\{le="0.5"\} 2$/m)
  assert.match(text, /^h_seconds_bucket\{le="1"\} 2$/m)
  assert.match(text, /^h_seconds_bucket\{le="\+Inf"\} 2$/m)
  assert.throws(() => new m.Counter({ name: 'bad-name', help: 'B.', registers: [reg] }), (e) => e.constructor === Error && e.code === 'ERR_METRICORE_INVALID_NAME' && e.message === 'Invalid metric name')
  assert.throws(() => new m.Counter({ name: 'ok', help: 'O.', labelNames: ['le-x'], registers: [reg] }), { code: 'ERR_METRICORE_INVALID_NAME', message: 'Invalid label name' })
  assert.throws(() => new m.Counter({ name: 'nohelp', registers: [reg] }), { message: 'Missing mandatory help parameter' })
  assert.throws(() => new m.Gauge({ name: 'jobs_done', help: 'J.', registers: [reg] }), (e) => e.constructor === Error && e.code === 'ERR_METRICORE_CONFLICT' && e.message === 'A metric with the name jobs_done has already been registered.')
  assert.throws(() => new m.Histogram({ name: 'r', help: 'R.', buckets: [1, 0.5], registers: [reg] }), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_CONFIG' })
  assert.throws(() => new m.Histogram({ name: 'r2', help: 'R.', resolution: 'week', registers: [reg] }), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_CONFIG' })
  // Two registries: the series live in the first; the second writes them through get().
  const [r1, r2] = [fresh(), fresh()]
  new m.Counter({ name: 'two', help: 'T.', registers: [r1, r2] }).inc(3)
  assert.match(r1.metricsSync(), /^two 3$/m)
  return r2.metrics().then((t) => assert.match(t, /^two 3$/m))
})

test('bad numbers in options and arguments: the class, the code, the metric and the rule', () => {
  const reg = fresh()
  const expect = (fn, name, code, pattern) =>
    assert.throws(fn, (e) => {
      assert.equal(e.name, name, e.message)
      assert.equal(e.code, code, e.message)
      assert.match(e.message, pattern)
      return true
    })
  // Counts and limits are whole numbers; napi's integer conversion would have wrapped -1
  // and truncated 1.5.
  for (const limit of [-1, 1.5, NaN, Infinity, 2 ** 64]) {
    expect(() => new m.Counter({ name: 'limited', help: 'L.', labelNames: ['k'], cardinalityLimit: limit, registers: [reg] }), 'RangeError', 'ERR_METRICORE_INVALID_CONFIG', /^metric 'limited': cardinalityLimit must be a whole number >= 1, not /)
  }
  expect(() => new m.Counter({ name: 'limited', help: 'L.', cardinalityLimit: 0, registers: [reg] }), 'RangeError', 'ERR_METRICORE_INVALID_CONFIG', /^metric 'limited': cardinality limit must be at least 1/)
  expect(() => new m.Histogram({ name: 'figures', help: 'F.', significantFigures: -1, registers: [reg] }), 'RangeError', 'ERR_METRICORE_INVALID_CONFIG', /^metric 'figures': significantFigures must be a whole number/)
  expect(() => new m.Histogram({ name: 'windowed', help: 'W.', windowSeconds: 60, subWindows: 2.5, registers: [reg] }), 'RangeError', 'ERR_METRICORE_INVALID_CONFIG', /^metric 'windowed': subWindows must be a whole number/)
  assert.deepEqual(reg._native.familyNames(), [], 'nothing registered by a refused option')
  const kept = new m.Counter({ name: 'limited', help: 'L.', labelNames: ['k'], cardinalityLimit: 2, registers: [reg] })
  for (const k of ['a', 'b', 'c', 'd']) kept.inc({ k })
  assert.match(reg.metricsSync(), /^limited\{k="__overflow__"\} 2$/m, 'two label sets kept, two past the limit')
  // A name holding NUL is refused with its own class and code, not a generic failure.
  expect(() => new m.Counter({ name: 'a\0b', help: 'N.', registers: [reg] }), 'Error', 'ERR_METRICORE_INVALID_NAME', /^Invalid metric name$/)
  expect(() => new m.Counter({ name: 'nul_label', help: 'N.', labelNames: ['x\0'], registers: [reg] }), 'Error', 'ERR_METRICORE_INVALID_NAME', /^Invalid label name$/)
  // A value of the wrong type is named, wherever it was given.
  const g = new m.Gauge({ name: 'typed_g', help: 'G.', registers: [reg] })
  const gl = new m.Gauge({ name: 'typed_gl', help: 'G.', labelNames: ['k'], registers: [reg] })
  const h = new m.Histogram({ name: 'typed_h', help: 'H.', registers: [reg] })
  // prom-client's messages where prom-client has the call; the metric is in `metric`.
  const cases = [
    [() => g.set('x'), 'typed_g', 'Value is not a valid number: x'],
    [() => g.set(null), 'typed_g', 'Value is not a valid number: null'],
    [() => g.set(), 'typed_g', 'Value is not a valid number: undefined'],
    [() => g.set({}, true), 'typed_g', 'Value is not a valid number: true'],
    [() => gl.set('x'), 'typed_gl', 'Value is not a valid number: x'],
    [() => gl.set({ k: 'a' }, 'x'), 'typed_gl', 'Value is not a valid number: x'],
    [() => g.inc('x'), 'typed_g', 'Delta is not a valid number: x'],
    [() => h.observe('x'), 'typed_h', 'Value is not a valid number: x'],
    [() => h.observe(null), 'typed_h', 'Value is not a valid number: null'],
    [() => h.recordMs('x'), 'typed_h', "metric 'typed_h': the duration must be a number, not string"],
  ]
  for (const [fn, metric, message] of cases) {
    assert.throws(fn, (e) => e.name === 'TypeError' && e.code === 'ERR_METRICORE_INVALID_TYPE' && e.message === message && (e.metric === metric || message.startsWith('metric ')), `${fn}`)
  }
  assert.equal(g.value(), 0)
  assert.equal(h.snapshot().count, 0)
  // A quantile outside 0..=1 is refused, not clamped into an answer.
  h.observe(0.5)
  for (const q of [NaN, -0.1, 1.1, Infinity]) {
    assert.throws(() => h.quantile(q), (e) => e.name === 'RangeError' && e.code === 'ERR_METRICORE_INVALID_VALUE' && e.message.startsWith("metric 'typed_h': a quantile must be within 0..=1, not "), `quantile(${q})`)
    assert.throws(() => h.family.labels([]).valueAtQuantile(q), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_VALUE' })
  }
  assert.equal(h.quantile(0), 0.5)
  assert.equal(h.quantile(1), 0.5)
})

test('a Summary keeps values of any magnitude, as prom-client does', async () => {
  const prom = require('prom-client')
  const preg = new prom.Registry()
  const reg = fresh()
  const values = [120, 250, 80, 1500, 95, 300, 70000, 110, -3.5, 0.000002]
  const ps = new prom.Summary({ name: 'queue_ms', help: 'Q.', percentiles: [0.01, 0.5, 0.99], registers: [preg] })
  const ms = new m.Summary({ name: 'queue_ms', help: 'Q.', percentiles: [0.01, 0.5, 0.99], registers: [reg] })
  for (const v of values) {
    ps.observe(v)
    ms.observe(v)
  }
  const sample = (text, q) => Number(text.match(new RegExp(`^queue_ms\\{quantile="${q}"\\} (\\S+)$`, 'm'))[1])
  const ptext = await preg.metrics()
  const mtext = await reg.metrics()
  for (const key of ['sum', 'count']) {
    const re = new RegExp(`^queue_ms_${key} (\\S+)$`, 'm')
    assert.equal(Number(mtext.match(re)[1]), Number(ptext.match(re)[1]), key)
  }
  // The extremes are exact on both sides.
  assert.equal(sample(mtext, 0.01), sample(ptext, 0.01))
  assert.equal(sample(mtext, 0.99), sample(ptext, 0.99))
  assert.equal(sample(mtext, 0.99), 70000)
  // prom-client interpolates between neighbours; metricore reports the nearest rank (110)
  // within 10^-3: both lie between the two middle values.
  for (const text of [ptext, mtext]) {
    const p50 = sample(text, 0.5)
    assert.ok(p50 >= 110 * (1 - 1e-3) && p50 <= 120, `${p50}`)
  }
  assert.ok(Math.abs(sample(mtext, 0.5) - 110) <= 0.11)
  assert.doesNotMatch(mtext, /metricore_saturated_values/)
})

test('exposition passes promtool check metrics', { skip: PROMTOOL_SKIP }, async () => {
  const reg = fresh()
  const c = new m.Counter({ name: 'http_requests_total', help: 'Requests.', labelNames: ['method'], registers: [reg] })
  c.inc({ method: 'GET' }, 3)
  const g = new m.Gauge({ name: 'temperature_celsius', help: 'Temp.', registers: [reg] })
  g.set(21.5)
  const h = new m.Histogram({ name: 'latency_seconds', help: 'L.', labelNames: ['route'], registers: [reg] })
  h.observe({ route: '/a"b\\c\n' }, 0.2)
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'metricore-node-')), 'metrics.prom')
  fs.writeFileSync(file, await reg.metrics())
  const r = spawnSync('promtool', ['check', 'metrics'], { input: fs.readFileSync(file) })
  assert.equal(r.status, 0, `promtool: exit ${r.status}\n${r.stderr}${r.stdout}\n${fs.readFileSync(file, 'utf8')}`)
  assert.equal(`${r.stderr}${r.stdout}`.trim(), '')
})

test('the same calls on prom-client and metricore give the same samples', async () => {
  const prom = require('prom-client')
  const preg = new prom.Registry()
  const mreg = fresh()
  const make = (lib, reg) => ({
    c: new lib.Counter({ name: 'req_total', help: 'R.', labelNames: ['method', 'code'], registers: [reg] }),
    g: new lib.Gauge({ name: 'inflight', help: 'I.', labelNames: ['pool'], registers: [reg] }),
    h: new lib.Histogram({ name: 'lat_seconds', help: 'L.', labelNames: ['route'], buckets: [0.005, 0.01, 0.1, 1, 2.5], registers: [reg] }),
    p: new lib.Counter({ name: 'plain_total', help: 'P.', registers: [reg] }),
  })
  const ours = make(m, mreg)
  const theirs = make(prom, preg)
  for (const x of [ours, theirs]) {
    x.c.inc({ method: 'GET', code: '200' })
    x.c.inc({ method: 'GET', code: '200' }, 41)
    x.c.labels('POST', '500').inc(3)
    x.g.set({ pool: 'a' }, 7)
    x.g.inc({ pool: 'a' }, 2)
    x.g.dec({ pool: 'b' }, 1.25)
    x.p.inc(5)
    for (const v of [0.001, 0.005, 0.0075, 0.05, 0.5, 1, 3]) x.h.observe({ route: '/r' }, v)
    x.h.labels('/s').observe(0.2)
  }
  const a = samples(await mreg.metrics())
  const b = samples(await preg.metrics())
  assert.deepEqual(a.map((s) => s[0]), b.map((s) => s[0]))
  a.forEach(([name, v], i) => assert.ok(Math.abs(v - b[i][1]) <= 1e-9 * Math.max(1, Math.abs(v)), `${name}: ${v} vs ${b[i][1]}`))
})

test('snapshot, merge and decode as Promises off the event loop; errors reject with the same code', async () => {
  const reg = fresh()
  const h = new m.Histogram({ name: 'async_seconds', help: 'A.', labelNames: ['op'], registers: [reg] })
  for (let i = 1; i <= 500; i++) h.observe({ op: 'read' }, i / 1e4)
  const pending = h.snapshotAsync({ op: 'read' })
  assert.ok(pending instanceof Promise)
  const snap = await pending
  assert.equal(snap.count, 500)
  assert.equal(snap.valueAtQuantile(0.5), h.snapshot({ op: 'read' }).valueAtQuantile(0.5))
  const back = await m.decodeV2Async(snap.encodeV2(true))
  assert.equal(back.count, 500)
  await h.mergeAsync(back, { op: 'write' })
  assert.equal(h.snapshot({ op: 'write' }).count, 500)
  await assert.rejects(m.decodeV2Async(Buffer.from('not a blob at all')), { name: 'TypeError', code: 'ERR_METRICORE_CORRUPT_BLOB' })
  const bytes = new m.Histogram({ name: 'async_bytes', help: 'B.', resolution: 'unit', registers: [reg] })
  bytes.record(10)
  await assert.rejects(h.mergeAsync(bytes.snapshot(), { op: 'read' }), { name: 'TypeError', code: 'ERR_METRICORE_CORRUPT_BLOB' })
  assert.equal(h.snapshot({ op: 'read' }).count, 500, 'a failed merge leaves the series as it was')
  await assert.rejects(h.mergeAsync({}, { op: 'read' }), { name: 'TypeError', code: 'ERR_METRICORE_INVALID_TYPE' })
})
