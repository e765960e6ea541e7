//! A family's series in prom-client's `get()` shape: the `values` array of
//! `{name, help, type, values, aggregator}`, built in Rust so that one call answers for a
//! family of any size.
//!
//! - A counter or gauge series is `{value, labels}`.
//! - A histogram series is its cumulative buckets `{labels: {le, ...labels}, value,
//!   metricName: NAME_bucket, exemplar: null}` (`le` a number, `'+Inf'` for the last), then
//!   `{labels, value: sum, metricName: NAME_sum}` and `{labels, value: count, metricName:
//!   NAME_count}`.
//! - A summary series is its quantiles `{labels: {quantile, ...labels}, value}` (0 for an
//!   empty window, as prom-client writes), then `_sum` and `_count` as a histogram's.
//!
//! Label values are strings, as the core keeps them.

use std::borrow::Cow;

use metricore::collect::{FamilySnapshot, SeriesValue};

use crate::record::Record;

type Fields = Vec<(Cow<'static, str>, Record)>;

/// The series' labels as an object, after `first` (a histogram's `le`, a summary's `quantile`).
fn labels(names: &[String], values: &[&str], first: Option<(&'static str, Record)>) -> Record {
    let mut fields: Fields = Vec::with_capacity(names.len() + 1);
    if let Some((k, v)) = first {
        fields.push((Cow::Borrowed(k), v));
    }
    for (n, v) in names.iter().zip(values) {
        fields.push((Cow::Owned(n.clone()), Record::String((*v).to_owned())));
    }
    Record::Object(fields)
}

fn number(value: f64) -> Record {
    // A number keeps NaN and ±Infinity here (prom-client's values are plain numbers).
    Record::Number(value)
}

fn entry(labels: Record, value: f64, metric_name: Option<String>) -> Record {
    let mut fields: Fields = vec![
        (Cow::Borrowed("labels"), labels),
        (Cow::Borrowed("value"), number(value)),
    ];
    if let Some(m) = metric_name {
        fields.push((Cow::Borrowed("metricName"), Record::String(m)));
    }
    Record::Object(fields)
}

/// The `values` array of `family` in prom-client's shape.
#[allow(
    clippy::cast_precision_loss,
    reason = "a JS number is a double, as prom-client's counts are"
)]
pub(crate) fn of(family: &FamilySnapshot) -> Record {
    let names = &family.label_names;
    let name = &family.name;
    let mut out = Vec::with_capacity(family.series.len());
    for s in &family.series {
        let values: Vec<&str> = s.labels.iter().collect();
        match &s.value {
            SeriesValue::Counter { value, .. }
            | SeriesValue::SampledCounter { value }
            | SeriesValue::Gauge { value } => {
                out.push(Record::Object(vec![
                    (Cow::Borrowed("value"), number(*value)),
                    (Cow::Borrowed("labels"), labels(names, &values, None)),
                ]));
            }
            SeriesValue::Histogram(h) => {
                for b in h.buckets() {
                    let le = if b.le.is_finite() {
                        Record::Number(b.le)
                    } else {
                        Record::String("+Inf".to_owned())
                    };
                    let mut e = entry(
                        labels(names, &values, Some(("le", le))),
                        b.cumulative_count as f64,
                        Some(format!("{name}_bucket")),
                    );
                    if let Record::Object(f) = &mut e {
                        f.push((Cow::Borrowed("exemplar"), Record::Null));
                    }
                    out.push(e);
                }
                out.push(entry(
                    labels(names, &values, None),
                    h.sum(),
                    Some(format!("{name}_sum")),
                ));
                out.push(entry(
                    labels(names, &values, None),
                    h.count() as f64,
                    Some(format!("{name}_count")),
                ));
            }
            SeriesValue::Summary {
                snapshot,
                quantiles,
            } => {
                for &(q, v) in quantiles {
                    let v = if v.is_nan() { 0.0 } else { v };
                    out.push(entry(
                        labels(names, &values, Some(("quantile", Record::Number(q)))),
                        v,
                        None,
                    ));
                }
                out.push(entry(
                    labels(names, &values, None),
                    snapshot.sum(),
                    Some(format!("{name}_sum")),
                ));
                out.push(entry(
                    labels(names, &values, None),
                    snapshot.count() as f64,
                    Some(format!("{name}_count")),
                ));
            }
            // A kind added to the core later has no prom-client shape yet.
            _ => {}
        }
    }
    Record::Array(out)
}
