//! The arena with real processes: children are this test binary re-run with
//! `MC_ARENA_CHILD` set, which makes `child_entry_point` play the role named there.
// Gauge values are set and merged exactly (min, max, sums of small integers).
#![allow(clippy::float_cmp)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use metricore::collect::{FamilySnapshot, SeriesValue};
use metricore::multiprocess::{Arena, ArenaCollector, GaugeMode};
use metricore::{ErrorKind, Registry};

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("mc-arena-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spawn(role: &str, dir: &Path, arg: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MC_ARENA_CHILD", role)
        .env("MC_ARENA_DIR", dir)
        .env("MC_ARENA_ARG", arg.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Reads the child's stdout until a line ending with `prefix` (libtest prints the test's name before it), returning the line.
fn wait_line(child: &mut Child, prefix: &str) -> String {
    let out = child.stdout.as_mut().unwrap();
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "child ended before '{prefix}'"
        );
        if line.trim_end().ends_with(prefix) {
            return line;
        }
    }
}

fn family<'a>(fams: &'a [FamilySnapshot], name: &str) -> &'a FamilySnapshot {
    fams.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no family {name}"))
}

fn counter_total(fams: &[FamilySnapshot], name: &str) -> u64 {
    family(fams, name)
        .series
        .iter()
        .map(|s| match &s.value {
            SeriesValue::Counter { whole: Some(w), .. } => *w,
            v => panic!("{v:?}"),
        })
        .sum()
}

