//! The registry through its public API: registration rules, label handling,
//! cardinality limits, removal, idle eviction and the errors bad input gets.
//!
//! Every error must name the metric and the rule broken (`metric 'NAME': rule`),
//! and nothing recorded before the error may be lost.

use std::time::Duration;

use metricore::clock::ManualClock;
use metricore::registry::{FamilySnapshot, OVERFLOW_LABEL_VALUE, SeriesValue};
use metricore::{
    Error, ErrorKind, HistogramOpts, MetricKind, MetricOpts, Registry, SummaryOpts,
    default_registry,
};

fn opts(name: &str) -> MetricOpts {
    MetricOpts::new(name, "Help text.")
}

/// Asserts `e` is of `kind`, concerns `metric`, and says so in its message.
#[track_caller]
fn assert_error(e: &Error, kind: ErrorKind, metric: &str, mentions: &str) {
    assert_eq!(e.kind(), kind, "{e}");
    assert_eq!(e.metric(), Some(metric), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("metric '{metric}': ")),
        "names the metric first: {text}"
    );
    assert!(text.contains(mentions), "mentions {mentions:?}: {text}");
    assert_eq!(text, format!("metric '{metric}': {}", e.rule()));
}

fn family<'a>(gathered: &'a [FamilySnapshot], name: &str) -> Option<&'a FamilySnapshot> {
    gathered.iter().find(|f| f.name == name)
}

