//! A family's series in a compact form from which the skin (lib/index.js) builds
//! prom-client's `get()` values: numbers in one `Float64Array` and every label value in one
//! string, so that a family of 10k series crosses into JavaScript as a handful of values,
//! not as 10k objects made one property at a time through napi.

use metricore::collect::{FamilySnapshot, SeriesValue};
use metricore::exemplar::Exemplar;
use napi::bindgen_prelude::{Float64Array, Uint32Array};
use napi_derive::napi;

/// A family's series, collected now, for prom-client's `get()`.
#[napi(object)]
pub struct PromSeries {
    /// Every series' label values, concatenated, in series order and label-name order.
    pub label_text: String,
    /// The length of each label value in `labelText`, in UTF-16 code units (series × label
    /// names of them).
    pub label_lengths: Uint32Array,
    /// Per series, in series order: its value (counter, gauge); its cumulative bucket counts,
    /// then sum and count (histogram); its quantile values (NaN for an empty window), then
    /// sum and count (summary).
    pub numbers: Float64Array,
    /// The bucket bounds, `Infinity` last (histogram), or the quantiles (summary); empty for
    /// counters and gauges.
    pub bounds: Vec<f64>,
    /// The exemplars kept: a counter series' latest, a histogram bucket's latest.
    pub exemplars: Vec<PromExemplar>,
}

/// An exemplar and where it belongs.
#[napi(object)]
pub struct PromExemplar {
    /// The series' index in series order.
    pub series: u32,
    /// The bucket's index (0 for a counter).
    pub bucket: u32,
    /// Label names, in the order given.
    pub label_names: Vec<String>,
    /// Label values, as `labelNames`.
    pub label_values: Vec<String>,
    /// The value recorded with it.
    pub value: f64,
    /// When, in Unix seconds.
    pub timestamp: f64,
}

fn exemplar(series: usize, bucket: usize, e: &Exemplar) -> PromExemplar {
    PromExemplar {
        series: u32::try_from(series).unwrap_or(u32::MAX),
        bucket: u32::try_from(bucket).unwrap_or(u32::MAX),
        label_names: e.labels.iter().map(|(k, _)| k.clone()).collect(),
        label_values: e.labels.iter().map(|(_, v)| v.clone()).collect(),
        value: e.value,
        timestamp: e.timestamp,
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "a JS number is a double, as prom-client's counts are"
)]
pub(crate) fn of(family: &FamilySnapshot) -> PromSeries {
    let mut label_text = String::new();
    let mut label_lengths = Vec::with_capacity(family.series.len() * family.label_names.len());
    let mut numbers = Vec::with_capacity(family.series.len());
    let mut bounds = Vec::new();
    let mut exemplars = Vec::new();
    for (i, s) in family.series.iter().enumerate() {
        for v in s.labels.iter() {
            label_text.push_str(v);
            let units = v.encode_utf16().count();
            label_lengths.push(u32::try_from(units).unwrap_or(u32::MAX));
        }
        match &s.value {
            SeriesValue::Counter {
                value,
                exemplar: kept,
                ..
            } => {
                numbers.push(*value);
                if let Some(e) = kept {
                    exemplars.push(exemplar(i, 0, e));
                }
            }
            SeriesValue::SampledCounter { value } | SeriesValue::Gauge { value } => {
                numbers.push(*value);
            }
            SeriesValue::Histogram(h) => {
                let buckets = h.buckets();
                if bounds.is_empty() {
                    bounds = buckets.iter().map(|b| b.le).collect();
                }
                numbers.extend(buckets.iter().map(|b| b.cumulative_count as f64));
                for (b, bucket) in buckets.iter().enumerate() {
                    if let Some(e) = &bucket.exemplar {
                        exemplars.push(exemplar(i, b, e));
                    }
                }
                numbers.push(h.sum());
                numbers.push(h.count() as f64);
            }
            SeriesValue::Summary {
                snapshot,
                quantiles,
            } => {
                if bounds.is_empty() {
                    bounds = quantiles.iter().map(|&(q, _)| q).collect();
                }
                numbers.extend(quantiles.iter().map(|&(_, v)| v));
                numbers.push(snapshot.sum());
                numbers.push(snapshot.count() as f64);
            }
            // A kind added to the core later has no prom-client shape yet: a NaN keeps the
            // series' place.
            _ => numbers.push(f64::NAN),
        }
    }
    PromSeries {
        label_text,
        label_lengths: Uint32Array::new(label_lengths),
        numbers: Float64Array::new(numbers),
        bounds,
        exemplars,
    }
}
