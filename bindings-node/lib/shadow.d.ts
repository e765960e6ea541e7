// Hand-written types for lib/shadow.js: Scientist-style shadow experiments.
import type { Registry } from './index'

/** What one arm did in one run. */
export interface Observation<T = unknown> {
  /** The returned (or resolved) value; passed through `clean` in a published result; undefined when the arm threw. */
  value: T | undefined
  /** What the arm threw (or rejected with); undefined when it returned. */
  error: unknown
  /** Wall time from the call until the arm returned or settled, in milliseconds (process.hrtime.bigint()). */
  durationMs: number
}

/** The outcome of one run, given to `publish`. */
export interface ExperimentResult {
  /** The experiment's name. */
  name: string
  /** The candidate matched the control (by `compare`, or `compareErrors` when both threw). */
  matched: boolean
  /** The candidate did not match, but an `ignore` function accepted the difference. */
  ignored: boolean
  /** The control's observation, value cleaned. */
  control: Observation
  /** The candidate's observation, value cleaned. */
  candidate: Observation
}

/** Thrown (or rejected with) by run() on a mismatch when `raiseOnMismatches` is set. */
export interface MismatchError extends Error {
  code: 'ERR_METRICORE_SHADOW_MISMATCH'
  /** The published result of the mismatching run. */
  result: ExperimentResult
}

export interface ExperimentOptions<Args extends unknown[], R, C = R> {
  /** The experiment's label value in every shadow metric; a non-empty string. */
  name: string
  /** The code in service: its outcome is always what the caller gets. */
  control: (...args: Args) => R
  /** The replacement under test: its result is compared, its exceptions are recorded, never thrown. */
  candidate: (...args: Args) => C
  /** Whether the two (awaited) values match; default node:util isDeepStrictEqual. */
  compare?: (controlValue: Awaited<R>, candidateValue: Awaited<C>) => boolean
  /** Whether the two errors match when both arms threw; default: same constructor and message. */
  compareErrors?: (controlError: unknown, candidateError: unknown) => boolean
  /** Fraction of calls, 0..1, that also run the candidate (default 1). */
  sampleRate?: number
  /** Checked on every call: false runs the control only. A throw counts as false. */
  enabled?: () => boolean
  /** Turns a value into what `publish` and mismatch messages show; compare sees raw values. */
  clean?: (value: Awaited<R> | Awaited<C>) => unknown
  /** A mismatch that any of these returns true for is counted as ignored, not as a mismatch. */
  ignore?: IgnoreFn<R, C> | Array<IgnoreFn<R, C>>
  /** Called with the result of every run that ran the candidate; a throw or rejection is recorded. */
  publish?: (result: ExperimentResult) => unknown
  /** Where the shadow metrics live (default the global `register`). */
  registry?: Registry
  /** Expensive setup for the candidate, called only on calls that run it; a throw skips the candidate. */
  beforeRun?: () => void
  /**
   * Scientist's raised: given each error of the experiment's own functions (operation
   * 'enabled', 'beforeRun', 'compare', 'ignore', 'clean' or 'publish'), after it is counted in
   * metricore_shadow_errors_total. What it throws is dropped.
   */
  onError?: (operation: ShadowOperation, error: unknown) => void
  /** For tests: a mismatch throws (or rejects with) a MismatchError after publishing. */
  raiseOnMismatches?: boolean
  /**
   * Source of uniform numbers in [0, 1) (default Math.random), for deterministic tests. Per call
   * that passes `enabled`: one draw for sampling when 0 < sampleRate < 1 (runs when draw < rate),
   * then one for the order of the arms (candidate first when draw < 0.5).
   */
  random?: () => number
}

/** The experiment's own functions, as the `operation` label of metricore_shadow_errors_total. */
export type ShadowOperation = 'enabled' | 'beforeRun' | 'compare' | 'ignore' | 'clean' | 'publish'

/** An ignore function: given both observations (raw values), true accepts the mismatch. */
export type IgnoreFn<R, C> = (control: Observation<Awaited<R>>, candidate: Observation<Awaited<C>>) => boolean

/**
 * Creates an experiment. The returned function calls the control (and, when the experiment
 * runs, the candidate) with its arguments and `this`, and returns, throws or settles exactly as
 * the control does. When the control returns a thenable, the Promise returned settles after both
 * arms have settled and been compared; when only the candidate is async, the control's value is
 * returned at once and the comparison happens when the candidate settles.
 *
 * Metrics (in `registry`): counters metricore_shadow_runs_total, _mismatches_total,
 * _ignored_total, _candidate_errors_total {experiment}, metricore_shadow_errors_total
 * {experiment, operation}, histogram metricore_shadow_duration_seconds {experiment, arm}.
 */
export declare function experiment<Args extends unknown[], R, C = R>(
  options: ExperimentOptions<Args, R, C>,
): (...args: Args) => R
