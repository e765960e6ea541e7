//! The one place that maps the core's [`ErrorKind`] to JavaScript errors.
//!
//! Every error metricore throws is a `TypeError` or a `RangeError` (so code that catches
//! the builtin classes keeps working) with a stable `code` string, so callers can branch
//! without parsing the message:
//!
//! | core kind                   | JS class     | `code`                          |
//! |-----------------------------|--------------|---------------------------------|
//! | `InvalidName`               | `TypeError`  | `ERR_METRICORE_INVALID_NAME`    |
//! | `InvalidLabels`             | `TypeError`  | `ERR_METRICORE_INVALID_LABELS`  |
//! | `Conflict`                  | `TypeError`  | `ERR_METRICORE_CONFLICT`        |
//! | `InvalidValue`              | `RangeError` | `ERR_METRICORE_INVALID_VALUE`   |
//! | `InvalidConfig`             | `RangeError` | `ERR_METRICORE_INVALID_CONFIG`  |
//! | `InvalidExemplar`           | `TypeError`  | `ERR_METRICORE_INVALID_EXEMPLAR`|
//! | `CorruptBlob` (and later)   | `TypeError`  | `ERR_METRICORE_CORRUPT_BLOB`    |
//! | `CollectorFailed`           | `TypeError`  | `ERR_METRICORE_COLLECTOR_FAILED`|
//!
//! The JS skin (`lib/errors.js`) adds `ERR_METRICORE_INVALID_TYPE` (a `TypeError`) for
//! arguments of the wrong JavaScript type, checked before the native call. Messages are the
//! core's: `metric 'NAME': RULE`.
//!
//! A function that can fail takes the `Env`, throws the JS error itself (made with its
//! `code` set), and returns
//! `Status::PendingException`, which the generated glue passes through untouched.

use metricore::{Error as CoreError, ErrorKind};
use napi::bindgen_prelude::Unknown;
use std::collections::HashMap;

use napi::{Env, Error, JsRangeError, JsTypeError, Status};
use napi_derive::napi;

/// The JS class an error is thrown as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Type,
    Range,
}

/// The stable `code` and JS class of a core error kind.
fn describe(kind: ErrorKind) -> (&'static str, Class) {
    match kind {
        ErrorKind::InvalidName => ("ERR_METRICORE_INVALID_NAME", Class::Type),
        ErrorKind::InvalidLabels => ("ERR_METRICORE_INVALID_LABELS", Class::Type),
        ErrorKind::Conflict => ("ERR_METRICORE_CONFLICT", Class::Type),
        ErrorKind::InvalidValue => ("ERR_METRICORE_INVALID_VALUE", Class::Range),
        ErrorKind::InvalidConfig => ("ERR_METRICORE_INVALID_CONFIG", Class::Range),
        ErrorKind::InvalidExemplar => ("ERR_METRICORE_INVALID_EXEMPLAR", Class::Type),
        ErrorKind::CollectorFailed => ("ERR_METRICORE_COLLECTOR_FAILED", Class::Type),
        // CorruptBlob, and a kind added to the core later than this binding (reported as the
        // closest existing code; the message still says what happened).
        _ => ("ERR_METRICORE_CORRUPT_BLOB", Class::Type),
    }
}

/// Every core error kind this binding knows, by its name in the core.
const KINDS: [(&str, ErrorKind); 8] = [
    ("InvalidName", ErrorKind::InvalidName),
    ("InvalidLabels", ErrorKind::InvalidLabels),
    ("Conflict", ErrorKind::Conflict),
    ("InvalidValue", ErrorKind::InvalidValue),
    ("InvalidConfig", ErrorKind::InvalidConfig),
    ("InvalidExemplar", ErrorKind::InvalidExemplar),
    ("CorruptBlob", ErrorKind::CorruptBlob),
    ("CollectorFailed", ErrorKind::CollectorFailed),
];

/// How errors of one core kind are thrown.
#[napi(object)]
pub struct ErrorCode {
    /// The stable `code` property, `ERR_METRICORE_...`.
    pub code: String,
    /// `'TypeError'` or `'RangeError'`.
    pub class: String,
}

/// The `code` and class each core error kind is thrown with, by the kind's name: the table
/// callers can branch on without parsing messages.
#[napi(catch_unwind)]
pub fn error_codes() -> HashMap<String, ErrorCode> {
    KINDS
        .iter()
        .map(|&(name, kind)| {
            let (code, class) = describe(kind);
            let class = match class {
                Class::Type => "TypeError",
                Class::Range => "RangeError",
            };
            let code = ErrorCode {
                code: code.to_owned(),
                class: class.to_owned(),
            };
            (name.to_owned(), code)
        })
        .collect()
}

/// The JS error for `kind` as a value: a `TypeError` or `RangeError` whose `code` is the
/// kind's. Made from the strings with their lengths, so a message that quotes a name
/// holding NUL keeps its class and code.
fn error_value<'env>(env: Env, kind: ErrorKind, metric: Option<&str>, rule: &str) -> Unknown<'env> {
    let (code, class) = describe(kind);
    let error = Error::new(code, message(metric, rule));
    match class {
        Class::Type => JsTypeError::from(error).into_unknown(env),
        Class::Range => JsRangeError::from(error).into_unknown(env),
    }
}

/// Throws the JS error for `kind` on `env` and returns the error that tells the generated
/// glue an exception is already pending.
pub fn throw(env: Env, kind: ErrorKind, metric: Option<&str>, rule: &str) -> Error {
    match env.throw(error_value(env, kind, metric, rule)) {
        Ok(()) => Error::from_status(Status::PendingException),
        // The env could not throw (it is tearing down): hand back a plain error instead.
        Err(_) => Error::new(
            Status::GenericFailure,
            format!("{}: {}", describe(kind).0, message(metric, rule)),
        ),
    }
}

fn message(metric: Option<&str>, rule: &str) -> String {
    match metric {
        Some(m) => format!("metric '{m}': {rule}"),
        None => rule.to_owned(),
    }
}

/// The JS error for a core error as a value, not thrown: what a Promise-returning task
/// rejects with (its `reject` runs on the JS thread, where the error object can be made).
pub fn rejection(env: Env, e: &CoreError) -> Error {
    Error::from(error_value(env, e.kind(), e.metric(), e.rule()))
}

/// Throws the JS error for a core error.
pub fn core_error(env: Env, e: &CoreError) -> Error {
    throw(env, e.kind(), e.metric(), e.rule())
}

/// `?`-friendly conversion of core results into thrown JS errors.
pub trait OrThrow<T> {
    /// Maps a core error to its JS error, thrown on `env`.
    ///
    /// # Errors
    /// The pending-exception marker, when `self` is an error.
    fn or_throw(self, env: Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for metricore::Result<T> {
    #[inline]
    fn or_throw(self, env: Env) -> napi::Result<T> {
        self.map_err(|e| core_error(env, &e))
    }
}
