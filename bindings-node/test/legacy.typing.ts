// Compiled (never run) by test/legacy.test.js with `tsc --noEmit --strict`: the native
// implementation's types (lib/legacy.d.ts) must offer exactly the legacy reference's public
// API (legacy/src), so that code written against one compiles against the other.
import * as legacy from '../legacy/dist/index'
import * as native from '../lib/legacy'
import { Registry } from '../lib/index'

/** true when A and B are identical (not merely assignable: method parameters are bivariant). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
/** The public members of a class instance (private fields make classes nominal). */
type Public<T> = { [K in keyof T]: T[K] }
/** The native instance's members that the legacy class has. */
type AsLegacy<N, L> = Pick<N, keyof L & keyof N>

function same<A, B>(check: Same<A, B>): void {
  void check
}

same<typeof legacy.calculatePercentiles, typeof native.calculatePercentiles>(true)
same<typeof legacy.THRESHOLDS, typeof native.THRESHOLDS>(true)
same<typeof legacy.HEALTH_PENALTY, typeof native.HEALTH_PENALTY>(true)

same<Public<legacy.PerformanceCollector>, AsLegacy<native.PerformanceCollector, legacy.PerformanceCollector>>(true)
same<Public<legacy.RealtimePerformanceAnalyzer>, AsLegacy<native.RealtimePerformanceAnalyzer, legacy.RealtimePerformanceAnalyzer>>(true)
same<Public<legacy.AdvancedProfiler>, AsLegacy<native.AdvancedProfiler, legacy.AdvancedProfiler>>(true)
same<Public<legacy.APMTransactionTracer>, AsLegacy<native.APMTransactionTracer, legacy.APMTransactionTracer>>(true)

// Every legacy member exists natively; the native classes add only `registry`.
same<keyof legacy.PerformanceCollector, keyof native.PerformanceCollector>(true)
same<keyof legacy.RealtimePerformanceAnalyzer, keyof native.RealtimePerformanceAnalyzer>(true)
same<Exclude<keyof native.AdvancedProfiler, keyof legacy.AdvancedProfiler>, 'registry'>(true)
same<Exclude<keyof native.APMTransactionTracer, keyof legacy.APMTransactionTracer>, 'registry'>(true)

// The legacy options are accepted natively.
same<ConstructorParameters<typeof legacy.PerformanceCollector>, ConstructorParameters<typeof native.PerformanceCollector>>(true)
same<ConstructorParameters<typeof legacy.RealtimePerformanceAnalyzer>, ConstructorParameters<typeof native.RealtimePerformanceAnalyzer>>(true)
const profilerOptions: ConstructorParameters<typeof native.AdvancedProfiler> = [{ now: () => 0 } satisfies legacy.ProfilerOptions]
const tracerOptions: ConstructorParameters<typeof native.APMTransactionTracer> = [{ now: () => 0, captureStackTrace: false } satisfies legacy.TracerOptions]
void profilerOptions
void tracerOptions

// One program, written once, against either implementation.
interface Api {
  calculatePercentiles(values: readonly number[]): legacy.PercentileStats
  collector: Public<legacy.PerformanceCollector>
  analyzer: Public<legacy.RealtimePerformanceAnalyzer>
  profiler: Public<legacy.AdvancedProfiler>
  tracer: Public<legacy.APMTransactionTracer>
}

async function program(api: Api): Promise<number> {
  api.collector.recordLatency(12.5)
  api.collector.recordRequest({ success: false, bytesIn: 10 })
  api.collector.registerCollector('queue', async () => 3)
  const snapshot: legacy.PerformanceSnapshot = await api.collector.collectMetrics()
  const analysis: legacy.PerformanceAnalysis = api.analyzer.analyze(snapshot)
  const critical = analysis.bottlenecks.filter((b) => b.severity === legacy.Severity.CRITICAL && b.type === legacy.BottleneckType.CPU)
  const profiled: legacy.ProfiledResult<string> = await api.profiler.profileOperation(async () => 'done')
  const tx = api.tracer.startTransaction('GET /', legacy.TransactionType.REQUEST)
  api.tracer.endSpan(api.tracer.startSpan(tx, 'SELECT 1'))
  const metrics: legacy.TransactionMetrics = api.tracer.endTransaction(tx)
  const span: legacy.SpanType = api.tracer.inferSpanType('http.get')
  return api.calculatePercentiles([1, 2]).p99 + critical.length + profiled.profile.duration + metrics.breakdown.self + span.length
}

void program({
  calculatePercentiles: legacy.calculatePercentiles,
  collector: new legacy.PerformanceCollector(),
  analyzer: new legacy.RealtimePerformanceAnalyzer(),
  profiler: new legacy.AdvancedProfiler(),
  tracer: new legacy.APMTransactionTracer(),
})
void program({
  calculatePercentiles: native.calculatePercentiles,
  collector: new native.PerformanceCollector({ windowSeconds: 10 }),
  analyzer: new native.RealtimePerformanceAnalyzer({ historySize: 50 }),
  profiler: new native.AdvancedProfiler(),
  tracer: new native.APMTransactionTracer({ registry: new Registry() }),
})

