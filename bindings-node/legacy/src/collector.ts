import * as os from 'node:os'
import { invalidConfig, invalidLabels, invalidType, invalidValue } from './errors'
import { calculatePercentiles } from './percentiles'
import type {
  CollectorOptions,
  ContentOperation,
  DbLatency,
  LabelledLatency,
  LatencyMetrics,
  MetricCollector,
  NetworkRTT,
  NodeInfo,
  PerformanceSnapshot,
  RequestRecord,
  ResourceMetrics,
  ServiceLatency,
  ThroughputMetrics,
  TransactionEvent,
} from './types'

/** Each windowed event carries the whole second of the clock it happened in. */
interface Timed {
  second: number
}
interface LatencyEvent extends Timed {
  ms: number
  key: string | null
  labels: Record<string, string> | null
}
interface RequestEvent extends Timed {
  bytesIn: number
  bytesOut: number
}
interface ProbeEvent extends Timed {
  peer: string
  rtt: number | null
  jitter: number | null
}
interface QueryEvent extends Timed {
  operation: string
  ms: number
  rows: number
}
interface CallEvent extends Timed {
  service: string
  method: string
  status: string
  ms: number
}

const KEY_SEP = '\u0000'
const CONTENT_FIELDS: Record<ContentOperation, keyof ThroughputMetrics['content']> = {
  upload: 'uploads',
  download: 'downloads',
  cacheHit: 'cacheHits',
  cacheMiss: 'cacheMisses',
}

/** Entries sorted by key, compared by UTF-16 code units (the same order in both implementations). */
function byKey<T>(groups: Map<string, T>): T[] {
  return [...groups.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => groups.get(k) as T)
}

