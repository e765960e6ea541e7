//! Exposition: golden files for both text formats, structural checks, content
//! negotiation and the JSON shape.
//!
//! The golden files live in `tests/golden/`. After an intended change to the
//! output, rewrite them with `UPDATE_GOLDEN=1 cargo test -p metricore --test exposition`
//! and review the diff.

use std::path::PathBuf;

use metricore::expose::encode_json;
use metricore::{Format, HistogramOpts, MetricOpts, Registry, Resolution, encode, negotiate};

/// What Prometheus (2.x and 3.x by default) sends when it scrapes.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// A gauge label value that needs every escape.
const NASTY: &str = "C:\\dir \"quoted\"\nnext";

/// A registry with every kind of family, every escape and every special value.
fn fixture() -> Registry {
    let r = Registry::new();

    let requests = r
        .counter_family(
            MetricOpts::new("http_requests", "HTTP requests served.").labels(["method", "code"]),
        )
        .unwrap();
    requests
        .with_label_values(&["GET", "200"])
        .unwrap()
        .inc_by_with_exemplar(3, &[("trace_id", "4bf92f3577b34da6")])
        .unwrap();
    requests.with_label_values(&["POST", "500"]).unwrap().inc();

    let cpu = r
        .counter(MetricOpts::new("process_cpu", "CPU time used, in whole seconds.").unit("seconds"))
        .unwrap();
    cpu.inc_by(42);

    let temperature = r
        .gauge_family(
            MetricOpts::new(
                "sensor_temperature_celsius",
                "Temperature.\nRead from C:\\sensors, \"raw\".",
            )
            .labels(["sensor"]),
        )
        .unwrap();
    temperature
        .with_label_values(&[NASTY])
        .unwrap()
        .set(f64::NAN);
    temperature
        .with_label_values(&["hot"])
        .unwrap()
        .set(f64::INFINITY);
    temperature
        .with_label_values(&["cold"])
        .unwrap()
        .set(f64::NEG_INFINITY);
    temperature.with_label_values(&["room"]).unwrap().set(21.5);
    temperature.with_label_values(&["big"]).unwrap().set(1.5e6);
    temperature.with_label_values(&["whole"]).unwrap().set(-3.0);

    let rpc = r
        .histogram_family(
            MetricOpts::new("rpc_duration_seconds", "RPC latency.").labels(["service"]),
            HistogramOpts::new().buckets(vec![0.01, 0.1, 1.0]),
        )
        .unwrap();
    let auth = rpc.with_label_values(&["auth"]).unwrap();
    auth.observe(0.005).unwrap();
    auth.record_ms(50.0).unwrap();
    auth.observe_with_exemplar(
        0.5,
        &[("trace_id", "0af7651916cd43dd"), ("span_id", "b7ad6b71")],
    )
    .unwrap();
    auth.observe(3.0).unwrap();
    let _idle = rpc.with_label_values(&["billing"]).unwrap();

    let db = r
        .histogram(
            MetricOpts::new(
                "db_query_duration_seconds",
                "Query latency (default buckets).",
            ),
            HistogramOpts::new(),
        )
        .unwrap();
    db.record(1_500); // 1.5 ms
    db.record(30_000); // 30 ms
    db.record(30_000);

    let payload = r
        .histogram(
            MetricOpts::new("request_payload", "Request body sizes.").unit("bytes"),
            HistogramOpts::new()
                .resolution(Resolution::Unit)
                .range(1, 1 << 20),
        )
        .unwrap();
    payload.record(512);
    payload.record(2 << 20); // above the range: saturates, and is reported

    let _jobs = r
        .counter_family(
            MetricOpts::new("jobs_failed", "Jobs that failed, by queue.").labels(["queue"]),
        )
        .unwrap();

    let tenants = r
        .counter_family(
            MetricOpts::new("tenant_logins", "Logins by tenant.")
                .labels(["tenant"])
                .cardinality_limit(1),
        )
        .unwrap();
    tenants.with_label_values(&["acme"]).unwrap().inc();
    tenants.with_label_values(&["globex"]).unwrap().inc(); // over the limit: overflow series

    r
}

