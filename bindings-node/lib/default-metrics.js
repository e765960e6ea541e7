'use strict'
// prom-client's collectDefaultMetrics() for metricore. The Node runtime's figures (event loop,
// GC, V8 heap, libuv handles) are metricore gauges and a histogram filled in JS, most of them by
// `collect` callbacks at scrape time; the process and machine figures (process_*, node_*) come
// from the core's resource sampler, which publishes them into the registry itself.

const { monitorEventLoopDelay, PerformanceObserver, performance, constants } = require('node:perf_hooks')
const fs = require('node:fs')
const v8 = require('node:v8')
const { invalidType, invalidConfig } = require('./errors.js')

/** prom-client's gcDurationBuckets default, in seconds. */
const DEFAULT_GC_DURATION_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5]

const GC_KINDS = new Map([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
])

/** Label names the default metrics set themselves, so `labels` may not use them. */
const OWN_LABELS = ['kind', 'space', 'type', 'version', 'major', 'minor', 'patch']

const OPTIONS = ['register', 'prefix', 'labels', 'gcDurationBuckets', 'eventLoopMonitoringPrecision', 'samplerIntervalSeconds']

const NAME = 'collectDefaultMetrics'

/** The running collection of each registry, for idempotence; stop() removes it. */
const running = new WeakMap()

/**
 * Registers the Node.js default metrics (prom-client 15's names) in a registry and starts its
 * resource sampler. Calling it again for the same registry returns the running handle.
 */
function collectDefaultMetrics(config) {
  // Required here, not at the top: lib/index.js requires this module to export it.
  const metricore = require('./index.js')
  const options = checkOptions(config, metricore)
  const existing = running.get(options.register)
  if (existing !== undefined) return existing
  const handle = new DefaultMetrics(options, metricore)
  running.set(options.register, handle)
  return handle
}

function checkOptions(config, metricore) {
  if (config === undefined || config === null) config = {}
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw invalidType(undefined, `${NAME}: the configuration must be an object, not ${Array.isArray(config) ? 'an array' : typeof config}`)
  }
  const unknown = Object.keys(config).filter((k) => !OPTIONS.includes(k))
  if (unknown.length > 0) {
    throw invalidConfig(undefined, `${NAME}: unknown option '${unknown[0]}' (known: ${OPTIONS.join(', ')})`)
  }
  const {
    register = metricore.register,
    prefix = '',
    labels = {},
    gcDurationBuckets = DEFAULT_GC_DURATION_BUCKETS,
    eventLoopMonitoringPrecision = 10,
    samplerIntervalSeconds = 10,
  } = config
  if (!(register instanceof metricore.Registry)) throw invalidType(undefined, `${NAME}: register must be a Registry`)
  if (typeof prefix !== 'string') throw invalidType(undefined, `${NAME}: prefix must be a string, not ${typeof prefix}`)
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw invalidType(undefined, `${NAME}: labels must be an object of label values`)
  }
  for (const [name, value] of Object.entries(labels)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalidType(undefined, `${NAME}: label '${name}' must be a string or number, not ${typeof value}`)
    }
    if (OWN_LABELS.includes(name)) {
      throw invalidConfig(undefined, `${NAME}: label '${name}' is set by the default metrics themselves`)
    }
  }
  if (!Array.isArray(gcDurationBuckets) || gcDurationBuckets.some((b) => typeof b !== 'number')) {
    throw invalidType(undefined, `${NAME}: gcDurationBuckets must be an array of numbers`)
  }
  if (typeof eventLoopMonitoringPrecision !== 'number') {
    throw invalidType(undefined, `${NAME}: eventLoopMonitoringPrecision must be a number of milliseconds`)
  }
  if (!Number.isInteger(eventLoopMonitoringPrecision) || eventLoopMonitoringPrecision < 1) {
    throw invalidConfig(undefined, `${NAME}: eventLoopMonitoringPrecision must be a whole number of milliseconds >= 1, not ${eventLoopMonitoringPrecision}`)
  }
  if (typeof samplerIntervalSeconds !== 'number') {
    throw invalidType(undefined, `${NAME}: samplerIntervalSeconds must be a number`)
  }
  // The core checks the bucket bounds and the sampler interval, and names and labels.
  const labelValues = {}
  for (const [name, value] of Object.entries(labels)) labelValues[name] = String(value)
  return { register, prefix, labels: labelValues, gcDurationBuckets, eventLoopMonitoringPrecision, samplerIntervalSeconds }
}

/** Stops the default metrics running in `registry`, if any (its clear() calls this). */
function stopFor(registry) {
  const handle = running.get(registry)
  if (handle !== undefined) handle.stop()
}

