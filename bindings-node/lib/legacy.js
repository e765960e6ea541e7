'use strict'
// metricore/legacy: the TypeScript-era performance API on the native core.
// Same names, argument orders and results as the legacy reference (legacy/src, exported
// as metricore/legacy-reference) within HDR precision; latency samples go into metricore
// HDR histograms (recorded in milliseconds at nanosecond resolution), totals into metricore
// counters, resources come from a registry's sampler. Durations are milliseconds.
//
// Unlike the reference, recorded values are checked: a non-number is a TypeError
// ERR_METRICORE_INVALID_TYPE, NaN, a negative or a value past the range a RangeError
// ERR_METRICORE_INVALID_VALUE, and nothing is recorded.

const os = require('node:os')
const { randomUUID } = require('node:crypto')
const { performance } = require('node:perf_hooks')
const m = require('./index.js')

/** The longest duration the histograms hold: one week in ms. */
const HIGHEST_MS = 7 * 24 * 3600 * 1000
/** HDR layout of every duration histogram: 1 ns .. one week at 3 significant digits. */
const HDR = { resolution: 'nanosecond', lowest: 1, highest: HIGHEST_MS * 1e6, significantFigures: 3 }
const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99, p999: 0.999 }
/**
 * The key of a label set in a Map: each value prefixed by its length, so that values holding
 * any character (NUL included) never make two label sets share a key.
 */
function labelSetKey(values) {
  let key = ''
  for (const v of values) key += `${v.length}:${v}`
  return key
}
/**
 * Label sets in UTF-16 code-unit order of their values, value by value (the reference's
 * order: its keys join the values with NUL, which sorts before every other character).
 */
function byValuesOrder(a, b) {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  }
  return a.length - b.length
}
/** The label that places a series in its second of the window (see WindowedHistograms). */
const SLOT_LABEL = 'window_slot'

// The contract's enums (Severity, BottleneckType, SpanType, ...) are the reference's objects,
// so values compare equal across the two implementations.
const {
  Severity,
  BottleneckType,
  AnomalySeverity,
  TrendDirection,
  TransactionType,
  SpanType,
  AnalyzedFigure,
} = require('../legacy/dist/types.js')

// --- errors (the reference's: the same classes, codes and messages) ---

const { invalidConfig, invalidType, invalidLabels, invalidValue } = require('../legacy/dist/errors.js')

/** Checks a duration the histograms can hold: a number in 0..HIGHEST_MS. */
function checkMs(where, what, ms) {
  if (typeof ms !== 'number') throw invalidType(`${where}: ${what} must be a number, not ${typeof ms}`)
  if (!(ms >= 0 && ms <= HIGHEST_MS)) {
    throw invalidValue(`${where}: ${what} must be a number of milliseconds in 0..${HIGHEST_MS}, not ${ms}`)
  }
}

/** Checks a count: a whole number >= 0 (what a metricore counter takes). */
function checkCount(where, what, n) {
  if (typeof n !== 'number') throw invalidType(`${where}: ${what} must be a number, not ${typeof n}`)
  if (!Number.isSafeInteger(n) || n < 0) throw invalidValue(`${where}: ${what} must be a whole number >= 0, not ${n}`)
}

function checkString(where, what, s) {
  if (typeof s !== 'string') throw invalidType(`${where}: ${what} must be a string, not ${typeof s}`)
}

function checkClock(where, now) {
  if (typeof now !== 'function') throw invalidType(`${where}: now must be a function`)
}

// --- percentiles ---

const NO_SAMPLES = Object.freeze({ min: NaN, max: NaN, avg: NaN, p50: NaN, p95: NaN, p99: NaN, p999: NaN })

/** PercentileStats of a snapshot of a duration histogram; quantiles clamped to [min, max]. */
function statsOf(snapshot, min, max, avg) {
  const at = (q) => Math.min(max, Math.max(min, snapshot.valueAtQuantile(q) / 1e6))
  return { min, max, avg, p50: at(QUANTILES.p50), p95: at(QUANTILES.p95), p99: at(QUANTILES.p99), p999: at(QUANTILES.p999) }
}

/** PercentileStats of a WindowedHistograms reading (exact min and max); NaN fields when empty. */
function windowStats(reading) {
  if (reading === undefined || reading.snapshot === null) return { ...NO_SAMPLES }
  const { snapshot, min, max } = reading
  return statsOf(snapshot, min, max, (snapshot.sum * 1e3) / snapshot.count)
}

