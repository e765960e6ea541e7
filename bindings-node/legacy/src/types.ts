// The contract of the TypeScript-era performance API. Both implementations satisfy
// it: this legacy reference (plain TypeScript) and metricore/legacy (lib/legacy.js, backed by
// the native core). Durations are milliseconds throughout, as in the TypeScript era.
//
// Two kinds of "no number": a statistic of no samples is NaN (the mean of nothing is 0/0);
// a figure the platform or the source cannot give is null. Neither is ever a fake 0.

/**
 * Summary of a set of durations (ms). Percentiles are nearest-rank: pX is the smallest
 * sample with at least X % of the samples <= it, sorted[ceil(q * n) - 1] (HdrHistogram's
 * valueAtQuantile rule). Every field is NaN when there are no samples.
 */
export interface PercentileStats {
  /** Smallest sample. */
  min: number
  /** Largest sample. */
  max: number
  /** Arithmetic mean. */
  avg: number
  /** Median (nearest rank). */
  p50: number
  /** 95th percentile (nearest rank). */
  p95: number
  /** 99th percentile (nearest rank). */
  p99: number
  /** 99.9th percentile (nearest rank). */
  p999: number
}

/** Severity of a bottleneck (see RealtimePerformanceAnalyzer.calculateSeverity). */
export enum Severity {
  LOW = 'low',
  MEDIUM = 'medium',
  HIGH = 'high',
  CRITICAL = 'critical',
}

/** The resource a bottleneck is in. */
export enum BottleneckType {
  CPU = 'cpu',
  MEMORY = 'memory',
  IO = 'io',
}

/** Severity of an anomaly (critical above twice the threshold). */
export enum AnomalySeverity {
  WARNING = 'warning',
  CRITICAL = 'critical',
}

/** Which way a figure has been moving. */
export enum TrendDirection {
  RISING = 'rising',
  FALLING = 'falling',
  STABLE = 'stable',
}

/** The kind of work a transaction is. Any other string is accepted too. */
export enum TransactionType {
  REQUEST = 'request',
  BACKGROUND = 'background',
  SCHEDULED = 'scheduled',
  MESSAGE = 'message',
}

/** The kind of work a span is, inferred from its name (APMTransactionTracer.inferSpanType). */
export enum SpanType {
  DB = 'db',
  EXTERNAL = 'external',
  CACHE = 'cache',
  CUSTOM = 'custom',
}

/** The figures the analyzer follows over time for trends and anomalies. */
export enum AnalyzedFigure {
  /** resources.cpu.usage (%). */
  CPU_USAGE = 'cpu.usage',
  /** memory used / (used + free) * 100. */
  MEMORY_USAGE = 'memory.usage',
  /** resources.disk.queueLength. */
  DISK_QUEUE = 'disk.queueLength',
  /** latency.requestLatency.p99 (ms). */
  LATENCY_P99 = 'latency.p99',
  /** throughput.requests.rps. */
  REQUESTS_PER_SECOND = 'throughput.rps',
}

/** Where a snapshot was taken. */
export interface NodeInfo {
  /** os.hostname(). */
  hostname: string
  /** process.pid. */
  pid: number
  /** process.platform. */
  platform: string
  /** process.arch. */
  arch: string
  /** process.version. */
  nodeVersion: string
  /** Logical CPUs (os.cpus().length). */
  cpuCount: number
  /** Total memory in bytes (os.totalmem()). */
  totalMemory: number
}

/** Request latency of one label set, as given to recordLatency. */
export interface LabelledLatency {
  /** Label values by label name. */
  labels: Record<string, string>
  /** Its latency over the window. */
  stats: PercentileStats
}

/** Round trips to one peer over the window (recordNetworkRTT). */
export interface NetworkRTT {
  /** The peer, as given. */
  peer: string
  /** Mean round-trip time of the answered probes (ms); NaN when none was answered. */
  latency: number
  /** Mean absolute difference between consecutive answered round trips (ms); NaN below two. */
  jitter: number
  /** Lost probes as a percentage of all probes (0..100). */
  packetLoss: number
  /** Probes, answered and lost. */
  probes: number
}

/** Database queries of one operation over the window (recordDbQuery). */
export interface DbLatency {
  /** The operation, as given (e.g. 'users.select'). */
  operation: string
  /** Queries. */
  count: number
  /** Mean query duration (ms). */
  duration: number
  /** Rows affected, summed. */
  rowsAffected: number
}

