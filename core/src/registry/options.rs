//! What a family is registered with: [`MetricOpts`], checked into a [`Desc`], and the sample
//! names each [`MetricKind`] claims.

use std::time::Duration;

use crate::collect::MetricKind;
use crate::error::{Error, ErrorKind, Result};
use crate::labels::{validate_label_name, validate_metric_name};

/// Default per-family cap on distinct label sets (the TypeScript era's limit).
pub const DEFAULT_CARDINALITY_LIMIT: usize = 10_000;

/// The order a family's labelled series are collected in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeriesOrder {
    /// Sorted by label values (every exposition is then the same for the same series).
    #[default]
    Labels,
    /// The order the series were first looked up in, as prometheus_client and prom-client
    /// write them.
    FirstUse,
}

/// Name, help, unit and labels of a family to register.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricOpts {
    name: String,
    help: String,
    namespace: String,
    subsystem: String,
    unit: String,
    label_names: Vec<String>,
    cardinality_limit: usize,
    idle_ttl: Option<Duration>,
    series_order: SeriesOrder,
}

impl MetricOpts {
    /// A family called `name` described by `help`.
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            namespace: String::new(),
            subsystem: String::new(),
            unit: String::new(),
            label_names: Vec::new(),
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
            idle_ttl: None,
            series_order: SeriesOrder::Labels,
        }
    }
    /// Label names, in the order values will be given.
    #[must_use]
    pub fn labels<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.label_names = names.into_iter().map(Into::into).collect();
        self
    }
    /// Prefix joined with `_` (prometheus_client's `namespace`).
    #[must_use]
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = ns.into();
        self
    }
    /// Second prefix joined with `_` (prometheus_client's `subsystem`).
    #[must_use]
    pub fn subsystem(mut self, s: impl Into<String>) -> Self {
        self.subsystem = s.into();
        self
    }
    /// The unit (`seconds`, `bytes`, …); appended to the name as `_unit` unless already there.
    #[must_use]
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }
    /// Per-family cap on distinct label sets (at least 1).
    #[must_use]
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = limit;
        self
    }
    /// Evict series not looked up and unchanged for this long (checked at collection).
    #[must_use]
    pub fn idle_ttl(mut self, ttl: Duration) -> Self {
        self.idle_ttl = Some(ttl);
        self
    }

    /// The order the labelled series are collected (and exposed) in; by label values unless
    /// set.
    #[must_use]
    pub fn series_order(mut self, order: SeriesOrder) -> Self {
        self.series_order = order;
        self
    }

    /// The validated description of the family these options make.
    pub(super) fn describe(self, kind: MetricKind) -> Result<Desc> {
        let mut name = [&self.namespace, &self.subsystem, &self.name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("_");
        validate_metric_name(&name)?;
        let named_total = kind != MetricKind::Counter || name.ends_with("_total");
        if kind == MetricKind::Counter {
            // As prometheus_client: `requests_total` and `requests` name the same counter.
            if name.ends_with("_total") {
                name.truncate(name.len() - "_total".len());
            }
        }
        let unit = (!self.unit.is_empty()).then_some(self.unit);
        if let Some(u) = &unit {
            if !u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    format!("unit '{u}' must match [a-zA-Z0-9_]+"),
                ));
            }
            if !name.ends_with(&format!("_{u}")) {
                name = format!("{name}_{u}");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for l in &self.label_names {
            validate_label_name(&name, l)?;
            if kind == MetricKind::Histogram && l == "le" {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    "label name 'le' is reserved for histogram buckets",
                ));
            }
            if kind == MetricKind::Summary && l == "quantile" {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    "label name 'quantile' is reserved for summary quantiles",
                ));
            }
            if !seen.insert(l) {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    format!("label name '{l}' appears twice"),
                ));
            }
        }
        if self.cardinality_limit == 0 {
            return Err(Error::for_metric(
                ErrorKind::InvalidConfig,
                &name,
                "cardinality limit must be at least 1",
            ));
        }
        Ok(Desc {
            named_total,
            name,
            help: self.help,
            unit,
            kind,
            label_names: self.label_names,
            cardinality_limit: self.cardinality_limit,
            idle_ttl: self.idle_ttl,
            series_order: self.series_order,
        })
    }
}

/// A validated family description.
#[derive(Debug, Clone)]
pub(crate) struct Desc {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: Option<String>,
    pub(crate) kind: MetricKind,
    pub(crate) label_names: Vec<String>,
    /// A counter registered as `NAME_total` (see [`FamilySnapshot::named_total`]).
    ///
    /// [`FamilySnapshot::named_total`]: crate::collect::FamilySnapshot::named_total
    pub(crate) named_total: bool,
    pub(super) cardinality_limit: usize,
    pub(super) idle_ttl: Option<Duration>,
    pub(super) series_order: SeriesOrder,
}

/// Two descriptions of one family: how a counter's name was spelled (`x` or `x_total`) is
/// not part of it, so registering either spelling again returns the same family.
impl PartialEq for Desc {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.help == other.help
            && self.unit == other.unit
            && self.kind == other.kind
            && self.label_names == other.label_names
            && self.cardinality_limit == other.cardinality_limit
            && self.idle_ttl == other.idle_ttl
    }
}

impl Desc {
    /// Every sample name the family exposes, which no other family may use.
    pub(super) fn sample_names(&self) -> Vec<String> {
        sample_names(&self.name, self.kind)
    }
}

/// The sample names a family of `kind` called `n` exposes (and so claims).
pub(super) fn sample_names(n: &str, kind: MetricKind) -> Vec<String> {
    match kind {
        MetricKind::Counter => vec![n.to_owned(), format!("{n}_total"), format!("{n}_created")],
        MetricKind::Gauge => vec![n.to_owned()],
        MetricKind::Histogram => vec![
            n.to_owned(),
            format!("{n}_bucket"),
            format!("{n}_sum"),
            format!("{n}_count"),
            format!("{n}_created"),
        ],
        MetricKind::Summary => vec![
            n.to_owned(),
            format!("{n}_sum"),
            format!("{n}_count"),
            format!("{n}_created"),
        ],
    }
}
