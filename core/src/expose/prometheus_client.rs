//! The `prometheus_client` (Python) dialect, in both formats, as its
//! `generate_latest` functions write them.
//!
//! ```text
//! # HELP http_requests_total Requests served.
//! # TYPE http_requests_total counter
//! http_requests_total{code="200",method="GET"} 1027.0
//! # HELP http_requests_created Requests served.
//! # TYPE http_requests_created gauge
//! http_requests_created{code="200",method="GET"} 1.7123400005e+09
//! ```
//!
//! Every value is a float in `floatToGoString`'s spelling (`17.0`, `1e+06`,
//! bucket counts too), `le` and `quantile` likewise (`1.0`); labels, `le`
//! included, are sorted by name; HELP is written even when empty. In 0.0.4 a
//! counter family is named `…_total` and the `_created` samples of a family
//! follow it as a gauge family `…_created` (unless the dialect leaves them
//! out, as `PROMETHEUS_DISABLE_CREATED_SERIES` does); histograms write
//! `_count` before `_sum`, and no `_sum` when the lowest bound is negative. OpenMetrics writes HELP, TYPE, UNIT in that order
//! and each series' `_created` right after its samples.

use super::write::{
    write_escaped, write_f64_python, write_label_pairs, write_repr_python, write_sorted_pairs,
};
use crate::exemplar::Exemplar;
use crate::labels::LabelValues;
use crate::registry::{FamilySnapshot, MetricKind, SeriesValue};

/// Appends `families` in `prometheus_client`'s spelling; with `openmetrics`, OpenMetrics
/// text ending in `# EOF`, otherwise 0.0.4. `created` writes the `_created` samples.
pub(super) fn encode_into(
    out: &mut Vec<u8>,
    families: &[FamilySnapshot],
    openmetrics: bool,
    created: bool,
) {
    let mut labels = Labels::default();
    for family in families {
        labels.prepare(family);
        if openmetrics {
            encode_family_om(out, family, &mut labels, created);
        } else {
            encode_family_text(out, family, &mut labels, created);
        }
    }
    if openmetrics {
        out.extend_from_slice(b"# EOF\n");
    }
}

/// A family's label names in the order prometheus_client writes them (sorted by name),
/// with the place of an `le` or `quantile` label among them.
#[derive(Default)]
struct Labels {
    /// Indices into the family's label names, sorted by name, without an extra label.
    plain: Vec<usize>,
    /// The same with the extra label (`None`) in its sorted place.
    with_extra: Vec<Option<usize>>,
    extra: &'static str,
    /// Whether the label names are sorted already (the usual case): then a series' own
    /// label set is written as the other encoders write it.
    in_order: bool,
}

impl Labels {
    fn prepare(&mut self, family: &FamilySnapshot) {
        let names = &family.label_names;
        self.plain.clear();
        self.plain.extend(0..names.len());
        self.plain.sort_by(|&a, &b| names[a].cmp(&names[b]));
        self.in_order = self.plain.iter().enumerate().all(|(i, &j)| i == j);
        self.extra = match family.kind {
            MetricKind::Summary => "quantile",
            _ => "le",
        };
        self.with_extra.clear();
        let at = self
            .plain
            .iter()
            .position(|&i| names[i].as_str() > self.extra)
            .unwrap_or(self.plain.len());
        self.with_extra
            .extend(self.plain[..at].iter().copied().map(Some));
        self.with_extra.push(None);
        self.with_extra
            .extend(self.plain[at..].iter().copied().map(Some));
    }
}

/// A series' own label values: in a slice to pick from by index, as stored, and (once
/// written) as their rendered set, so that the series' lines without an extra label copy
/// it instead of escaping the values again.
#[derive(Clone, Copy)]
struct Own<'a> {
    values: &'a [&'a str],
    labels: &'a LabelValues,
    /// `{…} ` (or ` ` without labels), as [`write_start`] writes it after the name.
    rendered: Option<&'a [u8]>,
}

/// Writes `own`'s plain label set into `into` (as after a name) and returns it.
fn render_set<'a>(
    into: &'a mut Vec<u8>,
    family: &FamilySnapshot,
    labels: &Labels,
    values: &'a [&'a str],
    series_labels: &'a LabelValues,
) -> Own<'a> {
    let start = into.len();
    let own = Own {
        values,
        labels: series_labels,
        rendered: None,
    };
    write_start(into, "", "", family, labels, own, None);
    Own {
        rendered: Some(&into[start..]),
        ..own
    }
}

fn write_help(out: &mut Vec<u8>, name: &str, suffix: &str, help: &str, quote: bool) {
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b' ');
    write_escaped(out, help, quote);
    out.push(b'\n');
}

