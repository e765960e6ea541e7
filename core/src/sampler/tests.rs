//! Sampler tests that need the crate's insides: a `/proc` with files missing or broken.

use std::path::Path;

use super::Probe;

/// A fake `/proc` holding `files` (path, text), and an empty `/sys`.
fn fake_root(files: &[(&str, &str)]) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    for (path, text) in files {
        let p = dir.path().join("proc").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("sys/block/vda")).unwrap();
    dir
}

/// A throwaway directory under the target dir, removed on drop (no extra crate for this).
mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    pub(super) struct Dir(PathBuf);

    impl Dir {
        pub(super) fn new() -> Self {
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "metricore-sampler-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
        pub(super) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn probe(root: &Path) -> Probe {
    Probe::procfs_at(&root.join("proc"), &root.join("sys"))
}

#[test]
fn missing_files_make_figures_absent_and_count_errors() {
    let root = fake_root(&[("loadavg", "0.5 0.25 0.125 1/80 99\n")]);
    let mut c = probe(root.path());
    let s = c.sample();
    assert_eq!(s.system.load_average, Some([0.5, 0.25, 0.125]));
    assert_eq!(s.process.resident_memory_bytes, None);
    assert_eq!(s.process.cpu_seconds, None);
    assert_eq!(s.system.memory, None);
    assert!(s.system.disks.is_empty());
    let errors = c.errors();
    for source in [
        "stat",
        "process_stat",
        "meminfo",
        "diskstats",
        "net_dev",
        "process_fds",
    ] {
        assert_eq!(errors.get(source), Some(&1), "{source}: {errors:?}");
    }
    // No PSI file is a platform without PSI, not an error.
    assert_eq!(errors.get("pressure"), None);
    c.sample();
    assert_eq!(c.errors().get("meminfo"), Some(&2), "errors accumulate");
}

#[test]
fn garbled_files_are_absent_not_zero() {
    let root = fake_root(&[
        ("self/stat", "1 (x) S 1 2 3\n"),
        ("meminfo", "MemFree: 10 kB\n"),
        ("stat", "cpu 1 2 3\n"),
        ("pressure/memory", "nonsense\n"),
    ]);
    let mut c = probe(root.path());
    let s = c.sample();
    assert_eq!(s.process.cpu_seconds, None);
    assert_eq!(s.system.memory, None, "MemTotal missing: no memory figures");
    assert!(s.system.cpu_seconds.is_empty());
    assert_eq!(s.system.memory_pressure, None);
    for source in ["process_stat", "meminfo", "stat", "pressure"] {
        assert_eq!(c.errors().get(source), Some(&1), "{source}");
    }
}

#[test]
fn rates_come_from_two_samples_of_fake_counters() {
    let root = fake_root(&[
        (
            "stat",
            "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\nbtime 1000\n",
        ),
        (
            "diskstats",
            "   8 0 vda 10 0 100 0 20 0 200 0 0 50 60 0 0 0 0\n",
        ),
        (
            "net/dev",
            "h\nh\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n",
        ),
    ]);
    let mut c = probe(root.path());
    let first = c.sample();
    assert!(
        first.system.cpu_percent.is_none(),
        "one sample has no interval"
    );
    assert!(first.system.disks[0].rates.is_none());
    std::thread::sleep(std::time::Duration::from_millis(50));
    let write = |p: &str, t: &str| std::fs::write(root.path().join("proc").join(p), t).unwrap();
    write(
        "stat",
        "cpu  150 0 150 900 0 0 0 0 0 0\ncpu0 150 0 150 900 0 0 0 0 0 0\nbtime 1000\n",
    );
    write(
        "diskstats",
        "   8 0 vda 20 0 300 0 20 0 200 0 0 50 60 0 0 0 0\n",
    );
    write(
        "net/dev",
        "h\nh\n  eth0: 3000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n",
    );
    let second = c.sample();
    let cpu = second.system.cpu_percent.unwrap();
    // Of 200 ticks: 50 user, 50 system, 100 idle.
    assert!((cpu.user - 25.0).abs() < 1e-9, "{cpu:?}");
    assert!((cpu.system - 25.0).abs() < 1e-9);
    assert!((cpu.total - 50.0).abs() < 1e-9);
    let secs = second.interval_seconds.unwrap();
    let disk = second.system.disks[0].rates.unwrap();
    assert!((disk.read_ops_per_second - 10.0 / secs).abs() < 1e-6);
    assert!((disk.read_bytes_per_second - 200.0 * 512.0 / secs).abs() < 1e-3);
    assert!(disk.write_ops_per_second.abs() < 1e-12);
    let net = second.system.network[0].rates.unwrap();
    assert!((net.receive_bytes_per_second - 2000.0 / secs).abs() < 1e-6);
}
