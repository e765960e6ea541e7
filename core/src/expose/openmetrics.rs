//! OpenMetrics 1.0.0 text.
//!
//! ```text
//! # TYPE http_requests counter
//! # HELP http_requests Requests served.
//! http_requests_total{method="GET"} 1027 # {trace_id="4bf92f35"} 1.0 1712345678.125
//! http_requests_created{method="GET"} 1712340000.5
//! # TYPE http_latency_seconds histogram
//! # UNIT http_latency_seconds seconds
//! # HELP http_latency_seconds Request latency.
//! http_latency_seconds_bucket{le="0.005"} 24
//! http_latency_seconds_bucket{le="+Inf"} 144 # {trace_id="0af7651916cd"} 12.5 1712345678.25
//! http_latency_seconds_count 144
//! http_latency_seconds_sum 7.25
//! http_latency_seconds_created 1712340000.5
//! # EOF
//! ```
//!
//! Families are named without `_total`; `# UNIT` appears when the family has a
//! unit; HELP escapes `\`, newline and `"`. Counters carry `_total` and
//! `_created`, histograms `_bucket`, `_count`, `_sum` and `_created`, in the
//! order of the specification's examples, each series' samples together.
//! Exemplars follow counter totals and histogram buckets. Histograms with a
//! negative bucket bound omit `_sum` (and so `_count`), as the specification
//! requires. The exposition ends with `# EOF`.

use super::write::{
    LeCache, write_escaped, write_f64, write_label_pairs, write_sample_start, write_series_start,
    write_timestamp, write_total, write_u64,
};
use crate::exemplar::Exemplar;
use crate::registry::{FamilySnapshot, SeriesValue};

/// Appends the OpenMetrics exposition of `families`, `# EOF` included, to `out`.
pub(super) fn encode_into(out: &mut Vec<u8>, families: &[FamilySnapshot]) {
    let mut pairs = Vec::with_capacity(256);
    let mut le = LeCache::default();
    for family in families {
        encode_family(out, family, &mut pairs, &mut le);
    }
    out.extend_from_slice(b"# EOF\n");
}

fn write_metadata(out: &mut Vec<u8>, keyword: &[u8], name: &str) {
    out.extend_from_slice(keyword);
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
}

fn encode_family(
    out: &mut Vec<u8>,
    family: &FamilySnapshot,
    pairs: &mut Vec<u8>,
    le: &mut LeCache,
) {
    let name = family.name.as_str();
    write_metadata(out, b"# TYPE ", name);
    out.extend_from_slice(family.kind.as_str().as_bytes());
    out.push(b'\n');
    if let Some(unit) = &family.unit {
        write_metadata(out, b"# UNIT ", name);
        out.extend_from_slice(unit.as_bytes());
        out.push(b'\n');
    }
    if !family.help.is_empty() {
        write_metadata(out, b"# HELP ", name);
        write_escaped(out, &family.help, true);
        out.push(b'\n');
    }

    for series in &family.series {
        match &series.value {
            SeriesValue::Gauge { value } => {
                write_series_start(out, name, "", &family.label_names, &series.labels);
                write_f64(out, *value, true);
                out.push(b'\n');
                continue; // gauges have no `_created`
            }
            SeriesValue::Counter {
                value,
                whole,
                exemplar,
            } => {
                // Two lines share the labels: render them once.
                pairs.clear();
                write_label_pairs(pairs, &family.label_names, &series.labels);
                write_sample_start(out, name, "_total", pairs, None);
                match whole {
                    Some(n) => write_u64(out, *n),
                    None => write_total(out, *value, true),
                }
                if let Some(e) = exemplar {
                    write_exemplar(out, e);
                }
                out.push(b'\n');
            }
            SeriesValue::SampledCounter { value } => {
                pairs.clear();
                write_label_pairs(pairs, &family.label_names, &series.labels);
                write_sample_start(out, name, "_total", pairs, None);
                write_f64(out, *value, true);
                out.push(b'\n');
            }
            SeriesValue::Histogram(h) => {
                pairs.clear();
                write_label_pairs(pairs, &family.label_names, &series.labels);
                let buckets = h.buckets();
                le.load(buckets.iter().map(|b| b.le));
                for (i, b) in buckets.iter().enumerate() {
                    write_sample_start(out, name, "_bucket", pairs, Some(("le", le.get(i))));
                    write_u64(out, b.cumulative_count);
                    if let Some(e) = &b.exemplar {
                        write_exemplar(out, e);
                    }
                    out.push(b'\n');
                }
                // "Negative threshold buckets MAY be used, but then the Histogram MetricPoint
                // MUST NOT contain a sum value"; the parsers then refuse `_count` without `_sum`.
                if !buckets.first().is_some_and(|b| b.le < 0.0) {
                    write_sample_start(out, name, "_count", pairs, None);
                    write_u64(out, buckets.last().map_or(0, |b| b.cumulative_count));
                    out.push(b'\n');
                    write_sample_start(out, name, "_sum", pairs, None);
                    write_f64(out, h.sum(), true);
                    out.push(b'\n');
                }
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
                    write_f64(out, v, true);
                    out.push(b'\n');
                }
                write_sample_start(out, name, "_count", pairs, None);
                write_u64(out, snapshot.count());
                out.push(b'\n');
                write_sample_start(out, name, "_sum", pairs, None);
                write_f64(out, snapshot.sum(), true);
                out.push(b'\n');
            }
        }
        write_sample_start(out, name, "_created", pairs, None);
        write_timestamp(out, series.created);
        out.push(b'\n');
    }
}

/// Appends ` # {k="v",…} value timestamp`.
fn write_exemplar(out: &mut Vec<u8>, e: &Exemplar) {
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
    write_f64(out, e.value, true);
    out.push(b' ');
    write_timestamp(out, e.timestamp);
}
