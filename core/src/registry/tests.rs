use std::time::Duration;

use super::*;
use crate::clock;

#[test]
fn lookups_return_the_same_series() {
    let r = Registry::new();
    let f = r
        .counter_family(MetricOpts::new("x", "h").labels(["a", "b"]))
        .unwrap();
    f.with_label_values(&["1", "2"]).unwrap().inc();
    f.with_labels(&[("b", "2"), ("a", "1")]).unwrap().inc();
    assert_eq!(f.with_label_values(&["1", "2"]).unwrap().get(), 2);
    assert_eq!(f.len(), 1);
}

#[test]
fn label_values_are_not_confused_by_concatenation() {
    let r = Registry::new();
    let f = r
        .counter_family(MetricOpts::new("x", "h").labels(["a", "b"]))
        .unwrap();
    f.with_label_values(&["ab", "c"]).unwrap().inc();
    f.with_label_values(&["a", "bc"]).unwrap().inc_by(5);
    assert_eq!(f.len(), 2);
    assert_eq!(f.with_label_values(&["ab", "c"]).unwrap().get(), 1);
}

#[test]
fn unlabelled_family_has_one_series() {
    let r = Registry::new();
    let c = r.counter(MetricOpts::new("requests_total", "h")).unwrap();
    c.inc();
    let again = r.counter(MetricOpts::new("requests", "h")).unwrap();
    assert_eq!(again.get(), 1, "`_total` names the same counter");
    let e = r
        .counter(MetricOpts::new("labelled", "h").labels(["a"]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidLabels);
}

#[test]
fn idle_series_are_evicted_after_ttl() {
    let r = Registry::new();
    let f = r
        .gauge_family(
            MetricOpts::new("g", "h")
                .labels(["a"])
                .idle_ttl(Duration::from_millis(100)),
        )
        .unwrap();
    let busy = f.with_label_values(&["busy"]).unwrap();
    drop(f.with_label_values(&["idle"]).unwrap());
    let t0 = clock::coarse_monotonic_ms();
    assert_eq!(r.evict_idle_at(t0), 0);
    busy.set(1.0);
    assert_eq!(r.evict_idle_at(t0 + 50), 0);
    busy.set(2.0);
    // `idle` was last touched at creation (before t0); `busy` changed at t0 + 50.
    assert_eq!(r.evict_idle_at(t0 + 120), 1);
    assert_eq!(f.len(), 1);
    assert!((f.with_label_values(&["busy"]).unwrap().get() - 2.0).abs() < f64::EPSILON);
}

#[test]
fn sample_names_cannot_collide() {
    let r = Registry::new();
    let _c = r.counter(MetricOpts::new("jobs", "h")).unwrap();
    let e = r.gauge(MetricOpts::new("jobs_total", "h")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("'jobs_total'"), "{e}");
    assert!(r.unregister("jobs"));
    let _g = r.gauge(MetricOpts::new("jobs_total", "h")).unwrap();
}

#[test]
fn series_come_in_label_order_or_first_use_order() {
    use crate::{MetricOpts, SeriesOrder};
    let registry = Registry::new();
    let sorted = registry
        .counter_family(MetricOpts::new("by_labels", "B.").labels(["k"]))
        .unwrap();
    let first_use = registry
        .counter_family(
            MetricOpts::new("by_first_use", "F.")
                .labels(["k"])
                .series_order(SeriesOrder::FirstUse),
        )
        .unwrap();
    for v in ["b", "c", "a"] {
        sorted.with_label_values(&[v]).unwrap().inc();
        first_use.with_label_values(&[v]).unwrap().inc();
    }
    // A removed and re-made series counts as new.
    first_use.remove(&["b"]).unwrap();
    first_use.with_label_values(&["b"]).unwrap().inc();
    let order = |name: &str| -> Vec<String> {
        registry
            .gather()
            .into_iter()
            .find(|f| f.name == name)
            .unwrap()
            .series
            .iter()
            .map(|s| s.labels.iter().next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(order("by_labels"), ["a", "b", "c"]);
    assert_eq!(order("by_first_use"), ["c", "a", "b"]);
}

#[test]
fn remove_matching_removes_every_series_with_those_labels() {
    let r = Registry::new();
    let f = r
        .counter_family(MetricOpts::new("hits", "h").labels(["tenant", "path"]))
        .unwrap();
    for (t, p) in [("acme", "/"), ("acme", "/buy"), ("globex", "/")] {
        f.with_label_values(&[t, p]).unwrap().inc();
    }
    assert_eq!(f.remove_matching(&[]).unwrap(), 0);
    let e = f.remove_matching(&[("nope", "x")]).unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::InvalidLabels);
    assert_eq!(f.len(), 3, "a refused call removes nothing");
    assert_eq!(f.remove_matching(&[("tenant", "acme")]).unwrap(), 2);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f.remove_matching(&[("tenant", "globex"), ("path", "/buy")])
            .unwrap(),
        0
    );
    assert_eq!(f.with_label_values(&["globex", "/"]).unwrap().get(), 1);
}