/** Calls to one service method with one status over the window (recordServiceCall). */
export interface ServiceLatency {
  /** The service called. */
  service: string
  /** The method called. */
  method: string
  /** The call's status (e.g. 'ok', '503'). */
  status: string
  /** Calls. */
  count: number
  /** Mean call duration (ms). */
  duration: number
}

/**
 * Latency over the collector's window (the last windowSeconds whole seconds of its clock).
 * The legacy networkRTT/dbLatency/serviceLatency were single records; here they are one
 * entry per peer/operation/call, sorted by those keys.
 */
export interface LatencyMetrics {
  /** Every request latency given to recordLatency. */
  requestLatency: PercentileStats
  /** Per label set, for latencies given with labels; sorted by label values. */
  byLabels: LabelledLatency[]
  /** Per peer. */
  networkRTT: NetworkRTT[]
  /** Per operation. */
  dbLatency: DbLatency[]
  /** Per (service, method, status). */
  serviceLatency: ServiceLatency[]
}

/**
 * Throughput. Totals count since the collector was made; rates cover its window
 * (the last windowSeconds whole seconds, divided by windowSeconds).
 */
export interface ThroughputMetrics {
  requests: {
    /** Requests recorded. */
    total: number
    /** Requests recorded with success. */
    successful: number
    /** Requests recorded as failed. */
    failed: number
    /** Requests per second over the window. */
    rps: number
    /** Requests per minute over the window. */
    rpm: number
  }
  data: {
    /** Bytes received. */
    bytesIn: number
    /** Bytes sent. */
    bytesOut: number
    /** Megabits (10^6 bits) per second received over the window. */
    mbpsIn: number
    /** Megabits per second sent over the window. */
    mbpsOut: number
  }
  transactions: {
    /** Transactions finished (committed or rolled back) per second over the window. */
    tps: number
    /** Transactions committed. */
    committed: number
    /** Transactions rolled back. */
    rolledBack: number
    /** Begun minus finished, at least 0. */
    pending: number
  }
  content: {
    /** Uploads. */
    uploads: number
    /** Downloads. */
    downloads: number
    /** Cache hits. */
    cacheHits: number
    /** Cache misses. */
    cacheMisses: number
  }
}

/** CPU figures; null where the source cannot give one. */
export interface CpuMetrics {
  /** Busy time in % (100 - idle). */
  usage: number | null
  /** User time in %. */
  user: number | null
  /** Kernel time in %. */
  system: number | null
  /** Idle time in %. */
  idle: number | null
  /** I/O wait in %. */
  iowait: number | null
  /** Time stolen by the hypervisor in %. */
  steal: number | null
  /** 1, 5 and 15 minute load averages. */
  loadAvg: number[] | null
}

/** Memory figures in bytes; null where the source cannot give one. */
export interface MemoryMetrics {
  /** Used. */
  used: number | null
  /** Free (available). */
  free: number | null
  /** Page cache. */
  cached: number | null
  /** Buffers. */
  buffers: number | null
  /** Swap used. */
  swapUsed: number | null
  /** Swap free. */
  swapFree: number | null
  /** Memory pressure score. */
  pressure: number | null
}

/** Disk figures; null where the source cannot give one. */
export interface DiskMetrics {
  /** Reads per second. */
  readOps: number | null
  /** Writes per second. */
  writeOps: number | null
  /** Bytes read per second. */
  readBytes: number | null
  /** Bytes written per second. */
  writeBytes: number | null
  /** Busy time in % (the legacy code spelt it `utilizaton`). */
  utilization: number | null
  /** Average queue length. */
  queueLength: number | null
}

/** Network figures; null where the source cannot give one. */
export interface NetworkMetrics {
  /** Active connections. */
  connections: number | null
  /** Current bandwidth usage. */
  bandwidth: number | null
  /** Packet counts. */
  packets: {
    in: number | null
    out: number | null
    dropped: number | null
    errors: number | null
  } | null
}

/** Resource utilisation; a whole section is null when its source is not available. */
export interface ResourceMetrics {
  cpu: CpuMetrics | null
  memory: MemoryMetrics | null
  disk: DiskMetrics | null
  network: NetworkMetrics | null
}

/** What collectMetrics returns. */
export interface PerformanceSnapshot {
  /** When it was taken (the collector's clock, ms). */
  timestamp: number
  /** Where it was taken. */
  node: NodeInfo
  /** Latency over the window. */
  latency: LatencyMetrics
  /** Totals and windowed rates. */
  throughput: ThroughputMetrics
  /** Resource utilisation. */
  resources: ResourceMetrics
  /** What each registered collector returned, by its name, in registration order. */
  custom: Record<string, unknown>
}

