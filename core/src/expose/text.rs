//! The Prometheus text format 0.0.4, as `expfmt` (Go) and `prometheus_client`
//! (Python) write it.
//!
//! ```text
//! # HELP http_requests_total Requests served.
//! # TYPE http_requests_total counter
//! http_requests_total{method="GET"} 1027
//! # HELP http_latency_seconds Request latency.
//! # TYPE http_latency_seconds histogram
//! http_latency_seconds_bucket{le="0.005"} 24
//! http_latency_seconds_bucket{le="+Inf"} 144
//! http_latency_seconds_sum 7.25
//! http_latency_seconds_count 144
//! ```
//!
//! Counters are named `…_total` in HELP, TYPE and the sample; HELP escapes
//! `\` and newline, label values also `"`. There are no `_created` samples,
//! no UNIT lines and no exemplars: 0.0.4 has no syntax for them. Histogram
//! series print buckets, then `_sum`, then `_count`, as Go's client does.

use super::write::{
    LeCache, write_escaped, write_f64, write_label_pairs, write_sample_start, write_series_start,
    write_total, write_u64,
};
use crate::registry::{FamilySnapshot, MetricKind, SeriesValue};

/// Appends the 0.0.4 exposition of `families` to `out`.
pub(super) fn encode_into(out: &mut Vec<u8>, families: &[FamilySnapshot]) {
    let mut pairs = Vec::with_capacity(256);
    let mut le = LeCache::default();
    for family in families {
        encode_family(out, family, &mut pairs, &mut le);
    }
}

fn encode_family(
    out: &mut Vec<u8>,
    family: &FamilySnapshot,
    pairs: &mut Vec<u8>,
    le: &mut LeCache,
) {
    let name = family.name.as_str();
    let counter_suffix = if family.kind == MetricKind::Counter {
        "_total"
    } else {
        ""
    };
    if !family.help.is_empty() {
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(counter_suffix.as_bytes());
        out.push(b' ');
        write_escaped(out, &family.help, false);
        out.push(b'\n');
    }
    out.extend_from_slice(b"# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(counter_suffix.as_bytes());
    out.push(b' ');
    out.extend_from_slice(family.kind.as_str().as_bytes());
    out.push(b'\n');

    for series in &family.series {
        match &series.value {
            SeriesValue::Counter { value, whole, .. } => {
                write_series_start(out, name, "_total", &family.label_names, &series.labels);
                match whole {
                    Some(n) => write_u64(out, *n),
                    None => write_total(out, *value, false),
                }
                out.push(b'\n');
            }
            SeriesValue::SampledCounter { value } => {
                write_series_start(out, name, "_total", &family.label_names, &series.labels);
                write_f64(out, *value, false);
                out.push(b'\n');
            }
            SeriesValue::Gauge { value } => {
                write_series_start(out, name, "", &family.label_names, &series.labels);
                write_f64(out, *value, false);
                out.push(b'\n');
            }
            SeriesValue::Histogram(h) => {
                // Many lines share the labels: render them once.
                pairs.clear();
                write_label_pairs(pairs, &family.label_names, &series.labels);
                let buckets = h.buckets();
                le.load(buckets.iter().map(|b| b.le));
                for (i, b) in buckets.iter().enumerate() {
                    write_sample_start(out, name, "_bucket", pairs, Some(("le", le.get(i))));
                    write_u64(out, b.cumulative_count);
                    out.push(b'\n');
                }
                write_sample_start(out, name, "_sum", pairs, None);
                write_f64(out, h.sum(), false);
                out.push(b'\n');
                write_sample_start(out, name, "_count", pairs, None);
                write_u64(out, buckets.last().map_or(0, |b| b.cumulative_count));
                out.push(b'\n');
            }
            SeriesValue::Summary {
                snapshot,
                quantiles,
            } => {
                pairs.clear();
                write_label_pairs(pairs, &family.label_names, &series.labels);
                le.load(quantiles.iter().map(|&(q, _)| q));
                for (i, &(_, v)) in quantiles.iter().enumerate() {
                    write_sample_start(out, name, "", pairs, Some(("quantile", le.get(i))));
                    write_f64(out, v, false);
                    out.push(b'\n');
                }
                write_sample_start(out, name, "_sum", pairs, None);
                write_f64(out, snapshot.sum(), false);
                out.push(b'\n');
                write_sample_start(out, name, "_count", pairs, None);
                write_u64(out, snapshot.count());
                out.push(b'\n');
            }
        }
    }
}