// One histogram serves every call: calculatePercentiles runs to completion before another
// can start, and reset() empties it without registering a new one.
let scratch = null

/**
 * min, max, avg (exact) and nearest-rank p50/p95/p99/p999 (from an HDR histogram, relative
 * error below 1e-3, clamped to [min, max]) of `values` in ms, which are not modified.
 * No values: every field is NaN. A non-array or non-number is a TypeError, NaN, a negative
 * or a value above one week a RangeError; both with a `code`.
 */
function calculatePercentiles(values) {
  if (!Array.isArray(values)) throw invalidType(`calculatePercentiles: values must be an array, not ${typeof values}`)
  const n = values.length
  if (n === 0) return { ...NO_SAMPLES }
  let min = Infinity
  let max = -Infinity
  let sum = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]
    checkMs('calculatePercentiles', `values[${i}]`, v)
    if (v < min) min = v
    if (v > max) max = v
    sum += v
  }
  scratch ??= new m.Histogram({ name: 'calculate_percentiles_seconds', help: 'calculatePercentiles scratch.', registers: [], ...HDR })
  scratch.reset()
  for (let i = 0; i < n; i++) scratch.recordMs(values[i])
  return statsOf(scratch.snapshot(), min, max, sum / n)
}

// --- windows ---

/** ((i % n) + n) % n: the slot of second `s` even for a clock before 1970. */
function slotOf(second, width) {
  return ((second % width) + width) % width
}

/** Per-second sums of `fields` numbers over the last `width` whole seconds. */
class SecondRing {
  constructor(width, fields) {
    this._width = width
    this._fields = fields
    this._seconds = new Float64Array(width).fill(NaN)
    this._sums = new Float64Array(width * fields)
  }

  add(second, field, value) {
    const i = slotOf(second, this._width)
    if (this._seconds[i] !== second) {
      this._seconds[i] = second
      this._sums.fill(0, i * this._fields, (i + 1) * this._fields)
    }
    this._sums[i * this._fields + field] += value
  }

  /** Forgets everything (the clock went backwards). */
  clear() {
    this._seconds.fill(NaN)
  }

  /** The sum of `field` over the seconds after `nowSecond - width`. */
  total(field, nowSecond) {
    let sum = 0
    for (let i = 0; i < this._width; i++) {
      if (this._seconds[i] > nowSecond - this._width) sum += this._sums[i * this._fields + field]
    }
    return sum
  }
}

/**
 * Duration histograms per key over the last `width` whole seconds: one native series per
 * (key, second of the window), labelled with the key's label values and the slot. A slot
 * holds one second for every key, so when a later second takes the slot, every key's series
 * in it is removed. Each slot also keeps the exact min and max (the HDR ones are rounded to
 * the nanosecond) and may sum an `extra` figure (lost probes, rows).
 * The series are skin children, so recording is the lanes' typed-array store; a removed
 * child's lane is released once it is collected.
 */
class WindowedHistograms {
  constructor(registry, name, help, labelNames, width) {
    this._width = width
    this._metric = new m.Histogram({
      name,
      help,
      labelNames: [...labelNames, SLOT_LABEL],
      registers: [registry],
      // One series per key and second of the window; the reference has no limit.
      cardinalityLimit: 10000 * width,
      ...HDR,
    })
    this._seconds = new Float64Array(width).fill(NaN)
    this._entries = new Map()
  }

  /** Records `ms` (or only `extra`, when `ms` is null) for `key` at `second`. */
  record(key, values, second, ms, extra = 0) {
    const i = slotOf(second, this._width)
    if (this._seconds[i] !== second) this._rotate(i, second)
    let entry = this._entries.get(key)
    if (entry === undefined) {
      entry = { values, slots: Array.from({ length: this._width }, () => null) }
      this._entries.set(key, entry)
    }
    let slot = entry.slots[i]
    if (slot === null) slot = entry.slots[i] = { series: null, extra: 0, min: Infinity, max: -Infinity }
    if (ms !== null) {
      slot.series ??= this._metric.labels(...values, String(i))
      slot.series.recordMs(ms)
      if (ms < slot.min) slot.min = ms
      if (ms > slot.max) slot.max = ms
    }
    slot.extra += extra
  }

  /** Forgets everything (the clock went backwards). */
  clear() {
    this._metric.reset()
    this._entries.clear()
    this._seconds.fill(NaN)
  }