/// Replaces what varies between runs (`_created` values, exemplar timestamps) with `<TS>`.
fn normalise(exposition: &str) -> String {
    let mut out = String::with_capacity(exposition.len());
    for line in exposition.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let name_end = body.find(['{', ' ']).unwrap_or(body.len());
        let last_space = body.rfind(' ').unwrap_or(body.len());
        if !body.starts_with('#')
            && (body[..name_end].ends_with("_created") || body.contains(" # {"))
        {
            out.push_str(&body[..last_space]);
            out.push_str(" <TS>");
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn golden_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(file)
}

/// Compares `actual` with the golden file, or rewrites it when `UPDATE_GOLDEN=1`.
fn check_golden(file: &str, actual: &str) {
    let path = golden_path(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (create it with UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    if expected != actual {
        let first_diff = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a);
        let detail = match first_diff {
            Some(i) => format!(
                "first difference at line {}:\n  expected: {}\n  actual:   {}",
                i + 1,
                expected.lines().nth(i).unwrap(),
                actual.lines().nth(i).unwrap()
            ),
            None => format!(
                "{} lines expected, {} produced",
                expected.lines().count(),
                actual.lines().count()
            ),
        };
        panic!(
            "{} is out of date; {detail}\n(rerun with UPDATE_GOLDEN=1 if the change is intended)\n--- actual ---\n{actual}",
            path.display()
        );
    }
}

fn render(format: Format) -> String {
    String::from_utf8(fixture().render(format)).unwrap()
}

#[test]
fn text_matches_golden() {
    check_golden("text_0_0_4.txt", &normalise(&render(Format::Text)));
}

#[test]
fn openmetrics_matches_golden() {
    check_golden(
        "openmetrics_1_0_0.txt",
        &normalise(&render(Format::OpenMetrics)),
    );
}

#[test]
fn normalise_only_touches_varying_values() {
    let input = "# HELP a_created x\na_total 1 # {trace_id=\"x\"} 1.0 1712345678.5\na_created{l=\"v\"} 1712345678.25\nb 2\n";
    assert_eq!(
        normalise(input),
        "# HELP a_created x\na_total 1 # {trace_id=\"x\"} 1.0 <TS>\na_created{l=\"v\"} <TS>\nb 2\n"
    );
}

/// One parsed sample line: name, raw label text (between the braces), value, exemplar text.
struct Sample<'a> {
    name: &'a str,
    labels: &'a str,
    value: &'a str,
    exemplar: Option<&'a str>,
}

/// Splits a sample line. Label values in these tests hold no `}` or ` # `.
fn parse_sample(line: &str) -> Sample<'_> {
    let (sample, exemplar) = match line.split_once(" # ") {
        Some((s, e)) => (s, Some(e)),
        None => (line, None),
    };
    let (series, value) = sample.rsplit_once(' ').unwrap();
    let (name, labels) = match series.split_once('{') {
        Some((n, l)) => (n, l.strip_suffix('}').unwrap()),
        None => (series, ""),
    };
    Sample {
        name,
        labels,
        value,
        exemplar,
    }
}

fn samples(exposition: &str) -> Vec<Sample<'_>> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(parse_sample)
        .collect()
}

/// The `le` label of a bucket sample, and its other labels.
fn split_le(labels: &str) -> (String, &str) {
    let at = labels.find("le=\"").unwrap();
    let le = &labels[at + 4..];
    let le = &le[..le.find('"').unwrap()];
    let rest = labels[..at].trim_end_matches(',').to_owned();
    (rest, le)
}

/// Checks histogram structure in either format: buckets cumulative and ordered,
/// `+Inf` last, `_count` equal to the `+Inf` bucket.
fn check_histograms(exposition: &str, names: &[&str]) {
    for name in names {
        let bucket_name = format!("{name}_bucket");
        let count_name = format!("{name}_count");
        let mut last: Option<(String, f64, u64)> = None;
        let mut inf_counts = std::collections::HashMap::new();
        let mut series_seen = 0;
        for s in samples(exposition) {
            if s.name == bucket_name {
                let (series, le) = split_le(s.labels);
                let bound: f64 = le.parse().unwrap();
                let count: u64 = s.value.parse().unwrap();
                if let Some((prev_series, prev_bound, prev_count)) = &last
                    && *prev_series == series
                {
                    assert!(
                        bound > *prev_bound,
                        "{name}{{{series}}}: le {bound} after {prev_bound}"
                    );
                    assert!(
                        count >= *prev_count,
                        "{name}{{{series}}}: buckets not cumulative"
                    );
                }
                if le == "+Inf" {
                    inf_counts.insert(series.clone(), count);
                }
                last = Some((series, bound, count));
            } else if s.name == count_name {
                series_seen += 1;
                let count: u64 = s.value.parse().unwrap();
                assert_eq!(
                    inf_counts.get(s.labels),
                    Some(&count),
                    "{name}{{{}}}: _count != +Inf bucket",
                    s.labels
                );
            }
        }
        assert!(series_seen > 0, "no {name} series found");
        assert_eq!(
            series_seen,
            inf_counts.len(),
            "{name}: every series needs a +Inf bucket and a _count"
        );
    }
}