fn write_type(out: &mut Vec<u8>, name: &str, suffix: &str, kind: &str) {
    out.extend_from_slice(b"# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b' ');
    out.extend_from_slice(kind.as_bytes());
    out.push(b'\n');
}

/// Appends `name` `suffix` `{labels}` and a space; `extra` is the formatted `le` or
/// `quantile` value, placed where its name sorts.
fn write_start(
    out: &mut Vec<u8>,
    name: &str,
    suffix: &str,
    family: &FamilySnapshot,
    labels: &Labels,
    own: Own<'_>,
    extra: Option<&[u8]>,
) {
    let Own {
        values,
        labels: series_labels,
        rendered,
    } = own;
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    if let (None, Some(rendered)) = (extra, rendered) {
        out.extend_from_slice(rendered);
        return;
    }
    if extra.is_none() && labels.in_order {
        if !family.label_names.is_empty() {
            out.push(b'{');
            write_label_pairs(out, &family.label_names, series_labels);
            out.push(b'}');
        }
        out.push(b' ');
        return;
    }
    let mut first = true;
    let mut pair = |out: &mut Vec<u8>, key: &str| {
        out.push(if first { b'{' } else { b',' });
        first = false;
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"=\"");
    };
    if let Some(extra) = extra {
        for slot in &labels.with_extra {
            if let Some(i) = slot {
                pair(out, &family.label_names[*i]);
                write_escaped(out, values[*i], true);
            } else {
                pair(out, labels.extra);
                out.extend_from_slice(extra);
            }
            out.push(b'"');
        }
    } else {
        for &i in &labels.plain {
            pair(out, &family.label_names[i]);
            write_escaped(out, values[i], true);
            out.push(b'"');
        }
    }
    if !first {
        out.push(b'}');
    }
    out.push(b' ');
}

fn line_f64(out: &mut Vec<u8>, v: f64) {
    write_f64_python(out, v);
    out.push(b'\n');
}

/// A count as prometheus_client holds it, a float.
#[allow(clippy::cast_precision_loss)] // counts are exact up to 2^53
fn line_count(out: &mut Vec<u8>, n: u64) {
    line_f64(out, n as f64);
}

fn values_of<'a>(labels: &'a LabelValues, into: &mut Vec<&'a str>) {
    into.clear();
    into.extend(labels.iter());
}

/// The samples of one series, without `_created`: counters' `_total`, gauges' value,
/// histograms' buckets, `_count` and `_sum`, summaries' quantiles, `_count` and `_sum`.
fn write_samples(
    out: &mut Vec<u8>,
    family: &FamilySnapshot,
    labels: &Labels,
    own: Own<'_>,
    value: &SeriesValue,
    bound: &mut Vec<u8>,
    openmetrics: bool,
) {
    let name = family.name.as_str();
    match value {
        SeriesValue::Counter {
            value, exemplar, ..
        } => {
            write_start(out, name, "_total", family, labels, own, None);
            write_f64_python(out, *value);
            if let (true, Some(e)) = (openmetrics, exemplar) {
                write_exemplar(out, e);
            }
            out.push(b'\n');
        }
        SeriesValue::SampledCounter { value } => {
            write_start(out, name, "_total", family, labels, own, None);
            line_f64(out, *value);
        }
        SeriesValue::Gauge { value } => {
            write_start(out, name, "", family, labels, own, None);
            line_f64(out, *value);
        }
        SeriesValue::Histogram(h) => {
            let buckets = h.buckets();
            for b in &buckets {
                bound.clear();
                write_f64_python(bound, b.le);
                write_start(out, name, "_bucket", family, labels, own, Some(bound));
                #[allow(clippy::cast_precision_loss)] // counts are exact up to 2^53
                write_f64_python(out, b.cumulative_count as f64);
                if let (true, Some(e)) = (openmetrics, &b.exemplar) {
                    write_exemplar(out, e);
                }
                out.push(b'\n');
            }
            write_start(out, name, "_count", family, labels, own, None);
            line_count(out, buckets.last().map_or(0, |b| b.cumulative_count));
            // prometheus_client leaves `_sum` out when the lowest bound is negative (a sum
            // of signed values tells nothing about rates).
            if buckets.first().is_none_or(|b| b.le >= 0.0) {
                write_start(out, name, "_sum", family, labels, own, None);
                line_f64(out, h.sum());
            }
        }
        SeriesValue::Summary {
            snapshot,
            quantiles,
        } => {
            for &(q, v) in quantiles {
                bound.clear();
                write_f64_python(bound, q);
                write_start(out, name, "", family, labels, own, Some(bound));
                line_f64(out, v);
            }
            write_start(out, name, "_count", family, labels, own, None);
            line_count(out, snapshot.count());
            write_start(out, name, "_sum", family, labels, own, None);
            line_f64(out, snapshot.sum());
        }
    }
}

