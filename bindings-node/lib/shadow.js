'use strict'
// Shadow testing in the manner of GitHub's Scientist: every call runs the control (the code
// in service) and, when the experiment runs, a candidate (its replacement) with the same
// arguments, in random order; the caller only ever sees the control's outcome, while matches,
// mismatches, errors and durations become metricore metrics and an optional published result.

const { isDeepStrictEqual, inspect } = require('node:util')
const { Registry, register, Counter, Histogram } = require('./index.js')

const ARM_CONTROL = 'control'
const ARM_CANDIDATE = 'candidate'

// Durations of shadowed calls range from microseconds (pure functions) to seconds (I/O).
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

// One family per metric and registry, shared by every experiment through the `experiment` label.
const METRICS = [
  { key: 'runs', Class: Counter, name: 'metricore_shadow_runs_total',
    help: 'Calls that ran both the control and the candidate.', labelNames: ['experiment'] },
  { key: 'mismatches', Class: Counter, name: 'metricore_shadow_mismatches_total',
    help: 'Runs whose candidate did not match the control.', labelNames: ['experiment'] },
  { key: 'ignored', Class: Counter, name: 'metricore_shadow_ignored_total',
    help: 'Mismatches that an ignore function accepted.', labelNames: ['experiment'] },
  { key: 'candidateErrors', Class: Counter, name: 'metricore_shadow_candidate_errors_total',
    help: 'Runs whose candidate threw or rejected.', labelNames: ['experiment'] },
  { key: 'errors', Class: Counter, name: 'metricore_shadow_errors_total',
    help: 'Errors thrown by an experiment\'s own functions (compare, clean, ignore, publish, ...).',
    labelNames: ['experiment', 'operation'] },
  { key: 'duration', Class: Histogram, name: 'metricore_shadow_duration_seconds',
    help: 'Duration of each arm of an experiment run.', labelNames: ['experiment', 'arm'],
    buckets: DURATION_BUCKETS },
]

const FUNCTION_OPTIONS = ['compare', 'compareErrors', 'enabled', 'clean', 'publish', 'beforeRun', 'onError', 'random']

function experimentError(Class, code, name, rule) {
  const err = new Class(name === undefined ? `experiment: ${rule}` : `experiment '${name}': ${rule}`)
  err.code = code
  return err
}

const invalidType = (name, rule) => experimentError(TypeError, 'ERR_METRICORE_INVALID_TYPE', name, rule)
const invalidConfig = (name, rule) => experimentError(RangeError, 'ERR_METRICORE_INVALID_CONFIG', name, rule)

/** The shadow metrics in a registry, created on first use (and again after registry.clear()). */
function shadowMetrics(registry, experimentName) {
  const found = {}
  for (const { key, Class, name, help, labelNames, buckets } of METRICS) {
    let metric = registry.getSingleMetric(name)
    if (metric === undefined) {
      metric = new Class({ name, help, labelNames, buckets, registers: [registry] })
    } else if (!(metric instanceof Class) || !isDeepStrictEqual(metric.labelNames, labelNames)) {
      throw invalidConfig(experimentName,
        `the registry already holds a metric '${name}' that is not a ${Class.name} labelled ${labelNames.join(', ')}`)
    }
    found[key] = metric
  }
  return found
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function'
}

/** Scientist's default error comparison: same class and message. */
function sameError(a, b) {
  if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
    return a.constructor === b.constructor && a.message === b.message
  }
  return isDeepStrictEqual(a, b)
}

function elapsedMs(begin) {
  return Number(process.hrtime.bigint() - begin) / 1e6
}

/**
 * Starts one arm. Returns its observation ({value, error, threw, durationMs}) when the arm is
 * synchronous, or a Promise of it (never rejecting) when the arm returned a thenable.
 */