/** What collectDefaultMetrics() started in one registry; stop() ends it. */
class DefaultMetrics {
  constructor(options, metricore) {
    this.registry = options.register
    this.metricNames = []
    this._metricore = metricore
    this._options = options
    this._labelNames = Object.keys(options.labels)
    this._stopped = false
    this._sampler = undefined
    this._delay = undefined
    this._gcObserver = undefined
    try {
      this._startSampler()
      this._processFigures()
      this._eventLoop()
      this._gc()
      this._heap()
      this._activeHandles()
      this._version()
    } catch (err) {
      // Leave the registry as it was: nothing half registered, nothing left running.
      this._release()
      throw err
    }
  }

  /** Stops the GC observer, the event-loop monitor and the sampler (if this started it), and unregisters the metrics. */
  stop() {
    if (this._stopped) return
    this._release()
    running.delete(this.registry)
  }

  _release() {
    this._stopped = true
    if (this._gcObserver !== undefined) this._gcObserver.disconnect()
    if (this._delay !== undefined) this._delay.disable()
    if (this._sampler !== undefined) this._sampler.stop()
    for (const name of this.metricNames) this.registry.removeSingleMetric(name)
  }

  _startSampler() {
    const sampler = this.registry.sampler()
    // A sampler the application started keeps its interval and is not stopped by stop().
    if (sampler.isRunning) return
    sampler.start(this._options.samplerIntervalSeconds)
    this._sampler = sampler
    // A sample now, so the process_* and node_* figures are there from the first scrape on.
    sampler.sampleNow()
  }

