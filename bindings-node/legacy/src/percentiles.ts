import type { PercentileStats } from './types'

/** The quantiles PercentileStats reports, by field. */
export const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99, p999: 0.999 } as const

/**
 * min, max, avg and nearest-rank p50/p95/p99/p999 of `values` (ms). The input is not
 * modified (the legacy code sorted the caller's array in place). No values: every field is NaN.
 * The legacy reference does not check the values: negatives are summarised like any other
 * number, and NaN makes the result meaningless (the native implementation throws for both).
 */
export function calculatePercentiles(values: readonly number[]): PercentileStats {
  if (values.length === 0) {
    return { min: NaN, max: NaN, avg: NaN, p50: NaN, p95: NaN, p99: NaN, p999: NaN }
  }
  const sorted = values.slice().sort((a, b) => a - b)
  let sum = 0
  for (const v of values) sum += v
  return {
    min: sorted[0],
    max: sorted[sorted.length - 1],
    avg: sum / values.length,
    p50: nearestRank(sorted, QUANTILES.p50),
    p95: nearestRank(sorted, QUANTILES.p95),
    p99: nearestRank(sorted, QUANTILES.p99),
    p999: nearestRank(sorted, QUANTILES.p999),
  }
}

/** The smallest sample with at least q * n samples <= it: sorted[ceil(q * n) - 1]. */
function nearestRank(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length))
  return sorted[rank - 1]
}