function startArm(fn, thisArg, args) {
  const begin = process.hrtime.bigint()
  let value
  try {
    value = fn.apply(thisArg, args)
  } catch (error) {
    return { value: undefined, error, threw: true, durationMs: elapsedMs(begin) }
  }
  if (!isThenable(value)) return { value, error: undefined, threw: false, durationMs: elapsedMs(begin) }
  return Promise.resolve(value).then(
    (settled) => ({ value: settled, error: undefined, threw: false, durationMs: elapsedMs(begin) }),
    (error) => ({ value: undefined, error, threw: true, durationMs: elapsedMs(begin) }),
  )
}

/** The observation shape given to ignore functions and publish: {value, error, durationMs}. */
function publicObservation(observation, value = observation.value) {
  return { value, error: observation.error, durationMs: observation.durationMs }
}

/** An arm's outcome for a mismatch message: `returned <cleaned value>` or `threw <error>`. */
function describe(published, threw) {
  const shown = inspect(threw ? published.error : published.value,
    { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 100 })
  const text = shown.length > 200 ? `${shown.slice(0, 200)}...` : shown
  return `${threw ? 'threw' : 'returned'} ${text}`
}

function validate(options) {
  if (options === null || typeof options !== 'object') {
    throw invalidType(undefined, 'the options must be an object')
  }
  const { name, control, candidate, sampleRate, ignore, registry, raiseOnMismatches } = options
  if (typeof name !== 'string') throw invalidType(undefined, `name must be a string, not ${typeof name}`)
  if (name === '') throw invalidConfig(undefined, 'name must not be empty (it is the experiment label value)')
  if (typeof control !== 'function') throw invalidType(name, 'control must be a function')
  if (typeof candidate !== 'function') throw invalidType(name, 'candidate must be a function')
  for (const key of FUNCTION_OPTIONS) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw invalidType(name, `${key} must be a function, not ${typeof options[key]}`)
    }
  }
  if (ignore !== undefined && typeof ignore !== 'function' &&
      !(Array.isArray(ignore) && ignore.every((fn) => typeof fn === 'function'))) {
    throw invalidType(name, 'ignore must be a function or an array of functions')
  }
  if (sampleRate !== undefined) {
    if (typeof sampleRate !== 'number') throw invalidType(name, `sampleRate must be a number, not ${typeof sampleRate}`)
    if (!(sampleRate >= 0 && sampleRate <= 1)) throw invalidConfig(name, `sampleRate must be in [0, 1], not ${sampleRate}`)
  }
  if (registry !== undefined && !(registry instanceof Registry)) {
    throw invalidType(name, 'registry must be a metricore Registry')
  }
  if (raiseOnMismatches !== undefined && typeof raiseOnMismatches !== 'boolean') {
    throw invalidType(name, `raiseOnMismatches must be a boolean, not ${typeof raiseOnMismatches}`)
  }
}

/**
 * Creates an experiment: returns `run(...args)`, which returns (or throws, or settles as) what
 * `options.control` does, and when the experiment runs also calls `options.candidate` with the
 * same arguments and `this`, compares the two, records metrics and publishes the result.
 * See shadow.d.ts for each option.
 */
