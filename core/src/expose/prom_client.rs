//! The prom-client (Node) dialect, in both formats, as its `Registry.metrics()`
//! writes them.
//!
//! ```text
//! # HELP http_requests_total Requests served.
//! # TYPE http_requests_total counter
//! http_requests_total{method="GET",code="200"} 1027
//!
//! # HELP http_latency_seconds Request latency.
//! # TYPE http_latency_seconds histogram
//! http_latency_seconds_bucket{le="0.005"} 24
//! http_latency_seconds_bucket{le="+Inf"} 144
//! http_latency_seconds_sum 7.25
//! http_latency_seconds_count 144
//! ```
//!
//! Numbers are JavaScript's `String(number)` (`17`, `1e+21`, `1.5e-7`), NaN is
//! `Nan` as prom-client writes it; labels come in label-name order after `le`
//! or `quantile`; HELP is written even when empty. In 0.0.4 families are
//! separated by an empty line and a counter keeps the name it was registered
//! with, `_total` or not. OpenMetrics
//! has no empty lines, names a counter family without `_total` (its samples
//! with), and has no `_created` samples and no UNIT lines; exemplars follow
//! counter totals and buckets, as in prom-client.

use super::write::{write_escaped, write_f64_js, write_label_pairs, write_sample_start};
use crate::registry::{FamilySnapshot, MetricKind, SeriesValue};

/// Appends `families` in prom-client's spelling; with `openmetrics`, OpenMetrics text
/// ending in `# EOF`, otherwise 0.0.4.
pub(super) fn encode_into(out: &mut Vec<u8>, families: &[FamilySnapshot], openmetrics: bool) {
    let mut pairs = Vec::with_capacity(256);
    let mut bound = Vec::with_capacity(24);
    for (i, family) in families.iter().enumerate() {
        if i > 0 && !openmetrics {
            out.push(b'\n');
        }
        encode_family(out, family, openmetrics, &mut pairs, &mut bound);
    }
    if openmetrics {
        out.extend_from_slice(b"# EOF\n");
    } else if families.is_empty() {
        out.push(b'\n');
    }
}

fn line_f64(out: &mut Vec<u8>, v: f64) {
    write_f64_js(out, v);
    out.push(b'\n');
}

#[allow(clippy::cast_precision_loss)] // counts are exact up to 2^53, as in JavaScript
fn line_count(out: &mut Vec<u8>, n: u64) {
    line_f64(out, n as f64);
}

fn encode_family(
    out: &mut Vec<u8>,
    family: &FamilySnapshot,
    openmetrics: bool,
    pairs: &mut Vec<u8>,
    bound: &mut Vec<u8>,
) {
    let name = family.name.as_str();
    // 0.0.4 writes a counter under the name it was registered with; OpenMetrics names the
    // family without `_total` and its samples with it.
    let family_suffix = if family.kind == MetricKind::Counter && !openmetrics && family.named_total
    {
        "_total"
    } else {
        ""
    };
    let total_suffix = if openmetrics || family.named_total {
        "_total"
    } else {
        ""
    };
    for keyword in [&b"# HELP "[..], b"# TYPE "] {
        out.extend_from_slice(keyword);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(family_suffix.as_bytes());
        out.push(b' ');
        if keyword == b"# HELP " {
            write_escaped(out, &family.help, false);
        } else {
            out.extend_from_slice(family.kind.as_str().as_bytes());
        }
        out.push(b'\n');
    }
    for series in &family.series {
        pairs.clear();
        write_label_pairs(pairs, &family.label_names, &series.labels);
        match &series.value {
            SeriesValue::Counter {
                value, exemplar, ..
            } => {
                write_sample_start(out, name, total_suffix, pairs, None);
                write_f64_js(out, *value);
                if let (true, Some(e)) = (openmetrics, exemplar) {
                    write_exemplar(out, e);
                }
                out.push(b'\n');
            }
            SeriesValue::SampledCounter { value } => {
                write_sample_start(out, name, total_suffix, pairs, None);
                line_f64(out, *value);
            }
            SeriesValue::Gauge { value } => {
                write_sample_start(out, name, "", pairs, None);
                line_f64(out, *value);
            }
            SeriesValue::Histogram(h) => {
                let buckets = h.buckets();
                for b in &buckets {
                    bound.clear();
                    write_f64_js(bound, b.le);
                    write_start_extra_first(out, name, "_bucket", ("le", bound), pairs);
                    write_f64_count(out, b.cumulative_count);
                    if let (true, Some(e)) = (openmetrics, &b.exemplar) {
                        write_exemplar(out, e);
                    }
                    out.push(b'\n');
                }
                write_sample_start(out, name, "_sum", pairs, None);
                line_f64(out, h.sum());
                write_sample_start(out, name, "_count", pairs, None);
                line_count(out, buckets.last().map_or(0, |b| b.cumulative_count));
            }
            SeriesValue::Summary {
                snapshot,
                quantiles,
            } => {
                for &(q, v) in quantiles {
                    bound.clear();
                    write_f64_js(bound, q);
                    write_start_extra_first(out, name, "", ("quantile", bound), pairs);
                    // prom-client writes 0 for a quantile of an empty window.
                    line_f64(out, if v.is_nan() { 0.0 } else { v });
                }
                write_sample_start(out, name, "_sum", pairs, None);
                line_f64(out, snapshot.sum());
                write_sample_start(out, name, "_count", pairs, None);
                line_count(out, snapshot.count());
            }
        }
    }
    // prom-client joins a family's lines with newlines and families with an empty line;
    // the whole ends with one newline.
}

/// Appends `name` `suffix` `{le="…",pairs} `: prom-client puts `le` and `quantile` first.
fn write_start_extra_first(
    out: &mut Vec<u8>,
    name: &str,
    suffix: &str,
    (label, value): (&str, &[u8]),
    pairs: &[u8],
) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b'{');
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"=\"");
    out.extend_from_slice(value);
    out.push(b'"');
    if !pairs.is_empty() {
        out.push(b',');
        out.extend_from_slice(pairs);
    }
    out.extend_from_slice(b"} ");
}

#[allow(clippy::cast_precision_loss)]
fn write_f64_count(out: &mut Vec<u8>, n: u64) {
    write_f64_js(out, n as f64);
}

/// Appends ` # {k="v",…} value timestamp`, prom-client's exemplar (its timestamp in
/// Unix seconds as JavaScript prints them).
fn write_exemplar(out: &mut Vec<u8>, e: &crate::exemplar::Exemplar) {
    out.extend_from_slice(b" # {");
    for (i, (k, v)) in e.labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b"=\"");
        write_escaped(out, v, true);
        out.push(b'"');
    }
    out.extend_from_slice(b"} ");
    write_f64_js(out, e.value);
    out.push(b' ');
    write_f64_js(out, e.timestamp);
}
