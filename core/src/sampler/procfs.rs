//! Linux figures read straight from `/proc` (and `/sys/block`, `statvfs`).
//!
//! Each reader takes the text of one file and returns `None` when the text is
//! not what the kernel documents (proc(5)), so a figure is absent rather than
//! wrong. The root is a parameter so tests can point it at a directory of
//! their own, with files missing or mangled.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::sock_diag::TCP_STATES;

/// Raw counters of the process, as the kernel keeps them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProcessStat {
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    pub threads: u64,
    pub start_ticks: u64,
    pub vsize_bytes: u64,
    pub rss_pages: u64,
}

/// Fields of `/proc/<pid>/stat` after the command name, which may hold spaces and parentheses.
pub(crate) fn parse_process_stat(text: &str) -> Option<ProcessStat> {
    let rest = &text[text.rfind(')')? + 1..];
    // `rest` starts at field 3 (state); fields are numbered from 1 in proc(5).
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    let field = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
    Some(ProcessStat {
        utime_ticks: field(14)?,
        stime_ticks: field(15)?,
        threads: field(20)?,
        start_ticks: field(22)?,
        vsize_bytes: field(23)?,
        rss_pages: field(24)?,
    })
}

/// `key: value` lines (`/proc/<pid>/status`, `/proc/<pid>/io`, `/proc/meminfo`): the first
/// number after the colon, in the file's own unit.
pub(crate) fn parse_key_values(text: &str) -> BTreeMap<&str, u64> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let number = value.split_ascii_whitespace().next()?.parse().ok()?;
            Some((key.trim(), number))
        })
        .collect()
}

/// CPU time per mode, in clock ticks, as in a `cpu` line of `/proc/stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTicks {
    /// `(mode, ticks)` in node_exporter's mode names.
    pub(crate) fn modes(&self) -> [(&'static str, u64); 8] {
        [
            ("user", self.user),
            ("nice", self.nice),
            ("system", self.system),
            ("idle", self.idle),
            ("iowait", self.iowait),
            ("irq", self.irq),
            ("softirq", self.softirq),
            ("steal", self.steal),
        ]
    }
}

/// `/proc/stat`: the all-CPU line, one line per CPU, and the boot time.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Stat {
    pub total: CpuTicks,
    pub per_cpu: Vec<(String, CpuTicks)>,
    pub boot_time_seconds: Option<u64>,
}

pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let mut stat = Stat::default();
    let mut seen_total = false;
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let Some(key) = f.next() else { continue };
        if let Some(cpu) = key.strip_prefix("cpu") {
            // Guest time is already counted in user and nice: proc(5).
            let n: Vec<u64> = f.take(8).map(str::parse).collect::<Result<_, _>>().ok()?;
            let [user, nice, system, idle, iowait, irq, softirq, steal] = n[..] else {
                return None;
            };
            let ticks = CpuTicks {
                user,
                nice,
                system,
                idle,
                iowait,
                irq,
                softirq,
                steal,
            };
            if cpu.is_empty() {
                stat.total = ticks;
                seen_total = true;
            } else {
                stat.per_cpu.push((cpu.to_owned(), ticks));
            }
        } else if key == "btime" {
            stat.boot_time_seconds = f.next().and_then(|v| v.parse().ok());
        }
    }
    seen_total.then_some(stat)
}

pub(crate) fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut f = text.split_ascii_whitespace().map(str::parse::<f64>);
    Some([f.next()?.ok()?, f.next()?.ok()?, f.next()?.ok()?])
}

/// Pressure stall information: `some` and `full` lines (`full` is absent for CPU on
/// older kernels); avg10 as a percentage, total in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct PressureLine {
    pub avg10: f64,
    pub total_us: u64,
}

pub(crate) fn parse_pressure(text: &str) -> (Option<PressureLine>, Option<PressureLine>) {
    let mut some = None;
    let mut full = None;
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let slot = match f.next() {
            Some("some") => &mut some,
            Some("full") => &mut full,
            _ => continue,
        };
        let mut avg10 = None;
        let mut total = None;
        for kv in f {
            match kv.split_once('=') {
                Some(("avg10", v)) => avg10 = v.parse().ok(),
                Some(("total", v)) => total = v.parse().ok(),
                _ => {}
            }
        }
        if let (Some(avg10), Some(total_us)) = (avg10, total) {
            *slot = Some(PressureLine { avg10, total_us });
        }
    }
    (some, full)
}