function experiment(options) {
  validate(options)
  const {
    name, control, candidate,
    compare = isDeepStrictEqual,
    compareErrors = sameError,
    sampleRate = 1,
    enabled, beforeRun, clean, publish, onError,
    raiseOnMismatches = false,
    random = Math.random,
  } = options
  const ignores = options.ignore === undefined ? [] : [].concat(options.ignore)
  const registry = options.registry === undefined ? register : options.registry
  const metrics = shadowMetrics(registry, name)
  // Created now so a clean experiment shows 0 rather than no series at all.
  for (const key of ['runs', 'mismatches', 'ignored', 'candidateErrors']) metrics[key].labels(name)
  const series = { experiment: name }

  /** Counts an error of one of the experiment's own functions and hands it to onError (Scientist's raised). */
  function recordError(operation, error) {
    shadowMetrics(registry, name).errors.inc({ experiment: name, operation })
    if (onError === undefined) return
    try {
      onError(operation, error)
    } catch {
      // The last resort has failed too; the count above is all that can be kept.
    }
  }

  /** Calls an experiment's own predicate; a throw (or an async predicate) is recorded and gives false. */
  function predicate(operation, fn, ...args) {
    let verdict
    try {
      verdict = fn(...args)
    } catch (error) {
      recordError(operation, error)
      return false
    }
    if (isThenable(verdict)) {
      // An async predicate cannot decide in time: counted as an error, its outcome dropped.
      Promise.resolve(verdict).catch(() => {})
      recordError(operation, invalidType(name, `${operation} must return a boolean, not a Promise`))
      return false
    }
    return Boolean(verdict)
  }

  function shouldRun() {
    if (enabled !== undefined && !predicate('enabled', enabled)) return false
    if (sampleRate < 1 && !(sampleRate > 0 && random() < sampleRate)) return false
    if (beforeRun !== undefined) {
      try {
        beforeRun()
      } catch (error) {
        recordError('beforeRun', error)
        return false
      }
    }
    return true
  }

  function equivalent(controlObs, candidateObs) {
    if (controlObs.threw !== candidateObs.threw) return false
    if (controlObs.threw) return predicate('compare', compareErrors, controlObs.error, candidateObs.error)
    return predicate('compare', compare, controlObs.value, candidateObs.value)
  }

  function cleaned(observation) {
    let value = observation.value
    if (clean !== undefined && !observation.threw) {
      try {
        value = clean(value)
      } catch (error) {
        recordError('clean', error)
      }
    }
    return publicObservation(observation, value)
  }

  /** Compares both observations, records the metrics, publishes; throws only for raiseOnMismatches. */
  function conclude(controlObs, candidateObs) {
    const matched = equivalent(controlObs, candidateObs)
    const ignored = !matched && ignores.some((fn) => predicate('ignore', fn, publicObservation(controlObs),
      publicObservation(candidateObs)))
    const m = shadowMetrics(registry, name)
    m.runs.inc(series)
    m.duration.observe({ experiment: name, arm: ARM_CONTROL }, controlObs.durationMs / 1000)
    m.duration.observe({ experiment: name, arm: ARM_CANDIDATE }, candidateObs.durationMs / 1000)
    if (candidateObs.threw) m.candidateErrors.inc(series)
    if (ignored) m.ignored.inc(series)
    else if (!matched) m.mismatches.inc(series)
    const mismatched = !matched && !ignored
    if (publish === undefined && !(raiseOnMismatches && mismatched)) return
    const result = { name, matched, ignored, control: cleaned(controlObs), candidate: cleaned(candidateObs) }
    if (publish !== undefined) {
      try {
        const published = publish(result)
        if (isThenable(published)) Promise.resolve(published).catch((error) => recordError('publish', error))
      } catch (error) {
        recordError('publish', error)
      }
    }
    if (raiseOnMismatches && mismatched) {
      const err = new Error(`experiment '${name}': the candidate did not match the control ` +
        `(control ${describe(result.control, controlObs.threw)}, candidate ${describe(result.candidate, candidateObs.threw)})`)
      err.code = 'ERR_METRICORE_SHADOW_MISMATCH'
      err.result = result
      throw err
    }
  }

  /** Runs the control, and the candidate when the experiment runs; the caller sees only the control. */
  function run(...args) {
    if (!shouldRun()) return control.apply(this, args)
    let controlObs
    let candidateObs
    if (random() < 0.5) {
      candidateObs = startArm(candidate, this, args)
      controlObs = startArm(control, this, args)
    } else {
      controlObs = startArm(control, this, args)
      candidateObs = startArm(candidate, this, args)
    }
    if (controlObs instanceof Promise) {
      return Promise.all([controlObs, candidateObs]).then(([c, k]) => {
        conclude(c, k)
        if (c.threw) throw c.error
        return c.value
      })
    }
    if (candidateObs instanceof Promise) {
      // The caller already has the control's outcome; a raised mismatch here is an unhandled rejection.
      candidateObs.then((k) => conclude(controlObs, k))
    } else {
      conclude(controlObs, candidateObs)
    }
    if (controlObs.threw) throw controlObs.error
    return controlObs.value
  }

  return run
}

module.exports = { experiment }