/// `(label values, counter value)` of every series of a counter family.
fn counter_values(registry: &Registry, name: &str) -> Vec<(Vec<String>, u64)> {
    let gathered = registry.gather();
    let fam = family(&gathered, name).unwrap_or_else(|| panic!("family {name} not gathered"));
    fam.series
        .iter()
        .map(|s| match &s.value {
            SeriesValue::Counter { value, .. } => {
                // These tests count whole events only.
                let whole = *value as u64;
                assert!(whole as f64 - *value == 0.0, "{name}: a whole total");
                (s.labels.to_vec(), whole)
            }
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

// ------------------------------------------------------------ registration

#[test]
fn same_shape_returns_the_same_family() {
    let r = Registry::new();
    let a = r
        .counter_family(opts("requests").labels(["method"]))
        .unwrap();
    let b = r
        .counter_family(opts("requests").labels(["method"]))
        .unwrap();
    a.with_label_values(&["GET"]).unwrap().inc();
    b.with_label_values(&["GET"]).unwrap().inc_by(2);
    assert_eq!(a.with_label_values(&["GET"]).unwrap().get(), 3);
    assert_eq!(r.family_names(), vec!["requests"]);

    let h1 = r
        .histogram_family(
            opts("latency_seconds"),
            HistogramOpts::new().buckets(vec![0.1, 1.0]),
        )
        .unwrap();
    let h2 = r
        .histogram_family(
            opts("latency_seconds"),
            HistogramOpts::new().buckets(vec![0.1, 1.0]),
        )
        .unwrap();
    h1.with_label_values::<&str>(&[]).unwrap().record(5);
    assert_eq!(h2.with_label_values::<&str>(&[]).unwrap().count(), 1);
}

#[test]
fn another_shape_is_a_conflict_naming_the_metric() {
    let r = Registry::new();
    let c = r.counter_family(opts("jobs").labels(["queue"])).unwrap();
    c.with_label_values(&["mail"]).unwrap().inc_by(7);

    let e = r.gauge_family(opts("jobs").labels(["queue"])).unwrap_err();
    assert_error(&e, ErrorKind::Conflict, "jobs", "as a counter, not a gauge");
    let e = r
        .counter_family(opts("jobs").labels(["queue", "host"]))
        .unwrap_err();
    assert_error(&e, ErrorKind::Conflict, "jobs", "labels");
    let e = r
        .counter_family(MetricOpts::new("jobs", "Other help.").labels(["queue"]))
        .unwrap_err();
    assert_error(&e, ErrorKind::Conflict, "jobs", "help");
    let e = r
        .histogram_family(opts("jobs").labels(["queue"]), HistogramOpts::new())
        .unwrap_err();
    assert_error(&e, ErrorKind::Conflict, "jobs", "counter");

    let h = r
        .histogram_family(
            opts("size_bytes"),
            HistogramOpts::new().buckets(vec![1.0, 2.0]),
        )
        .unwrap();
    let e = r
        .histogram_family(
            opts("size_bytes"),
            HistogramOpts::new().buckets(vec![1.0, 3.0]),
        )
        .unwrap_err();
    assert_error(&e, ErrorKind::Conflict, "size_bytes", "histogram options");
    drop(h);

    // Nothing recorded before is lost, and the original family still works.
    assert_eq!(c.with_label_values(&["mail"]).unwrap().get(), 7);
    assert_eq!(r.family_names(), vec!["jobs", "size_bytes"]);
    assert_eq!(counter_values(&r, "jobs"), vec![(strings(&["mail"]), 7)]);
}

#[test]
fn sample_names_cannot_be_claimed_twice() {
    let r = Registry::new();
    let _c = r.counter(opts("tasks")).unwrap();
    // The counter exposes `tasks_total`; a gauge may not.
    let e = r.gauge(opts("tasks_total")).unwrap_err();
    assert_error(&e, ErrorKind::Conflict, "tasks_total", "'tasks_total'");
    let _h = r.histogram(opts("rpc"), HistogramOpts::new()).unwrap();
    let e = r.gauge(opts("rpc_count")).unwrap_err();
    assert_error(&e, ErrorKind::Conflict, "rpc_count", "'rpc_count'");
}

#[test]
fn total_suffix_is_stripped_for_counters_only() {
    let r = Registry::new();
    let c = r.counter_family(opts("http_requests_total")).unwrap();
    assert_eq!(c.name(), "http_requests");
    let again = r.counter(opts("http_requests")).unwrap();
    again.inc();
    assert_eq!(
        r.counter(opts("http_requests_total")).unwrap().get(),
        1,
        "both spellings name one counter"
    );
    let g = r.gauge_family(opts("queue_total")).unwrap();
    assert_eq!(g.name(), "queue_total", "gauges keep their name");
}

#[test]
fn unit_is_appended_once_and_prefixes_are_joined() {
    let r = Registry::new();
    assert_eq!(
        r.histogram_family(opts("latency").unit("seconds"), HistogramOpts::new())
            .unwrap()
            .name(),
        "latency_seconds"
    );
    assert_eq!(
        r.gauge_family(opts("heap_bytes").unit("bytes"))
            .unwrap()
            .name(),
        "heap_bytes"
    );
    assert_eq!(
        r.counter_family(opts("sent").unit("bytes")).unwrap().name(),
        "sent_bytes"
    );
    let f = r
        .counter_family(opts("requests").namespace("app").subsystem("http"))
        .unwrap();
    assert_eq!(f.name(), "app_http_requests");
    let gathered = r.gather();
    assert_eq!(
        family(&gathered, "latency_seconds")
            .unwrap()
            .unit
            .as_deref(),
        Some("seconds")
    );
    let e = r.gauge_family(opts("temp").unit("°C")).unwrap_err();
    assert_error(&e, ErrorKind::InvalidName, "temp", "unit '°C'");
}

#[test]
fn invalid_metric_names_are_rejected_with_the_name() {
    let r = Registry::new();
    for bad in [
        "",
        "9lives",
        "http-requests",
        "with space",
        "métrique",
        "a.b",
    ] {
        let e = r.counter_family(opts(bad)).unwrap_err();
        assert_error(&e, ErrorKind::InvalidName, bad, "[a-zA-Z_:][a-zA-Z0-9_:]*");
    }
    for good in ["a", "_private", "ns:sub:name", "x9"] {
        let _f = r.gauge_family(opts(good)).unwrap();
    }
    assert_eq!(
        r.family_names().len(),
        4,
        "nothing half-registered by the failures"
    );
}

#[test]
fn invalid_label_names_are_rejected_naming_metric_and_label() {
    let r = Registry::new();
    for (bad, rule) in [
        ("1st", "must match"),
        ("a-b", "must match"),
        ("", "must match"),
        ("a:b", "must match"),
        ("__name", "reserves"),
    ] {
        let e = r
            .counter_family(opts("requests").labels([bad]))
            .unwrap_err();
        assert_error(&e, ErrorKind::InvalidName, "requests", rule);
        assert!(
            e.to_string().contains(&format!("'{bad}'")),
            "names the label: {e}"
        );
    }
    let e = r
        .counter_family(opts("requests").labels(["method", "code", "method"]))
        .unwrap_err();
    assert_error(
        &e,
        ErrorKind::InvalidName,
        "requests",
        "'method' appears twice",
    );
    assert!(r.family_names().is_empty());
}

#[test]
fn le_is_reserved_on_histograms_only() {
    let r = Registry::new();
    let e = r
        .histogram_family(
            opts("latency_seconds").labels(["route", "le"]),
            HistogramOpts::new(),
        )
        .unwrap_err();
    assert_error(&e, ErrorKind::InvalidName, "latency_seconds", "'le'");
    let c = r.counter_family(opts("thresholds").labels(["le"])).unwrap();
    c.with_label_values(&["0.5"]).unwrap().inc();
}

#[test]
fn invalid_histogram_options_name_the_metric() {
    let r = Registry::new();
    let e = r
        .histogram_family(
            opts("latency_seconds"),
            HistogramOpts::new().buckets(vec![1.0, 0.5]),
        )
        .unwrap_err();
    assert_error(&e, ErrorKind::InvalidConfig, "latency_seconds", "increase");
    let e = r
        .histogram_family(opts("size_bytes"), HistogramOpts::new().range(0, 10))
        .unwrap_err();
    assert_error(&e, ErrorKind::InvalidConfig, "size_bytes", "lowest");
    let e = r
        .counter_family(opts("requests").labels(["a"]).cardinality_limit(0))
        .unwrap_err();
    assert_error(&e, ErrorKind::InvalidConfig, "requests", "cardinality");
    assert!(
        r.family_names().is_empty(),
        "failed registrations leave nothing behind"
    );
}

// ------------------------------------------------------------ labels

#[test]
fn wrong_label_count_is_rejected_and_nothing_is_lost() {
    let r = Registry::new();
    let f = r
        .counter_family(opts("requests").labels(["method", "code"]))
        .unwrap();
    f.with_label_values(&["GET", "200"]).unwrap().inc_by(3);
    for bad in [&["GET"][..], &["GET", "200", "extra"], &[]] {
        let e = f.with_label_values(bad).unwrap_err();
        assert_error(
            &e,
            ErrorKind::InvalidLabels,
            "requests",
            &format!("expected 2 label values (method, code), got {}", bad.len()),
        );
        let e = f.remove(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidLabels);
    }
    let e = r
        .counter(opts("requests").labels(["method", "code"]))
        .unwrap_err();
    assert_error(&e, ErrorKind::InvalidLabels, "requests", "got 0");
    assert_eq!(f.with_label_values(&["GET", "200"]).unwrap().get(), 3);
    assert_eq!(f.len(), 1);
    assert_eq!(
        counter_values(&r, "requests"),
        vec![(strings(&["GET", "200"]), 3)]
    );
}

#[test]
fn with_labels_takes_pairs_in_any_order() {
    let r = Registry::new();
    let f = r
        .counter_family(opts("requests").labels(["method", "code"]))
        .unwrap();
    f.with_labels(&[("code", "200"), ("method", "GET")])
        .unwrap()
        .inc();
    assert_eq!(f.with_label_values(&["GET", "200"]).unwrap().get(), 1);

    let e = f
        .with_labels(&[("method", "GET"), ("status", "200")])
        .unwrap_err();
    assert_error(
        &e,
        ErrorKind::InvalidLabels,
        "requests",
        "unknown label 'status'",
    );
    let e = f.with_labels(&[("method", "GET")]).unwrap_err();
    assert_error(
        &e,
        ErrorKind::InvalidLabels,
        "requests",
        "label 'code' is missing",
    );
    let e = f
        .with_labels(&[("method", "GET"), ("method", "PUT"), ("code", "1")])
        .unwrap_err();
    assert_error(
        &e,
        ErrorKind::InvalidLabels,
        "requests",
        "'method' given twice",
    );
    assert_eq!(f.len(), 1);
}

#[test]
fn label_values_may_hold_any_text() {
    let r = Registry::new();
    let f = r
        .counter_family(opts("paths").labels(["path", "note"]))
        .unwrap();
    for values in [["/a\"b\n", ""], ["ü€", "\\"], ["a", "bc"], ["ab", "c"]] {
        f.with_label_values(&values).unwrap().inc();
    }
    assert_eq!(f.len(), 4);
    assert_eq!(f.with_label_values(&["/a\"b\n", ""]).unwrap().get(), 1);
}

// ------------------------------------------------------------ cardinality

#[test]
fn cardinality_limit_sends_new_label_sets_to_the_overflow_series() {
    let r = Registry::new();
    let f = r
        .counter_family(
            opts("requests")
                .labels(["user", "path"])
                .cardinality_limit(2),
        )
        .unwrap();
    f.with_label_values(&["alice", "/"]).unwrap().inc();
    f.with_label_values(&["bob", "/"]).unwrap().inc();
    assert_eq!(f.overflowed(), 0);
    assert!(
        family(&r.gather(), "metricore_cardinality_overflow").is_none(),
        "no self-metric before an overflow"
    );

    let over = f.with_label_values(&["carol", "/"]).unwrap();
    over.inc_by(10);
    assert_eq!(over.label_values().to_vec(), vec![OVERFLOW_LABEL_VALUE; 2]);
    assert_eq!(f.overflowed(), 1);
    let again = f.with_label_values(&["dave", "/x"]).unwrap();
    again.inc();
    assert_eq!(f.overflowed(), 2, "every lookup past the limit counts");
    assert_eq!(
        over.get(),
        11,
        "all overflowing label sets share one series"
    );

    // Existing series are unaffected and the family does not grow.
    assert_eq!(f.with_label_values(&["alice", "/"]).unwrap().get(), 1);
    assert_eq!(f.len(), 2);
    assert_eq!(f.overflowed(), 2);

    let gathered = r.gather();
    let fam = family(&gathered, "requests").unwrap();
    let labels: Vec<Vec<String>> = fam.series.iter().map(|s| s.labels.to_vec()).collect();
    assert_eq!(
        labels,
        vec![
            strings(&["alice", "/"]),
            strings(&["bob", "/"]),
            strings(&["__overflow__", "__overflow__"])
        ]
    );
    let selfm = family(&gathered, "metricore_cardinality_overflow")
        .expect("self-metric family after an overflow");
    assert_eq!(selfm.kind, MetricKind::Counter);
    assert_eq!(selfm.label_names, vec!["metric"]);
    assert_eq!(
        counter_values(&r, "metricore_cardinality_overflow"),
        vec![(strings(&["requests"]), 2)]
    );

    // Removing a series makes room again.
    assert!(f.remove(&["bob", "/"]).unwrap());
    f.with_label_values(&["erin", "/"]).unwrap().inc();
    assert_eq!(f.len(), 2);
    assert_eq!(f.overflowed(), 2);
}

#[test]
fn the_overflow_label_set_is_one_series_whoever_asks_for_it() {
    let r = Registry::new();
    let f = r
        .counter_family(opts("logins").labels(["user", "path"]).cardinality_limit(1))
        .unwrap();
    // A user's own values that happen to be the overflow label set, before any overflow...
    let mine = f
        .with_label_values(&[OVERFLOW_LABEL_VALUE, OVERFLOW_LABEL_VALUE])
        .unwrap();
    mine.inc();
    assert_eq!(f.len(), 0, "it does not take a place under the limit");
    assert_eq!(f.overflowed(), 0, "nor counts as an overflow");
    f.with_label_values(&["alice", "/"]).unwrap().inc();
    // ...and a real overflow afterwards land in the same series.
    f.with_label_values(&["bob", "/"]).unwrap().inc_by(10);
    let by_pairs = f
        .with_labels(&[
            ("path", OVERFLOW_LABEL_VALUE),
            ("user", OVERFLOW_LABEL_VALUE),
        ])
        .unwrap();
    assert_eq!(by_pairs.get(), 11);
    assert_eq!(
        counter_values(&r, "logins"),
        vec![
            (strings(&["alice", "/"]), 1),
            (strings(&[OVERFLOW_LABEL_VALUE, OVERFLOW_LABEL_VALUE]), 11)
        ]
    );
    for text in [r.render_text(), r.render_openmetrics()] {
        assert_eq!(
            text.matches("logins_total{user=\"__overflow__\",path=\"__overflow__\"}")
                .count(),
            1,
            "{text}"
        );
    }
    // A set with only some values `__overflow__` is an ordinary series.
    f.remove(&["alice", "/"]).unwrap();
    f.with_label_values(&[OVERFLOW_LABEL_VALUE, "/"])
        .unwrap()
        .inc();
    assert_eq!(f.len(), 1);
}

#[test]
fn default_cardinality_limit_is_ten_thousand() {
    let r = Registry::new();
    let f = r.counter_family(opts("ids").labels(["id"])).unwrap();
    for i in 0..10_000 {
        f.with_label_values(&[i.to_string()]).unwrap().inc();
    }
    assert_eq!(f.overflowed(), 0);
    f.with_label_values(&["one more"]).unwrap().inc();
    assert_eq!(f.overflowed(), 1);
    assert_eq!(f.len(), 10_000);
}

// ------------------------------------------------------------ removal

#[test]
fn remove_and_clear() {
    let r = Registry::new();
    let f = r
        .gauge_family(opts("temperature").labels(["room"]))
        .unwrap();
    let kitchen = f.with_label_values(&["kitchen"]).unwrap();
    kitchen.set(21.5);
    f.with_label_values(&["hall"]).unwrap().set(18.0);

    assert!(f.remove(&["kitchen"]).unwrap());
    assert!(!f.remove(&["kitchen"]).unwrap(), "already gone");
    assert!(!f.remove(&["attic"]).unwrap(), "never existed");
    assert_eq!(f.len(), 1);
    kitchen.inc();
    assert!(
        (kitchen.get() - 22.5).abs() < 1e-9,
        "a removed series' handle keeps working"
    );
    let gathered = r.gather();
    let rooms: Vec<Vec<String>> = family(&gathered, "temperature")
        .unwrap()
        .series
        .iter()
        .map(|s| s.labels.to_vec())
        .collect();
    assert_eq!(
        rooms,
        vec![strings(&["hall"])],
        "but is no longer collected"
    );
    assert!(
        f.with_label_values(&["kitchen"]).unwrap().get().abs() < f64::EPSILON,
        "looking it up again starts afresh"
    );

    f.clear();
    assert!(f.is_empty());
    assert!(
        family(&r.gather(), "temperature")
            .unwrap()
            .series
            .is_empty()
    );
    f.with_label_values(&["hall"]).unwrap().inc();
    assert_eq!(f.len(), 1);
}

/// Label values of a counter family's series, in collection order.
fn collected_labels(registry: &Registry, name: &str) -> Vec<Vec<String>> {
    counter_values(registry, name)
        .into_iter()
        .map(|(labels, _)| labels)
        .collect()
}

#[test]
fn each_collection_sees_the_series_added_and_removed_since_the_last() {
    // Collection keeps its sorted series between calls; every change must show up in the
    // next one, in label order.
    let r = Registry::new();
    let f = r.counter_family(opts("jobs").labels(["queue"])).unwrap();
    f.with_label_values(&["m"]).unwrap().inc();
    assert_eq!(collected_labels(&r, "jobs"), vec![strings(&["m"])]);
    assert_eq!(
        collected_labels(&r, "jobs"),
        vec![strings(&["m"])],
        "unchanged"
    );

    f.with_label_values(&["z"]).unwrap().inc();
    f.with_label_values(&["a"]).unwrap().inc_by(5);
    assert_eq!(
        counter_values(&r, "jobs"),
        vec![
            (strings(&["a"]), 5),
            (strings(&["m"]), 1),
            (strings(&["z"]), 1)
        ],
        "added series are collected, in order, with their values"
    );
    f.with_label_values(&["m"]).unwrap().inc();
    assert_eq!(
        counter_values(&r, "jobs")[1],
        (strings(&["m"]), 2),
        "values are read at each collection, not kept"
    );

    assert!(f.remove(&["m"]).unwrap());
    assert_eq!(
        collected_labels(&r, "jobs"),
        vec![strings(&["a"]), strings(&["z"])]
    );
    f.clear();
    assert!(collected_labels(&r, "jobs").is_empty());
    f.with_label_values(&["b"]).unwrap().inc();
    assert_eq!(collected_labels(&r, "jobs"), vec![strings(&["b"])]);
}

#[test]
fn collections_racing_inserts_miss_nothing_once_the_inserts_are_done() {
    let r = Registry::new();
    let f = r.counter_family(opts("racing").labels(["id"])).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..2000 {
                f.with_label_values(&[format!("{i:04}")]).unwrap().inc();
            }
        });
        s.spawn(|| {
            for _ in 0..200 {
                let seen = collected_labels(&r, "racing");
                assert!(seen.is_sorted(), "collected in label order");
            }
        });
    });
    let expected: Vec<Vec<String>> = (0..2000).map(|i| vec![format!("{i:04}")]).collect();
    assert_eq!(collected_labels(&r, "racing"), expected);
}