/// One block device's counters from `/proc/diskstats`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DiskStat {
    pub name: String,
    pub reads: u64,
    pub read_sectors: u64,
    pub writes: u64,
    pub written_sectors: u64,
    pub in_progress: u64,
    pub io_ms: u64,
    pub weighted_io_ms: u64,
}

pub(crate) fn parse_diskstats(text: &str) -> Vec<DiskStat> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            let n = |i: usize| f.get(i)?.parse::<u64>().ok();
            Some(DiskStat {
                name: (*f.get(2)?).to_owned(),
                reads: n(3)?,
                read_sectors: n(5)?,
                writes: n(7)?,
                written_sectors: n(9)?,
                in_progress: n(11)?,
                io_ms: n(12)?,
                weighted_io_ms: n(13)?,
            })
        })
        .collect()
}

/// One interface's counters from `/proc/net/dev`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NetDev {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_drops: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_drops: u64,
}

pub(crate) fn parse_net_dev(text: &str) -> Vec<NetDev> {
    text.lines()
        .filter_map(|line| {
            let (name, counters) = line.split_once(':')?;
            let n: Vec<u64> = counters
                .split_ascii_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            if n.len() < 16 {
                return None;
            }
            Some(NetDev {
                name: name.trim().to_owned(),
                rx_bytes: n[0],
                rx_packets: n[1],
                rx_errors: n[2],
                rx_drops: n[3],
                tx_bytes: n[8],
                tx_packets: n[9],
                tx_errors: n[10],
                tx_drops: n[11],
            })
        })
        .collect()
}

/// Adds the connections of `/proc/net/tcp` or `tcp6` to `counts` by state.
pub(crate) fn count_tcp_states(text: &str, counts: &mut BTreeMap<&'static str, u64>) -> Option<()> {
    let mut lines = text.lines();
    lines.next()?; // header
    for line in lines {
        let st = line.split_ascii_whitespace().nth(3)?;
        let code = usize::from_str_radix(st, 16).ok()?;
        let state = TCP_STATES.get(code.checked_sub(1)?)?;
        *counts.entry(state).or_default() += 1;
    }
    Some(())
}

/// One mounted filesystem from `/proc/self/mounts`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mount {
    pub device: String,
    pub mountpoint: String,
    pub fstype: String,
}

/// Filesystems that hold no user data (node_exporter's default exclusions, abridged).
const PSEUDO_FS: [&str; 22] = [
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "overlay_lower",
    "proc",
    "procfs",
    "pstore",
    "securityfs",
    "selinuxfs",
    "squashfs",
    "sysfs",
    "tracefs",
];

pub(crate) fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            let device = f.next()?;
            let mountpoint = unescape_mount(f.next()?);
            let fstype = f.next()?;
            (!PSEUDO_FS.contains(&fstype)).then(|| Mount {
                device: device.to_owned(),
                mountpoint,
                fstype: fstype.to_owned(),
            })
        })
        .collect()
}

/// Mount points escape space, tab, newline and backslash as `\040`-style octal.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).and_then(|d| {
            let d = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(d, 8).ok()
        });
        match (b[i], octal) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Size, free and available bytes of the filesystem at `path`.
#[allow(
    clippy::useless_conversion,
    reason = "the statvfs fields are narrower than u64 on some targets"
)]
pub(crate) fn statvfs(path: &str) -> Option<(u64, u64, u64)> {
    let c = std::ffi::CString::new(path).ok()?;
    let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `s` points to writable memory
    // the size of a `statvfs`, which the call fills when it returns 0.
    if unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialised `s`.
    let s = unsafe { s.assume_init() };
    let frsize = u64::from(s.f_frsize);
    Some((
        u64::from(s.f_blocks) * frsize,
        u64::from(s.f_bfree) * frsize,
        u64::from(s.f_bavail) * frsize,
    ))
}

/// Where to read from: `/proc` and `/sys` normally, a test's directory otherwise.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    proc: PathBuf,
    sys: PathBuf,
}

impl Default for Root {
    fn default() -> Self {
        Self {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
        }
    }
}

impl Root {
    #[cfg(test)]
    pub(crate) fn at(proc: &std::path::Path, sys: &std::path::Path) -> Self {
        Self {
            proc: proc.to_owned(),
            sys: sys.to_owned(),
        }
    }

    /// The text of `/proc/<rel>`.
    pub(crate) fn read(&self, rel: &str) -> std::io::Result<String> {
        std::fs::read_to_string(self.proc.join(rel))
    }

