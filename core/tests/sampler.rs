//! The resource sampler against ground truth: what the test itself does to the
//! process (allocate, spin, open files, spawn threads, write and fsync), and
//! what `/proc` says when the test reads it by its own means.
//!
//! The tests share one process, whose figures they move on purpose, so they take
//! turns (one lock) and compare differences, not absolute values.
#![cfg(target_os = "linux")]

use std::io::Write as _;
use std::sync::{Barrier, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use metricore::sampler::{self, Probe, Sampler};
use metricore::sampler::{DiskRates, DiskSample, InterfaceRates, InterfaceSample, SystemSample};
use metricore::{ErrorKind, MetricOpts, Registry, ResourceMetrics};

const MB: usize = 1 << 20;

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A figure once it holds still for 20 ms: the thread of the test that ran before
/// may still be ending after it released the lock.
fn settled(c: &mut Probe, figure: impl Fn(&metricore::Sample) -> u64) -> u64 {
    let mut last = figure(&c.sample());
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(20));
        let now = figure(&c.sample());
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("figure never settled");
}

fn proc_file(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A `Key: value kB` line of a /proc file, parsed here independently of the library.
fn proc_kb(path: &str, key: &str) -> u64 {
    let text = proc_file(path);
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} in {path}"));
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn resident_memory_rises_by_what_the_test_touches() {
    let _turn = one_at_a_time();
    let mut c = Probe::new();
    let before = c.sample().process.resident_memory_bytes.unwrap();
    let mut block = vec![0u8; 200 * MB];
    // Touch every page so it is resident, not just reserved.
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    let after = c.sample().process.resident_memory_bytes.unwrap();
    std::hint::black_box(&block);
    let rise = after as f64 - before as f64;
    let want = (200 * MB) as f64;
    assert!(
        (rise - want).abs() <= want * 0.10,
        "RSS rose by {:.1} MB, want 200 MB +- 10 %",
        rise / MB as f64
    );
    drop(block);
}

/// The CPU time the calling thread has had, by the scheduler's own count (ns).
fn thread_cpu() -> Duration {
    let stat = proc_file("/proc/thread-self/schedstat");
    let ns = stat.split_whitespace().next().and_then(|n| n.parse().ok());
    Duration::from_nanos(ns.unwrap_or_else(|| panic!("schedstat: {stat}")))
}

#[test]
fn a_spinning_thread_reads_as_the_cpu_time_it_got() {
    // Spinning for 1 s of wall time gets most of a core on a quiet machine and less when
    // other processes compete, so the ground truth is the CPU time the scheduler gave it.
    let _turn = one_at_a_time();
    let mut c = Probe::new();
    c.sample();
    let spun = std::thread::spawn(|| {
        let start = thread_cpu();
        let end = Instant::now() + Duration::from_secs(1);
        let mut x = 0u64;
        while Instant::now() < end {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        thread_cpu().saturating_sub(start)
    })
    .join()
    .unwrap();
    let s = c.sample();
    let interval = s.interval_seconds.unwrap();
    let pct = s.process.cpu_percent.unwrap();
    let got = 100.0 * spun.as_secs_f64() / interval;
    assert!(
        got >= 20.0,
        "the spinning thread got {got:.1} % of a core: too little to test with"
    );
    // Below: /proc counts in 10 ms ticks. Above: the test's other threads, sampling.
    assert!(
        pct >= got * 0.9 - 2.0 && pct <= got + 15.0,
        "a thread that had {got:.1} % of a core over a {interval:.2} s interval read as {pct:.1} %"
    );
    let sys = s
        .system
        .cpu_percent
        .expect("two samples give system CPU percent");
    let sum = sys.user + sys.system + sys.idle + sys.iowait + sys.steal;
    assert!(
        sum <= 100.0 + 1e-6 && sys.total > 0.0,
        "system CPU: {sys:?}"
    );
}

#[test]
fn open_fds_rise_by_exactly_the_files_opened() {
    let _turn = one_at_a_time();
    let mut c = Probe::new();
    let before = settled(&mut c, |s| s.process.open_fds.unwrap());
    let files: Vec<std::fs::File> = (0..7)
        .map(|_| std::fs::File::open("/proc/self/stat").unwrap())
        .collect();
    let during = c.sample().process.open_fds.unwrap();
    drop(files);
    let after = c.sample().process.open_fds.unwrap();
    assert_eq!(during - before, 7, "opened 7 files");
    assert_eq!(after, before, "closed them again");
    let max = c.sample().process.max_fds.unwrap();
    assert!(max >= during, "max fds {max} < open {during}");
}

#[test]
fn threads_rise_by_exactly_the_threads_spawned() {
    let _turn = one_at_a_time();
    let mut c = Probe::new();
    let before = settled(&mut c, |s| s.process.threads.unwrap());
    let started = std::sync::Arc::new(Barrier::new(5));
    let release = std::sync::Arc::new(Barrier::new(5));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (s, r) = (started.clone(), release.clone());
            std::thread::spawn(move || {
                s.wait();
                r.wait();
            })
        })
        .collect();
    started.wait();
    let during = c.sample().process.threads.unwrap();
    release.wait();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(during - before, 4, "spawned 4 threads");
}