#[test]
fn unregister_removes_the_family_and_frees_its_names() {
    let r = Registry::new();
    let c = r.counter(opts("jobs")).unwrap();
    c.inc();
    let _g = r.gauge(opts("workers")).unwrap();
    assert!(r.unregister("jobs"));
    assert!(!r.unregister("jobs"));
    assert!(!r.unregister("never_registered"));
    assert_eq!(r.family_names(), vec!["workers"]);
    assert!(family(&r.gather(), "jobs").is_none());
    // The name and its sample names are free for another shape.
    let g = r.gauge(opts("jobs_total")).unwrap();
    g.set(1.0);
    let g2 = r.gauge(opts("jobs")).unwrap();
    g2.set(2.0);
    assert_eq!(r.family_names(), vec!["workers", "jobs_total", "jobs"]);
    assert_eq!(c.get(), 1, "an old handle keeps its value");
}

#[test]
fn idle_series_are_evicted_after_their_ttl() {
    let r = Registry::new();
    let f = r
        .counter_family(
            opts("sessions")
                .labels(["user"])
                .idle_ttl(Duration::from_millis(40)),
        )
        .unwrap();
    let active = f.with_label_values(&["active"]).unwrap();
    f.with_label_values(&["idle"]).unwrap().inc();
    // Idle too, but its handle is kept: the caller may count through it at any time.
    let kept = f.with_label_values(&["kept"]).unwrap();
    kept.inc();
    active.inc();
    // The first collection notes each series' value; idleness is measured from then.
    assert_eq!(r.evict_idle(), 0);
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(30));
        active.inc();
    }
    assert_eq!(
        r.evict_idle(),
        1,
        "only the series that neither changed nor was looked up, and has no handle"
    );
    assert_eq!(f.len(), 2);
    assert_eq!(
        counter_values(&r, "sessions"),
        vec![(strings(&["active"]), 5), (strings(&["kept"]), 1)]
    );
    kept.inc();
    assert_eq!(
        counter_values(&r, "sessions"),
        vec![(strings(&["active"]), 5), (strings(&["kept"]), 2)],
        "what is counted through a kept handle is scraped"
    );
    assert_eq!(
        f.with_label_values(&["idle"]).unwrap().get(),
        0,
        "a new lookup of an evicted series starts afresh"
    );
    drop(kept);
    std::thread::sleep(Duration::from_millis(60));
    r.evict_idle();
    assert!(
        !counter_values(&r, "sessions")
            .iter()
            .any(|(l, _)| *l == strings(&["kept"])),
        "once its handle is dropped, the TTL applies"
    );

    // A lookup also counts as activity.
    let g = r
        .gauge_family(
            opts("queue_depth")
                .labels(["queue"])
                .idle_ttl(Duration::from_millis(40)),
        )
        .unwrap();
    let _ = g.with_label_values(&["mail"]).unwrap();
    assert_eq!(r.evict_idle(), 0);
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(30));
        let _ = g.with_label_values(&["mail"]).unwrap();
    }
    r.evict_idle();
    assert_eq!(g.len(), 1, "looked up every 30 ms with a 40 ms TTL");

    // Families without a TTL are never evicted.
    let keep = r.counter_family(opts("forever").labels(["k"])).unwrap();
    let _ = keep.with_label_values(&["v"]).unwrap();
    r.evict_idle();
    std::thread::sleep(Duration::from_millis(60));
    r.evict_idle();
    assert_eq!(keep.len(), 1);
}

