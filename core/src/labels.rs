//! Label values and the Prometheus naming rules.
//!
//! A series' label values are stored in one allocation: each value's UTF-8
//! bytes followed by `0xFF`, a byte that never occurs in UTF-8, so the
//! encoding is unambiguous and a lookup compares bytes without allocating.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};

const TERMINATOR: u8 = 0xFF;

/// The label values of one series, in the order of the family's label names.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelValues(Arc<[u8]>);

impl LabelValues {
    /// Encodes `values`.
    pub fn new<S: AsRef<str>>(values: &[S]) -> Self {
        let mut bytes = Vec::with_capacity(values.iter().map(|v| v.as_ref().len() + 1).sum());
        for v in values {
            bytes.extend_from_slice(v.as_ref().as_bytes());
            bytes.push(TERMINATOR);
        }
        Self(bytes.into())
    }

    /// No labels.
    pub fn empty() -> Self {
        Self(Arc::from(&[][..]))
    }

    /// The values, in label-name order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut rest: &[u8] = &self.0;
        std::iter::from_fn(move || {
            let end = rest.iter().position(|&b| b == TERMINATOR)?;
            let (value, tail) = (&rest[..end], &rest[end + 1..]);
            rest = tail;
            // SAFETY: the bytes were built by `new` from `&str` values, each followed by
            // 0xFF; 0xFF never occurs in UTF-8, so every piece between terminators is
            // exactly one of those original, valid UTF-8 strings.
            Some(unsafe { std::str::from_utf8_unchecked(value) })
        })
    }

    /// How many values.
    #[allow(clippy::naive_bytecount)] // a handful of short values: no need for a SIMD byte counter
    pub fn len(&self) -> usize {
        self.0.iter().filter(|&&b| b == TERMINATOR).count()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    /// Whether these are exactly `values`, compared without allocating.
    pub(crate) fn matches<S: AsRef<str>>(&self, values: &[S]) -> bool {
        let mut rest: &[u8] = &self.0;
        for v in values {
            let v = v.as_ref().as_bytes();
            if rest.len() <= v.len() || &rest[..v.len()] != v || rest[v.len()] != TERMINATOR {
                return false;
            }
            rest = &rest[v.len() + 1..];
        }
        rest.is_empty()
    }
}

impl std::fmt::Debug for LabelValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl serde::Serialize for LabelValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Hashes label values the same way whether they come from a caller's slice
/// or from a stored [`LabelValues`], so lookups never need to encode first.
pub(crate) fn hash_values<'a>(
    build: &impl BuildHasher,
    values: impl Iterator<Item = &'a str>,
) -> u64 {
    let mut h = build.build_hasher();
    for v in values {
        h.write(v.as_bytes());
        h.write_u8(TERMINATOR);
    }
    h.finish()
}

/// Checks a metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
///
/// # Errors
/// [`ErrorKind::InvalidName`] naming the metric and the rule.
pub fn validate_metric_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::for_metric(
            ErrorKind::InvalidName,
            name,
            "a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]* (ASCII letters, digits, '_' and ':', not starting with a digit)",
        ))
    }
}

/// Checks a label name for `metric`: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting
/// with `__` (reserved for Prometheus' internal use).
///
/// # Errors
/// [`ErrorKind::InvalidName`] naming the metric, the label and the rule.
pub fn validate_label_name(metric: &str, label: &str) -> Result<()> {
    let mut chars = label.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if !ok {
        return Err(Error::for_metric(
            ErrorKind::InvalidName,
            metric,
            format!("label name '{label}' must match [a-zA-Z_][a-zA-Z0-9_]*"),
        ));
    }
    if label.starts_with("__") {
        return Err(Error::for_metric(
            ErrorKind::InvalidName,
            metric,
            format!("label name '{label}' starts with '__', which Prometheus reserves"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_values() {
        let l = LabelValues::new(&["GET", "", "/a\"b\n"]);
        assert_eq!(l.len(), 3);
        assert_eq!(l.to_vec(), vec!["GET", "", "/a\"b\n"]);
        assert!(l.matches(&["GET", "", "/a\"b\n"]));
        assert!(!l.matches(&["GET", ""]));
        assert!(!l.matches(&["GET", "", "/a\"b\n", ""]));
        assert!(!l.matches(&["GE", "T", "/a\"b\n"]));
        assert!(LabelValues::empty().matches::<&str>(&[]));
        assert_eq!(LabelValues::new(&[""]).len(), 1);
        assert_eq!(LabelValues::empty().len(), 0);
    }

    #[test]
    fn hashes_agree() {
        let b = hashbrown::DefaultHashBuilder::default();
        let l = LabelValues::new(&["a", "bc"]);
        assert_eq!(
            hash_values(&b, ["a", "bc"].into_iter()),
            hash_values(&b, l.iter())
        );
        assert_ne!(
            hash_values(&b, ["ab", "c"].into_iter()),
            hash_values(&b, l.iter())
        );
    }

    #[test]
    fn names() {
        for good in ["a", "_a", "a:b_c9", ":x"] {
            validate_metric_name(good).unwrap();
        }
        for bad in ["", "9a", "a-b", "a b", "é"] {
            let e = validate_metric_name(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidName);
            assert!(e.to_string().contains(&format!("'{bad}'")));
        }
        validate_label_name("m", "method").unwrap();
        assert!(
            validate_label_name("m", "__name")
                .unwrap_err()
                .to_string()
                .contains("reserves")
        );
        assert!(validate_label_name("m", "a:b").is_err());
    }
}
