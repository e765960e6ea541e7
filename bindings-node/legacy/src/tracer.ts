import { randomUUID } from 'node:crypto'
import { invalidType, invalidValue } from './errors'
import { calculatePercentiles } from './percentiles'
import { SpanType } from './types'
import type {
  Dependency,
  Span,
  TracerOptions,
  Transaction,
  TransactionBreakdown,
  TransactionError,
  TransactionMetrics,
  TransactionType,
} from './types'

const DB_SPAN = /^(db[.:]|sql[.: ]|(select|insert|update|delete)\b)/i
const CACHE_SPAN = /^(cache[.:]|redis\b|memcached\b)/i
const EXTERNAL_SPAN = /^(http|grpc)/i

/**
 * The TypeScript-era APMTransactionTracer: transactions made of spans, with endSpan (which the legacy code
 * lacked) and recordError, and per-transaction metrics at endTransaction.
 */
export class APMTransactionTracer {
  private readonly now: () => number
  private readonly captureStackTrace: boolean

  /** Options: `now` (default Date.now), `captureStackTrace` (default true). */
  constructor(options: TracerOptions = {}) {
    const { now = Date.now, captureStackTrace = true } = options
    if (typeof now !== 'function') throw invalidType('APMTransactionTracer: now must be a function')
    this.now = now
    this.captureStackTrace = captureStackTrace
  }

  /** Opens a transaction. */
  startTransaction(name: string, type: TransactionType | string): Transaction {
    if (typeof name !== 'string') throw invalidType(`startTransaction: the name must be a string, not ${typeof name}`)
    if (typeof type !== 'string') throw invalidType(`startTransaction: the type must be a string, not ${typeof type}`)
    return { id: randomUUID(), name, type, startTime: this.now(), endTime: null, spans: [], tags: {}, errors: [] }
  }

  /** Opens a span in an open transaction; its type is inferSpanType(name). */
  startSpan(transaction: Transaction, name: string): Span {
    if (typeof name !== 'string') throw invalidType(`startSpan: the name must be a string, not ${typeof name}`)
    if (transaction.endTime !== null) throw invalidValue(`startSpan: transaction '${transaction.name}' has ended`)
    const span: Span = {
      id: randomUUID(),
      transactionId: transaction.id,
      name,
      type: this.inferSpanType(name),
      startTime: this.now(),
      endTime: null,
      duration: null,
      tags: {},
      stackTrace: this.captureStackTrace ? callerStack(this.startSpan) : null,
    }
    transaction.spans.push(span)
    return span
  }

  /** Ends a span (sets endTime and duration) and returns it; ending it twice is an error. */
  endSpan(span: Span): Span {
    if (span.endTime !== null) throw invalidValue(`endSpan: span '${span.name}' has already ended`)
    span.endTime = this.now()
    span.duration = span.endTime - span.startTime
    return span
  }

  /** Records an error on a transaction (and the span it happened in, if given). */
  recordError(transaction: Transaction, error: unknown, span?: Span): TransactionError {
    const recorded: TransactionError = {
      name: error instanceof Error ? error.name : 'Error',
      message: error instanceof Error ? error.message : String(error),
      spanId: span === undefined ? null : span.id,
      timestamp: this.now(),
    }
    transaction.errors.push(recorded)
    return recorded
  }

  /**
   * Ends a transaction and its still-open spans (at the transaction's end) and returns its
   * metrics. Ending it twice is an error.
   */
  endTransaction(transaction: Transaction): TransactionMetrics {
    if (transaction.endTime !== null) {
      throw invalidValue(`endTransaction: transaction '${transaction.name}' has already ended`)
    }
    const endTime = this.now()
    transaction.endTime = endTime
    for (const span of transaction.spans) {
      if (span.endTime === null) {
        span.endTime = endTime
        span.duration = endTime - span.startTime
      }
    }
    const durations = transaction.spans.map((s) => s.duration as number)
    return {
      name: transaction.name,
      type: transaction.type,
      duration: endTime - transaction.startTime,
      spanCount: transaction.spans.length,
      errorCount: transaction.errors.length,
      breakdown: breakdown(transaction),
      percentiles: calculatePercentiles(durations),
      dependencies: dependencies(transaction.spans),
    }
  }

  /**
   * The span type from its name (case-insensitive): DB for 'db.' / 'db:' / 'sql' prefixes
   * and names starting with SELECT, INSERT, UPDATE or DELETE; CACHE for 'cache.' /
   * 'cache:' / 'redis' / 'memcached'; EXTERNAL for names starting with 'http' or 'grpc';
   * CUSTOM otherwise.
   */
  inferSpanType(name: string): SpanType {
    if (DB_SPAN.test(name)) return SpanType.DB
    if (CACHE_SPAN.test(name)) return SpanType.CACHE
    if (EXTERNAL_SPAN.test(name)) return SpanType.EXTERNAL
    return SpanType.CUSTOM
  }
}

/** The stack below `below` (its caller first), one trimmed frame a line. */
function callerStack(below: (...args: never[]) => unknown): string {
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, below)
  return (holder.stack ?? '').split('\n').slice(1).map((l) => l.trim()).join('\n')
}

/**
 * Span time per type, and self time: the transaction's time covered by none of its spans
 * (spans clipped to the transaction; overlapping spans count once).
 */
function breakdown(transaction: Transaction): TransactionBreakdown {
  const start = transaction.startTime
  const end = transaction.endTime as number
  const types: Partial<Record<SpanType, number>> = {}
  const intervals: Array<[number, number]> = []
  for (const span of transaction.spans) {
    types[span.type] = (types[span.type] ?? 0) + (span.duration as number)
    const from = Math.max(start, span.startTime)
    const to = Math.min(end, span.endTime as number)
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
function dependencies(spans: readonly Span[]): Dependency[] {
  const groups = new Map<string, Dependency>()
  for (const span of spans) {
    if (span.type === SpanType.CUSTOM) continue
    const key = `${span.type}\u0000${span.name}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { type: span.type, name: span.name, calls: 1, duration: span.duration as number })
    else {
      group.calls++
      group.duration += span.duration as number
    }
  }
  return [...groups.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => groups.get(k) as Dependency)
}
