//! Exemplars: a sampled observation with the trace that produced it
//! (OpenMetrics 1.0, "Exemplars"). Kept one per counter series and one per
//! histogram bucket; the newest replaces the last.

use std::sync::Mutex;

use crate::error::{Error, ErrorKind, Result};
use crate::labels::validate_label_name;
use crate::lazy::LazyBox;
use crate::{clock, fork};

/// OpenMetrics caps an exemplar's label names and values at 128 UTF-8 characters in all.
pub const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

/// One exemplar.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exemplar {
    /// Label pairs, typically `trace_id` and `span_id`.
    pub labels: Vec<(String, String)>,
    /// The observed value, in the metric's base unit.
    pub value: f64,
    /// When it was observed, in Unix seconds.
    pub timestamp: f64,
}

impl Exemplar {
    /// Builds an exemplar stamped now, checking the OpenMetrics rules on behalf of `metric`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidExemplar`] if a label name is invalid or the labels exceed
    /// [`MAX_EXEMPLAR_LABEL_CHARS`] characters in all.
    pub fn new(metric: &str, labels: &[(&str, &str)], value: f64) -> Result<Self> {
        let mut chars = 0;
        for (name, v) in labels {
            validate_label_name(metric, name).map_err(|e| {
                Error::for_metric(
                    ErrorKind::InvalidExemplar,
                    metric,
                    format!("exemplar {}", e.rule()),
                )
            })?;
            chars += name.chars().count() + v.chars().count();
        }
        if chars > MAX_EXEMPLAR_LABEL_CHARS {
            return Err(Error::for_metric(
                ErrorKind::InvalidExemplar,
                metric,
                format!(
                    "exemplar labels have {chars} characters; OpenMetrics allows at most {MAX_EXEMPLAR_LABEL_CHARS}"
                ),
            ));
        }
        Ok(Self {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
            timestamp: clock::unix_seconds(),
        })
    }
}

/// Storage for the latest exemplar: one pointer until the first exemplar arrives.
///
/// Its lock is taken only inside a fork section (see [`crate::fork`]), so a child never
/// inherits it held.
#[derive(Default)]
pub(crate) struct ExemplarSlot(LazyBox<Mutex<Option<Exemplar>>>);

impl ExemplarSlot {
    pub(crate) fn set(&self, e: Exemplar) {
        let m = self.0.get_or_init(|| {
            fork::install();
            Box::new(Mutex::new(None))
        });
        let old = {
            let _fork = fork::section();
            // A poisoned lock only means another thread panicked mid-assignment; the slot is
            // still usable.
            m.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .replace(e)
        };
        // Freed outside the lock and the section, which stay as short as a pointer swap.
        drop(old);
    }

    pub(crate) fn get(&self) -> Option<Exemplar> {
        let m = self.0.get()?;
        let _fork = fork::section();
        m.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