  _rotate(i, second) {
    for (const entry of this._entries.values()) this._drop(entry, i)
    this._seconds[i] = second
  }

  _drop(entry, i) {
    if (entry.slots[i] !== null && entry.slots[i].series !== null) this._metric.remove(...entry.values, String(i))
    entry.slots[i] = null
  }

  /**
   * Per key with something in the window ending at `nowSecond`, sorted by key: its label
   * values, merged snapshot (null without durations), exact min and max, and extra sum.
   * Keys with nothing left are forgotten.
   */
  read(nowSecond) {
    const out = []
    const keys = [...this._entries.keys()]
    keys.sort((a, b) => byValuesOrder(this._entries.get(a).values, this._entries.get(b).values))
    for (const key of keys) {
      const entry = this._entries.get(key)
      let snapshot = null
      let extra = 0
      let min = Infinity
      let max = -Infinity
      let live = false
      for (let i = 0; i < this._width; i++) {
        const slot = entry.slots[i]
        if (slot === null) continue
        if (!(this._seconds[i] > nowSecond - this._width)) {
          this._drop(entry, i)
          continue
        }
        live = true
        extra += slot.extra
        if (slot.series === null) continue
        if (slot.min < min) min = slot.min
        if (slot.max > max) max = slot.max
        const s = slot.series.snapshot()
        if (snapshot === null) snapshot = s
        else snapshot.merge(s)
      }
      if (live) out.push({ values: entry.values, snapshot, min, max, extra })
      else this._entries.delete(key)
    }
    return out
  }
}

// --- collector ---

const CONTENT = { upload: 'uploads', download: 'downloads', cacheHit: 'cacheHits', cacheMiss: 'cacheMisses' }
const RATE = { requests: 0, bytesIn: 1, bytesOut: 2, finished: 3 }

function nodeInfo() {
  return {
    hostname: os.hostname(),
    pid: process.pid,
    platform: process.platform,
    arch: process.arch,
    nodeVersion: process.version,
    cpuCount: os.cpus().length,
    totalMemory: os.totalmem(),
  }
}

function snapshotMean(snapshot) {
  return snapshot === null || snapshot.count === 0 ? NaN : (snapshot.sum * 1e3) / snapshot.count
}

/**
 * The TypeScript-era PerformanceCollector on metricore: request, round-trip, query and service-call
 * durations in windowed HDR histograms, totals in counters, resources from the sampler of
 * its private registry. Latency figures and rates cover the last `windowSeconds` whole
 * seconds of the clock; a clock that goes back to an earlier second restarts the window.
 * Totals count since it was made.
 */
