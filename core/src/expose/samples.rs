//! Families given sample by sample, as the custom collectors of the peer clients yield them
//! (prometheus_client's `Metric` with its `Sample`s): any OpenMetrics type, samples named
//! freely, values already final. The registry's own families are snapshots of live
//! metrics; these are whatever the collector says, written in a dialect's spelling.
//!
//! Only prometheus_client's spelling is written here: it is the client whose collectors
//! yield families this way. What it does, both formats:
//!
//! - labels sorted by name, values escaped (`\\`, `\n`, `"`); floats by `floatToGoString`;
//! - 0.0.4: a counter family is named `…_total`, an info family `…_info`; `info` and
//!   `stateset` are typed `gauge`, `gaugehistogram` `histogram`, `unknown` `untyped`; the
//!   `_created`, `_gsum` and `_gcount` samples follow the family as gauge families of their
//!   own; timestamps in whole milliseconds; no exemplars;
//! - OpenMetrics: HELP, TYPE, UNIT (when set); timestamps as the collector spelled them;
//!   exemplars only on a histogram's `_bucket` or a counter's `_total` samples (anything
//!   else is refused, as prometheus_client refuses it).

use super::write::{write_escaped, write_f64_python, write_sorted_pairs};
use crate::error::{Error, ErrorKind, Result};

/// One family of [`Sample`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleFamily {
    /// The family's name (counters and infos without `_total` / `_info`).
    pub name: String,
    /// Help text.
    pub help: String,
    /// The OpenMetrics type: `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`,
    /// `info`, `stateset` or `unknown`.
    pub kind: String,
    /// The unit, or empty.
    pub unit: String,
    /// The samples, in the order they are written.
    pub samples: Vec<Sample>,
}

/// One sample of a [`SampleFamily`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The full sample name (`x_total`, `x_bucket`, …).
    pub name: String,
    /// Label pairs, `le` or `quantile` included, in any order.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// When the value was taken, if the collector said.
    pub timestamp: Option<SampleTime>,
    /// An OpenMetrics exemplar.
    pub exemplar: Option<SampleExemplar>,
}

/// A sample's or exemplar's timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleTime {
    /// Unix seconds.
    pub seconds: f64,
    /// How the collector spelled it (OpenMetrics writes it so).
    pub text: String,
}

/// An exemplar: labels, value and maybe a timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleExemplar {
    /// Label pairs, written sorted by name.
    pub labels: Vec<(String, String)>,
    /// The exemplar's value.
    pub value: f64,
    /// Its timestamp, as the collector spelled it.
    pub timestamp: Option<String>,
}

/// Appends `families` as prometheus_client writes them: OpenMetrics without the closing
/// `# EOF` when `openmetrics`, else the text format 0.0.4.
///
/// # Errors
/// [`ErrorKind::InvalidExemplar`] (naming the family) for an exemplar on a sample that may
/// not carry one; what was appended before stays appended.
pub fn encode_samples_prometheus_client(
    out: &mut Vec<u8>,
    families: &[SampleFamily],
    openmetrics: bool,
) -> Result<()> {
    for family in families {
        if openmetrics {
            family_om(out, family)?;
        } else {
            family_text(out, family);
        }
    }
    Ok(())
}

fn labels(out: &mut Vec<u8>, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    out.push(b'{');
    write_sorted_pairs(out, pairs);
    out.push(b'}');
}

fn header(out: &mut Vec<u8>, name: &str, help: &str, kind: &str, quote: bool) {
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    write_escaped(out, help, quote);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(kind.as_bytes());
    out.push(b'\n');
}

fn text_line(out: &mut Vec<u8>, s: &Sample) {
    out.extend_from_slice(s.name.as_bytes());
    labels(out, &s.labels);
    out.push(b' ');
    write_f64_python(out, s.value);
    if let Some(t) = &s.timestamp {
        // prometheus_client: int(float(ts) * 1000), truncated towards zero.
        #[allow(clippy::cast_possible_truncation)]
        let ms = (t.seconds * 1000.0) as i64;
        out.push(b' ');
        out.extend_from_slice(ms.to_string().as_bytes());
    }
    out.push(b'\n');
}

/// Suffixes of the samples 0.0.4 writes as gauge families of their own, in the order written.
const APART: [&str; 3] = ["_created", "_gcount", "_gsum"];

fn family_text(out: &mut Vec<u8>, f: &SampleFamily) {
    let (suffix, kind) = match f.kind.as_str() {
        "counter" => ("_total", "counter"),
        "info" => ("_info", "gauge"),
        "stateset" => ("", "gauge"),
        "gaugehistogram" => ("", "histogram"),
        "unknown" => ("", "untyped"),
        other => ("", other),
    };
    let name = format!("{}{suffix}", f.name);
    header(out, &name, &f.help, kind, false);
    // The OpenMetrics-only samples, as gauge families after this one, in suffix order.
    let apart = |s: &Sample| {
        APART.iter().position(|x| {
            s.name.len() == f.name.len() + x.len()
                && s.name.starts_with(&f.name)
                && s.name.ends_with(x)
        })
    };
    for s in &f.samples {
        if apart(s).is_none() {
            text_line(out, s);
        }
    }
    for (i, suffix) in APART.iter().enumerate() {
        let mut first = true;
        for s in f.samples.iter().filter(|s| apart(s) == Some(i)) {
            if first {
                header(out, &format!("{}{suffix}", f.name), &f.help, "gauge", false);
                first = false;
            }
            text_line(out, s);
        }
    }
}