#[test]
fn idle_eviction_reads_the_registry_clock_and_never_wraps_a_long_ttl() {
    let clock = ManualClock::new();
    let r = Registry::with_clock(clock.clone());
    let f = r
        .counter_family(
            opts("jobs")
                .labels(["queue"])
                .idle_ttl(Duration::from_secs(60)),
        )
        .unwrap();
    f.with_label_values(&["mail"]).unwrap().inc();
    f.with_label_values(&["busy"]).unwrap().inc();
    assert_eq!(r.evict_idle(), 0);
    clock.advance(Duration::from_secs(40));
    let _ = f.with_label_values(&["busy"]).unwrap();
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        r.evict_idle(),
        1,
        "70 s idle on the manual clock, with no sleep"
    );
    assert_eq!(
        counter_values(&r, "jobs"),
        vec![(strings(&["busy"]), 1)],
        "looked up 30 s ago on the registry's clock"
    );

    // 2^64 ms + 1 s: a conversion that wrapped would make this a 1 s TTL.
    let ttl = Duration::new(18_446_744_073_709_552, 616_000_000);
    let forever = r
        .counter_family(opts("sessions").labels(["user"]).idle_ttl(ttl))
        .unwrap();
    forever.with_label_values(&["ann"]).unwrap().inc();
    assert_eq!(r.evict_idle(), 0);
    clock.advance(Duration::from_secs(365 * 24 * 3600));
    r.evict_idle();
    assert_eq!(forever.len(), 1, "a TTL past u64::MAX ms never expires");
}

