'use strict'
// The shadow suite: recorded workloads fed identically to the TypeScript-era reference
// (legacy/dist, sorted arrays) and to the native-backed port (lib/legacy.js) through
// metricore/shadow experiments. The native side may differ only by HDR precision; the
// experiments' own metrics must show zero mismatches.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const m = require('..')
const { experiment } = require('../lib/shadow.js')
const { mulberry32 } = require('../test-support')

const DIST = path.join(__dirname, '..', 'legacy', 'dist', 'index.js')
const NATIVE = path.join(__dirname, '..', 'lib', 'legacy.js')

/** Loads a module, or fails the test with what to do (never a skip: the suite must run). */
function load(file, remedy) {
  try {
    return require(file)
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND' || !e.message.includes(file)) throw e
    assert.fail(`${path.relative(path.join(__dirname, '..'), file)} is missing: ${remedy}`)
  }
}

const legacy = () => load(DIST, 'run `npm run build` (or `npx tsc -p legacy/tsconfig.json`) in bindings-node')
const native = () => load(NATIVE, 'lib/legacy.js (the native-backed port) has not been written yet')

const MIN_MS = 0.05
const MAX_MS = 30000
// The `route` label of a sample; null: recorded without labels.
const ROUTES = ['GET /users', 'POST /orders', 'GET /health', null]

/**
 * A recorded latency workload in ms: a lognormal body (median `medianMs`), a Pareto tail
 * (alpha 1.1 from 20 ms), fast-path hits (0.05..0.2 ms) and bursts (runs of 50..500
 * near-identical values); clamped to [0.05 ms, 30 s]. Each sample also carries a route
 * (ROUTES) and the gap before it (ms): mostly a millisecond or two, and about once in 10k
 * samples an idle gap of 5 s to 90 s, for time windows.
 */
function workload(seed, count, { medianMs = 3, sigma = 1, tailShare = 0.03, burstShare = 0.002, fastShare = 0.005 } = {}) {
  const rand = mulberry32(seed)
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const clamp = (ms) => Math.min(MAX_MS, Math.max(MIN_MS, ms))
  const body = () => medianMs * Math.exp(sigma * normal())
  const tail = () => 20 / Math.pow(1 - rand(), 1 / 1.1)
  const latencies = []
  const gapsMs = []
  const routes = []
  const route = () => ROUTES[Math.floor(rand() * ROUTES.length)]
  let bursts = 0
  while (latencies.length < count) {
    const r = rand()
    if (r < burstShare) {
      bursts++
      const base = clamp(rand() < 0.5 ? body() : tail())
      const length = 50 + Math.floor(rand() * 451)
      const burstRoute = route()
      for (let i = 0; i < length && latencies.length < count; i++) {
        latencies.push(clamp(base * (1 + (rand() - 0.5) * 1e-4)))
        gapsMs.push(rand() * 0.01)
        routes.push(burstRoute)
      }
      continue
    }
    const fast = r < burstShare + fastShare
    latencies.push(fast ? MIN_MS + rand() * 0.15 : clamp(r < burstShare + fastShare + tailShare ? tail() : body()))
    gapsMs.push(rand() < 1 / 10000 ? 5000 + rand() * 85000 : rand() * 2)
    routes.push(route())
  }
  return { latencies, gapsMs, routes, bursts }
}

const WORKLOADS = [
  { label: 'api (median 3 ms)', seed: 0x5eed0001, count: 120000, shape: {} },
  { label: 'fast cache (median 0.2 ms, narrow)', seed: 0x5eed0002, count: 100000, shape: { medianMs: 0.2, sigma: 0.6 } },
  { label: 'slow batch (median 400 ms, heavy tail)', seed: 0x5eed0003, count: 100000,
    shape: { medianMs: 400, sigma: 1.4, tailShare: 0.08, burstShare: 0.004 } },
]

const recorded = WORKLOADS.map((w) => ({ ...w, ...workload(w.seed, w.count, w.shape) }))

// An empty window gives NaN in every field, on both sides.
const bothNaN = (a, b) => Number.isNaN(a) && Number.isNaN(b)
/** HDR precision: |a-b| <= 1e-3*|b| + 0.001 ms, with b the legacy (exact) value. */
const withinHdr = (nativeValue, legacyValue) => bothNaN(nativeValue, legacyValue) ||
  Math.abs(nativeValue - legacyValue) <= 1e-3 * Math.abs(legacyValue) + 0.001
const avgClose = (nativeAvg, legacyAvg) => bothNaN(nativeAvg, legacyAvg) ||
  Math.abs(nativeAvg - legacyAvg) <= 1e-9 * Math.abs(legacyAvg)
const PERCENTILE_FIELDS = ['p50', 'p95', 'p99', 'p999']
const EXACT_FIELDS = ['min', 'max', 'count']

