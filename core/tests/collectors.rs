//! Custom collectors through the public API: a collector's families join the scrape; one that
//! fails, panics, is slow, clashes with a registered family or yields a family that would break
//! the exposition costs only itself, and the failure is visible both as an error list and as
//! `metricore_collector_errors_total{collector=…}` in the scrape.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use metricore::collect::{FamilySnapshot, SeriesSnapshot, SeriesValue};
use metricore::{
    CollectResult, Collector, ErrorKind, LabelValues, MetricKind, MetricOpts, Registry,
};

fn gauge_family(name: &str, label_names: &[&str], series: &[(&[&str], f64)]) -> FamilySnapshot {
    FamilySnapshot {
        named_total: true,
        name: name.to_owned(),
        help: "From a collector.".to_owned(),
        unit: None,
        kind: MetricKind::Gauge,
        label_names: label_names.iter().map(|&l| l.to_owned()).collect(),
        series: series
            .iter()
            .map(|(labels, value)| SeriesSnapshot {
                labels: LabelValues::new(labels),
                created: 0.0,
                value: SeriesValue::Gauge { value: *value },
            })
            .collect(),
    }
}

/// A collector of one unlabelled gauge.
fn queue_depth(name: &'static str, value: f64) -> impl Collector {
    move || -> CollectResult { Ok(vec![gauge_family(name, &[], &[(&[], value)])]) }
}

/// A registry with a counter `jobs_total` at 3, so that every test can see it survive.
fn registry_with_jobs() -> Registry {
    let r = Registry::new();
    r.counter(MetricOpts::new("jobs", "Jobs done."))
        .unwrap()
        .inc_by(3);
    r
}

/// Panics at every collection; describes nothing.
struct Boom;
impl Collector for Boom {
    fn collect(&self) -> CollectResult {
        panic!("collector bug")
    }
    fn describe(&self) -> CollectResult {
        Ok(Vec::new())
    }
}

/// Tells the test it is collecting, then waits for the test to let it finish.
struct Slow {
    entered: std::sync::Mutex<mpsc::Sender<()>>,
    release: std::sync::Mutex<mpsc::Receiver<()>>,
}
impl Collector for Slow {
    fn collect(&self) -> CollectResult {
        let _ = self.entered.lock().unwrap().send(());
        // Waits for the test, or gives up so that a deadlock fails rather than hangs.
        let _ = self
            .release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30));
        Ok(vec![gauge_family("slow_value", &[], &[(&[], 1.0)])])
    }
    fn describe(&self) -> CollectResult {
        Ok(vec![gauge_family("slow_value", &[], &[])])
    }
}

/// Yields a family called `jobs` without having described it.
struct Sneaky;
impl Collector for Sneaky {
    fn collect(&self) -> CollectResult {
        Ok(vec![
            FamilySnapshot {
                named_total: true,
                kind: MetricKind::Counter,
                ..gauge_family("jobs", &[], &[])
            },
            gauge_family("sneaky_ok", &[], &[(&[], 5.0)]),
        ])
    }
    fn describe(&self) -> CollectResult {
        Ok(Vec::new())
    }
}

/// Yields a fixed list of families without having described them.
struct Fixed(Vec<FamilySnapshot>);
impl Collector for Fixed {
    fn collect(&self) -> CollectResult {
        Ok(self.0.clone())
    }
    fn describe(&self) -> CollectResult {
        Ok(Vec::new())
    }
}

fn line_of<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(prefix))
}

#[test]
fn a_collectors_families_follow_the_registrys_own() {
    let r = registry_with_jobs();
    r.register_collector("queue", queue_depth("queue_depth", 7.0))
        .unwrap();
    let names: Vec<String> = r.gather().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["jobs", "queue_depth"]);
    let text = r.render_text();
    assert_eq!(line_of(&text, "queue_depth "), Some("queue_depth 7"));
    assert_eq!(line_of(&text, "jobs_total "), Some("jobs_total 3"));
    assert_eq!(r.collector_names(), ["queue"]);
    assert!(r.unregister_collector("queue"));
    assert!(!r.unregister_collector("queue"));
    assert!(!r.render_text().contains("queue_depth"));
}