// ------------------------------------------------------------ values

#[test]
fn unusual_observations_are_counted_as_prometheus_client_counts_them_and_reported() {
    let r = Registry::new();
    let f = r
        .histogram_family(
            opts("latency").unit("seconds").labels(["route"]),
            HistogramOpts::latency(),
        )
        .unwrap();
    let h = f.with_label_values(&["/"]).unwrap();
    let s = r
        .summary_family(opts("queue_depth"), SummaryOpts::new())
        .unwrap()
        .with_label_values::<&str>(&[])
        .unwrap();
    for v in [0.25, f64::NAN, -0.5, f64::INFINITY] {
        h.observe(v).unwrap();
        s.observe(v).unwrap();
    }
    h.record_ms(f64::NAN).unwrap();
    let hs = h.snapshot();
    assert_eq!((hs.count(), hs.saturated(), hs.rejected()), (3, 2, 2));
    assert!(hs.sum().is_infinite() && hs.sum() > 0.0);
    let ss = s.snapshot();
    assert_eq!(
        (ss.count(), ss.saturated(), ss.rejected()),
        (3, 1, 1),
        "any magnitude keeps -0.5; +Inf saturates"
    );
    assert!((ss.min_value() + 0.5).abs() < f64::EPSILON);
    assert_eq!(
        counter_values(&r, "metricore_saturated_values"),
        vec![
            (strings(&["latency_seconds"]), 2),
            (strings(&["queue_depth"]), 1)
        ]
    );
    assert_eq!(
        counter_values(&r, "metricore_rejected_values"),
        vec![
            (strings(&["latency_seconds"]), 2),
            (strings(&["queue_depth"]), 1)
        ]
    );
}

