//! The Linux source: one sample from `/proc`, `/sys/block` and `statvfs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::Errors;
use super::procfs::{self, Root};
use super::sample::{
    CpuSeconds, DiskSample, FilesystemSample, InterfaceSample, MemorySample, PressureSample,
    ProcessSample, Sample, SystemSample,
};
use super::sock_diag;

const SECTOR_BYTES: u64 = 512;

/// How long TCP state counts are reused. Counting them makes the kernel walk its whole
/// connection hash table (about 0.25 ms per address family on this project's machine,
/// most of a sample's cost), so at short intervals they are refreshed every 10 s, the
/// default interval, instead of every sample.
const TCP_REFRESH: Duration = Duration::from_secs(10);

pub(crate) struct Procfs {
    root: Root,
    ticks_per_second: f64,
    page_size: u64,
    tcp: Option<(Instant, Option<BTreeMap<String, u64>>)>,
}

impl Procfs {
    pub(crate) fn new(root: Root) -> Self {
        let (ticks_per_second, page_size) = procfs::ticks_and_page_size();
        Self {
            root,
            ticks_per_second,
            page_size,
            tcp: None,
        }
    }

    /// Reads `/proc/<rel>`, counting a failure against `source`.
    fn read(&self, rel: &str, source: &'static str, errors: &mut Errors) -> Option<String> {
        self.root.read(rel).map_err(|_| errors.note(source)).ok()
    }

    /// Parses with `parse`, counting a failure (to read or to parse) against `source`.
    fn parsed<T>(
        &self,
        rel: &str,
        source: &'static str,
        errors: &mut Errors,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.read(rel, source, errors)?;
        let parsed = parse(&text);
        if parsed.is_none() {
            errors.note(source);
        }
        parsed
    }

    pub(crate) fn sample(&mut self, errors: &mut Errors) -> Sample {
        let stat = self.parsed("stat", "stat", errors, procfs::parse_stat);
        let boot = stat.as_ref().and_then(|s| s.boot_time_seconds);
        Sample {
            timestamp: crate::clock::unix_seconds(),
            interval_seconds: None,
            process: self.process(boot, errors),
            system: SystemSample {
                boot_time_seconds: boot.map(|b| b as f64),
                cpu_percent: None,
                cpu_seconds: stat
                    .map(|s| self.cpu_seconds(&s.per_cpu))
                    .unwrap_or_default(),
                load_average: self.parsed("loadavg", "loadavg", errors, procfs::parse_loadavg),
                memory: self.parsed("meminfo", "meminfo", errors, memory),
                memory_pressure: self.pressure(errors),
                disks: self.disks(errors),
                filesystems: self.filesystems(errors),
                network: self.network(errors),
                tcp_connections: self.tcp_cached(errors),
            },
        }
    }

    fn process(&self, boot: Option<u64>, errors: &mut Errors) -> ProcessSample {
        let mut p = ProcessSample::default();
        let tps = self.ticks_per_second;
        if let Some(s) = self.parsed(
            "self/stat",
            "process_stat",
            errors,
            procfs::parse_process_stat,
        ) {
            p.cpu_seconds = Some((s.utime_ticks + s.stime_ticks) as f64 / tps);
            p.cpu_user_seconds = Some(s.utime_ticks as f64 / tps);
            p.cpu_system_seconds = Some(s.stime_ticks as f64 / tps);
            p.threads = Some(s.threads);
            p.virtual_memory_bytes = Some(s.vsize_bytes);
            p.resident_memory_bytes = Some(s.rss_pages * self.page_size);
            p.start_time_seconds = boot.map(|b| b as f64 + s.start_ticks as f64 / tps);
        }
        if let Some(text) = self.read("self/status", "process_status", errors) {
            let kv = procfs::parse_key_values(&text);
            p.voluntary_context_switches = kv.get("voluntary_ctxt_switches").copied();
            p.involuntary_context_switches = kv.get("nonvoluntary_ctxt_switches").copied();
        }
        // Needs task I/O accounting; absent (and counted) where the kernel lacks it.
        if let Some(text) = self.read("self/io", "process_io", errors) {
            let kv = procfs::parse_key_values(&text);
            p.io_read_bytes = kv.get("read_bytes").copied();
            p.io_write_bytes = kv.get("write_bytes").copied();
        }
        p.open_fds = self
            .root
            .open_fds()
            .map_err(|_| errors.note("process_fds"))
            .ok();
        p.max_fds = procfs::max_fds();
        p
    }

    fn cpu_seconds(&self, per_cpu: &[(String, procfs::CpuTicks)]) -> Vec<CpuSeconds> {
        per_cpu
            .iter()
            .map(|(cpu, ticks)| CpuSeconds {
                cpu: cpu.clone(),
                modes: ticks
                    .modes()
                    .iter()
                    .map(|&(mode, t)| (mode.to_owned(), t as f64 / self.ticks_per_second))
                    .collect(),
            })
            .collect()
    }

    fn pressure(&self, errors: &mut Errors) -> Option<PressureSample> {
        // Kernels without PSI (before 4.20, or built without it) have no such file: that
        // is a figure the platform cannot give, not an error.
        let text = self.root.read("pressure/memory").ok()?;
        let (some, full) = procfs::parse_pressure(&text);
        let Some(some) = some else {
            errors.note("pressure");
            return None;
        };
        Some(PressureSample {
            some_avg10: some.avg10,
            full_avg10: full.map(|f| f.avg10),
            some_total_seconds: some.total_us as f64 / 1e6,
            full_total_seconds: full.map(|f| f.total_us as f64 / 1e6),
        })
    }