class PerformanceCollector {
  /** Options: `now` (clock, default Date.now), `windowSeconds` (default 60), `labelNames`. */
  constructor(options = {}) {
    const { now = Date.now, windowSeconds = 60, labelNames = [] } = options
    checkClock('PerformanceCollector', now)
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
      throw invalidConfig(`PerformanceCollector: windowSeconds must be a whole number >= 1, not ${windowSeconds}`)
    }
    if (!Array.isArray(labelNames) || labelNames.some((n) => typeof n !== 'string')) {
      throw invalidType('PerformanceCollector: labelNames must be an array of strings')
    }
    this._now = now
    this._window = windowSeconds
    this._labelNames = labelNames.slice()
    this._collectors = new Map()
    const registry = new m.Registry()
    const w = windowSeconds
    this._latency = new WindowedHistograms(registry, 'perf_request_latency_seconds', 'Request latency.', [], w)
    this._byLabels = new WindowedHistograms(registry, 'perf_labelled_request_latency_seconds', 'Request latency by labels.', this._labelNames, w)
    this._rtt = new WindowedHistograms(registry, 'perf_network_rtt_seconds', 'Round trips; extra: lost probes.', ['peer'], w)
    this._jitter = new WindowedHistograms(registry, 'perf_network_jitter_seconds', 'Round-trip differences.', ['peer'], w)
    this._db = new WindowedHistograms(registry, 'perf_db_query_seconds', 'Queries; extra: rows.', ['operation'], w)
    this._service = new WindowedHistograms(registry, 'perf_service_call_seconds', 'Service calls.', ['service', 'method', 'status'], w)
    this._rates = new SecondRing(w, 4)
    this._windows = [this._latency, this._byLabels, this._rtt, this._jitter, this._db, this._service, this._rates]
    this._latestSecond = -Infinity
    this._lastRtt = new Map()
    const counter = (name, help, label, values) => {
      const c = new m.Counter({ name, help, labelNames: [label], registers: [registry] })
      return Object.fromEntries(values.map((v) => [v, c.labels(v)]))
    }
    this._requests = counter('perf_requests', 'Requests.', 'outcome', ['success', 'failure'])
    this._bytes = counter('perf_bytes', 'Bytes moved.', 'direction', ['in', 'out'])
    this._transactions = counter('perf_transactions', 'Transaction events.', 'event', ['begin', 'commit', 'rollback'])
    this._content = counter('perf_content_operations', 'Content operations.', 'operation', Object.keys(CONTENT))
    this._sampler = registry.sampler()
    // Rates in the first snapshot's resources then cover the time since construction.
    this._resourcesPrimed = this._sampler.resourceShapesAsync().then(
      () => undefined,
      () => undefined,
    )
  }

  /** Records a request latency (ms), with labels matching labelNames if given. */
  recordLatency(ms, labels) {
    checkMs('recordLatency', 'the latency', ms)
    const values = labels === undefined ? null : this._labelValues(labels)
    const second = this._second()
    this._latency.record('', [], second, ms)
    if (values !== null) this._byLabels.record(labelSetKey(values), values, second, ms)
  }

  /** Records a request: whether it succeeded and the (whole) bytes it moved. */
  recordRequest(request = {}) {
    const { success = true, bytesIn = 0, bytesOut = 0 } = request
    checkCount('recordRequest', 'bytesIn', bytesIn)
    checkCount('recordRequest', 'bytesOut', bytesOut)
    this._requests[success ? 'success' : 'failure'].inc()
    this._bytes.in.inc(bytesIn)
    this._bytes.out.inc(bytesOut)
    const second = this._second()
    this._rates.add(second, RATE.requests, 1)
    this._rates.add(second, RATE.bytesIn, bytesIn)
    this._rates.add(second, RATE.bytesOut, bytesOut)
  }

  /** Records a transaction beginning, committing or rolling back. */
  recordTransaction(event) {
    if (event !== 'begin' && event !== 'commit' && event !== 'rollback') {
      throw invalidValue(`recordTransaction: the event must be 'begin', 'commit' or 'rollback', not '${event}'`)
    }
    this._transactions[event].inc()
    if (event !== 'begin') this._rates.add(this._second(), RATE.finished, 1)
  }

  /** Counts `count` (default 1, whole) uploads, downloads, cache hits or cache misses. */
  recordContent(operation, count = 1) {
    if (!Object.hasOwn(CONTENT, operation)) {
      throw invalidValue(
        `recordContent: the operation must be 'upload', 'download', 'cacheHit' or 'cacheMiss', not '${operation}'`,
      )
    }
    checkCount('recordContent', 'the count', count)
    this._content[operation].inc(count)
  }

  /** Records a round trip to `peer` (ms), or a lost probe when `rttMs` is null. */
  recordNetworkRTT(peer, rttMs) {
    checkString('recordNetworkRTT', 'the peer', peer)
    if (rttMs !== null) checkMs('recordNetworkRTT', 'the round trip', rttMs)
    const second = this._second()
    if (rttMs === null) {
      this._rtt.record(peer, [peer], second, null, 1)
      return
    }
    this._rtt.record(peer, [peer], second, rttMs)
    const last = this._lastRtt.get(peer)
    if (last !== undefined) this._jitter.record(peer, [peer], second, Math.abs(rttMs - last))
    this._lastRtt.set(peer, rttMs)
  }

  /** Records a database query of `operation` taking `ms` and affecting `rowsAffected` (whole) rows. */
  recordDbQuery(operation, ms, rowsAffected = 0) {
    checkString('recordDbQuery', 'the operation', operation)
    checkMs('recordDbQuery', 'the duration', ms)
    checkCount('recordDbQuery', 'rowsAffected', rowsAffected)
    this._db.record(operation, [operation], this._second(), ms, rowsAffected)
  }

  /** Records a call to `service`.`method` taking `ms` and ending with `status`. */
  recordServiceCall(service, method, ms, status) {
    checkString('recordServiceCall', 'the service', service)
    checkString('recordServiceCall', 'the method', method)
    checkMs('recordServiceCall', 'the duration', ms)
    if (typeof status !== 'string' && typeof status !== 'number') {
      throw invalidType(`recordServiceCall: the status must be a string or number, not ${typeof status}`)
    }
    const values = [service, method, String(status)]
    this._service.record(labelSetKey(values), values, this._second(), ms)
  }

  /** Adds a custom collector; its (awaited) value appears as `custom[name]`. */
  registerCollector(name, collector) {
    if (typeof name !== 'string' || name === '') throw invalidType('registerCollector: the name must be a non-empty string')
    if (typeof collector !== 'function') throw invalidType(`registerCollector: the collector '${name}' must be a function`)
    if (this._collectors.has(name)) throw invalidConfig(`registerCollector: a collector named '${name}' is already registered`)
    this._collectors.set(name, collector)
  }

  /** Removes a custom collector; returns whether there was one. */
  unregisterCollector(name) {
    return this._collectors.delete(name)
  }

  /**
   * A snapshot: the window's latency and rates and the totals at the clock's now, then the
   * resources (sampled on metricore's worker thread) and each custom collector's value.
   * Rejects with the first custom collector error; nothing recorded is lost either way.
   */
  async collectMetrics() {
    const timestamp = this._now()
    const nowSecond = this._windowSecond(timestamp)
    const latency = this._latencyMetrics(nowSecond)
    const throughput = this._throughputMetrics(nowSecond)
    await this._resourcesPrimed
    const resources = await this._sampler.resourceShapesAsync()
    const custom = {}
    for (const [name, collect] of this._collectors) custom[name] = await collect()
    return { timestamp, node: nodeInfo(), latency, throughput, resources, custom }
  }

  _second() {
    return this._windowSecond(this._now())
  }

  /** The whole second of `ms`; restarts the window when it is before the latest one seen. */
  _windowSecond(ms) {
    const second = Math.floor(ms / 1000)
    if (second < this._latestSecond) for (const w of this._windows) w.clear()
    this._latestSecond = second
    return second
  }

  _labelValues(labels) {
    if (labels === null || typeof labels !== 'object') {
      throw invalidType(`recordLatency: labels must be an object, not ${labels === null ? 'null' : typeof labels}`)
    }
    const given = Object.keys(labels)
    const names = this._labelNames
    if (given.length !== names.length || !names.every((n) => Object.hasOwn(labels, n))) {
      throw invalidLabels(`recordLatency: labels must have exactly the label names [${names.join(', ')}], not [${given.join(', ')}]`)
    }
    return names.map((n) => {
      const v = labels[n]
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw invalidType(`recordLatency: label '${n}' must be a string, number or boolean, not ${typeof v}`)
      }
      return String(v)
    })
  }

  _latencyMetrics(nowSecond) {
    const [overall] = this._latency.read(nowSecond)
    const jitter = new Map(this._jitter.read(nowSecond).map((e) => [e.values[0], e.snapshot]))
    return {
      requestLatency: windowStats(overall),
      byLabels: this._byLabels.read(nowSecond).map((e) => ({
        labels: Object.fromEntries(this._labelNames.map((n, i) => [n, e.values[i]])),
        stats: windowStats(e),
      })),
      networkRTT: this._rtt.read(nowSecond).map((e) => {
        const answered = e.snapshot === null ? 0 : e.snapshot.count
        const probes = answered + e.extra
        return {
          peer: e.values[0],
          latency: snapshotMean(e.snapshot),
          jitter: snapshotMean(jitter.get(e.values[0]) ?? null),
          packetLoss: (e.extra / probes) * 100,
          probes,
        }
      }),
      dbLatency: this._db.read(nowSecond).map((e) => ({
        operation: e.values[0],
        count: e.snapshot.count,
        duration: snapshotMean(e.snapshot),
        rowsAffected: e.extra,
      })),
      serviceLatency: this._service.read(nowSecond).map((e) => ({
        service: e.values[0],
        method: e.values[1],
        status: e.values[2],
        count: e.snapshot.count,
        duration: snapshotMean(e.snapshot),
      })),
    }
  }

  _throughputMetrics(nowSecond) {
    const w = this._window
    const inWindow = (field) => this._rates.total(field, nowSecond)
    const requests = inWindow(RATE.requests)
    const committed = this._transactions.commit.get()
    const rolledBack = this._transactions.rollback.get()
    const successful = this._requests.success.get()
    const failed = this._requests.failure.get()
    return {
      requests: { total: successful + failed, successful, failed, rps: requests / w, rpm: (requests * 60) / w },
      data: {
        bytesIn: this._bytes.in.get(),
        bytesOut: this._bytes.out.get(),
        mbpsIn: (inWindow(RATE.bytesIn) * 8) / 1e6 / w,
        mbpsOut: (inWindow(RATE.bytesOut) * 8) / 1e6 / w,
      },
      transactions: {
        tps: inWindow(RATE.finished) / w,
        committed,
        rolledBack,
        pending: Math.max(0, this._transactions.begin.get() - committed - rolledBack),
      },
      content: Object.fromEntries(Object.entries(CONTENT).map(([op, field]) => [field, this._content[op].get()])),
    }
  }
}

