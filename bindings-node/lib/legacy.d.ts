// Types of metricore/legacy (lib/legacy.js): the TypeScript-era performance API on the
// native core. The shapes are the legacy reference's (legacy/src/types.ts, the contract of
// both implementations); test/legacy.typing.ts checks that the two stay the same.
import type {
  AnalyzerOptions,
  Anomaly,
  Bottleneck,
  CapacityAnalysis,
  CollectorOptions,
  ContentOperation,
  MetricCollector,
  PercentileStats,
  PerformanceAnalysis,
  PerformanceMetrics,
  PerformanceSnapshot,
  PerformanceTrend,
  ProfiledResult,
  ProfilerOptions,
  RequestRecord,
  Span,
  TracerOptions,
  Transaction,
  TransactionError,
  TransactionEvent,
  TransactionMetrics,
  TransactionType,
} from '../legacy/dist/types'
import { Severity, SpanType } from '../legacy/dist/types'
import type { Registry } from './index'

export * from '../legacy/dist/types'

/** The longest duration (ms) the native histograms hold: one week. Longer is a RangeError. */
export declare const HIGHEST_MS: number

/** The legacy bottleneck thresholds. */
export declare const THRESHOLDS: {
  /** cpu.usage above this (%) is a CPU bottleneck. */
  readonly cpuUsage: 80
  /** cpu.usage from which it is CRITICAL. */
  readonly cpuCritical: 95
  /** memory used / (used + free) above this (%) is a memory bottleneck. */
  readonly memoryUsage: 85
  /** Memory use from which it is CRITICAL. */
  readonly memoryCritical: 95
  /** disk.queueLength above this is an IO bottleneck (always HIGH). */
  readonly diskQueueLength: 10
}

/** Health points taken per bottleneck, by severity (5, 10, 20, 30). */
export declare const HEALTH_PENALTY: Readonly<Record<Severity, number>>

/**
 * min, max, avg (exact) and nearest-rank p50/p95/p99/p999 (HDR histogram, relative error
 * below 1e-3, clamped to [min, max]) of durations in ms; `values` is not modified. No
 * values: every field is NaN. A non-array or non-number is a TypeError
 * ERR_METRICORE_INVALID_TYPE; NaN, a negative or more than HIGHEST_MS a RangeError
 * ERR_METRICORE_INVALID_VALUE.
 */
export declare function calculatePercentiles(values: readonly number[]): PercentileStats

/**
 * The TypeScript-era PerformanceCollector: windowed latency (HDR histograms) and rates, totals
 * (counters) and resources (the sampler of its private registry). Durations must be
 * 0..HIGHEST_MS ms and byte, row and content counts whole numbers >= 0: anything else is a
 * TypeError/RangeError with a `code`, and nothing is recorded.
 */
export declare class PerformanceCollector {
  /** Options: `now` (clock, default Date.now), `windowSeconds` (default 60), `labelNames`. */
  constructor(options?: CollectorOptions)
  /** Records a request latency (ms), with labels matching labelNames if given. */
  recordLatency(ms: number, labels?: Record<string, string | number | boolean>): void
  /** Records a request: whether it succeeded and the bytes it moved. */
  recordRequest(request?: RequestRecord): void
  /** Records a transaction beginning, committing or rolling back. */
  recordTransaction(event: TransactionEvent): void
  /** Counts `count` (default 1) uploads, downloads, cache hits or cache misses. */
  recordContent(operation: ContentOperation, count?: number): void
  /** Records a round trip to `peer` (ms), or a lost probe when `rttMs` is null. */
  recordNetworkRTT(peer: string, rttMs: number | null): void
  /** Records a database query of `operation` taking `ms` and affecting `rowsAffected` rows. */
  recordDbQuery(operation: string, ms: number, rowsAffected?: number): void
  /** Records a call to `service`.`method` taking `ms` and ending with `status`. */
  recordServiceCall(service: string, method: string, ms: number, status: string | number): void
  /** Adds a custom collector; its (awaited) value appears as `custom[name]`. Names are unique. */
  registerCollector(name: string, collector: MetricCollector): void
  /** Removes a custom collector; returns whether there was one. */
  unregisterCollector(name: string): boolean
  /** A snapshot; rejects with the first custom collector error. */
  collectMetrics(): Promise<PerformanceSnapshot>
}