    fn disks(&self, errors: &mut Errors) -> Vec<DiskSample> {
        let Some(text) = self.read("diskstats", "diskstats", errors) else {
            return Vec::new();
        };
        procfs::parse_diskstats(&text)
            .into_iter()
            .filter(|d| self.root.is_whole_disk(&d.name))
            .map(|d| DiskSample {
                device: d.name,
                reads_completed: d.reads,
                writes_completed: d.writes,
                read_bytes: d.read_sectors * SECTOR_BYTES,
                written_bytes: d.written_sectors * SECTOR_BYTES,
                io_time_seconds: d.io_ms as f64 / 1e3,
                io_time_weighted_seconds: d.weighted_io_ms as f64 / 1e3,
                io_now: d.in_progress,
                rates: None,
            })
            .collect()
    }

    fn filesystems(&self, errors: &mut Errors) -> Vec<FilesystemSample> {
        let Some(text) = self.read("self/mounts", "mounts", errors) else {
            return Vec::new();
        };
        let mut seen = std::collections::HashSet::new();
        procfs::parse_mounts(&text)
            .into_iter()
            // A filesystem mounted twice (bind mounts) is reported once.
            .filter(|m| seen.insert(m.mountpoint.clone()))
            .filter_map(|m| {
                let (size, free, avail) = procfs::statvfs(&m.mountpoint)?;
                (size > 0).then(|| FilesystemSample {
                    device: m.device,
                    mountpoint: m.mountpoint,
                    fstype: m.fstype,
                    size_bytes: size,
                    free_bytes: free,
                    avail_bytes: avail,
                    used_bytes: size - free,
                })
            })
            .collect()
    }

    fn network(&self, errors: &mut Errors) -> Vec<InterfaceSample> {
        let Some(text) = self.read("net/dev", "net_dev", errors) else {
            return Vec::new();
        };
        procfs::parse_net_dev(&text)
            .into_iter()
            .map(|n| InterfaceSample {
                device: n.name,
                receive_bytes: n.rx_bytes,
                transmit_bytes: n.tx_bytes,
                receive_packets: n.rx_packets,
                transmit_packets: n.tx_packets,
                receive_drop: Some(n.rx_drops),
                transmit_drop: Some(n.tx_drops),
                receive_errs: Some(n.rx_errors),
                transmit_errs: Some(n.tx_errors),
                rates: None,
            })
            .collect()
    }

    fn tcp_cached(&mut self, errors: &mut Errors) -> Option<BTreeMap<String, u64>> {
        match &self.tcp {
            Some((at, counts)) if at.elapsed() < TCP_REFRESH => counts.clone(),
            _ => {
                let counts = self.tcp(errors);
                self.tcp = Some((Instant::now(), counts.clone()));
                counts
            }
        }
    }

    fn tcp(&self, errors: &mut Errors) -> Option<BTreeMap<String, u64>> {
        let mut counts = BTreeMap::new();
        // netlink first (cheap); IPv6 may be compiled out, so only IPv4 must answer.
        let any = if sock_diag::count_tcp(libc::AF_INET as u8, &mut counts).is_some() {
            let _ = sock_diag::count_tcp(libc::AF_INET6 as u8, &mut counts);
            true
        } else {
            counts.clear();
            self.tcp_from_proc(&mut counts, errors)
        };
        any.then(|| counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// `/proc/net/tcp` and `tcp6`, where netlink is not allowed (some sandboxes).
    fn tcp_from_proc(&self, counts: &mut BTreeMap<&'static str, u64>, errors: &mut Errors) -> bool {
        let mut any = false;
        for file in ["net/tcp", "net/tcp6"] {
            let Ok(text) = self.root.read(file) else {
                continue;
            };
            if procfs::count_tcp_states(&text, counts).is_some() {
                any = true;
            } else {
                errors.note("tcp");
            }
        }
        any
    }
}

/// `/proc/meminfo` (values in kB).
fn memory(text: &str) -> Option<MemorySample> {
    let kv = procfs::parse_key_values(text);
    let kb = |k: &str| kv.get(k).map(|v| v * 1024);
    let total = kb("MemTotal")?;
    let free = kb("MemFree")?;
    let available = kb("MemAvailable");
    let cached = kb("Cached");
    let buffers = kb("Buffers");
    let used = match available {
        Some(a) => total.saturating_sub(a),
        None => total
            .saturating_sub(free)
            .saturating_sub(cached.unwrap_or(0))
            .saturating_sub(buffers.unwrap_or(0)),
    };
    let swap_total = kb("SwapTotal");
    let swap_free = kb("SwapFree");
    Some(MemorySample {
        total_bytes: total,
        used_bytes: used,
        free_bytes: free,
        available_bytes: available,
        cached_bytes: cached,
        buffers_bytes: buffers,
        swap_total_bytes: swap_total,
        swap_used_bytes: swap_total.zip(swap_free).map(|(t, f)| t.saturating_sub(f)),
        swap_free_bytes: swap_free,
    })
}