const HISTOGRAMS: [&str; 3] = [
    "rpc_duration_seconds",
    "db_query_duration_seconds",
    "request_payload_bytes",
];

#[test]
fn text_structure() {
    let text = render(Format::Text);
    assert!(text.ends_with('\n'));
    assert!(!text.contains("# EOF"), "0.0.4 has no EOF marker");
    assert!(!text.contains("# UNIT"), "0.0.4 has no UNIT lines");
    assert!(
        !text.contains("_created"),
        "0.0.4 carries no _created samples"
    );
    assert!(!text.contains(" # {"), "0.0.4 cannot carry exemplars");

    // Counters: HELP, TYPE and every sample use the `_total` name.
    for family in [
        "http_requests",
        "process_cpu_seconds",
        "jobs_failed",
        "tenant_logins",
        "metricore_cardinality_overflow",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family}_total counter\n")),
            "{family}"
        );
        assert!(
            text.contains(&format!("# HELP {family}_total ")),
            "{family}"
        );
    }
    for s in samples(&text) {
        if s.name.starts_with("http_requests")
            || s.name.starts_with("process_cpu")
            || s.name.starts_with("tenant_logins")
        {
            assert!(s.name.ends_with("_total"), "{}", s.name);
        }
    }
    assert!(text.contains("http_requests_total{method=\"GET\",code=\"200\"} 3\n"));
    assert!(text.contains("process_cpu_seconds_total 42\n"));

    // Every value parses as a Go float would, and counts are integers.
    for s in samples(&text) {
        let v: f64 = s
            .value
            .replace("+Inf", "inf")
            .replace("-Inf", "-inf")
            .parse()
            .unwrap_or_else(|_| panic!("{}", s.value));
        if s.name.ends_with("_bucket") || s.name.ends_with("_count") || s.name.ends_with("_total") {
            assert!(
                s.value.bytes().all(|b| b.is_ascii_digit()),
                "{} {}",
                s.name,
                s.value
            );
            assert!(v >= 0.0);
        }
    }

    // Escapes: label values escape \ " and newline; HELP escapes \ and newline only.
    assert!(text.contains(r#"sensor_temperature_celsius{sensor="C:\\dir \"quoted\"\nnext"} NaN"#));
    assert!(text.contains(
        "# HELP sensor_temperature_celsius Temperature.\\nRead from C:\\\\sensors, \"raw\".\n"
    ));
    assert!(text.contains("sensor_temperature_celsius{sensor=\"hot\"} +Inf\n"));
    assert!(text.contains("sensor_temperature_celsius{sensor=\"cold\"} -Inf\n"));
    assert!(text.contains("sensor_temperature_celsius{sensor=\"whole\"} -3\n"));
    assert!(text.contains("sensor_temperature_celsius{sensor=\"big\"} 1.5e+06\n"));

    // The empty family keeps its metadata.
    assert!(text.contains(
        "# HELP jobs_failed_total Jobs that failed, by queue.\n# TYPE jobs_failed_total counter\n"
    ));
    assert!(!text.contains("jobs_failed_total{"));

    // Self-metrics.
    assert!(text.contains("metricore_cardinality_overflow_total{metric=\"tenant_logins\"} 1\n"));
    assert!(
        text.contains("metricore_saturated_values_total{metric=\"request_payload_bytes\"} 1\n")
    );
    assert!(text.contains("tenant_logins_total{tenant=\"__overflow__\"} 1\n"));

    // Histograms: `le` in the OpenMetrics form, `_sum` then `_count` after the buckets.
    assert!(text.contains("rpc_duration_seconds_bucket{service=\"auth\",le=\"1.0\"} 3\n"));
    assert!(text.contains("rpc_duration_seconds_bucket{service=\"auth\",le=\"+Inf\"} 4\n"));
    assert!(text.contains("rpc_duration_seconds_sum{service=\"auth\"} 3.555\n"));
    assert!(text.contains("db_query_duration_seconds_bucket{le=\"0.005\"} 1\n"));
    check_histograms(&text, &HISTOGRAMS);
}

#[test]
fn openmetrics_structure() {
    let om = render(Format::OpenMetrics);
    assert!(
        om.ends_with("\n# EOF\n"),
        "must end with # EOF and a newline"
    );
    assert_eq!(om.lines().last(), Some("# EOF"));
    assert_eq!(om.matches("# EOF").count(), 1);
    assert!(!om.contains("\n\n"), "no blank lines");

    // Families are named without `_total`; counter samples carry it.
    assert!(om.contains("# TYPE http_requests counter\n"));
    assert!(!om.contains("# TYPE http_requests_total"));
    for s in samples(&om) {
        if s.name.starts_with("http_requests") {
            assert!(
                s.name.ends_with("_total") || s.name.ends_with("_created"),
                "{}",
                s.name
            );
        }
    }

    // UNIT only where a unit was given, and it matches the name's suffix.
    assert!(
        om.contains("# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n")
    );
    assert!(om.contains("# UNIT request_payload_bytes bytes\n"));
    assert_eq!(om.matches("# UNIT").count(), 2);

    // Exemplars on the counter and on the histogram bucket the value fell in.
    let exemplar = |name: &str, labels: &str| {
        samples(&om)
            .into_iter()
            .find(|s| s.name == name && s.labels == labels)
            .and_then(|s| s.exemplar.map(str::to_owned))
            .unwrap_or_else(|| panic!("no exemplar on {name}{{{labels}}}"))
    };
    let e = exemplar("http_requests_total", "method=\"GET\",code=\"200\"");
    assert!(e.starts_with("{trace_id=\"4bf92f3577b34da6\"} 3.0 "), "{e}");
    let e = exemplar("rpc_duration_seconds_bucket", "service=\"auth\",le=\"1.0\"");
    assert!(
        e.starts_with("{trace_id=\"0af7651916cd43dd\",span_id=\"b7ad6b71\"} 0.5 "),
        "{e}"
    );
    let ts: f64 = e.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(ts > 1.6e9, "exemplar timestamp {ts} is Unix seconds");
    assert_eq!(om.matches(" # {").count(), 2);

    // `_created` for every counter and histogram series, right after its other samples.
    let lines: Vec<&str> = om.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let s = parse_sample(line);
        if line.starts_with('#') {
            continue;
        }
        if s.name.ends_with("_total") {
            let next = parse_sample(lines[i + 1]);
            assert_eq!(next.name, s.name.replace("_total", "_created"));
            assert_eq!(next.labels, s.labels);
        }
        if s.name.ends_with("_created") {
            let v: f64 = s.value.parse().unwrap();
            assert!(v > 1.6e9, "{line}: _created is Unix seconds");
        }
    }
    assert!(
        !om.contains("sensor_temperature_celsius_created"),
        "gauges have no _created"
    );
    assert!(om.contains("rpc_duration_seconds_created{service=\"billing\"} "));

    // Escapes: OpenMetrics HELP escapes `"` too.
    assert!(om.contains(
        "# HELP sensor_temperature_celsius Temperature.\\nRead from C:\\\\sensors, \\\"raw\\\".\n"
    ));
    assert!(om.contains(r#"sensor_temperature_celsius{sensor="C:\\dir \"quoted\"\nnext"} NaN"#));
    assert!(om.contains("sensor_temperature_celsius{sensor=\"whole\"} -3.0\n"));
    assert!(om.contains("sensor_temperature_celsius{sensor=\"room\"} 21.5\n"));

    // Histograms: buckets, `_count`, `_sum`, `_created`.
    assert!(om.contains(
        "rpc_duration_seconds_bucket{service=\"billing\",le=\"+Inf\"} 0\nrpc_duration_seconds_count{service=\"billing\"} 0\nrpc_duration_seconds_sum{service=\"billing\"} 0.0\nrpc_duration_seconds_created{service=\"billing\"} "
    ));
    check_histograms(&om, &HISTOGRAMS);

    // The empty family keeps its metadata.
    assert!(om.contains(
        "# TYPE jobs_failed counter\n# HELP jobs_failed Jobs that failed, by queue.\n# TYPE "
    ));
}

#[test]
fn formats_agree_on_values() {
    // Both formats come from one gather, so every 0.0.4 sample appears in OpenMetrics with
    // the same labels and the same number (OpenMetrics spells integral floats with `.0`).
    let families = fixture().gather();
    let text = String::from_utf8(encode(&families, Format::Text)).unwrap();
    let om = String::from_utf8(encode(&families, Format::OpenMetrics)).unwrap();
    let om_samples = samples(&om);
    for s in samples(&text) {
        let twin = om_samples
            .iter()
            .find(|o| o.name == s.name && o.labels == s.labels)
            .unwrap_or_else(|| panic!("{}{{{}}} missing from OpenMetrics", s.name, s.labels));
        let parse = |v: &str| {
            v.replace("+Inf", "inf")
                .replace("-Inf", "-inf")
                .parse::<f64>()
                .unwrap()
        };
        let (a, b) = (parse(s.value), parse(twin.value));
        assert!(
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            "{}: {} vs {}",
            s.name,
            s.value,
            twin.value
        );
    }
}

#[test]
fn empty_registry() {
    let r = Registry::new();
    assert_eq!(r.render_text(), "");
    assert_eq!(r.render_openmetrics(), "# EOF\n");
    assert_eq!(r.to_json(), "[]");
}

#[test]
fn lib_example_line() {
    let r = Registry::new();
    let c = r
        .counter_family(MetricOpts::new("http_requests", "Requests served.").labels(["method"]))
        .unwrap();
    c.with_label_values(&["GET"]).unwrap().inc();
    assert_eq!(
        r.render_text(),
        "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total{method=\"GET\"} 1\n"
    );
}

#[test]
fn negotiation() {
    use Format::{OpenMetrics as Om, Text};
    let cases: &[(Option<&str>, Format)] = &[
        (None, Text),
        (Some(""), Text),
        (Some("   "), Text),
        (Some("garbage"), Text),
        (Some(";;,,=/"), Text),
        (Some("*/*"), Text),
        (Some("text/plain"), Text),
        (Some("text/plain;version=0.0.4"), Text),
        (
            Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Text,
        ), // a browser
        (Some(PROMETHEUS_ACCEPT), Om),
        (Some("application/openmetrics-text"), Om),
        (
            Some("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Om,
        ),
        (Some("Application/OpenMetrics-Text;Version=\"1.0.0\""), Om),
        (
            Some(
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.9,text/plain;q=0.5",
            ),
            Om,
        ),
        // Versions we do not produce.
        (Some("application/openmetrics-text;version=0.0.1"), Text),
        (
            Some("application/openmetrics-text;version=2.0.0,text/plain;q=0.1"),
            Text,
        ),
        // Weights.
        (
            Some("application/openmetrics-text;q=0.4,text/plain;q=0.5"),
            Text,
        ),
        (
            Some("application/openmetrics-text;q=0.6,text/plain;q=0.5"),
            Om,
        ),
        (Some("text/plain;q=0.5,application/openmetrics-text"), Om),
        (Some("application/openmetrics-text;q=0"), Text),
        (Some("application/openmetrics-text;q=0.000"), Text),
        (
            Some("text/plain;q=0,application/openmetrics-text;q=0.1"),
            Om,
        ),
        (Some("application/openmetrics-text;q=0,*/*"), Text),
        // Malformed weights: the range is ignored.
        (
            Some("application/openmetrics-text;q=2,text/plain;q=0.5"),
            Text,
        ),
        (Some("application/openmetrics-text;q=abc"), Text),
        (Some("application/openmetrics-text;q=-1"), Text),
        // Ties: the more specific range, then the first listed; `*/*` alone stays text.
        (Some("application/openmetrics-text,*/*"), Om),
        (Some("*/*,application/openmetrics-text"), Om),
        (Some("text/plain,application/openmetrics-text"), Text),
        (Some("application/openmetrics-text,text/plain"), Om),
        // The most specific range decides a format's weight.
        (Some("application/*;q=0.9,text/plain;q=0.5"), Om),
        (
            Some("application/*;q=0.9,application/openmetrics-text;q=0.1,text/plain;q=0.5"),
            Text,
        ),
        (
            Some(
                "application/openmetrics-text;q=0.2,application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5",
            ),
            Om,
        ),
        (Some("application/json"), Text),
    ];
    for (accept, want) in cases {
        assert_eq!(negotiate(*accept), *want, "Accept: {accept:?}");
    }
}

#[test]
fn content_types_and_render_for_accept() {
    assert_eq!(
        Format::Text.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(
        Format::OpenMetrics.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let r = fixture();
    let (body, ct) = r.render_for_accept(Some(PROMETHEUS_ACCEPT));
    assert_eq!(ct, Format::OpenMetrics.content_type());
    assert!(body.ends_with(b"# EOF\n"));
    let (body, ct) = r.render_for_accept(None);
    assert_eq!(ct, Format::Text.content_type());
    assert!(body.starts_with(b"# HELP http_requests_total "));
    assert_eq!(
        normalise(&String::from_utf8(body).unwrap()),
        normalise(&r.render_text())
    );
}

#[test]
fn json_shape() {
    let r = fixture();
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let families = json.as_array().unwrap();
    let family = |name: &str| {
        families
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(families.len(), fixture().gather().len());

    let requests = family("http_requests");
    assert_eq!(requests["kind"], "counter");
    assert_eq!(requests["help"], "HTTP requests served.");
    assert_eq!(
        requests["label_names"],
        serde_json::json!(["method", "code"])
    );
    assert!(requests.get("unit").is_none());
    let get = &requests["series"][0];
    assert_eq!(get["labels"], serde_json::json!(["GET", "200"]));
    assert_eq!(get["value"]["value"], 3);
    assert!(get["created"].as_f64().unwrap() > 1.6e9);
    assert_eq!(
        get["value"]["exemplar"]["labels"],
        serde_json::json!([["trace_id", "4bf92f3577b34da6"]])
    );
    assert_eq!(get["value"]["exemplar"]["value"], 3.0);
    assert!(requests["series"][1]["value"].get("exemplar").is_none());

    assert_eq!(family("process_cpu_seconds")["unit"], "seconds");

    let gauges = &family("sensor_temperature_celsius")["series"];
    let gauge = |label: &str| {
        gauges
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["labels"][0] == label)
            .unwrap()["value"]["value"]
            .clone()
    };
    assert_eq!(gauge("room"), 21.5);
    assert!(gauge(NASTY).is_null(), "NaN has no JSON spelling");
    assert!(gauge("hot").is_null());

    let rpc = family("rpc_duration_seconds");
    assert_eq!(rpc["kind"], "histogram");
    let auth = &rpc["series"][0]["value"];
    assert_eq!(rpc["series"][0]["labels"], serde_json::json!(["auth"]));
    assert_eq!(auth["count"], 4);
    assert!((auth["sum"].as_f64().unwrap() - 3.555).abs() < 1e-9);
    assert_eq!(
        auth["buckets"],
        serde_json::json!([["0.01", 1], ["0.1", 2], ["1", 3], ["+Inf", 4]])
    );
    assert_eq!(auth["resolution"], "microsecond");

    assert_eq!(family("jobs_failed")["series"], serde_json::json!([]));
    assert_eq!(
        family("metricore_saturated_values")["series"][0]["labels"],
        serde_json::json!(["request_payload_bytes"])
    );

    // The free function gives the same document.
    let gathered = r.gather();
    let again: serde_json::Value = serde_json::from_slice(&encode_json(&gathered)).unwrap();
    assert_eq!(again.as_array().unwrap().len(), families.len());
}

/// The reference parsers, when installed: promtool for 0.0.4 (lint findings
/// count as failures) and `prometheus_client`'s strict OpenMetrics parser.
#[test]
fn reference_parsers_accept_output() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let dir = std::env::temp_dir().join(format!("metricore-exposition-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    if std::path::Path::new("/usr/bin/promtool").exists() {
        let mut child = Command::new("/usr/bin/promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(render(Format::Text).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Exit 3 means "parsed, with lint findings": those fail too.
        assert!(
            out.status.success(),
            "promtool check metrics exited {:?}:\n{report}",
            out.status.code()
        );
    } else {
        eprintln!("skipped: /usr/bin/promtool is not installed (scripts/test.sh installs it)");
    }

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    let script = root.join("scripts/check_openmetrics.py");
    if python.exists() && script.exists() {
        let file = dir.join("fixture.om");
        std::fs::write(&file, render(Format::OpenMetrics)).unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!(
            "skipped: {} not found (scripts/test.sh creates it); OpenMetrics parser check",
            python.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