// --- analyzer ---

// Bottleneck, trend, anomaly and capacity analysis is arithmetic over a snapshot the caller
// hands in, with nothing to record, so the native side runs the reference's rules rather
// than a second copy of them. What it adds is the bad-input rule: where the reference skips
// a figure of the wrong type, this one says which figure and what it was.
const reference = require('../legacy/dist/analyzer.js')
const { THRESHOLDS, HEALTH_PENALTY } = reference

/** The figures the analyzer reads, as paths into PerformanceMetrics. */
const FIGURE_PATHS = [
  ['timestamp'],
  ['resources', 'cpu', 'usage'],
  ['resources', 'memory', 'used'],
  ['resources', 'memory', 'free'],
  ['resources', 'disk', 'queueLength'],
  ['latency', 'requestLatency', 'p99'],
  ['throughput', 'requests', 'rps'],
  ['throughput', 'requests', 'total'],
  ['throughput', 'requests', 'failed'],
]

/** Throws a TypeError (with a code) unless `metrics` is an object whose figures are numbers or null. */
function checkMetrics(metrics) {
  if (metrics === null || typeof metrics !== 'object') {
    throw invalidType(`analyzer: metrics must be an object, not ${metrics === null ? 'null' : typeof metrics}`)
  }
  for (const path of FIGURE_PATHS) {
    let value = metrics
    for (const key of path) value = value === undefined || value === null ? undefined : value[key]
    if (value !== undefined && value !== null && typeof value !== 'number') {
      throw invalidType(`analyzer: ${path.join('.')} must be a number or null, not ${typeof value}`)
    }
  }
}