    /// Open descriptors of this process: the entries of `/proc/self/fd`, less the one
    /// the listing itself holds open.
    pub(crate) fn open_fds(&self) -> std::io::Result<u64> {
        let n = std::fs::read_dir(self.proc.join("self/fd"))?.count() as u64;
        Ok(n.saturating_sub(1))
    }

    /// Whole disks (those `/sys/block` lists), not partitions; loop and RAM devices left out.
    pub(crate) fn is_whole_disk(&self, name: &str) -> bool {
        !["loop", "ram", "zram"].iter().any(|p| name.starts_with(p))
            && self.sys.join("block").join(name).exists()
    }
}

/// Clock ticks per second and the page size, from the C library.
pub(crate) fn ticks_and_page_size() -> (f64, u64) {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (
        if ticks > 0 { ticks as f64 } else { 100.0 },
        u64::try_from(page).unwrap_or(4096),
    )
}

/// The soft limit on open files.
pub(crate) fn max_fds() -> Option<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut r) } != 0 {
        return None;
    }
    (r.rlim_cur != libc::RLIM_INFINITY).then_some(r.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_stat_with_awkward_command_name() {
        let text = "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    123 45 0 0 20 0 7 0 98765 1048576 256 18446744073709551615";
        let s = parse_process_stat(text).unwrap();
        assert_eq!(
            s,
            ProcessStat {
                utime_ticks: 123,
                stime_ticks: 45,
                threads: 7,
                start_ticks: 98765,
                vsize_bytes: 1_048_576,
                rss_pages: 256,
            }
        );
        assert_eq!(parse_process_stat("garbage"), None);
        assert_eq!(parse_process_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn stat_lines_and_btime() {
        let text = "cpu  10 1 5 100 2 0 3 4 7 0\ncpu0 10 1 5 100 2 0 3 4 0 0\nbtime 1700000000\n";
        let s = parse_stat(text).unwrap();
        assert_eq!(s.total.user, 10, "guest is inside user already, not added");
        assert_eq!(s.total.steal, 4);
        assert_eq!(s.per_cpu.len(), 1);
        assert_eq!(s.boot_time_seconds, Some(1_700_000_000));
        assert_eq!(parse_stat("intr 5\n"), None);
        assert_eq!(parse_stat("cpu 1 2\n"), None);
    }

    #[test]
    fn pressure_some_and_full() {
        let (some, full) = parse_pressure(
            "some avg10=1.50 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.25 avg60=0 avg300=0 total=99\n",
        );
        assert_eq!(
            some,
            Some(PressureLine {
                avg10: 1.5,
                total_us: 1234
            })
        );
        assert_eq!(
            full,
            Some(PressureLine {
                avg10: 0.25,
                total_us: 99
            })
        );
        assert_eq!(parse_pressure("some avg10=x total=1\n"), (None, None));
    }

    #[test]
    fn tcp_states_by_name() {
        let text = "  sl  local_address rem_address   st tx_queue\n\
                    0: 00000000:07E8 00000000:0000 0A 0\n\
                    1: 0100007F:07E8 0100007F:9C40 01 0\n\
                    2: 0100007F:07E8 0100007F:9C42 01 0\n";
        let mut counts = BTreeMap::new();
        count_tcp_states(text, &mut counts).unwrap();
        assert_eq!(counts.get("listen"), Some(&1));
        assert_eq!(counts.get("established"), Some(&2));
        assert!(count_tcp_states("hdr\n0: a b ZZ\n", &mut counts).is_none());
    }

    #[test]
    fn mounts_skip_pseudo_filesystems_and_unescape() {
        let m = parse_mounts(
            "proc /proc proc rw 0 0\n/dev/vda1 / ext4 rw 0 0\n/dev/vdb /mnt/my\\040disk xfs rw 0 0\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].mountpoint, "/mnt/my disk");
    }

    #[test]
    fn net_dev_and_diskstats() {
        let dev = parse_net_dev(
            "Inter-|   Receive\n face |bytes\n  eth0: 100 2 3 4 0 0 0 0 200 5 6 7 0 0 0 0\n",
        );
        assert_eq!(dev.len(), 1);
        assert_eq!((dev[0].rx_bytes, dev[0].tx_drops), (100, 7));
        let disks = parse_diskstats("   8       0 sda 10 0 80 5 20 0 160 9 1 30 40 0 0 0 0\n");
        assert_eq!(disks[0].read_sectors, 80);
        assert_eq!(disks[0].weighted_io_ms, 40);
    }
}