/**
 * The TypeScript-era RealtimePerformanceAnalyzer. A present figure that is not a number is a
 * TypeError ERR_METRICORE_INVALID_TYPE; missing, null and non-finite figures are skipped.
 */
export declare class RealtimePerformanceAnalyzer {
  /** Options: `now`, `historySize` (default 1000), `anomalyMinSamples` (default 10). */
  constructor(options?: AnalyzerOptions)
  /** Health, bottlenecks, trends, anomalies and capacity; then observe(metrics). */
  analyze(metrics: PerformanceMetrics): PerformanceAnalysis
  /** CPU above 80 %, memory above 85 % and disk queue above 10, with the legacy texts. */
  detectBottlenecks(metrics: PerformanceMetrics): Bottleneck[]
  /** CRITICAL at or above `critical`; below, thirds of warning..critical: LOW, MEDIUM, HIGH. */
  calculateSeverity(value: number, warning: number, critical: number): Severity
  /** 100 minus bottleneck penalties and the failed-request percentage (at most 40), within 0..100. */
  calculateHealthScore(metrics: PerformanceMetrics): number
  /** Figures above mean + 3 sigma of the earlier observations. */
  detectAnomalies(metrics: PerformanceMetrics): Anomaly[]
  /** Least-squares trends over what was seen plus these metrics. */
  analyzeTrends(metrics: PerformanceMetrics): PerformanceTrend[]
  /** CPU and memory headroom and the request rate they would allow. */
  analyzeCapacity(metrics: PerformanceMetrics): CapacityAnalysis
  /** Remembers the followed figures of `metrics`. */
  observe(metrics: PerformanceMetrics): void
}

/** Options of the native AdvancedProfiler. */
export interface NativeProfilerOptions extends ProfilerOptions {
  /** Where profiled_operation_duration_seconds{outcome} goes (default a private registry). */
  registry?: Registry
}

/** The TypeScript-era AdvancedProfiler; durations also go into profiled_operation_duration_seconds. */
export declare class AdvancedProfiler {
  /** Options: `now` (default process.hrtime.bigint() in ms), `registry`. */
  constructor(options?: NativeProfilerOptions)
  /** The registry holding profiled_operation_duration_seconds. */
  readonly registry: Registry
  /**
   * Runs `operation` (sync or async); resolves to {result, profile}. On failure rejects with
   * a plain ProfileFailure {error, profile: {duration, failed: true}}, not an Error.
   */
  profileOperation<T>(operation: () => T | PromiseLike<T>): Promise<ProfiledResult<Awaited<T>>>
}

/** Options of the native APMTransactionTracer. */
export interface NativeTracerOptions extends TracerOptions {
  /** Where apm_transaction_duration_seconds and apm_span_duration_seconds go (default a private registry). */
  registry?: Registry
}

/**
 * The TypeScript-era APMTransactionTracer. Durations also go into
 * apm_transaction_duration_seconds{transaction,type} and apm_span_duration_seconds{type}.
 * Objects of another tracer are a TypeError; a backwards clock a RangeError.
 */
export declare class APMTransactionTracer {
  /** Options: `now` (default performance.timeOrigin + performance.now()), `captureStackTrace`, `registry`. */
  constructor(options?: NativeTracerOptions)
  /** The registry holding the transaction and span histograms. */
  readonly registry: Registry
  /** Opens a transaction. */
  startTransaction(name: string, type: TransactionType | string): Transaction
  /** Opens a span in an open transaction. */
  startSpan(transaction: Transaction, name: string): Span
  /** Ends a span and returns it; ending it twice is a RangeError. */
  endSpan(span: Span): Span
  /** Records an error on a transaction (and the span it happened in, if given). */
  recordError(transaction: Transaction, error: unknown, span?: Span): TransactionError
  /** Ends a transaction and its open spans and returns its metrics. */
  endTransaction(transaction: Transaction): TransactionMetrics
  /** The span type from its name (db / cache / external / custom). */
  inferSpanType(name: string): SpanType
}