#[test]
fn a_failing_collector_loses_only_itself_and_is_counted() {
    let r = registry_with_jobs();
    r.register_collector("before", queue_depth("before_depth", 1.0))
        .unwrap();
    let fail = Arc::new(AtomicBool::new(false));
    let failing = Arc::clone(&fail);
    r.register_collector("flaky", move || -> CollectResult {
        if failing.load(Ordering::SeqCst) {
            Err("the queue server is down".into())
        } else {
            Ok(vec![gauge_family("flaky_depth", &[], &[(&[], 2.0)])])
        }
    })
    .unwrap();
    r.register_collector("after", queue_depth("after_depth", 3.0))
        .unwrap();

    let ok = r.gather_with_errors();
    assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    assert!(!r.render_text().contains("metricore_collector_errors"));

    fail.store(true, Ordering::SeqCst);
    let scrape = r.gather_with_errors();
    let names: Vec<&str> = scrape.families.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "jobs",
            "before_depth",
            "after_depth",
            "metricore_collector_errors"
        ]
    );
    assert_eq!(scrape.errors.len(), 1);
    let e = &scrape.errors[0];
    assert_eq!(e.kind(), ErrorKind::CollectorFailed);
    assert!(e.to_string().contains("collector 'flaky'"), "{e}");
    assert!(e.to_string().contains("the queue server is down"), "{e}");

    let text = r.render_text();
    assert_eq!(
        line_of(&text, "metricore_collector_errors_total{"),
        Some("metricore_collector_errors_total{collector=\"flaky\"} 2"),
        "this scrape and the one before: {text}"
    );
    assert_eq!(line_of(&text, "jobs_total "), Some("jobs_total 3"));
    assert_eq!(line_of(&text, "after_depth "), Some("after_depth 3"));

    fail.store(false, Ordering::SeqCst);
    let text = r.render_text();
    assert_eq!(line_of(&text, "flaky_depth "), Some("flaky_depth 2"));
    assert!(
        text.contains("metricore_collector_errors_total{collector=\"flaky\"} 2"),
        "the count of failures stays: {text}"
    );
}

#[test]
fn a_panicking_collector_is_a_failure_not_a_crash() {
    let r = registry_with_jobs();
    r.register_collector("boom", || -> CollectResult { panic!("collector bug") })
        .map(drop)
        .unwrap_err();
    // Registration describes by collecting, so the panic surfaced there; once registered with
    // a describe that works, a panic at scrape time is reported the same way.
    r.register_collector("boom", Boom).unwrap();
    let scrape = r.gather_with_errors();
    assert_eq!(scrape.errors.len(), 1);
    assert!(scrape.errors[0].to_string().contains("collector bug"));
    assert!(scrape.families.iter().any(|f| f.name == "jobs"));
}

#[test]
fn a_slow_collector_holds_up_only_its_own_scrape() {
    let r = registry_with_jobs();
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    r.register_collector(
        "slow",
        Slow {
            entered: std::sync::Mutex::new(entered_tx),
            release: release_rx,
        },
    )
    .unwrap();
    let scraper = {
        let r = r.clone();
        std::thread::spawn(move || r.render_text())
    };
    entered
        .recv_timeout(Duration::from_secs(30))
        .expect("the scrape reached the collector");
    // While it collects, the registry is free: registration, recording, unregistering.
    let later = r
        .counter(MetricOpts::new("registered_meanwhile", "h"))
        .unwrap();
    later.inc();
    r.counter(MetricOpts::new("jobs", "Jobs done."))
        .unwrap()
        .inc();
    assert!(
        r.family_names()
            .contains(&"registered_meanwhile".to_owned())
    );
    release.send(()).unwrap();
    let text = scraper.join().unwrap();
    assert_eq!(line_of(&text, "slow_value "), Some("slow_value 1"));
    assert_eq!(
        line_of(&text, "jobs_total "),
        Some("jobs_total 3"),
        "the registry's own families were read before the collector ran"
    );
    release.send(()).unwrap();
    let text = r.render_text();
    assert_eq!(line_of(&text, "jobs_total "), Some("jobs_total 4"));
    assert_eq!(
        line_of(&text, "registered_meanwhile_total "),
        Some("registered_meanwhile_total 1")
    );
}

#[test]
fn a_described_name_clash_is_refused_at_registration_both_ways() {
    let r = registry_with_jobs();
    // prometheus_client: ValueError "Duplicated timeseries in CollectorRegistry".
    let e = r
        .register_collector("dup", move || -> CollectResult {
            Ok(vec![FamilySnapshot {
                named_total: true,
                kind: MetricKind::Counter,
                ..gauge_family("jobs", &[], &[])
            }])
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("'jobs"), "{e}");
    assert!(e.to_string().contains("family 'jobs'"), "{e}");
    assert!(r.collector_names().is_empty(), "nothing half-registered");

    r.register_collector("queue", queue_depth("queue_depth", 7.0))
        .unwrap();
    let e = r
        .gauge(MetricOpts::new("queue_depth", "Mine."))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("collector 'queue'"), "{e}");
    let e = r
        .register_collector("queue", queue_depth("other_depth", 1.0))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let e = r
        .register_collector("selfish", queue_depth("metricore_collector_errors", 1.0))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");

    assert!(r.unregister_collector("queue"));
    let _mine = r.gauge(MetricOpts::new("queue_depth", "Mine.")).unwrap();
}