#[test]
fn io_write_bytes_rise_by_what_is_written_and_synced() {
    let _turn = one_at_a_time();
    let mut c = Probe::new();
    let Some(before) = c.sample().process.io_write_bytes else {
        eprintln!("skipped: this kernel has no /proc/self/io (task I/O accounting off)");
        return;
    };
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sampler-io-test");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..8 {
        f.write_all(&chunk).unwrap();
    }
    f.sync_all().unwrap();
    let after = c.sample().process.io_write_bytes.unwrap();
    drop(f);
    std::fs::remove_file(&path).unwrap();
    let rise = after - before;
    assert!(
        (8 << 20..=(8 << 20) + (2 << 20)).contains(&rise),
        "wrote and synced 8 MiB; write_bytes rose by {rise}"
    );
}

#[test]
fn system_figures_agree_with_proc_read_independently() {
    let _turn = one_at_a_time();
    let s = Probe::new().sample();
    let m = s.system.memory.as_ref().unwrap();
    assert_eq!(m.total_bytes, proc_kb("/proc/meminfo", "MemTotal"));
    assert_eq!(
        m.swap_total_bytes,
        Some(proc_kb("/proc/meminfo", "SwapTotal"))
    );
    let avail = proc_kb("/proc/meminfo", "MemAvailable") as f64;
    assert!(
        (m.available_bytes.unwrap() as f64 - avail).abs() < 0.05 * m.total_bytes as f64,
        "MemAvailable moved by more than 5 % of RAM between two reads"
    );
    let stat = proc_file("/proc/stat");
    let btime: f64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(s.system.boot_time_seconds, Some(btime));
    let cpus = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .count();
    assert_eq!(s.system.cpu_seconds.len(), cpus);
    let load: Vec<f64> = proc_file("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .map(|v| v.parse().unwrap())
        .collect();
    let ours = s.system.load_average.unwrap();
    for i in 0..3 {
        assert!(
            (ours[i] - load[i]).abs() < 1.0,
            "load {i}: {ours:?} vs {load:?}"
        );
    }
    let ifaces: Vec<String> = proc_file("/proc/net/dev")
        .lines()
        .skip(2)
        .map(|l| l.split(':').next().unwrap().trim().to_owned())
        .collect();
    let ours: Vec<&str> = s.system.network.iter().map(|n| n.device.as_str()).collect();
    assert_eq!(ours, ifaces);
    let root = s
        .system
        .filesystems
        .iter()
        .find(|f| f.mountpoint == "/")
        .expect("/ is mounted");
    assert!(root.size_bytes > 0 && root.used_bytes <= root.size_bytes);
    let started = s.process.start_time_seconds.unwrap();
    let now = s.timestamp;
    assert!(
        started <= now && started > btime,
        "process start {started} outside boot {btime} .. now {now}"
    );
}

#[test]
fn the_portable_source_agrees_with_proc_where_both_give_a_figure() {
    let _turn = one_at_a_time();
    let proc = Probe::new().sample();
    let portable = Probe::portable().sample();
    let (a, b) = (
        proc.process.resident_memory_bytes.unwrap() as f64,
        portable.process.resident_memory_bytes.unwrap() as f64,
    );
    assert!(
        (a - b).abs() <= 0.10 * a,
        "RSS {a} (/proc) vs {b} (sysinfo)"
    );
    let (a, b) = (
        proc.process.start_time_seconds.unwrap(),
        portable.process.start_time_seconds.unwrap(),
    );
    assert!((a - b).abs() <= 2.0, "start time {a} vs {b}");
    let names = |s: &metricore::Sample| {
        let mut v: Vec<String> = s.system.network.iter().map(|n| n.device.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&proc), names(&portable));
    // Figures only /proc gives are absent from the portable source, not zero.
    assert_eq!(portable.process.open_fds, None);
    assert_eq!(portable.process.voluntary_context_switches, None);
    assert!(portable.system.tcp_connections.is_none());
}

#[test]
fn start_stop_cycles_leak_no_thread_and_no_memory() {
    let _turn = one_at_a_time();
    let mut c = Probe::new();
    let warm = Sampler::new();
    warm.start(Duration::from_millis(100)).unwrap();
    warm.stop();
    let threads_before = settled(&mut c, |s| s.process.threads.unwrap());
    let before = c.sample().process;
    let sampler = Sampler::new();
    for _ in 0..1000 {
        sampler.start(Duration::from_millis(100)).unwrap();
        assert!(sampler.is_running());
        sampler.stop();
        assert!(!sampler.is_running());
    }
    let after = c.sample().process;
    assert_eq!(
        after.threads,
        Some(threads_before),
        "threads before and after 1,000 cycles"
    );
    let grew = after.resident_memory_bytes.unwrap().cast_signed()
        - before.resident_memory_bytes.unwrap().cast_signed();
    assert!(
        grew < 1 << 20,
        "RSS grew by {grew} B over 1,000 start/stop cycles"
    );
    assert!(sampler.latest().is_some(), "each start takes a sample");
}

#[test]
fn bad_intervals_are_refused_with_the_rule() {
    let _turn = one_at_a_time();
    let s = Sampler::new();
    for bad in [
        Duration::ZERO,
        Duration::from_millis(99),
        Duration::from_secs(86_401),
    ] {
        let e = s.start(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.to_string().contains("between 100 ms and 1 day"), "{e}");
        assert!(!s.is_running());
    }
    for bad in [
        0.0,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        0.05,
        86_400.5,
        1e20,
        1e300,
    ] {
        let e = sampler::interval_from_secs(bad).unwrap_err();
        assert!(e.to_string().contains("resource sampler"), "{e}");
    }
    assert_eq!(
        sampler::interval_from_secs(0.1).unwrap(),
        Duration::from_millis(100)
    );
}

#[test]
fn a_forked_child_never_sees_a_live_sampler() {
    let _turn = one_at_a_time();
    let s = Sampler::new();
    s.start(Duration::from_millis(100)).unwrap();
    // SAFETY: the child only reads an atomic and the pid, then leaves with _exit,
    // touching no lock and no allocator.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = i32::from(s.is_running());
        // SAFETY: _exit ends the child at once, as a forked child of a threaded process should.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    assert_eq!(unsafe { libc::waitpid(pid, &raw mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status));
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the child saw the parent's sampler as running"
    );
    assert!(s.is_running(), "the parent's sampler still runs");
    s.stop();
}