fn family_om(out: &mut Vec<u8>, f: &SampleFamily) -> Result<()> {
    header(out, &f.name, &f.help, &f.kind, true);
    if !f.unit.is_empty() {
        out.extend_from_slice(b"# UNIT ");
        out.extend_from_slice(f.name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(f.unit.as_bytes());
        out.push(b'\n');
    }
    for s in &f.samples {
        out.extend_from_slice(s.name.as_bytes());
        labels(out, &s.labels);
        out.push(b' ');
        write_f64_python(out, s.value);
        if let Some(t) = &s.timestamp {
            out.push(b' ');
            out.extend_from_slice(t.text.as_bytes());
        }
        if let Some(e) = &s.exemplar {
            let allowed = match f.kind.as_str() {
                "histogram" | "gaugehistogram" => s.name.ends_with("_bucket"),
                "counter" => s.name.ends_with("_total"),
                _ => false,
            };
            if !allowed {
                return Err(Error::for_metric(
                    ErrorKind::InvalidExemplar,
                    &f.name,
                    format!(
                        "has an exemplar on '{}', but only a histogram's buckets and a counter's total carry exemplars",
                        s.name
                    ),
                ));
            }
            out.extend_from_slice(b" # ");
            let mut pairs = e.labels.clone();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            if pairs.is_empty() {
                out.extend_from_slice(b"{}");
            } else {
                labels(out, &pairs);
            }
            out.push(b' ');
            write_f64_python(out, e.value);
            if let Some(t) = &e.timestamp {
                out.push(b' ');
                out.extend_from_slice(t.as_bytes());
            }
        }
        out.push(b'\n');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            value,
            timestamp: None,
            exemplar: None,
        }
    }

    fn family(kind: &str, samples: Vec<Sample>) -> SampleFamily {
        SampleFamily {
            name: "x".into(),
            help: "Help \\ \"q\".".into(),
            kind: kind.into(),
            unit: String::new(),
            samples,
        }
    }

    fn render(f: &SampleFamily, openmetrics: bool) -> Result<String> {
        let mut out = Vec::new();
        encode_samples_prometheus_client(&mut out, std::slice::from_ref(f), openmetrics)?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// The bytes prometheus_client 0.26 writes for the same `CounterMetricFamily`.
    #[test]
    fn counter_with_created_in_both_formats() {
        let f = family(
            "counter",
            vec![
                s("x_total", &[("b", "2"), ("a", "q\"\n")], 17.0),
                s("x_created", &[("b", "2"), ("a", "q\"\n")], 123.5),
            ],
        );
        assert_eq!(
            render(&f, false).unwrap(),
            "# HELP x_total Help \\\\ \"q\".\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"\\n\",b=\"2\"} 17.0\n\
             # HELP x_created Help \\\\ \"q\".\n# TYPE x_created gauge\n\
             x_created{a=\"q\\\"\\n\",b=\"2\"} 123.5\n"
        );
        assert_eq!(
            render(&f, true).unwrap(),
            "# HELP x Help \\\\ \\\"q\\\".\n# TYPE x counter\n\
             x_total{a=\"q\\\"\\n\",b=\"2\"} 17.0\nx_created{a=\"q\\\"\\n\",b=\"2\"} 123.5\n"
        );
    }

    #[test]
    fn exemplars_only_on_buckets_and_totals() {
        let mut bucket = s("x_bucket", &[("le", "1.0")], 2.0);
        bucket.exemplar = Some(SampleExemplar {
            labels: vec![("trace".into(), "abc".into())],
            value: 0.5,
            timestamp: Some("12".into()),
        });
        let f = family("histogram", vec![bucket.clone()]);
        assert_eq!(
            render(&f, true).unwrap(),
            "# HELP x Help \\\\ \\\"q\\\".\n# TYPE x histogram\n\
             x_bucket{le=\"1.0\"} 2.0 # {trace=\"abc\"} 0.5 12\n"
        );
        let mut count = bucket;
        count.name = "x_count".into();
        let e = render(&family("histogram", vec![count]), true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidExemplar);
    }

    #[test]
    fn text_renames_types_and_writes_millisecond_timestamps() {
        let mut sample = s("x", &[("x", "on")], 1.0);
        sample.timestamp = Some(SampleTime {
            seconds: 1.5,
            text: "1.5".into(),
        });
        let f = family("stateset", vec![sample]);
        assert_eq!(
            render(&f, false).unwrap(),
            "# HELP x Help \\\\ \"q\".\n# TYPE x gauge\nx{x=\"on\"} 1.0 1500\n"
        );
        assert!(render(&f, true).unwrap().ends_with("x{x=\"on\"} 1.0 1.5\n"));
    }
}