/** The reference's analyzer, with every snapshot checked before it is read. */
class RealtimePerformanceAnalyzer extends reference.RealtimePerformanceAnalyzer {}

// Every method that reads a snapshot checks it first (as a class method would: not enumerable).
for (const method of ['analyze', 'detectBottlenecks', 'calculateHealthScore', 'detectAnomalies', 'analyzeTrends', 'analyzeCapacity', 'observe']) {
  const unchecked = reference.RealtimePerformanceAnalyzer.prototype[method]
  Object.defineProperty(RealtimePerformanceAnalyzer.prototype, method, {
    value: function checked(metrics) {
      checkMetrics(metrics)
      return unchecked.call(this, metrics)
    },
    writable: true,
    configurable: true,
  })
}

// --- profiler ---

function registryOption(where, registry) {
  if (registry === undefined) return new m.Registry()
  if (!(registry instanceof m.Registry)) throw invalidType(`${where}: registry must be a metricore Registry`)
  return registry
}

const { AdvancedProfiler: ReferenceProfiler } = require('../legacy/dist/profiler.js')

/**
 * The TypeScript-era AdvancedProfiler: the reference's measurement (wall time, memory and CPU deltas
 * around one operation, from process.memoryUsage() and process.cpuUsage()), with every
 * duration also recorded into the histogram `profiled_operation_duration_seconds{outcome}`
 * (outcome 'ok' or 'failed') of `registry` (default a private one).
 */
class AdvancedProfiler extends ReferenceProfiler {
  /** Options: `now` (default process.hrtime.bigint() in ms), `registry`. */
  constructor(options = {}) {
    super(options)
    /** The registry holding profiled_operation_duration_seconds. */
    this.registry = registryOption('AdvancedProfiler', options.registry)
    const h = new m.Histogram({
      name: 'profiled_operation_duration_seconds',
      help: 'Operations run by profileOperation.',
      labelNames: ['outcome'],
      registers: [this.registry],
      ...HDR,
    })
    this._ok = h.labels('ok')
    this._failed = h.labels('failed')
  }

