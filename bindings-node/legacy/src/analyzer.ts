import { invalidConfig, invalidType } from './errors'
import {
  AnalyzedFigure,
  AnomalySeverity,
  BottleneckType,
  Severity,
  TrendDirection,
} from './types'
import type {
  AnalyzerOptions,
  Anomaly,
  Bottleneck,
  CapacityAnalysis,
  PerformanceAnalysis,
  PerformanceMetrics,
  PerformanceTrend,
} from './types'

/** The legacy thresholds. */
export const THRESHOLDS = {
  /** cpu.usage above this (%) is a CPU bottleneck; critical from 95. */
  cpuUsage: 80,
  cpuCritical: 95,
  /** memory used / (used + free) above this (%) is a memory bottleneck; critical from 95. */
  memoryUsage: 85,
  memoryCritical: 95,
  /** disk.queueLength above this is an IO bottleneck (always HIGH). */
  diskQueueLength: 10,
} as const

/** Health points taken per bottleneck, by severity. */
export const HEALTH_PENALTY: Readonly<Record<Severity, number>> = {
  [Severity.LOW]: 5,
  [Severity.MEDIUM]: 10,
  [Severity.HIGH]: 20,
  [Severity.CRITICAL]: 30,
}

/** The most health points failed requests take. */
const MAX_ERROR_PENALTY = 40
/** A fitted change within this fraction of the mean is a STABLE trend. */
const STABLE_FRACTION = 0.05

interface Observation {
  t: number
  v: number
}