#[test]
fn an_undescribed_clash_is_dropped_at_scrape_keeping_the_registered_family() {
    let r = Registry::new();
    r.register_collector("sneaky", Sneaky).unwrap();
    r.counter(MetricOpts::new("jobs", "Jobs done."))
        .unwrap()
        .inc_by(3);
    let scrape = r.gather_with_errors();
    assert_eq!(
        scrape.families.iter().filter(|f| f.name == "jobs").count(),
        1
    );
    assert!(scrape.families.iter().any(|f| f.name == "sneaky_ok"));
    assert_eq!(scrape.errors.len(), 1, "{:?}", scrape.errors);
    assert!(scrape.errors[0].to_string().contains("family 'jobs'"));
    let text = r.render_text();
    assert_eq!(line_of(&text, "jobs_total "), Some("jobs_total 3"));
    assert_eq!(text.matches("# TYPE jobs_total ").count(), 1, "{text}");
}

#[test]
fn families_that_would_break_the_exposition_are_dropped_and_reported() {
    let bad: Vec<(&str, FamilySnapshot)> = vec![
        ("bad name", gauge_family("bad-name", &[], &[(&[], 1.0)])),
        ("bad label", gauge_family("g1", &["le-x"], &[(&["a"], 1.0)])),
        (
            "label count",
            gauge_family("g2", &["a", "b"], &[(&["only one"], 1.0)]),
        ),
        (
            "duplicate label set",
            gauge_family("g3", &["a"], &[(&["x"], 1.0), (&["x"], 2.0)]),
        ),
        (
            "kind",
            FamilySnapshot {
                named_total: true,
                kind: MetricKind::Histogram,
                ..gauge_family("g4", &[], &[(&[], 1.0)])
            },
        ),
        (
            "twice in one scrape",
            gauge_family("good", &[], &[(&[], 2.0)]),
        ),
    ];
    let r = registry_with_jobs();
    let families: Vec<FamilySnapshot> = std::iter::once(gauge_family("good", &[], &[(&[], 1.0)]))
        .chain(bad.iter().map(|(_, f)| f.clone()))
        .collect();
    r.register_collector("mixed", Fixed(families)).unwrap();
    let scrape = r.gather_with_errors();
    let names: Vec<&str> = scrape.families.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["jobs", "good", "metricore_collector_errors"]);
    assert_eq!(scrape.errors.len(), bad.len(), "{:?}", scrape.errors);
    for e in &scrape.errors {
        assert_eq!(e.kind(), ErrorKind::CollectorFailed);
        assert!(e.to_string().contains("collector 'mixed'"), "{e}");
    }
    let text = r.render_text();
    assert_eq!(line_of(&text, "good "), Some("good 1"));
    assert!(
        text.contains("metricore_collector_errors_total{collector=\"mixed\"} 2"),
        "one failed scrape each, however many families it dropped: {text}"
    );
}

#[derive(Clone, Debug)]
struct Shared(Arc<AtomicBool>);

impl Collector for Shared {
    fn collect(&self) -> CollectResult {
        Ok(Vec::new())
    }
}

#[test]
fn one_collector_of_a_kind_per_registry() {
    let r = Registry::new();
    let first = r
        .collector_or_register("shared", || Shared(Arc::new(AtomicBool::new(false))))
        .unwrap();
    let again = r
        .collector_or_register("shared", || Shared(Arc::new(AtomicBool::new(true))))
        .unwrap();
    assert!(Arc::ptr_eq(&first.0, &again.0), "the first one is returned");
    r.register_collector("other", queue_depth("other_depth", 1.0))
        .unwrap();
    let e = r
        .collector_or_register("other", || Shared(Arc::new(AtomicBool::new(false))))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
}

#[test]
fn the_sampler_is_a_collector_like_any_other() {
    let r = Registry::new();
    let sampler = r.sampler().unwrap();
    assert_eq!(r.collector_names(), [metricore::sampler::COLLECTOR_NAME]);
    sampler.sample_now();
    assert!(r.render_text().contains("process_cpu_seconds_total "));
    assert!(r.unregister_collector(metricore::sampler::COLLECTOR_NAME));
    assert!(!r.render_text().contains("process_cpu_seconds_total "));
    let _mine = r
        .gauge(MetricOpts::new("process_threads", "Now free."))
        .unwrap();
}
