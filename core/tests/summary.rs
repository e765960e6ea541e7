//! Summaries: quantile samples plus all-time `_sum` and `_count`, in both text formats, over
//! a sliding window when there is one.

use std::time::Duration;

use metricore::window::WindowOpts;
use metricore::{ErrorKind, MetricOpts, Registry, SummaryOpts};

fn sample<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{text}"))
}

#[test]
fn exposes_quantiles_sum_and_count() {
    let r = Registry::new();
    let f = r
        .summary_family(
            MetricOpts::new("rpc_seconds", "RPC latency.").labels(["method"]),
            SummaryOpts::new().quantiles([0.99, 0.5, 0.5]),
        )
        .unwrap();
    let get = f.with_label_values(&["get"]).unwrap();
    for ms in 1..=1000 {
        get.record_ms(f64::from(ms)).unwrap();
    }
    let text = r.render_text();
    assert!(text.contains("# TYPE rpc_seconds summary\n"), "{text}");
    let p50: f64 = sample(&text, "rpc_seconds{method=\"get\",quantile=\"0.5\"} ")
        .parse()
        .unwrap();
    let p99: f64 = sample(&text, "rpc_seconds{method=\"get\",quantile=\"0.99\"} ")
        .parse()
        .unwrap();
    assert!((p50 - 0.5).abs() <= 0.5e-3, "p50 {p50}");
    assert!((p99 - 0.99).abs() <= 0.99e-3, "p99 {p99}");
    assert_eq!(
        text.matches("quantile=").count(),
        2,
        "repeats dropped: {text}"
    );
    assert_eq!(sample(&text, "rpc_seconds_count{method=\"get\"} "), "1000");
    let sum: f64 = sample(&text, "rpc_seconds_sum{method=\"get\"} ")
        .parse()
        .unwrap();
    assert!((sum - 500.5).abs() < 1e-9, "sum {sum}");

    let om = r.render_openmetrics();
    assert!(om.contains("# TYPE rpc_seconds summary\n"), "{om}");
    assert!(
        om.contains("rpc_seconds{method=\"get\",quantile=\"0.5\"} "),
        "{om}"
    );
    assert!(
        om.contains("rpc_seconds_count{method=\"get\"} 1000\n"),
        "{om}"
    );
    assert!(om.contains("rpc_seconds_created{method=\"get\"} "), "{om}");
    assert!(om.ends_with("# EOF\n"));
}

fn text_p50(text: &str) -> &str {
    sample(text, "w_seconds{quantile=\"0.5\"} ")
}

#[test]
fn empty_window_quantiles_are_nan_while_sum_and_count_stay() {
    let r = Registry::new();
    let clock = metricore::clock::ManualClock::new();
    let window = WindowOpts::new("w_seconds", Duration::from_millis(200), 2)
        .unwrap()
        .with_clock(clock.clone());
    let s = r
        .summary_family(
            MetricOpts::new("w_seconds", "W."),
            SummaryOpts::new().quantiles([0.5]).window(window),
        )
        .unwrap()
        .with_label_values::<&str>(&[])
        .unwrap();
    let empty = r.render_text();
    assert_eq!(sample(&empty, "w_seconds{quantile=\"0.5\"} "), "NaN");
    s.observe(0.25).unwrap();
    let text = r.render_text();
    let p50: f64 = sample(&text, "w_seconds{quantile=\"0.5\"} ")
        .parse()
        .unwrap();
    assert!((p50 - 0.25).abs() <= 0.25e-3, "{text}");
    clock.advance(Duration::from_millis(199));
    let still = r.render_text();
    assert_eq!(
        sample(&still, "w_seconds{quantile=\"0.5\"} "),
        text_p50(&text),
        "{still}"
    );
    clock.advance(Duration::from_millis(1));
    let later = r.render_text();
    assert_eq!(
        sample(&later, "w_seconds{quantile=\"0.5\"} "),
        "NaN",
        "{later}"
    );
    assert_eq!(
        sample(&later, "w_seconds_count "),
        "1",
        "all-time count stays"
    );
}

#[test]
fn bad_summaries_are_rejected() {
    let r = Registry::new();
    let e = r
        .summary_family(
            MetricOpts::new("q", "Q."),
            SummaryOpts::new().quantiles([1.5]),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(
        e.to_string().contains("'q'") && e.to_string().contains("0..=1"),
        "{e}"
    );
    let e = r
        .summary_family(
            MetricOpts::new("q2", "Q.").labels(["quantile"]),
            SummaryOpts::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidName);
    assert!(
        r.summary_family(MetricOpts::new("taken", "T."), SummaryOpts::new())
            .is_ok()
    );
    let e = r
        .histogram_family(
            MetricOpts::new("taken", "T."),
            metricore::HistogramOpts::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
}
