// metricore/legacy-reference: the TypeScript-era performance API as the old
// system computed it, in plain TypeScript: sorted arrays, Date.now(), process.hrtime,
// process.memoryUsage(), process.cpuUsage() and the os module. It is the reference the
// native implementation (metricore/legacy) is shadow-tested against.

export * from './types'
export type { CodedError } from './errors'
export { calculatePercentiles } from './percentiles'
export { PerformanceCollector } from './collector'
export { RealtimePerformanceAnalyzer, THRESHOLDS, HEALTH_PENALTY } from './analyzer'
export { AdvancedProfiler } from './profiler'
export { APMTransactionTracer } from './tracer'
