'use strict'
// Errors made by the JS skin, shaped like the addon's (src/errors.rs): a TypeError or
// RangeError with a stable `code` and a message that begins `metric 'NAME': `.
//
// Where prom-client throws, the skin throws what prom-client throws (its class and its
// message, which users' snapshots and log matchers hold), with metricore's `code` and the
// metric's name in `metric` added.

function metricError(Class, code, metric, rule) {
  const err = new Class(metric === undefined ? rule : `metric '${metric}': ${rule}`)
  err.code = code
  return err
}

/** A value of the wrong JavaScript type (a string given to inc(), labels that are not an object). */
function invalidType(metric, rule) {
  return metricError(TypeError, 'ERR_METRICORE_INVALID_TYPE', metric, rule)
}

/** Options metricore cannot honour. */
function invalidConfig(metric, rule) {
  return metricError(RangeError, 'ERR_METRICORE_INVALID_CONFIG', metric, rule)
}

/** prom-client's error: its class and message, with metricore's `code` and the metric's name. */
function promClientError(Class, code, metric, message) {
  const err = new Class(message)
  err.code = code
  if (metric !== undefined) err.metric = metric
  return err
}

module.exports = { invalidType, invalidConfig, promClientError }
