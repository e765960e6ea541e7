//! Replays `tests/fixtures/dialects/workload.json` through metricore and compares
//! each dialect's exposition byte for byte with what the client it imitates wrote for
//! the same workload (the committed goldens beside the workload, written by
//! `scripts/gen-dialect-goldens.sh` from prometheus_client and prom-client themselves).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use metricore::{
    Counter, Dialect, Format, Gauge, Histogram, HistogramOpts, MetricOpts, Registry, Summary,
    SummaryOpts, encode_with,
};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dialects")
}

enum Family {
    Counter(metricore::Family<Counter>),
    Gauge(metricore::Family<Gauge>),
    Histogram(metricore::Family<Histogram>),
    Summary(metricore::Family<Summary>),
}

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => panic!("unknown special value {other:?}"),
        },
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array of strings")
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

/// The workload's registry and the creation time every series is pinned to.
fn replay() -> (Registry, f64) {
    let text = std::fs::read_to_string(dir().join("workload.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let registry = Registry::new();
    let mut families: HashMap<String, Family> = HashMap::new();
    for op in doc["ops"].as_array().unwrap() {
        let kind = op["op"].as_str().unwrap();
        let name = op["name"].as_str().unwrap();
        let labels = strings(&op["labels"]);
        if matches!(kind, "counter" | "gauge" | "histogram" | "summary") {
            // Counters are registered as `NAME_total`, as the goldens' writer registers them
            // with prom-client (whose 0.0.4 text keeps a counter's name as given).
            let registered = if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_owned()
            };
            let mut opts = MetricOpts::new(registered, op["help"].as_str().unwrap()).labels(labels);
            if let Some(unit) = op.get("unit") {
                opts = opts.unit(unit.as_str().unwrap());
            }
            let mut hist = HistogramOpts::new();
            if let Some(b) = op.get("buckets") {
                let bounds: Vec<f64> = b.as_array().unwrap().iter().map(number).collect();
                hist = hist.buckets(bounds);
            }
            let family = match kind {
                "counter" => Family::Counter(registry.counter_family(opts).unwrap()),
                "gauge" => Family::Gauge(registry.gauge_family(opts).unwrap()),
                "histogram" => Family::Histogram(registry.histogram_family(opts, hist).unwrap()),
                _ => Family::Summary(
                    registry
                        .summary_family(opts, SummaryOpts::new().quantiles(vec![]))
                        .unwrap(),
                ),
            };
            let full = registry.family_names().last().unwrap().clone();
            families.insert(full, family);
            continue;
        }
        let family = families
            .get(name)
            .unwrap_or_else(|| panic!("no family {name}"));
        let v = number(&op["value"]);
        match (kind, family) {
            ("inc", Family::Counter(f)) => f.with_label_values(&labels).unwrap().add(v).unwrap(),
            ("set", Family::Gauge(f)) => f.with_label_values(&labels).unwrap().set(v),
            ("observe", Family::Histogram(f)) => {
                f.with_label_values(&labels).unwrap().observe(v).unwrap();
            }
            ("observe", Family::Summary(f)) => {
                f.with_label_values(&labels).unwrap().observe(v).unwrap();
            }
            _ => panic!("op {kind} does not apply to {name}"),
        }
    }
    (registry, doc["created"].as_f64().unwrap())
}

/// The first differing lines, for a failure message.
fn difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<_>, Vec<_>) = (want.lines().collect(), got.lines().collect());
    let mut out = String::new();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b {
            let _ = writeln!(
                out,
                "line {}:\n  client:    {a:?}\n  metricore: {b:?}",
                i + 1
            );
            if out.len() > 2000 {
                break;
            }
        }
    }
    if out.is_empty() {
        out = format!(
            "same lines, different bytes (trailing newline?): client ends {:?}, metricore {:?}",
            &want[want.len().saturating_sub(10)..],
            &got[got.len().saturating_sub(10)..]
        );
    }
    out
}

fn check(golden: &str, format: Format, dialect: Dialect) {
    let (registry, created) = replay();
    let mut families = registry.gather();
    for s in families.iter_mut().flat_map(|f| f.series.iter_mut()) {
        s.created = created;
    }
    let got = String::from_utf8(encode_with(&families, format, dialect)).unwrap();
    let want = std::fs::read_to_string(dir().join(golden)).unwrap();
    assert!(
        got == want,
        "{golden}: metricore's {dialect:?} {format:?} differs from the client's:\n{}",
        difference(&want, &got)
    );
}

#[test]
fn prometheus_client_text() {
    check(
        "prometheus_client.txt",
        Format::Text,
        Dialect::PrometheusClient { created: true },
    );
}

#[test]
fn prometheus_client_text_without_created() {
    check(
        "prometheus_client.no_created.txt",
        Format::Text,
        Dialect::PrometheusClient { created: false },
    );
}

#[test]
fn prometheus_client_openmetrics() {
    check(
        "prometheus_client.om.txt",
        Format::OpenMetrics,
        Dialect::PrometheusClient { created: true },
    );
}

#[test]
fn prom_client_text() {
    check("prom-client.txt", Format::Text, Dialect::PromClient);
}

#[test]
fn prom_client_openmetrics() {
    check(
        "prom-client.om.txt",
        Format::OpenMetrics,
        Dialect::PromClient,
    );
}

/// prometheus_client writes no `_sum` for a histogram whose lowest bound is negative (its
/// own tests show the exposition below); the canonical dialect keeps it.
#[test]
fn prometheus_client_leaves_out_the_sum_of_histograms_with_negative_bounds() {
    let registry = Registry::new();
    let h = registry
        .histogram(
            MetricOpts::new("hh", "A histogram"),
            HistogramOpts::new().buckets(vec![-1.0, -0.5, 0.0, 0.5, 1.0]),
        )
        .unwrap();
    h.observe(-0.5).unwrap();
    let families = registry.gather();
    let text = String::from_utf8(encode_with(
        &families,
        Format::OpenMetrics,
        Dialect::PrometheusClient { created: false },
    ))
    .unwrap();
    assert_eq!(
        text,
        "# HELP hh A histogram\n# TYPE hh histogram\n\
         hh_bucket{le=\"-1.0\"} 0.0\nhh_bucket{le=\"-0.5\"} 1.0\nhh_bucket{le=\"0.0\"} 1.0\n\
         hh_bucket{le=\"0.5\"} 1.0\nhh_bucket{le=\"1.0\"} 1.0\nhh_bucket{le=\"+Inf\"} 1.0\n\
         hh_count 1.0\n# EOF\n"
    );
    let canonical =
        String::from_utf8(encode_with(&families, Format::Text, Dialect::Canonical)).unwrap();
    assert!(canonical.contains("hh_sum -0.5\n"), "{canonical}");
}