/// Appends ` # {k="v",…} value timestamp` as prometheus_client writes an exemplar: labels
/// sorted by name, the value as a sample value, the timestamp as Python's `repr`.
fn write_exemplar(out: &mut Vec<u8>, e: &Exemplar) {
    out.extend_from_slice(b" # {");
    write_sorted_pairs(out, &e.labels);
    out.extend_from_slice(b"} ");
    write_f64_python(out, e.value);
    out.push(b' ');
    write_repr_python(out, e.timestamp);
}

/// Whether a family's series carry `_created` (gauges do not).
fn has_created(family: &FamilySnapshot) -> bool {
    family.kind != MetricKind::Gauge
}

fn encode_family_text(
    out: &mut Vec<u8>,
    family: &FamilySnapshot,
    labels: &mut Labels,
    created: bool,
) {
    let name = family.name.as_str();
    let suffix = if family.kind == MetricKind::Counter {
        "_total"
    } else {
        ""
    };
    write_help(out, name, suffix, &family.help, false);
    write_type(out, name, suffix, family.kind.as_str());
    let mut values = Vec::with_capacity(family.label_names.len());
    let mut bound = Vec::with_capacity(24);
    let created = created && has_created(family) && !family.series.is_empty();
    // Every series' plain label set is rendered once: a counter's straight into its
    // `_total` line, from where its `_created` line copies it; any other kind's into
    // `sets`, for its own plain lines and its `_created` line.
    let mut sets = Vec::new();
    let mut places = Vec::with_capacity(if created { family.series.len() } else { 0 });
    for series in &family.series {
        let single_line = matches!(
            series.value,
            SeriesValue::Counter { .. } | SeriesValue::SampledCounter { .. }
        );
        // Labels written in their own order need no values picked by index.
        if !(single_line && labels.in_order) {
            values_of(&series.labels, &mut values);
        }
        if single_line {
            let line = out.len();
            let own = Own {
                values: &values,
                labels: &series.labels,
                rendered: None,
            };
            write_samples(out, family, labels, own, &series.value, &mut bound, false);
            if created {
                // The line is name, `_total`, the set (ending in a space) and a value
                // without spaces.
                let start = line + name.len() + "_total".len();
                let end = out[start..]
                    .iter()
                    .rposition(|&b| b == b' ')
                    .map_or(out.len(), |at| start + at + 1);
                places.push(SetAt::Output(start, end));
            }
        } else {
            if !created {
                sets.clear();
            }
            let start = sets.len();
            let own = render_set(&mut sets, family, labels, &values, &series.labels);
            write_samples(out, family, labels, own, &series.value, &mut bound, false);
            places.push(SetAt::Sets(start, sets.len()));
        }
    }
    if created {
        write_help(out, name, "_created", &family.help, false);
        write_type(out, name, "_created", "gauge");
        for (series, place) in family.series.iter().zip(&places) {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"_created");
            match *place {
                SetAt::Output(start, end) => out.extend_from_within(start..end),
                SetAt::Sets(start, end) => out.extend_from_slice(&sets[start..end]),
            }
            line_f64(out, series.created);
        }
    }
}

/// Where a series' rendered label set is: in the output (a counter's `_total` line) or
/// in the side buffer.
#[derive(Clone, Copy)]
enum SetAt {
    Output(usize, usize),
    Sets(usize, usize),
}

fn encode_family_om(
    out: &mut Vec<u8>,
    family: &FamilySnapshot,
    labels: &mut Labels,
    created: bool,
) {
    let name = family.name.as_str();
    write_help(out, name, "", &family.help, true);
    write_type(out, name, "", family.kind.as_str());
    if let Some(unit) = &family.unit {
        out.extend_from_slice(b"# UNIT ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(unit.as_bytes());
        out.push(b'\n');
    }
    let mut values = Vec::with_capacity(family.label_names.len());
    let mut bound = Vec::with_capacity(24);
    let created = created && has_created(family);
    let mut set = Vec::new();
    for series in &family.series {
        values_of(&series.labels, &mut values);
        set.clear();
        let own = render_set(&mut set, family, labels, &values, &series.labels);
        write_samples(out, family, labels, own, &series.value, &mut bound, true);
        if created {
            write_start(out, name, "_created", family, labels, own, None);
            line_f64(out, series.created);
        }
    }
}