  /**
   * Runs `operation` (sync or async) and resolves to its result and profile: duration (ms),
   * process.memoryUsage() deltas (bytes) and process.cpuUsage() deltas (ms). If it throws or
   * rejects, rejects with a plain object {error, profile: {duration, failed: true}} (the
   * seed's shape; not an Error).
   */
  async profileOperation(operation) {
    let profiled
    try {
      profiled = await super.profileOperation(operation)
    } catch (failure) {
      if (failure !== null && typeof failure === 'object' && failure.profile !== undefined) {
        record(this._failed, failure.profile.duration)
      }
      throw failure
    }
    record(this._ok, profiled.profile.duration)
    return profiled
  }
}

/**
 * Records a profiled duration. A clock that went backwards (injected) gives no duration to
 * record; the profile still reports what it measured.
 */
function record(child, duration) {
  if (duration >= 0 && duration <= HIGHEST_MS) child.recordMs(duration)
}

// --- tracer ---

const DB_SPAN = /^(db[.:]|sql[.: ]|(select|insert|update|delete)\b)/i
const CACHE_SPAN = /^(cache[.:]|redis\b|memcached\b)/i
const EXTERNAL_SPAN = /^(http|grpc)/i

/** Epoch milliseconds from the monotonic clock, with sub-millisecond precision. */
function monotonicEpochMs() {
  return performance.timeOrigin + performance.now()
}

function callerStack(below) {
  const holder = {}
  Error.captureStackTrace(holder, below)
  return (holder.stack ?? '').split('\n').slice(1).map((l) => l.trim()).join('\n')
}

/**
 * The TypeScript-era APMTransactionTracer with endSpan and recordError. Durations also go into
 * `apm_transaction_duration_seconds{transaction,type}` and `apm_span_duration_seconds{type}`
 * of `registry` (default a private one). Transactions and spans of another tracer are a
 * TypeError; a clock that goes backwards is a RangeError, both before anything changes.
 */
class APMTransactionTracer {
  /** Options: `now` (default performance.timeOrigin + performance.now()), `captureStackTrace` (default true), `registry`. */
  constructor(options = {}) {
    const { now = monotonicEpochMs, captureStackTrace = true, registry } = options
    checkClock('APMTransactionTracer', now)
    this._now = now
    this._captureStackTrace = captureStackTrace
    /** The registry holding apm_transaction_duration_seconds and apm_span_duration_seconds. */
    this.registry = registryOption('APMTransactionTracer', registry)
    this._transactionDuration = new m.Histogram({
      name: 'apm_transaction_duration_seconds',
      help: 'Transactions ended by endTransaction.',
      labelNames: ['transaction', 'type'],
      registers: [this.registry],
      ...HDR,
    })
    this._spanDuration = new m.Histogram({
      name: 'apm_span_duration_seconds',
      help: 'Spans ended by endSpan or endTransaction.',
      labelNames: ['type'],
      registers: [this.registry],
      ...HDR,
    })
    this._mine = new WeakSet()
  }

  /** Opens a transaction. */
  startTransaction(name, type) {
    checkString('startTransaction', 'the name', name)
    checkString('startTransaction', 'the type', type)
    const transaction = { id: randomUUID(), name, type, startTime: this._now(), endTime: null, spans: [], tags: {}, errors: [] }
    this._mine.add(transaction)
    return transaction
  }

  /** Opens a span in an open transaction; its type is inferSpanType(name). */
  startSpan(transaction, name) {
    checkString('startSpan', 'the name', name)
    this._checkMine('startSpan', 'transaction', transaction)
    if (transaction.endTime !== null) throw invalidValue(`startSpan: transaction '${transaction.name}' has ended`)
    const span = {
      id: randomUUID(),
      transactionId: transaction.id,
      name,
      type: this.inferSpanType(name),
      startTime: this._now(),
      endTime: null,
      duration: null,
      tags: {},
      stackTrace: this._captureStackTrace ? callerStack(this.startSpan) : null,
    }
    this._mine.add(span)
    transaction.spans.push(span)
    return span
  }

  /** Ends a span (sets endTime and duration) and returns it; ending it twice is an error. */
  endSpan(span) {
    this._checkMine('endSpan', 'span', span)
    if (span.endTime !== null) throw invalidValue(`endSpan: span '${span.name}' has already ended`)
    const endTime = this._now()
    this._checkDuration('endSpan', `span '${span.name}'`, endTime - span.startTime)
    this._closeSpan(span, endTime)
    return span
  }

  /** Records an error on a transaction (and the span it happened in, if given). */
  recordError(transaction, error, span) {
    this._checkMine('recordError', 'transaction', transaction)
    if (span !== undefined) this._checkMine('recordError', 'span', span)
    const recorded = {
      name: error instanceof Error ? error.name : 'Error',
      message: error instanceof Error ? error.message : String(error),
      spanId: span === undefined ? null : span.id,
      timestamp: this._now(),
    }
    transaction.errors.push(recorded)
    return recorded
  }