function mean(values: readonly number[]): number {
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/**
 * Collects the TypeScript era's performance figures (the TypeScript-era PerformanceCollector):
 * record latencies, requests, transactions, content operations, round trips, queries and
 * service calls as they happen, then collectMetrics() for a PerformanceSnapshot.
 *
 * Latency figures and rates cover the window: the last `windowSeconds` whole seconds of the
 * clock, the current one included. A clock that goes back to an earlier second (an NTP step
 * of Date.now) restarts the window, which would otherwise hold events from the future.
 * Totals count since the collector was made.
 */
export class PerformanceCollector {
  private readonly now: () => number
  private readonly windowSeconds: number
  private readonly labelNames: string[]
  private readonly collectors = new Map<string, MetricCollector>()
  private latencies: LatencyEvent[] = []
  private requests: RequestEvent[] = []
  private finishedTransactions: Timed[] = []
  private probes: ProbeEvent[] = []
  private queries: QueryEvent[] = []
  private calls: CallEvent[] = []
  private readonly lastRtt = new Map<string, number>()
  private latestSecond = -Infinity
  private readonly totals = {
    requests: 0,
    successful: 0,
    failed: 0,
    bytesIn: 0,
    bytesOut: 0,
    begun: 0,
    committed: 0,
    rolledBack: 0,
    content: { uploads: 0, downloads: 0, cacheHits: 0, cacheMisses: 0 },
  }
  private cpuTimes: { busyUser: number; busySystem: number; idle: number }

  /** Options: `now` (clock, default Date.now), `windowSeconds` (default 60), `labelNames`. */
  constructor(options: CollectorOptions = {}) {
    const { now = Date.now, windowSeconds = 60, labelNames = [] } = options
    if (typeof now !== 'function') throw invalidType('PerformanceCollector: now must be a function')
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
      throw invalidConfig(`PerformanceCollector: windowSeconds must be a whole number >= 1, not ${windowSeconds}`)
    }
    if (!Array.isArray(labelNames) || labelNames.some((n) => typeof n !== 'string')) {
      throw invalidType('PerformanceCollector: labelNames must be an array of strings')
    }
    this.now = now
    this.windowSeconds = windowSeconds
    this.labelNames = labelNames.slice()
    this.cpuTimes = readCpuTimes()
  }

  /** Records a request latency (ms), with labels matching labelNames if given. */
  recordLatency(ms: number, labels?: Record<string, string | number | boolean>): void {
    let values: string[] | null = null
    if (labels !== undefined) values = this.labelValues(labels)
    const event: LatencyEvent = {
      second: this.second(),
      ms,
      key: values === null ? null : values.join(KEY_SEP),
      labels: values === null ? null : Object.fromEntries(this.labelNames.map((n, i) => [n, (values as string[])[i]])),
    }
    this.push(this.latencies, event)
  }

  /** Records a request: whether it succeeded and the bytes it moved. */
  recordRequest(request: RequestRecord = {}): void {
    const { success = true, bytesIn = 0, bytesOut = 0 } = request
    this.totals.requests++
    if (success) this.totals.successful++
    else this.totals.failed++
    this.totals.bytesIn += bytesIn
    this.totals.bytesOut += bytesOut
    this.push(this.requests, { second: this.second(), bytesIn, bytesOut })
  }

  /** Records a transaction beginning, committing or rolling back. */
  recordTransaction(event: TransactionEvent): void {
    if (event === 'begin') {
      this.totals.begun++
      return
    }
    if (event === 'commit') this.totals.committed++
    else if (event === 'rollback') this.totals.rolledBack++
    else throw invalidValue(`recordTransaction: the event must be 'begin', 'commit' or 'rollback', not '${event}'`)
    this.push(this.finishedTransactions, { second: this.second() })
  }

  /** Counts `count` (default 1) uploads, downloads, cache hits or cache misses. */
  recordContent(operation: ContentOperation, count = 1): void {
    const field = Object.hasOwn(CONTENT_FIELDS, operation) ? CONTENT_FIELDS[operation] : undefined
    if (field === undefined) {
      throw invalidValue(
        `recordContent: the operation must be 'upload', 'download', 'cacheHit' or 'cacheMiss', not '${operation}'`,
      )
    }
    this.totals.content[field] += count
  }

  /** Records a round trip to `peer` (ms), or a lost probe when `rttMs` is null. */
  recordNetworkRTT(peer: string, rttMs: number | null): void {
    let jitter: number | null = null
    if (rttMs !== null) {
      const last = this.lastRtt.get(peer)
      if (last !== undefined) jitter = Math.abs(rttMs - last)
      this.lastRtt.set(peer, rttMs)
    }
    this.push(this.probes, { second: this.second(), peer, rtt: rttMs, jitter })
  }

  /** Records a database query of `operation` taking `ms` and affecting `rowsAffected` rows. */
  recordDbQuery(operation: string, ms: number, rowsAffected = 0): void {
    this.push(this.queries, { second: this.second(), operation, ms, rows: rowsAffected })
  }

  /** Records a call to `service`.`method` taking `ms` and ending with `status`. */
  recordServiceCall(service: string, method: string, ms: number, status: string | number): void {
    this.push(this.calls, { second: this.second(), service, method, status: String(status), ms })
  }

  /** Adds a custom collector; its (awaited) value appears as `custom[name]`. */
  registerCollector(name: string, collector: MetricCollector): void {
    if (typeof name !== 'string' || name === '') throw invalidType('registerCollector: the name must be a non-empty string')
    if (typeof collector !== 'function') throw invalidType(`registerCollector: the collector '${name}' must be a function`)
    if (this.collectors.has(name)) throw invalidConfig(`registerCollector: a collector named '${name}' is already registered`)
    this.collectors.set(name, collector)
  }

  /** Removes a custom collector; returns whether there was one. */
  unregisterCollector(name: string): boolean {
    return this.collectors.delete(name)
  }

  /**
   * A snapshot: the window's latency and rates and the totals at the clock's now, then the
   * resources and each custom collector's value. Rejects with the first custom collector
   * error; nothing recorded is lost either way.
   */
  async collectMetrics(): Promise<PerformanceSnapshot> {
    const timestamp = this.now()
    this.prune(this.windowSecond(timestamp))
    const latency = this.latencyMetrics()
    const throughput = this.throughputMetrics()
    const resources = this.resourceMetrics()
    const custom: Record<string, unknown> = {}
    for (const [name, collect] of this.collectors) custom[name] = await collect()
    return { timestamp, node: nodeInfo(), latency, throughput, resources, custom }
  }

  private second(): number {
    return this.windowSecond(this.now())
  }

  /** The whole second of `ms`; restarts the window when it is before the latest one seen. */
  private windowSecond(ms: number): number {
    const second = Math.floor(ms / 1000)
    if (second < this.latestSecond) this.prune(Infinity)
    this.latestSecond = second
    return second
  }

  private labelValues(labels: Record<string, string | number | boolean>): string[] {
    if (labels === null || typeof labels !== 'object') {
      throw invalidType(`recordLatency: labels must be an object, not ${labels === null ? 'null' : typeof labels}`)
    }
    const given = Object.keys(labels)
    if (given.length !== this.labelNames.length || !this.labelNames.every((n) => Object.hasOwn(labels, n))) {
      throw invalidLabels(
        `recordLatency: labels must have exactly the label names [${this.labelNames.join(', ')}], not [${given.join(', ')}]`,
      )
    }
    return this.labelNames.map((n) => {
      const v = labels[n]
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw invalidType(`recordLatency: label '${n}' must be a string, number or boolean, not ${typeof v}`)
      }
      return String(v)
    })
  }

  /** Appends an event, dropping events that left the window from the front (memory bound). */
  private push<E extends Timed>(events: E[], event: E): void {
    events.push(event)
    const cutoff = event.second - this.windowSeconds
    if (events[0].second <= cutoff) {
      const keep = events.findIndex((e) => e.second > cutoff)
      events.splice(0, keep === -1 ? events.length : keep)
    }
  }

  /** Keeps the events of the window ending at `second` (none for Infinity). */
  private prune(second: number): void {
    const cutoff = second - this.windowSeconds
    const inWindow = (e: Timed) => e.second > cutoff
    this.latencies = this.latencies.filter(inWindow)
    this.requests = this.requests.filter(inWindow)
    this.finishedTransactions = this.finishedTransactions.filter(inWindow)
    this.probes = this.probes.filter(inWindow)
    this.queries = this.queries.filter(inWindow)
    this.calls = this.calls.filter(inWindow)
  }

  private latencyMetrics(): LatencyMetrics {
    const labelled = new Map<string, { labels: Record<string, string>; values: number[] }>()
    for (const e of this.latencies) {
      if (e.key === null) continue
      let group = labelled.get(e.key)
      if (group === undefined) labelled.set(e.key, (group = { labels: e.labels as Record<string, string>, values: [] }))
      group.values.push(e.ms)
    }
    const byLabels: LabelledLatency[] = byKey(labelled).map((g) => ({ labels: g.labels, stats: calculatePercentiles(g.values) }))

    const peers = new Map<string, { peer: string; rtts: number[]; jitters: number[]; lost: number }>()
    for (const e of this.probes) {
      let group = peers.get(e.peer)
      if (group === undefined) peers.set(e.peer, (group = { peer: e.peer, rtts: [], jitters: [], lost: 0 }))
      if (e.rtt === null) group.lost++
      else group.rtts.push(e.rtt)
      if (e.jitter !== null) group.jitters.push(e.jitter)
    }
    const networkRTT: NetworkRTT[] = byKey(peers).map((g) => {
      const probes = g.rtts.length + g.lost
      return { peer: g.peer, latency: mean(g.rtts), jitter: mean(g.jitters), packetLoss: (g.lost / probes) * 100, probes }
    })

    const operations = new Map<string, { operation: string; durations: number[]; rows: number }>()
    for (const e of this.queries) {
      let group = operations.get(e.operation)
      if (group === undefined) operations.set(e.operation, (group = { operation: e.operation, durations: [], rows: 0 }))
      group.durations.push(e.ms)
      group.rows += e.rows
    }
    const dbLatency: DbLatency[] = byKey(operations).map((g) => ({
      operation: g.operation,
      count: g.durations.length,
      duration: mean(g.durations),
      rowsAffected: g.rows,
    }))

    const targets = new Map<string, { service: string; method: string; status: string; durations: number[] }>()
    for (const e of this.calls) {
      const key = [e.service, e.method, e.status].join(KEY_SEP)
      let group = targets.get(key)
      if (group === undefined) targets.set(key, (group = { service: e.service, method: e.method, status: e.status, durations: [] }))
      group.durations.push(e.ms)
    }
    const serviceLatency: ServiceLatency[] = byKey(targets).map((g) => ({
      service: g.service,
      method: g.method,
      status: g.status,
      count: g.durations.length,
      duration: mean(g.durations),
    }))

    return {
      requestLatency: calculatePercentiles(this.latencies.map((e) => e.ms)),
      byLabels,
      networkRTT,
      dbLatency,
      serviceLatency,
    }
  }

  private throughputMetrics(): ThroughputMetrics {
    const t = this.totals
    const w = this.windowSeconds
    let bytesIn = 0
    let bytesOut = 0
    for (const r of this.requests) {
      bytesIn += r.bytesIn
      bytesOut += r.bytesOut
    }
    return {
      requests: {
        total: t.requests,
        successful: t.successful,
        failed: t.failed,
        rps: this.requests.length / w,
        rpm: (this.requests.length * 60) / w,
      },
      data: { bytesIn: t.bytesIn, bytesOut: t.bytesOut, mbpsIn: (bytesIn * 8) / 1e6 / w, mbpsOut: (bytesOut * 8) / 1e6 / w },
      transactions: {
        tps: this.finishedTransactions.length / w,
        committed: t.committed,
        rolledBack: t.rolledBack,
        pending: Math.max(0, t.begun - t.committed - t.rolledBack),
      },
      content: { ...t.content },
    }
  }

  /** CPU from os.cpus() tick deltas since the previous collection, memory from os. */
  private resourceMetrics(): ResourceMetrics {
    const times = readCpuTimes()
    const user = times.busyUser - this.cpuTimes.busyUser
    const system = times.busySystem - this.cpuTimes.busySystem
    const idle = times.idle - this.cpuTimes.idle
    const total = user + system + idle
    this.cpuTimes = times
    // Windows has no load average (os.loadavg() gives zeros there).
    const loadAvg = process.platform === 'win32' ? null : os.loadavg()
    const pct = (ticks: number) => (total > 0 ? (ticks / total) * 100 : null)
    const free = os.freemem()
    return {
      cpu: {
        usage: total > 0 ? 100 - (idle / total) * 100 : null,
        user: pct(user),
        system: pct(system),
        idle: pct(idle),
        iowait: null,
        steal: null,
        loadAvg,
      },
      memory: { used: os.totalmem() - free, free, cached: null, buffers: null, swapUsed: null, swapFree: null, pressure: null },
      disk: null,
      network: null,
    }
  }
}

function readCpuTimes(): { busyUser: number; busySystem: number; idle: number } {
  let busyUser = 0
  let busySystem = 0
  let idle = 0
  for (const cpu of os.cpus()) {
    busyUser += cpu.times.user + cpu.times.nice
    busySystem += cpu.times.sys + cpu.times.irq
    idle += cpu.times.idle
  }
  return { busyUser, busySystem, idle }
}

/** Where the process runs (os and process). */
function nodeInfo(): NodeInfo {
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