/** A present figure: a finite number; anything else (missing, null, NaN) is skipped. */
function present(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/** memory used / (used + free) * 100, or null without both figures. */
function memoryUsage(metrics: PerformanceMetrics): number | null {
  const memory = metrics.resources?.memory
  const used = present(memory?.used)
  const free = present(memory?.free)
  if (used === null || free === null || used + free <= 0) return null
  return (used / (used + free)) * 100
}

/** The followed figures present in `metrics`, in AnalyzedFigure order. */
function figures(metrics: PerformanceMetrics): Array<[AnalyzedFigure, number]> {
  const found: Array<[AnalyzedFigure, number | null]> = [
    [AnalyzedFigure.CPU_USAGE, present(metrics.resources?.cpu?.usage)],
    [AnalyzedFigure.MEMORY_USAGE, memoryUsage(metrics)],
    [AnalyzedFigure.DISK_QUEUE, present(metrics.resources?.disk?.queueLength)],
    [AnalyzedFigure.LATENCY_P99, present(metrics.latency?.requestLatency?.p99)],
    [AnalyzedFigure.REQUESTS_PER_SECOND, present(metrics.throughput?.requests?.rps)],
  ]
  return found.filter((f): f is [AnalyzedFigure, number] => f[1] !== null)
}

/**
 * The TypeScript-era RealtimePerformanceAnalyzer: bottlenecks by the legacy thresholds, a health
 * score, and trends and anomalies over the figures it has seen (see AnalyzedFigure).
 * Missing, null or non-finite figures are skipped (the legacy reference does not check
 * their types; the native implementation throws a TypeError for a non-number).
 */
export class RealtimePerformanceAnalyzer {
  private readonly now: () => number
  private readonly historySize: number
  private readonly anomalyMinSamples: number
  private readonly history = new Map<AnalyzedFigure, Observation[]>()

  /** Options: `now`, `historySize` (default 1000), `anomalyMinSamples` (default 10). */
  constructor(options: AnalyzerOptions = {}) {
    const { now = Date.now, historySize = 1000, anomalyMinSamples = 10 } = options
    if (typeof now !== 'function') throw invalidType('RealtimePerformanceAnalyzer: now must be a function')
    if (!Number.isInteger(historySize) || historySize < 2) {
      throw invalidConfig(`RealtimePerformanceAnalyzer: historySize must be a whole number >= 2, not ${historySize}`)
    }
    if (!Number.isInteger(anomalyMinSamples) || anomalyMinSamples < 2 || anomalyMinSamples > historySize) {
      throw invalidConfig(
        `RealtimePerformanceAnalyzer: anomalyMinSamples must be a whole number in 2..historySize, not ${anomalyMinSamples}`,
      )
    }
    this.now = now
    this.historySize = historySize
    this.anomalyMinSamples = anomalyMinSamples
  }

  /**
   * Health, bottlenecks, trends (including these metrics), anomalies (against what was seen
   * before) and capacity; then remembers the metrics' figures (observe).
   */
  analyze(metrics: PerformanceMetrics): PerformanceAnalysis {
    const analysis: PerformanceAnalysis = {
      health: this.calculateHealthScore(metrics),
      bottlenecks: this.detectBottlenecks(metrics),
      trends: this.analyzeTrends(metrics),
      anomalies: this.detectAnomalies(metrics),
      capacity: this.analyzeCapacity(metrics),
    }
    this.observe(metrics)
    return analysis
  }

  /** CPU above 80 %, memory above 85 % and disk queue above 10, with the legacy texts. */
  detectBottlenecks(metrics: PerformanceMetrics): Bottleneck[] {
    const bottlenecks: Bottleneck[] = []
    const cpu = present(metrics.resources?.cpu?.usage)
    if (cpu !== null && cpu > THRESHOLDS.cpuUsage) {
      bottlenecks.push({
        type: BottleneckType.CPU,
        severity: this.calculateSeverity(cpu, THRESHOLDS.cpuUsage, THRESHOLDS.cpuCritical),
        impact: 'High CPU usage may cause request queuing',
        recommendations: ['Scale horizontally', 'Optimize CPU-intensive operations', 'Enable CPU throttling'],
        value: cpu,
        threshold: THRESHOLDS.cpuUsage,
      })
    }
    const memory = memoryUsage(metrics)
    if (memory !== null && memory > THRESHOLDS.memoryUsage) {
      bottlenecks.push({
        type: BottleneckType.MEMORY,
        severity: this.calculateSeverity(memory, THRESHOLDS.memoryUsage, THRESHOLDS.memoryCritical),
        impact: 'High memory usage may cause swapping',
        recommendations: ['Increase memory allocation', 'Optimize memory usage', 'Enable memory limits'],
        value: memory,
        threshold: THRESHOLDS.memoryUsage,
      })
    }
    const queue = present(metrics.resources?.disk?.queueLength)
    if (queue !== null && queue > THRESHOLDS.diskQueueLength) {
      bottlenecks.push({
        type: BottleneckType.IO,
        severity: Severity.HIGH,
        impact: 'High disk queue indicates I/O bottleneck',
        recommendations: ['Use faster storage (SSD)', 'Implement caching', 'Optimize I/O patterns'],
        value: queue,
        threshold: THRESHOLDS.diskQueueLength,
      })
    }
    return bottlenecks
  }

  /**
   * CRITICAL at or above `critical`; below it the span warning..critical is cut in thirds:
   * LOW in the first (and at or below `warning`), MEDIUM in the second, HIGH in the last.
   * For the CPU (80..95): LOW below 85, MEDIUM from 85, HIGH from 90, CRITICAL from 95.
   */
  calculateSeverity(value: number, warning: number, critical: number): Severity {
    if (!(warning < critical)) {
      throw invalidConfig(`calculateSeverity: warning (${warning}) must be below critical (${critical})`)
    }
    if (value >= critical) return Severity.CRITICAL
    const over = 3 * (value - warning)
    const span = critical - warning
    if (over < span) return Severity.LOW
    if (over < 2 * span) return Severity.MEDIUM
    return Severity.HIGH
  }

  /**
   * 100, minus HEALTH_PENALTY per bottleneck, minus the failed share of requests in %
   * (at most 40), kept within 0..100.
   */
  calculateHealthScore(metrics: PerformanceMetrics): number {
    let score = 100
    for (const b of this.detectBottlenecks(metrics)) score -= HEALTH_PENALTY[b.severity]
    const total = present(metrics.throughput?.requests?.total)
    const failed = present(metrics.throughput?.requests?.failed)
    if (total !== null && failed !== null && total > 0) score -= Math.min(MAX_ERROR_PENALTY, (failed / total) * 100)
    return Math.min(100, Math.max(0, score))
  }

  /**
   * Figures above mean + 3 standard deviations (population) of the earlier observations
   * (the legacy rule), once at least anomalyMinSamples were seen. Only highs are anomalies.
   */
  detectAnomalies(metrics: PerformanceMetrics): Anomaly[] {
    const timestamp = this.timestampOf(metrics)
    const anomalies: Anomaly[] = []
    for (const [metric, value] of figures(metrics)) {
      const seen = this.history.get(metric) ?? []
      if (seen.length < this.anomalyMinSamples) continue
      const values = seen.map((o) => o.v)
      const mean = values.reduce((a, b) => a + b, 0) / values.length
      const stddev = Math.sqrt(values.reduce((a, v) => a + (v - mean) * (v - mean), 0) / values.length)
      const threshold = mean + 3 * stddev
      if (value > threshold) {
        const severity = value > 2 * threshold ? AnomalySeverity.CRITICAL : AnomalySeverity.WARNING
        anomalies.push({ metric, value, threshold, mean, stddev, severity, timestamp })
      }
    }
    return anomalies
  }

  /**
   * Least-squares trend of each followed figure over what was seen plus these metrics,
   * for figures with two or more observations at distinct times.
   */
  analyzeTrends(metrics: PerformanceMetrics): PerformanceTrend[] {
    const timestamp = this.timestampOf(metrics)
    const current = new Map(figures(metrics))
    const trends: PerformanceTrend[] = []
    for (const metric of Object.values(AnalyzedFigure)) {
      const points = (this.history.get(metric) ?? []).slice()
      const now = current.get(metric)
      if (now !== undefined) points.push({ t: timestamp, v: now })
      const trend = fitTrend(metric, points)
      if (trend !== null) trends.push(trend)
    }
    return trends
  }

  /** Headroom of CPU and memory and the request rate they would allow. */
  analyzeCapacity(metrics: PerformanceMetrics): CapacityAnalysis {
    const cpu = present(metrics.resources?.cpu?.usage)
    const memory = memoryUsage(metrics)
    const cpuHeadroom = cpu === null ? null : 100 - cpu
    const memoryHeadroom = memory === null ? null : 100 - memory
    let limitingResource: CapacityAnalysis['limitingResource'] = null
    let use: number | null = null
    if (cpu !== null && (memory === null || (cpuHeadroom as number) <= (memoryHeadroom as number))) {
      limitingResource = BottleneckType.CPU
      use = cpu
    } else if (memory !== null) {
      limitingResource = BottleneckType.MEMORY
      use = memory
    }
    const rps = present(metrics.throughput?.requests?.rps)
    const estimatedMaxRps = use !== null && use > 0 && rps !== null && rps > 0 ? (rps * 100) / use : null
    return { cpuHeadroom, memoryHeadroom, limitingResource, estimatedMaxRps }
  }

  /** Remembers the followed figures of `metrics` (the oldest go past historySize). */
  observe(metrics: PerformanceMetrics): void {
    const t = this.timestampOf(metrics)
    for (const [metric, v] of figures(metrics)) {
      let seen = this.history.get(metric)
      if (seen === undefined) this.history.set(metric, (seen = []))
      seen.push({ t, v })
      if (seen.length > this.historySize) seen.shift()
    }
  }

  private timestampOf(metrics: PerformanceMetrics): number {
    return present(metrics.timestamp) ?? this.now()
  }
}

/** The least-squares line through (t seconds, v); null below two distinct times. */
function fitTrend(metric: AnalyzedFigure, points: readonly Observation[]): PerformanceTrend | null {
  if (points.length < 2) return null
  const n = points.length
  // Centred sums: epoch seconds squared would swamp the differences.
  const tMean = points.reduce((a, p) => a + p.t / 1000, 0) / n
  const vMean = points.reduce((a, p) => a + p.v, 0) / n
  let sxx = 0
  let sxy = 0
  let tMin = Infinity
  let tMax = -Infinity
  for (const p of points) {
    const dt = p.t / 1000 - tMean
    sxx += dt * dt
    sxy += dt * (p.v - vMean)
    tMin = Math.min(tMin, p.t / 1000)
    tMax = Math.max(tMax, p.t / 1000)
  }
  if (sxx === 0) return null
  const slope = sxy / sxx
  const change = slope * (tMax - tMin)
  let direction = TrendDirection.STABLE
  if (Math.abs(change) > STABLE_FRACTION * Math.abs(vMean)) direction = slope > 0 ? TrendDirection.RISING : TrendDirection.FALLING
  return { metric, direction, slope, samples: n }
}