  /**
   * prom-client's process figures that the sampler does not publish: user and system CPU
   * seconds (counted, as prom-client counts them, from this call on) and, on Linux, the
   * data segment as process_heap_bytes.
   */
  _processFigures() {
    let last = process.cpuUsage()
    const counter = (name, help, collect) => {
      const c = new this._metricore.Counter({
        name: this._options.prefix + name,
        help,
        labelNames: this._labelNames,
        registers: [this.registry],
        collect,
      })
      this.metricNames.push(c.name)
      return c
    }
    const user = counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => {
      const now = process.cpuUsage()
      user.inc(this._options.labels, Math.max(0, now.user - last.user) / 1e6)
      system.inc(this._options.labels, Math.max(0, now.system - last.system) / 1e6)
      last = now
    })
    const system = counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.')
    if (process.platform === 'linux') {
      const heap = this._gauge('process_heap_bytes', 'Process heap size in bytes.', [], () => {
        let status
        try {
          status = fs.readFileSync('/proc/self/status', 'utf8')
        } catch {
          return // as prom-client: a failed read leaves the last value
        }
        const data = /^VmData:\s*(\d+)\s*kB$/m.exec(status)
        if (data !== null) this._set(heap, Number(data[1]) * 1024)
      })
    }
  }

  /** A gauge with `extraLabels` before the configured labels. */
  _gauge(name, help, extraLabels, collect) {
    const gauge = new this._metricore.Gauge({
      name: this._options.prefix + name,
      help,
      labelNames: [...extraLabels, ...this._labelNames],
      registers: [this.registry],
      collect,
    })
    this.metricNames.push(gauge.name)
    return gauge
  }

  /** Sets a gauge's series for `extra` label values plus the configured ones. */
  _set(gauge, value, extra) {
    gauge.set(extra === undefined ? this._options.labels : { ...extra, ...this._options.labels }, value)
  }

  _eventLoop() {
    const delay = monitorEventLoopDelay({ resolution: this._options.eventLoopMonitoringPrecision })
    delay.enable()
    this._delay = delay
    const stats = [
      ['min', 'The minimum recorded event loop delay.', () => delay.min],
      ['max', 'The maximum recorded event loop delay.', () => delay.max],
      ['mean', 'The mean of the recorded event loop delays.', () => delay.mean],
      ['stddev', 'The standard deviation of the recorded event loop delays.', () => delay.stddev],
      ['p50', 'The 50th percentile of the recorded event loop delays.', () => delay.percentile(50)],
      ['p90', 'The 90th percentile of the recorded event loop delays.', () => delay.percentile(90)],
      ['p99', 'The 99th percentile of the recorded event loop delays.', () => delay.percentile(99)],
    ]
    const lag = this._gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', [], () => {
      // As prom-client: the lag is the wait for setImmediate after a scrape, so a scrape
      // shows the one measured after the scrape before.
      const start = process.hrtime.bigint()
      setImmediate(() => this._set(lag, Number(process.hrtime.bigint() - start) / 1e9))
      // Without a sample since the last scrape (scrapes closer than the resolution), the
      // monitor's figures are placeholders (min 2^63 ns, mean NaN): keep the last ones.
      if (delay.count > 0) {
        for (const [gauge, read] of statGauges) this._set(gauge, read() / 1e9)
      }
      delay.reset()
    })
    const statGauges = stats.map(([stat, help, read]) => [this._gauge(`nodejs_eventloop_lag_${stat}_seconds`, help, []), read])

    let last = performance.eventLoopUtilization()
    const utilization = this._gauge(
      'nodejs_eventloop_utilization_ratio',
      'Share of the time the event loop was busy, between the last two scrapes (0..1).',
      [],
      () => {
        const now = performance.eventLoopUtilization()
        const ratio = performance.eventLoopUtilization(now, last).utilization
        last = now
        // Two scrapes in the same instant give 0/0.
        if (Number.isFinite(ratio)) this._set(utilization, ratio)
      },
    )
  }

  _gc() {
    const histogram = new this._metricore.Histogram({
      name: this._options.prefix + 'nodejs_gc_duration_seconds',
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      labelNames: ['kind', ...this._labelNames],
      buckets: this._options.gcDurationBuckets,
      registers: [this.registry],
    })
    this.metricNames.push(histogram.name)
    const labels = this._options.labels
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        // A throw here would be an uncaught exception, so a kind Node adds later is not one.
        const kind = GC_KINDS.get(entry.detail.kind) ?? 'unknown'
        histogram.observe({ kind, ...labels }, entry.duration / 1000)
      }
    })
    observer.observe({ entryTypes: ['gc'] })
    this._gcObserver = observer
  }

  _heap() {
    // v8's statistics rather than process.memoryUsage(), which also reads the RSS (the
    // sampler's process_resident_memory_bytes) and can throw.
    const total = this._gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', [], () => {
      const heap = v8.getHeapStatistics()
      this._set(total, heap.total_heap_size)
      this._set(used, heap.used_heap_size)
      this._set(external, heap.external_memory)
    })
    const used = this._gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', [])
    const external = this._gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', [])

    const spaceGauge = (which, collect) =>
      this._gauge(`nodejs_heap_space_size_${which}_bytes`, `Process heap space size ${which} from Node.js in bytes.`, ['space'], collect)
    const spaceTotal = spaceGauge('total', () => {
      for (const space of v8.getHeapSpaceStatistics()) {
        // 'new_space' -> 'new', as prom-client labels them.
        const labels = { space: space.space_name.replace(/_space$/, '') }
        this._set(spaceTotal, space.space_size, labels)
        this._set(spaceUsed, space.space_used_size, labels)
        this._set(spaceAvailable, space.space_available_size, labels)
      }
    })
    const spaceUsed = spaceGauge('used')
    const spaceAvailable = spaceGauge('available')
  }

  _activeHandles() {
    const byType = (names) => {
      const counts = new Map()
      for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1)
      return counts
    }
    // Types come and go, so each scrape replaces the series.
    const publish = (perType, total, counts, length) => {
      perType.reset()
      for (const [type, count] of counts) this._set(perType, count, { type })
      this._set(total, length)
    }
    const constructorNames = (objects) => objects.filter((o) => o?.constructor !== undefined).map((o) => o.constructor.name)

    const handles = this._gauge(
      'nodejs_active_handles',
      'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
      ['type'],
      () => {
        const list = process._getActiveHandles()
        publish(handles, handlesTotal, byType(constructorNames(list)), list.length)
      },
    )
    const handlesTotal = this._gauge('nodejs_active_handles_total', 'Total number of active handles.', [])

    const requests = this._gauge(
      'nodejs_active_requests',
      'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
      ['type'],
      () => {
        const list = process._getActiveRequests()
        publish(requests, requestsTotal, byType(constructorNames(list)), list.length)
      },
    )
    const requestsTotal = this._gauge('nodejs_active_requests_total', 'Total number of active requests.', [])

    const resources = this._gauge(
      'nodejs_active_resources',
      'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
      ['type'],
      () => {
        const list = process.getActiveResourcesInfo()
        publish(resources, resourcesTotal, byType(list), list.length)
      },
    )
    const resourcesTotal = this._gauge('nodejs_active_resources_total', 'Total number of active resources.', [])
  }

  _version() {
    const [major, minor, patch] = process.versions.node.split('.')
    const version = this._gauge('nodejs_version_info', 'Node.js version info.', ['version', 'major', 'minor', 'patch'], () => {
      // Set at every scrape so that registry.resetMetrics() does not lose it.
      this._set(version, 1, { version: process.version, major, minor, patch })
    })
  }
}

module.exports = { collectDefaultMetrics, stopFor, DEFAULT_GC_DURATION_BUCKETS }