/**
 * What the analyzer reads: a PerformanceSnapshot or any part of one (missing, null or NaN
 * figures are skipped).
 */
export interface PerformanceMetrics {
  /** When the figures were taken (ms); the analyzer's clock when missing. */
  timestamp?: number
  resources?: {
    cpu?: Partial<CpuMetrics> | null
    memory?: Partial<MemoryMetrics> | null
    disk?: Partial<DiskMetrics> | null
    network?: Partial<NetworkMetrics> | null
  }
  latency?: { requestLatency?: Partial<PercentileStats> }
  throughput?: { requests?: Partial<ThroughputMetrics['requests']> }
}

/** One resource past its threshold. */
export interface Bottleneck {
  /** The resource. */
  type: BottleneckType
  /** How far past the threshold (IO is always HIGH). */
  severity: Severity
  /** What it does (the legacy text). */
  impact: string
  /** What to do (the legacy texts). */
  recommendations: string[]
  /** The figure that crossed the threshold. */
  value: number
  /** The threshold it crossed (80 %, 85 %, queue 10). */
  threshold: number
}

/** How one followed figure has moved over what the analyzer has seen. */
export interface PerformanceTrend {
  /** The figure. */
  metric: AnalyzedFigure
  /**
   * RISING or FALLING by the sign of the fitted slope; STABLE when the fitted change across
   * the span seen is within 5 % of the mean.
   */
  direction: TrendDirection
  /** Least-squares slope in the figure's unit per second. */
  slope: number
  /** Observations it was fitted on. */
  samples: number
}

/** A figure above mean + 3 standard deviations of what the analyzer saw before it. */
export interface Anomaly {
  /** The figure. */
  metric: AnalyzedFigure
  /** Its value now. */
  value: number
  /** mean + 3 * stddev of the earlier observations. */
  threshold: number
  /** Mean of the earlier observations. */
  mean: number
  /** Population standard deviation of the earlier observations. */
  stddev: number
  /** CRITICAL above twice the threshold, else WARNING. */
  severity: AnomalySeverity
  /** When (the metrics' timestamp, ms). */
  timestamp: number
}

/** Room left, assuming load scales linearly with use. */
export interface CapacityAnalysis {
  /** 100 - cpu.usage, or null without a CPU figure. */
  cpuHeadroom: number | null
  /** 100 - memory use %, or null without memory figures. */
  memoryHeadroom: number | null
  /** The resource with the least headroom (CPU on a tie), or null with neither. */
  limitingResource: BottleneckType.CPU | BottleneckType.MEMORY | null
  /** rps * 100 / use % of the limiting resource; null without traffic or use. */
  estimatedMaxRps: number | null
}

/** What analyze returns. */
export interface PerformanceAnalysis {
  /**
   * 0..100: 100, minus 5/10/20/30 per LOW/MEDIUM/HIGH/CRITICAL bottleneck, minus the
   * failed-request percentage (at most 40), clamped at 0.
   */
  health: number
  /** Resources past their thresholds. */
  bottlenecks: Bottleneck[]
  /** Per followed figure with at least two observations at distinct times. */
  trends: PerformanceTrend[]
  /** Followed figures above mean + 3 sigma of earlier observations. */
  anomalies: Anomaly[]
  /** Headroom. */
  capacity: CapacityAnalysis
}

/** What profileOperation measured around a successful operation. */
export interface OperationProfile {
  /** Wall time (ms). */
  duration: number
  /** process.memoryUsage() deltas (bytes; negative when the GC ran). */
  memory: {
    heapUsed: number
    external: number
    arrayBuffers: number
  }
  /** process.cpuUsage() deltas (ms), the whole process's, not the operation's alone. */
  cpu: {
    user: number
    system: number
  }
}

/** What profileOperation resolves to. */
export interface ProfiledResult<T> {
  /** What the operation returned (awaited). */
  result: T
  /** Its measurements. */
  profile: OperationProfile
}

/**
 * What profileOperation rejects with when the operation throws or rejects: a plain object,
 * not an Error (the legacy shape); the operation's error is `error`.
 */
export interface ProfileFailure {
  /** What the operation threw. */
  error: unknown
  /** Wall time until it failed. */
  profile: {
    duration: number
    failed: true
  }
}