#[test]
fn saturation_is_reported_by_gather() {
    let r = Registry::new();
    let h = r
        .histogram(opts("small"), HistogramOpts::new().range(1, 1000))
        .unwrap();
    h.record(10);
    assert!(family(&r.gather(), "metricore_saturated_values").is_none());
    h.record(5000);
    h.record(1001);
    assert_eq!(
        counter_values(&r, "metricore_saturated_values"),
        vec![(strings(&["small"]), 2)]
    );
}

#[test]
fn gather_lists_families_in_registration_order() {
    let r = Registry::new();
    let _b = r.gauge(opts("b")).unwrap();
    let _a = r.counter(opts("a")).unwrap();
    let _c = r.histogram(opts("c"), HistogramOpts::new()).unwrap();
    let gathered = r.gather();
    let names: Vec<(&str, MetricKind)> =
        gathered.iter().map(|f| (f.name.as_str(), f.kind)).collect();
    assert_eq!(
        names,
        vec![
            ("b", MetricKind::Gauge),
            ("a", MetricKind::Counter),
            ("c", MetricKind::Histogram)
        ]
    );
    assert!(
        gathered
            .iter()
            .all(|f| f.help == "Help text." && f.series.len() == 1)
    );
}

#[test]
fn default_registry_is_a_process_wide_singleton() {
    let a = default_registry();
    let b = default_registry();
    assert!(std::ptr::eq(a, b));
    let c = a.counter(opts("registry_test_singleton_hits")).unwrap();
    c.inc();
    let from_other_thread = std::thread::spawn(|| {
        default_registry()
            .counter(opts("registry_test_singleton_hits"))
            .unwrap()
            .get()
    })
    .join()
    .unwrap();
    assert_eq!(from_other_thread, 1);
    assert!(
        b.family_names()
            .contains(&"registry_test_singleton_hits".to_owned())
    );
    assert!(a.unregister("registry_test_singleton_hits"));
}

#[test]
fn registries_are_independent_and_clones_share() {
    let r1 = Registry::new();
    let r2 = Registry::new();
    r1.counter(opts("x")).unwrap().inc();
    assert_eq!(r2.counter(opts("x")).unwrap().get(), 0);
    let shared = r1.clone();
    assert_eq!(shared.counter(opts("x")).unwrap().get(), 1);
}