/** Which fields of two PercentileStats differ beyond what HDR precision allows, with both values. */
function statsDifferences(legacyStats, nativeStats) {
  const bad = []
  const differs = (f) => bad.push(`${f}: legacy ${legacyStats[f]} native ${nativeStats[f]}`)
  for (const f of EXACT_FIELDS) {
    if (f in legacyStats && !Object.is(legacyStats[f], nativeStats[f])) differs(f)
  }
  if (!avgClose(nativeStats.avg, legacyStats.avg)) differs('avg')
  for (const f of PERCENTILE_FIELDS) {
    if (!withinHdr(nativeStats[f], legacyStats[f])) differs(f)
  }
  return bad
}

/**
 * An experiment with legacy as control and native as candidate; `differences(legacy, native)`
 * lists what disagrees (empty: a match). Returns run() and each mismatch, described.
 */
function shadow(name, registry, control, candidate, differences) {
  const mismatches = []
  const describe = ({ control: c, candidate: k }) => {
    if (k.error !== undefined) return `native threw ${k.error && k.error.stack}`
    if (c.error !== undefined) return `legacy threw ${c.error && c.error.stack}`
    return differences(c.value, k.value).join('; ')
  }
  const run = experiment({
    name,
    registry,
    control,
    candidate,
    compare: (legacyValue, nativeValue) => differences(legacyValue, nativeValue).length === 0,
    random: mulberry32(0xa2a5), // the order of the arms, reproducible too
    publish: (result) => {
      if (!result.matched) mismatches.push(describe(result))
    },
  })
  return { run, mismatches }
}

/** Fails listing the first mismatches when there are any. */
function assertNoMismatches(mismatches, runs) {
  assert.equal(mismatches.length, 0,
    `${mismatches.length} of ${runs} runs mismatched; the first:\n${mismatches.slice(0, 3).join('\n')}`)
}

async function shadowCounts(registry, name) {
  const text = await registry.metrics()
  const read = (metric) => {
    const found = text.match(new RegExp(`^${metric}\\{experiment="${name}"\\} (\\S+)$`, 'm'))
    return found === null ? undefined : Number(found[1])
  }
  return {
    runs: read('metricore_shadow_runs_total'),
    mismatches: read('metricore_shadow_mismatches_total'),
    candidateErrors: read('metricore_shadow_candidate_errors_total'),
    hookErrors: /^metricore_shadow_errors_total\{/m.test(text),
  }
}

test('the workloads are what the suite claims: >= 100k samples, 0.05 ms .. 30 s, heavy tail, bursts, gaps', () => {
  for (const w of recorded) {
    assert.ok(w.latencies.length >= 100000, w.label)
    let min = Infinity
    let max = -Infinity
    for (const v of w.latencies) {
      if (v < min) min = v
      if (v > max) max = v
    }
    assert.ok(min >= MIN_MS && min < 0.06, `${w.label}: min ${min}`)
    assert.ok(max <= MAX_MS && max > 5000, `${w.label}: max ${max} (Pareto tail)`)
    assert.ok(w.bursts >= 50, `${w.label}: ${w.bursts} bursts`)
    assert.ok(w.gapsMs.filter((g) => g > 1000).length >= 2, `${w.label}: idle gaps`)
  }
  assert.deepEqual(workload(7, 1000).latencies, workload(7, 1000).latencies, 'seeded: the same workload every run')
})

test('calculatePercentiles: legacy and native agree within HDR precision on every workload', async () => {
  const ref = legacy()
  const port = native()
  assert.equal(typeof ref.calculatePercentiles, 'function', 'legacy/dist exports calculatePercentiles')
  assert.equal(typeof port.calculatePercentiles, 'function', 'lib/legacy.js exports calculatePercentiles')
  const registry = new m.Registry()
  // Each arm gets its own copy, so neither sees what the other did to its input (the TypeScript-era sorted it in place).
  const { run, mismatches } = shadow('calculate_percentiles', registry,
    (values) => ref.calculatePercentiles(values.slice()),
    (values) => port.calculatePercentiles(values.slice()),
    statsDifferences)
  let runs = 0
  for (const w of recorded) {
    const whole = run(w.latencies)
    runs++
    // Directly, against the nearest-rank rule on a sorted copy.
    const sorted = Float64Array.from(w.latencies).sort()
    const rank = (q) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]
    const direct = port.calculatePercentiles(w.latencies.slice())
    assert.equal(whole.min, sorted[0], `${w.label}: legacy min`)
    assert.equal(whole.max, sorted[sorted.length - 1], `${w.label}: legacy max`)
    assert.equal(direct.min, sorted[0], `${w.label}: native min`)
    assert.equal(direct.max, sorted[sorted.length - 1], `${w.label}: native max`)
    for (const [field, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99], ['p999', 0.999]]) {
      assert.equal(whole[field], rank(q), `${w.label}: legacy ${field} is the nearest rank`)
      assert.ok(withinHdr(direct[field], rank(q)), `${w.label}: native ${field} ${direct[field]} vs ${rank(q)}`)
    }
    // Windows of the same workload, including the sizes where a nearest-rank rule shows: 1, 2, 3, 999..1001.
    for (const size of [1, 2, 3, 7, 10, 99, 100, 101, 999, 1000, 1001, 20000]) {
      const start = (size * 7919) % (w.latencies.length - size)
      run(w.latencies.slice(start, start + size))
      runs++
    }
    // A burst alone: many near-identical values.
    const burstStart = w.latencies.findIndex((v, i) => i > 0 && v !== w.latencies[i - 1] &&
      Math.abs(v / w.latencies[i - 1] - 1) < 1e-4)
    assert.ok(burstStart > 0, `${w.label}: a burst`)
    run(w.latencies.slice(burstStart, burstStart + 200))
    runs++
  }
  // No values: NaN in every field on both sides.
  run([])
  runs++
  assertNoMismatches(mismatches, runs)
  const counts = await shadowCounts(registry, 'calculate_percentiles')
  assert.equal(counts.runs, runs)
  assert.equal(counts.mismatches, 0)
  assert.equal(counts.candidateErrors, 0)
  assert.equal(counts.hookErrors, false, 'no compare/publish errors')
})

