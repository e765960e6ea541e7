'use strict'
// Errors made by the JS skin, shaped like the addon's (src/errors.rs): a TypeError or
// RangeError with a stable `code` and a message that begins `metric 'NAME': `.

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

module.exports = { invalidType, invalidConfig }