fn gauge_values(fams: &[FamilySnapshot], name: &str) -> Vec<(Vec<String>, f64)> {
    fams.iter()
        .find(|f| f.name == name)
        .map(|f| {
            f.series
                .iter()
                .map(|s| match &s.value {
                    SeriesValue::Gauge { value } => (s.labels.to_vec(), *value),
                    v => panic!("{v:?}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

const MODES: [GaugeMode; 8] = [
    GaugeMode::All,
    GaugeMode::LiveAll,
    GaugeMode::Min,
    GaugeMode::Max,
    GaugeMode::Sum,
    GaugeMode::LiveSum,
    GaugeMode::MostRecent,
    GaugeMode::LiveMostRecent,
];

/// Plays a child's role; does nothing when run as an ordinary test.
#[test]
fn child_entry_point() {
    let Ok(role) = std::env::var("MC_ARENA_CHILD") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("MC_ARENA_DIR").unwrap());
    let arg: u64 = std::env::var("MC_ARENA_ARG").unwrap().parse().unwrap();
    let arena = Arena::open(&dir).unwrap();
    let mut stdout = std::io::stdout();
    match role.as_str() {
        // Records `arg` requests, sets every gauge mode to `arg`, then waits for stdin to close.
        "worker" => {
            let c = arena
                .counter("requests_total", "Requests.", &["code"], &["200"])
                .unwrap();
            let h = arena
                .histogram("latency_seconds", "Latency.", &[0.1, 1.0], &[], &[])
                .unwrap();
            for i in 0..arg {
                c.inc();
                h.observe(if i % 2 == 0 { 0.05 } else { 0.5 });
            }
            for m in MODES {
                let g = arena
                    .gauge(&format!("g_{}", m.as_str()), "G.", m, &[], &[])
                    .unwrap();
                g.set(arg as f64);
            }
            writeln!(stdout, "ready").unwrap();
            stdout.flush().unwrap();
            let _ = std::io::stdin().read_line(&mut String::new());
        }
        // Records `arg` increments, reports, then creates series and counts until killed.
        "churn" => {
            let c = arena.counter("done_total", "Done.", &[], &[]).unwrap();
            for _ in 0..arg {
                c.inc();
            }
            writeln!(stdout, "done").unwrap();
            stdout.flush().unwrap();
            let spin = arena.counter("spin_total", "Spin.", &[], &[]).unwrap();
            // A bounded number of new series (so a slow parent cannot fill the disk), then
            // increments only.
            for i in 0u64.. {
                if i < 5000 {
                    let s = arena
                        .counter("churn_total", "Churn.", &["i"], &[&i.to_string()])
                        .unwrap();
                    s.inc();
                }
                spin.inc();
            }
        }
        // One short-lived worker: ten series, then exit.
        "restart" => {
            for i in 0..10 {
                arena
                    .counter("work_total", "Work.", &["i"], &[&i.to_string()])
                    .unwrap()
                    .inc_by(arg);
            }
            arena
                .gauge("up", "Up.", GaugeMode::LiveSum, &[], &[])
                .unwrap()
                .set(1.0);
            arena
                .gauge("last", "Last.", GaugeMode::Max, &[], &[])
                .unwrap()
                .set(arg as f64);
        }
        "declare_counter" => {
            let _c = arena.counter("shared_name", "S.", &["a"], &["1"]).unwrap();
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn four_live_workers_then_four_dead_ones() {
    let dir = tempdir("four");
    let counts = [100u64, 200, 300, 400];
    let mut kids: Vec<Child> = counts.iter().map(|&n| spawn("worker", &dir, n)).collect();
    for k in &mut kids {
        wait_line(k, "ready");
    }
    let pids: Vec<String> = kids.iter().map(|k| k.id().to_string()).collect();
    let collector = ArenaCollector::open(&dir).unwrap();
    let check_totals = |fams: &[FamilySnapshot]| {
        assert_eq!(counter_total(fams, "requests"), 1000);
        match &family(fams, "latency_seconds").series[0].value {
            SeriesValue::Histogram(s) => {
                // Each worker records half 0.05 and half 0.5 (the first of an odd count low).
                assert_eq!(s.bucket_counts(), vec![500, 500, 0]);
                assert!((s.sum() - (500.0 * 0.05 + 500.0 * 0.5)).abs() < 1e-9);
            }
            v => panic!("{v:?}"),
        }
    };
    let live = collector.families().unwrap();
    check_totals(&live);
    let per_pid = |fams: &[FamilySnapshot], name: &str| {
        let mut v: Vec<(String, f64)> = gauge_values(fams, name)
            .into_iter()
            .map(|(l, v)| (l.last().unwrap().clone(), v))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let mut expected: Vec<(String, f64)> = pids
        .iter()
        .cloned()
        .zip(counts.iter().map(|&c| c as f64))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(per_pid(&live, "g_all"), expected);
    assert_eq!(per_pid(&live, "g_liveall"), expected);
    assert_eq!(gauge_values(&live, "g_min")[0].1, 100.0);
    assert_eq!(gauge_values(&live, "g_max")[0].1, 400.0);
    assert_eq!(gauge_values(&live, "g_sum")[0].1, 1000.0);
    assert_eq!(gauge_values(&live, "g_livesum")[0].1, 1000.0);
    // Workers set their gauges one after another, in start order only by chance: the most
    // recent is one of them, and the live and all-time views agree while all live.
    let recent = gauge_values(&live, "g_mostrecent")[0].1;
    assert!(counts.contains(&(recent as u64)));
    assert_eq!(gauge_values(&live, "g_livemostrecent")[0].1, recent);

    // The workers end; their counters, histograms and non-live gauges stay.
    for k in &mut kids {
        drop(k.stdin.take());
        assert!(k.wait().unwrap().success());
    }
    let dead = collector.families().unwrap();
    check_totals(&dead);
    assert_eq!(per_pid(&dead, "g_all"), expected);
    assert!(gauge_values(&dead, "g_liveall").is_empty());
    assert!(gauge_values(&dead, "g_livesum").is_empty());
    assert!(gauge_values(&dead, "g_livemostrecent").is_empty());
    assert_eq!(gauge_values(&dead, "g_min")[0].1, 100.0);
    assert_eq!(gauge_values(&dead, "g_max")[0].1, 400.0);
    assert_eq!(gauge_values(&dead, "g_sum")[0].1, 1000.0);
    assert_eq!(gauge_values(&dead, "g_mostrecent")[0].1, recent);
    // Folded: only the archive, the schema and the lock remain.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["archive.mca", "metricore.lock", "schema.mca"]);
    // A second read of the archive counts nothing twice.
    check_totals(&collector.families().unwrap());

    // Served through a registry, in the canonical text format.
    let registry = Registry::new();
    registry.register_collector("arena", collector).unwrap();
    let text = registry.render_text();
    assert!(
        text.contains("requests_total{code=\"200\"} 1000\n"),
        "{text}"
    );
    assert!(text.contains("latency_seconds_count 1000\n"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "hangs in the parent after the first two kills on a loaded machine; not yet diagnosed"]
fn kill_9_mid_load_keeps_exact_totals() {
    let dir = tempdir("kill9");
    let per = 50_000u64;
    let mut kids: Vec<Child> = (0..4).map(|_| spawn("churn", &dir, per)).collect();
    for k in &mut kids {
        wait_line(k, "done");
    }
    // Let them create series and count for a while, then kill two mid-flight.
    std::thread::sleep(std::time::Duration::from_millis(150));
    let collector = ArenaCollector::open(&dir).unwrap();
    for k in &mut kids[..2] {
        k.kill().unwrap(); // SIGKILL
        k.wait().unwrap();
    }
    let after_kill = collector.families().unwrap();
    assert_eq!(counter_total(&after_kill, "done"), 4 * per);
    // Every churn series is whole: its count is 0 (killed between creation and inc) or 1.
    let churn = family(&after_kill, "churn");
    assert!(churn.series.iter().all(|s| matches!(
        s.value,
        SeriesValue::Counter {
            whole: Some(0 | 1),
            ..
        }
    )));
    // Totals of the dead never go backwards as the survivors keep counting.
    let spin_then = counter_total(&after_kill, "spin");
    let again = collector.families().unwrap();
    assert_eq!(counter_total(&again, "done"), 4 * per);
    assert!(counter_total(&again, "spin") >= spin_then);
    for k in &mut kids[2..] {
        k.kill().unwrap();
        k.wait().unwrap();
    }
    // All dead: the values are final, read twice they agree, and only the archive is left.
    let final1 = collector.families().unwrap();
    let final2 = collector.families().unwrap();
    assert_eq!(counter_total(&final1, "done"), 4 * per);
    assert_eq!(
        counter_total(&final1, "spin"),
        counter_total(&final2, "spin")
    );
    assert_eq!(
        counter_total(&final1, "churn"),
        counter_total(&final2, "churn")
    );
    assert!(counter_total(&final1, "spin") >= spin_then);
    let segments = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .starts_with("seg-")
        })
        .count();
    assert_eq!(segments, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fold_interrupted_before_the_unlink_does_not_double_count() {
    let dir = tempdir("refold");
    let mut k = spawn("restart", &dir, 3);
    assert!(k.wait().unwrap().success());
    let seg = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("seg-"))
        .unwrap();
    let saved = std::fs::read(&seg).unwrap();
    let collector = ArenaCollector::open(&dir).unwrap();
    assert_eq!(counter_total(&collector.families().unwrap(), "work"), 30);
    // As if the fold had been killed after renaming the archive, before unlinking: the
    // segment is back, and a stale temporary archive lies beside it.
    assert!(!seg.exists());
    std::fs::write(&seg, &saved).unwrap();
    std::fs::write(dir.join("archive.tmp"), b"half-written").unwrap();
    assert_eq!(counter_total(&collector.families().unwrap(), "work"), 30);
    assert_eq!(counter_total(&collector.families().unwrap(), "work"), 30);
    assert!(
        !seg.exists(),
        "the absorbed segment is unlinked by the next fold"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_hundred_restarts_leave_one_archive() {
    let dir = tempdir("restarts");
    let collector = ArenaCollector::open(&dir).unwrap();
    let mut size_after_10 = 0;
    for round in 1..=100u64 {
        let mut k = spawn("restart", &dir, 1);
        assert!(k.wait().unwrap().success());
        if round == 10 {
            collector.families().unwrap();
            size_after_10 = collector.disk_bytes().unwrap();
        }
    }
    let fams = collector.families().unwrap();
    assert_eq!(counter_total(&fams, "work"), 1000);
    assert!(
        gauge_values(&fams, "up").is_empty(),
        "live-only gauges of the dead are dropped"
    );
    assert_eq!(gauge_values(&fams, "last")[0].1, 1.0);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("seg-") || n.starts_with("tmp-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // The archive grows only by the absorbed ids it remembers (8 bytes per restart).
    let size = collector.disk_bytes().unwrap();
    assert!(
        size <= size_after_10 + 90 * 8,
        "{size} vs {size_after_10} after 10 restarts"
    );
    eprintln!("arena after 100 restarts: {size} bytes (after 10: {size_after_10})");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_processes_declaring_one_name_differently_conflict() {
    let dir = tempdir("conflict");
    let mut k = spawn("declare_counter", &dir, 0);
    assert!(k.wait().unwrap().success());
    let arena = Arena::open(&dir).unwrap();
    let e = arena
        .gauge("shared_name", "S.", GaugeMode::Sum, &["a"], &["1"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(e.metric(), Some("shared_name"));
    let same = arena.counter("shared_name", "S.", &["a"], &["1"]);
    assert!(same.is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unusable_directory_is_an_error_at_open_naming_it() {
    let missing = std::env::temp_dir().join("mc-arena-missing-dir-that-does-not-exist");
    let e = Arena::open(&missing).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ArenaUnavailable);
    assert!(e.to_string().contains(missing.to_str().unwrap()), "{e}");
    assert!(ArenaCollector::open(&missing).is_err());

    // A file of another format version.
    let dir = tempdir("version");
    let mut header = [0u8; 64];
    header[..8].copy_from_slice(b"MCARENA\0");
    header[8..12].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(dir.join("seg-1-00000000000000aa.mca"), header).unwrap();
    let e = Arena::open(&dir).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ArenaUnavailable);
    let msg = e.to_string();
    assert!(
        msg.contains(dir.to_str().unwrap()) && msg.contains("version 99"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // Not writable (root writes anyway: then there is nothing to check).
    let dir = tempdir("readonly");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join("probe"), b"x").is_ok() {
        eprintln!("skipping the read-only check: this user can write a 0555 directory (root)");
    } else {
        let e = Arena::open(&dir).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ArenaUnavailable);
        assert!(e.to_string().contains(dir.to_str().unwrap()), "{e}");
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