const WINDOW_SECONDS = 60
const CLOCK_START_MS = 1700000000000

/**
 * Splits a workload into batches to record, each ending with a collection: every 10k samples,
 * and at the end of each idle gap (the window then holds part of the traffic, or nothing).
 */
function collectionBatches(w) {
  const batches = []
  let at = CLOCK_START_MS
  let events = []
  for (let i = 0; i < w.latencies.length; i++) {
    if (w.gapsMs[i] > 1000 && events.length > 0) {
      batches.push({ events, collectAt: at + w.gapsMs[i], afterGap: true })
      events = []
    }
    at += w.gapsMs[i]
    events.push({ at, ms: w.latencies[i], route: w.routes[i] })
    if (events.length === 10000) {
      batches.push({ events, collectAt: at, afterGap: false })
      events = []
    }
  }
  if (events.length > 0) batches.push({ events, collectAt: at, afterGap: false })
  return batches
}

/** One arm: its own collector on its own injected clock; records a batch, then collects the latency part. */
function collectorArm(Collector) {
  let clock = CLOCK_START_MS
  const collector = new Collector({ now: () => clock, windowSeconds: WINDOW_SECONDS, labelNames: ['route'] })
  return async (batch) => {
    for (const e of batch.events) {
      clock = e.at
      if (e.route === null) collector.recordLatency(e.ms)
      else collector.recordLatency(e.ms, { route: e.route })
    }
    clock = batch.collectAt
    const { latency } = await collector.collectMetrics()
    return { requestLatency: latency.requestLatency, byLabels: latency.byLabels }
  }
}

/** What disagrees between two collectors' latency parts. */
function latencyDifferences(legacyLatency, nativeLatency) {
  const bad = statsDifferences(legacyLatency.requestLatency, nativeLatency.requestLatency).map((f) => `requestLatency.${f}`)
  const legacyLabels = legacyLatency.byLabels.map((l) => l.labels)
  const nativeLabels = nativeLatency.byLabels.map((l) => l.labels)
  if (JSON.stringify(legacyLabels) !== JSON.stringify(nativeLabels)) return [...bad, 'byLabels label sets']
  legacyLatency.byLabels.forEach((l, i) => {
    for (const f of statsDifferences(l.stats, nativeLatency.byLabels[i].stats)) bad.push(`byLabels[${l.labels.route}].${f}`)
  })
  return bad
}

test('PerformanceCollector latency: legacy and native agree over windows, bursts and idle gaps', async () => {
  const ref = legacy()
  const port = native()
  assert.equal(typeof port.PerformanceCollector, 'function', 'lib/legacy.js exports PerformanceCollector')
  const registry = new m.Registry()
  const { run, mismatches } = shadow('performance_collector_latency', registry,
    collectorArm(ref.PerformanceCollector), collectorArm(port.PerformanceCollector), latencyDifferences)
  let runs = 0
  let emptyWindows = 0
  let partialWindows = 0
  let labelledWindows = 0
  for (const w of recorded.slice(0, 2)) {
    for (const batch of collectionBatches(w)) {
      const latency = await run(batch)
      runs++
      if (Number.isNaN(latency.requestLatency.min)) emptyWindows++
      else if (batch.afterGap) partialWindows++
      if (latency.byLabels.length === ROUTES.length - 1) labelledWindows++
    }
  }
  assertNoMismatches(mismatches, runs)
  assert.ok(emptyWindows > 0, 'some collections came after an idle gap emptied the window')
  assert.ok(partialWindows > 0, 'some collections came after an idle gap expired part of the window')
  assert.ok(labelledWindows > 0, 'some collections had every route')
  const counts = await shadowCounts(registry, 'performance_collector_latency')
  assert.equal(counts.runs, runs)
  assert.equal(counts.mismatches, 0)
  assert.equal(counts.candidateErrors, 0)
  assert.equal(counts.hookErrors, false)
})