  /** Ends a transaction and its still-open spans (at the transaction's end) and returns its metrics. */
  endTransaction(transaction) {
    this._checkMine('endTransaction', 'transaction', transaction)
    if (transaction.endTime !== null) {
      throw invalidValue(`endTransaction: transaction '${transaction.name}' has already ended`)
    }
    const endTime = this._now()
    const duration = endTime - transaction.startTime
    this._checkDuration('endTransaction', `transaction '${transaction.name}'`, duration)
    for (const span of transaction.spans) {
      if (span.endTime === null) this._checkDuration('endTransaction', `span '${span.name}'`, endTime - span.startTime)
    }
    transaction.endTime = endTime
    for (const span of transaction.spans) if (span.endTime === null) this._closeSpan(span, endTime)
    this._transactionDuration.recordMs({ transaction: transaction.name, type: transaction.type }, duration)
    return {
      name: transaction.name,
      type: transaction.type,
      duration,
      spanCount: transaction.spans.length,
      errorCount: transaction.errors.length,
      breakdown: breakdown(transaction),
      percentiles: calculatePercentiles(transaction.spans.map((s) => s.duration)),
      dependencies: dependencies(transaction.spans),
    }
  }

  /**
   * The span type from its name (case-insensitive): DB for 'db.' / 'db:' / 'sql' prefixes
   * and names starting with SELECT, INSERT, UPDATE or DELETE; CACHE for 'cache.' /
   * 'cache:' / 'redis' / 'memcached'; EXTERNAL for names starting with 'http' or 'grpc';
   * CUSTOM otherwise.
   */
  inferSpanType(name) {
    checkString('inferSpanType', 'the name', name)
    if (DB_SPAN.test(name)) return SpanType.DB
    if (CACHE_SPAN.test(name)) return SpanType.CACHE
    if (EXTERNAL_SPAN.test(name)) return SpanType.EXTERNAL
    return SpanType.CUSTOM
  }

  _checkMine(where, what, object) {
    if (!this._mine.has(object)) throw invalidType(`${where}: the ${what} was not started by this tracer`)
  }

  _checkDuration(where, what, duration) {
    if (!(duration >= 0 && duration <= HIGHEST_MS)) {
      throw invalidValue(`${where}: ${what} would last ${duration} ms; the clock went backwards or past a week`)
    }
  }

  _closeSpan(span, endTime) {
    span.endTime = endTime
    span.duration = endTime - span.startTime
    this._spanDuration.recordMs({ type: span.type }, span.duration)
  }
}

/** Span time per type, and the transaction's time covered by none of its spans. */
function breakdown(transaction) {
  const start = transaction.startTime
  const end = transaction.endTime
  const types = {}
  const intervals = []
  for (const span of transaction.spans) {
    types[span.type] = (types[span.type] ?? 0) + span.duration
    const from = Math.max(start, span.startTime)
    const to = Math.min(end, span.endTime)
    if (to > from) intervals.push([from, to])
  }
  intervals.sort((a, b) => a[0] - b[0])
  let covered = 0
  let reach = -Infinity
  for (const [from, to] of intervals) {
    if (to <= reach) continue
    covered += to - Math.max(from, reach)
    reach = to
  }
  return { self: end - start - covered, types }
}

/** Non-custom spans grouped by type and name, sorted by type then name. */
function dependencies(spans) {
  const groups = new Map()
  for (const span of spans) {
    if (span.type === SpanType.CUSTOM) continue
    const key = labelSetKey([span.type, span.name])
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { type: span.type, name: span.name, calls: 1, duration: span.duration })
    else {
      group.calls++
      group.duration += span.duration
    }
  }
  return [...groups.values()].sort((a, b) => byValuesOrder([a.type, a.name], [b.type, b.name]))
}

module.exports = {
  calculatePercentiles,
  PerformanceCollector,
  RealtimePerformanceAnalyzer,
  AdvancedProfiler,
  APMTransactionTracer,
  THRESHOLDS,
  HEALTH_PENALTY,
  HIGHEST_MS,
  Severity,
  BottleneckType,
  AnomalySeverity,
  TrendDirection,
  TransactionType,
  SpanType,
  AnalyzedFigure,
}