#[test]
fn a_registry_publishes_its_sampler_under_the_conventional_names() {
    let _turn = one_at_a_time();
    let r = Registry::new();
    let sampler = r.sampler().unwrap();
    assert!(
        !r.render_text().contains("process_"),
        "nothing before a sample"
    );
    let sample = sampler.sample_now();
    let text = r.render_text();
    for name in [
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_start_time_seconds ",
        "node_load1 ",
        "node_memory_MemAvailable_bytes ",
        "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} ",
        "node_network_receive_bytes_total{device=\"lo\"} ",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(text.contains("# TYPE process_cpu_seconds_total counter"));
    let rss = sample.process.resident_memory_bytes.unwrap();
    let exposed: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (exposed - rss as f64).abs() < 0.5,
        "the exposition shows the latest sample: {exposed} vs {rss}"
    );
    assert!(r.sampler().is_ok(), "asking again returns the same sampler");

    let taken = Registry::new();
    let _mine = taken
        .gauge(MetricOpts::new("process_threads", "Mine."))
        .unwrap();
    let e = taken.sampler().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("process_threads"), "{e}");
    let r2 = Registry::new();
    r2.sampler().unwrap();
    let e = r2
        .counter(MetricOpts::new("node_cpu_seconds", "Mine."))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
}

