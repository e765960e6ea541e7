// Errors shaped like metricore's: a TypeError or RangeError with a stable `code`, the
// message naming what was wrong. The legacy reference throws them only for bad options,
// bad labels and misuse of the tracer; it does not check recorded values (the native
// implementation does).

/** An Error with metricore's `code`. */
export interface CodedError extends Error {
  /** ERR_METRICORE_INVALID_CONFIG, ERR_METRICORE_INVALID_LABELS, ... */
  code: string
}

function coded(Class: new (message: string) => Error, code: string, message: string): CodedError {
  return Object.assign(new Class(message), { code })
}

/** Options that cannot be honoured (RangeError ERR_METRICORE_INVALID_CONFIG). */
export function invalidConfig(message: string): CodedError {
  return coded(RangeError, 'ERR_METRICORE_INVALID_CONFIG', message)
}

/** A value of the wrong type (TypeError ERR_METRICORE_INVALID_TYPE). */
export function invalidType(message: string): CodedError {
  return coded(TypeError, 'ERR_METRICORE_INVALID_TYPE', message)
}

/** Labels that do not match the label names (TypeError ERR_METRICORE_INVALID_LABELS). */
export function invalidLabels(message: string): CodedError {
  return coded(TypeError, 'ERR_METRICORE_INVALID_LABELS', message)
}

/** A value outside what is allowed (RangeError ERR_METRICORE_INVALID_VALUE). */
export function invalidValue(message: string): CodedError {
  return coded(RangeError, 'ERR_METRICORE_INVALID_VALUE', message)
}
