use super::*;
use crate::collect::{FamilySnapshot, SeriesValue};

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mc-arena-unit-{tag}-{}-{}",
        sys::pid(),
        sys::random_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn family<'a>(fams: &'a [FamilySnapshot], name: &str) -> &'a FamilySnapshot {
    fams.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no family {name}"))
}

#[test]
fn one_process_reads_back_what_it_recorded() {
    let dir = tempdir("one");
    let arena = Arena::open(&dir).unwrap();
    let c = arena
        .counter("jobs_total", "Jobs.", &["queue"], &["a"])
        .unwrap();
    c.inc();
    c.inc_by(4);
    c.add(0.5).unwrap();
    assert!(c.add(-1.0).is_err());
    assert!(c.add(f64::NAN).is_err());
    let h = arena
        .histogram("latency_seconds", "Latency.", &[0.1, 1.0], &[], &[])
        .unwrap();
    for v in [0.05, 0.1, 0.5, 2.0, f64::NAN] {
        h.observe(v);
    }
    let s = arena.summary("size_bytes", "Sizes.", &[], &[]).unwrap();
    s.observe(3.0);
    s.observe(4.0);
    let fams = arena.collector().unwrap().families().unwrap();
    let jobs = family(&fams, "jobs");
    assert_eq!(jobs.series.len(), 1);
    assert_eq!(jobs.series[0].labels.to_vec(), ["a"]);
    match &jobs.series[0].value {
        SeriesValue::Counter { value, whole, .. } => {
            assert_eq!(*value, 5.5);
            assert_eq!(*whole, None);
        }
        v => panic!("{v:?}"),
    }
    match &family(&fams, "latency_seconds").series[0].value {
        SeriesValue::Histogram(snap) => {
            // 0.05 and 0.1 (a value equal to a bound counts in it), 0.5, then 2.0 in +Inf.
            assert_eq!(snap.bucket_counts(), vec![2, 1, 1]);
            assert_eq!(snap.count(), 4);
            assert_eq!(snap.sum(), 2.65);
        }
        v => panic!("{v:?}"),
    }
    match &family(&fams, "size_bytes").series[0].value {
        SeriesValue::Summary {
            snapshot,
            quantiles,
        } => {
            assert_eq!(snapshot.count(), 2);
            assert_eq!(snapshot.sum(), 7.0);
            assert!(quantiles.is_empty());
        }
        v => panic!("{v:?}"),
    }
    drop(arena);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_same_series_twice_shares_its_cells() {
    let dir = tempdir("same");
    let arena = Arena::open(&dir).unwrap();
    let a = arena.counter("hits", "Hits.", &["k"], &["x"]).unwrap();
    let b = arena
        .counter("hits_total", "Hits.", &["k"], &["x"])
        .unwrap();
    a.inc();
    b.inc();
    assert_eq!(a.get(), 2.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shapes_and_labels_are_checked() {
    let dir = tempdir("shape");
    let arena = Arena::open(&dir).unwrap();
    let _x = arena.counter("x", "X.", &["a"], &["1"]).unwrap();
    let e = arena
        .gauge("x", "X.", GaugeMode::Sum, &["a"], &["1"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(e.metric(), Some("x"));
    let e = arena.counter("x", "X.", &["b"], &["1"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let e = arena.counter("x", "X.", &["a"], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidLabels);
    let e = arena.counter("1x", "X.", &[], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidName);
    let e = arena
        .gauge("g", "G.", GaugeMode::All, &["pid"], &["1"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidLabels);
    let e = arena
        .histogram("h", "H.", &[2.0, 1.0], &[], &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    // Another arena handle on the same directory (as another process would be) sees the
    // schema, not just this handle's memory.
    let other = Arena::open(&dir).unwrap();
    let e = other
        .histogram("x", "X.", &[1.0], &["a"], &["1"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_torn_record_beyond_the_committed_length_is_not_read() {
    let dir = tempdir("torn");
    let arena = Arena::open(&dir).unwrap();
    arena.counter("done", "Done.", &[], &[]).unwrap().inc_by(7);
    // Write half a record past the committed length, as a process killed mid-append leaves it.
    {
        let state = arena.inner.state.lock().unwrap();
        let seg = state.segment.as_ref().unwrap();
        let mut buf = RecordBuf::default();
        buf.series(0, 1, &["torn".to_owned()], &[99, 0]);
        let half = &buf.bytes[..buf.bytes.len() / 2];
        // SAFETY: inside the allocated file, past the committed length.
        unsafe {
            std::ptr::copy_nonoverlapping(half.as_ptr(), seg.map.ptr().add(seg.end), half.len())
        };
    }
    let fams = arena.collector().unwrap().families().unwrap();
    let done = family(&fams, "done");
    assert_eq!(done.series.len(), 1);
    assert!(matches!(
        done.series[0].value,
        SeriesValue::Counter { whole: Some(7), .. }
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gauge_modes_parse_as_prometheus_client_spells_them() {
    for m in [
        GaugeMode::All,
        GaugeMode::LiveAll,
        GaugeMode::Min,
        GaugeMode::Max,
        GaugeMode::Sum,
        GaugeMode::LiveSum,
        GaugeMode::MostRecent,
        GaugeMode::LiveMostRecent,
    ] {
        assert_eq!(GaugeMode::parse(m.as_str()), Some(m));
    }
    assert_eq!(GaugeMode::parse("LIVESUM"), None);
}