#[test]
fn seed_shapes_carry_the_sample() {
    let _turn = one_at_a_time();
    let mut c = Probe::new();
    c.sample();
    std::thread::sleep(Duration::from_millis(100));
    let s = c.sample();
    let r = ResourceMetrics::from(&s);
    assert_eq!(r.memory_used_bytes, s.process.resident_memory_bytes);
    assert_eq!(r.thread_count, s.process.threads);
    assert!(r.memory_utilization().unwrap() > 0.0 && r.memory_utilization().unwrap() < 1.0);
    assert!(r.disk_utilization().is_some());
    assert!(
        s.system.all_interfaces().is_some(),
        "loopback at least, with rates"
    );
}

#[test]
fn machine_totals_sum_the_devices_and_take_the_busiest_disk() {
    let disk = |device: &str, rates: Option<DiskRates>| DiskSample {
        device: device.into(),
        rates,
        ..DiskSample::default()
    };
    let mut system = SystemSample::default();
    assert_eq!(system.all_disks(), None, "no disks");
    assert_eq!(system.all_interfaces(), None, "no interfaces");
    assert_eq!(system.tcp_established(), None, "connections not counted");
    system.disks = vec![disk("sda", None)];
    assert_eq!(system.all_disks(), None, "a first sample has no rates");
    system.disks = vec![
        disk(
            "sda",
            Some(DiskRates {
                read_ops_per_second: 10.0,
                write_ops_per_second: 2.0,
                read_bytes_per_second: 4096.0,
                write_bytes_per_second: 512.0,
                utilisation_percent: 30.0,
                queue_length: 0.5,
            }),
        ),
        disk("sdb", None),
        disk(
            "nvme0n1",
            Some(DiskRates {
                read_ops_per_second: 1.5,
                write_ops_per_second: 8.0,
                read_bytes_per_second: 1024.0,
                write_bytes_per_second: 2048.0,
                utilisation_percent: 70.0,
                queue_length: 1.25,
            }),
        ),
    ];
    assert_eq!(
        system.all_disks(),
        Some(DiskRates {
            read_ops_per_second: 11.5,
            write_ops_per_second: 10.0,
            read_bytes_per_second: 5120.0,
            write_bytes_per_second: 2560.0,
            utilisation_percent: 70.0,
            queue_length: 1.75,
        })
    );
    let interface = |rx: f64, tx: f64| InterfaceSample {
        rates: Some(InterfaceRates {
            receive_bytes_per_second: rx,
            transmit_bytes_per_second: tx,
            receive_packets_per_second: rx / 100.0,
            transmit_packets_per_second: tx / 100.0,
            drops_per_second: 1.0,
            errors_per_second: 0.5,
        }),
        ..InterfaceSample::default()
    };
    system.network = vec![interface(1000.0, 200.0), interface(300.0, 0.0)];
    assert_eq!(
        system.all_interfaces(),
        Some(InterfaceRates {
            receive_bytes_per_second: 1300.0,
            transmit_bytes_per_second: 200.0,
            receive_packets_per_second: 13.0,
            transmit_packets_per_second: 2.0,
            drops_per_second: 2.0,
            errors_per_second: 1.0,
        })
    );
    system.tcp_connections = Some([("listen".to_owned(), 3)].into());
    assert_eq!(
        system.tcp_established(),
        Some(0),
        "counted, none established"
    );
    system.tcp_connections = Some([("established".to_owned(), 7), ("listen".to_owned(), 3)].into());
    assert_eq!(system.tcp_established(), Some(7));
}

/// CPU time of the calling thread, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
}

#[test]
fn profile_operation_measures_time_cpu_and_memory() {
    let _turn = one_at_a_time();
    // Spins until this thread has had 300 ms of CPU, however long a loaded machine makes
    // that take on the wall clock.
    let (kept, p) = metricore::profile_operation(|| {
        let start = thread_cpu_ms();
        while thread_cpu_ms() - start < 300.0 {
            std::hint::black_box(0);
        }
        let mut v = vec![0u8; 50 * MB];
        for page in v.chunks_mut(4096) {
            page[0] = 1;
        }
        v
    });
    assert!(p.duration_ms >= 300.0, "{p:?}");
    let cpu = p.cpu_user_ms.unwrap() + p.cpu_system_ms.unwrap();
    assert!(cpu >= 300.0, "spun for 300 ms of CPU, measured {cpu} ms");
    let rss = p.rss_delta_bytes.unwrap() as f64;
    assert!(
        (rss - (50 * MB) as f64).abs() <= 0.10 * (50 * MB) as f64,
        "touched 50 MB, RSS delta {rss}"
    );
    drop(kept);
}
