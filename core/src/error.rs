//! The one error type. Every variant names the metric it concerns and the
//! rule that was broken, so a message can be shown to a user as it is.

use std::fmt;

/// What kind of mistake an [`Error`] reports; bindings map these to their
/// own exception classes and error codes, which therefore never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A metric, label or unit name breaks the Prometheus naming rules.
    InvalidName,
    /// Label values do not match the family's label names (count, unknown or missing names).
    InvalidLabels,
    /// A name is already registered with a different shape.
    Conflict,
    /// A recorded value is not allowed (NaN, negative, infinite, wrong unit).
    InvalidValue,
    /// Options are inconsistent (histogram range, bucket bounds, window, limits).
    InvalidConfig,
    /// An exemplar breaks the OpenMetrics exemplar rules.
    InvalidExemplar,
    /// An HdrHistogram blob could not be decoded, or two histograms cannot merge.
    CorruptBlob,
    /// A custom collector failed, or yielded a family that breaks the exposition rules; the
    /// rest of the scrape was gathered without it.
    CollectorFailed,
    /// The operating system refused something the server needs: an address that cannot be
    /// bound (in use, not local, no permission), a file that cannot be read.
    Io,
    /// The multiprocess directory cannot be used: missing, not writable, full, or holding
    /// files of an incompatible version. The message names the directory and the cause.
    ArenaUnavailable,
}

/// An error from metricore. `Display` gives a complete sentence naming the
/// metric (when there is one) and the rule broken.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    kind: ErrorKind,
    metric: Option<String>,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, metric: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            kind,
            metric: metric.map(str::to_owned),
            message: message.into(),
        }
    }

    pub(crate) fn for_metric(kind: ErrorKind, metric: &str, message: impl Into<String>) -> Self {
        Self::new(kind, Some(metric), message)
    }

    /// The class of mistake.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The metric concerned, if the error is about one.
    pub fn metric(&self) -> Option<&str> {
        self.metric.as_deref()
    }

    /// The rule broken, without the metric's name.
    pub fn rule(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.metric {
            Some(m) => write!(f, "metric '{m}': {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for `Result<T, metricore::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