/** An error recorded on a transaction. */
export interface TransactionError {
  /** The error's name ('Error' for a non-Error). */
  name: string
  /** Its message (String(error) for a non-Error). */
  message: string
  /** The span it happened in, or null. */
  spanId: string | null
  /** When it was recorded (tracer clock, ms). */
  timestamp: number
}

/** A unit of traced work (startTransaction). */
export interface Transaction {
  /** Unique id (crypto.randomUUID()). */
  id: string
  /** Its name. */
  name: string
  /** Its type (a TransactionType or any string). */
  type: string
  /** Start (tracer clock, ms). */
  startTime: number
  /** End, or null while open. */
  endTime: number | null
  /** Its spans in start order. */
  spans: Span[]
  /** Free-form tags. */
  tags: Record<string, string>
  /** Errors recorded with recordError. */
  errors: TransactionError[]
}

/** A timed step of a transaction (startSpan). */
export interface Span {
  /** Unique id (crypto.randomUUID()). */
  id: string
  /** The transaction's id. */
  transactionId: string
  /** Its name. */
  name: string
  /** Inferred from the name. */
  type: SpanType
  /** Start (tracer clock, ms). */
  startTime: number
  /** End, or null while open. */
  endTime: number | null
  /** endTime - startTime, or null while open. */
  duration: number | null
  /** Free-form tags. */
  tags: Record<string, string>
  /** Where startSpan was called from (the stack below it), or null when not captured. */
  stackTrace: string | null
}

/** Time spent per kind of work in a transaction. */
export interface TransactionBreakdown {
  /** Transaction time covered by none of its spans (ms). */
  self: number
  /** Span time summed per span type (ms); only types that occurred. */
  types: Partial<Record<SpanType, number>>
}

/** Calls to one non-custom span target in a transaction. */
export interface Dependency {
  /** The span type (db, external, cache). */
  type: SpanType
  /** The span name. */
  name: string
  /** Spans with this type and name. */
  calls: number
  /** Their durations summed (ms). */
  duration: number
}

/** What endTransaction returns. */
export interface TransactionMetrics {
  /** The transaction's name. */
  name: string
  /** Its type. */
  type: string
  /** endTime - startTime (ms). */
  duration: number
  /** Spans. */
  spanCount: number
  /** Errors recorded. */
  errorCount: number
  /** Self time and time per span type. */
  breakdown: TransactionBreakdown
  /** calculatePercentiles of the span durations (NaN fields without spans). */
  percentiles: PercentileStats
  /** Non-custom span targets, sorted by type then name. */
  dependencies: Dependency[]
}

/** What recordRequest takes. */
export interface RequestRecord {
  /** Whether the request succeeded (default true). */
  success?: boolean
  /** Bytes received (default 0). */
  bytesIn?: number
  /** Bytes sent (default 0). */
  bytesOut?: number
}

/** A transaction event for recordTransaction. */
export type TransactionEvent = 'begin' | 'commit' | 'rollback'

/** A content operation for recordContent. */
export type ContentOperation = 'upload' | 'download' | 'cacheHit' | 'cacheMiss'

/** Options of PerformanceCollector. */
export interface CollectorOptions {
  /** The clock (default Date.now). */
  now?: () => number
  /**
   * Window of rates and latency figures, whole seconds >= 1 (default 60): the current second
   * of the clock and the ones before it. A clock going back to an earlier second restarts it.
   */
  windowSeconds?: number
  /** Label names recordLatency's labels must have (default none). */
  labelNames?: string[]
}

/** Options of RealtimePerformanceAnalyzer. */
export interface AnalyzerOptions {
  /** The clock for metrics without a timestamp (default Date.now). */
  now?: () => number
  /** Observations kept per followed figure, >= 2 (default 1000). */
  historySize?: number
  /** Earlier observations needed before anomalies are reported, >= 2 (default 10). */
  anomalyMinSamples?: number
}

/** Options of AdvancedProfiler. */
export interface ProfilerOptions {
  /** The clock for durations (default process.hrtime.bigint() in ms). */
  now?: () => number
}

/** Options of APMTransactionTracer. */
export interface TracerOptions {
  /** The clock (default Date.now in the legacy reference). */
  now?: () => number
  /** Whether startSpan records the caller's stack (default true, as the legacy code). */
  captureStackTrace?: boolean
}

/** A custom collector: called by collectMetrics; its value (awaited) goes into `custom`. */
export type MetricCollector = () => unknown
