//! What one sample holds. Every figure a platform cannot give is `None` (JSON
//! `null`, a missing series), never a made-up 0.

use std::collections::BTreeMap;

/// One sample of the process and the machine.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Sample {
    /// When it was taken, in Unix seconds.
    pub timestamp: f64,
    /// Seconds since the previous sample of the same probe (`None` for the first),
    /// the interval every rate and percentage below covers.
    pub interval_seconds: Option<f64>,
    /// This process.
    pub process: ProcessSample,
    /// The machine.
    pub system: SystemSample,
}

/// This process.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ProcessSample {
    /// CPU time (user plus system) since the process started.
    pub cpu_seconds: Option<f64>,
    /// CPU time in user mode since the process started.
    pub cpu_user_seconds: Option<f64>,
    /// CPU time in the kernel on the process's behalf.
    pub cpu_system_seconds: Option<f64>,
    /// CPU used over the last interval, in percent of one core (two busy cores: 200).
    /// The kernel counts CPU time in 10 ms ticks, so intervals well under a second are coarse.
    pub cpu_percent: Option<f64>,
    /// Resident set size.
    pub resident_memory_bytes: Option<u64>,
    /// Virtual memory size.
    pub virtual_memory_bytes: Option<u64>,
    /// Threads in the process.
    pub threads: Option<u64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
    /// The soft limit on open file descriptors (`None` when unlimited).
    pub max_fds: Option<u64>,
    /// When the process started, in Unix seconds.
    pub start_time_seconds: Option<f64>,
    /// Bytes the process caused to be read from storage.
    pub io_read_bytes: Option<u64>,
    /// Bytes the process caused to be written to storage.
    pub io_write_bytes: Option<u64>,
    /// Times the process gave up the CPU (waiting on I/O or a lock).
    pub voluntary_context_switches: Option<u64>,
    /// Times the process was preempted.
    pub involuntary_context_switches: Option<u64>,
}

/// CPU use over the last interval, in percent of all CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CpuPercent {
    /// User mode (including nice).
    pub user: f64,
    /// Kernel mode (including interrupts).
    pub system: f64,
    /// Idle.
    pub idle: f64,
    /// Idle while waiting for I/O.
    pub iowait: f64,
    /// Taken by the hypervisor for other guests.
    pub steal: f64,
    /// Everything but idle and iowait.
    pub total: f64,
}

/// One CPU's time per mode since boot (node_exporter's `node_cpu_seconds_total`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CpuSeconds {
    /// The CPU's number.
    pub cpu: String,
    /// `(mode, seconds)` for user, nice, system, idle, iowait, irq, softirq and steal.
    pub modes: Vec<(String, f64)>,
}

/// Machine memory.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MemorySample {
    /// Total usable memory.
    pub total_bytes: u64,
    /// In use: total less available (as `free` counts it), or less free, buffers and cache.
    pub used_bytes: u64,
    /// Unused.
    pub free_bytes: u64,
    /// Available for new work without swapping (the kernel's estimate).
    pub available_bytes: Option<u64>,
    /// Page cache.
    pub cached_bytes: Option<u64>,
    /// Block device buffers.
    pub buffers_bytes: Option<u64>,
    /// Total swap.
    pub swap_total_bytes: Option<u64>,
    /// Swap in use.
    pub swap_used_bytes: Option<u64>,
    /// Swap free.
    pub swap_free_bytes: Option<u64>,
}

/// Memory pressure stall information (`/proc/pressure/memory`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PressureSample {
    /// Percent of the last 10 s in which some task stalled on memory.
    pub some_avg10: f64,
    /// Percent of the last 10 s in which all non-idle tasks stalled on memory.
    pub full_avg10: Option<f64>,
    /// Total time some task stalled, since boot.
    pub some_total_seconds: f64,
    /// Total time all tasks stalled, since boot.
    pub full_total_seconds: Option<f64>,
}

/// One whole disk.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DiskSample {
    /// Device name (`sda`, `nvme0n1`).
    pub device: String,
    /// Reads completed since boot.
    pub reads_completed: u64,
    /// Writes completed since boot.
    pub writes_completed: u64,
    /// Bytes read since boot.
    pub read_bytes: u64,
    /// Bytes written since boot.
    pub written_bytes: u64,
    /// Time spent doing I/O since boot.
    pub io_time_seconds: f64,
    /// Time spent doing I/O, weighted by the number of requests in flight.
    pub io_time_weighted_seconds: f64,
    /// Requests in flight now.
    pub io_now: u64,
    /// Per-second rates over the last interval (`None` on the first sample).
    pub rates: Option<DiskRates>,
}

/// A disk's rates over the last interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DiskRates {
    /// Reads per second.
    pub read_ops_per_second: f64,
    /// Writes per second.
    pub write_ops_per_second: f64,
    /// Bytes read per second.
    pub read_bytes_per_second: f64,
    /// Bytes written per second.
    pub write_bytes_per_second: f64,
    /// Percent of the interval the disk was busy.
    pub utilisation_percent: f64,
    /// Average requests in flight (iostat's `aqu-sz`).
    pub queue_length: f64,
}

/// One mounted filesystem.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FilesystemSample {
    /// What is mounted.
    pub device: String,
    /// Where.
    pub mountpoint: String,
    /// The filesystem type.
    pub fstype: String,
    /// Size.
    pub size_bytes: u64,
    /// Free, including blocks reserved for root.
    pub free_bytes: u64,
    /// Available to unprivileged users.
    pub avail_bytes: u64,
    /// Used: size less free.
    pub used_bytes: u64,
}

/// One network interface.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct InterfaceSample {
    /// Interface name.
    pub device: String,
    /// Bytes received since boot.
    pub receive_bytes: u64,
    /// Bytes sent since boot.
    pub transmit_bytes: u64,
    /// Packets received since boot.
    pub receive_packets: u64,
    /// Packets sent since boot.
    pub transmit_packets: u64,
    /// Received packets dropped.
    pub receive_drop: Option<u64>,
    /// Sent packets dropped.
    pub transmit_drop: Option<u64>,
    /// Receive errors.
    pub receive_errs: Option<u64>,
    /// Transmit errors.
    pub transmit_errs: Option<u64>,
    /// Per-second rates over the last interval (`None` on the first sample).
    pub rates: Option<InterfaceRates>,
}

/// An interface's rates over the last interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct InterfaceRates {
    /// Bytes received per second.
    pub receive_bytes_per_second: f64,
    /// Bytes sent per second.
    pub transmit_bytes_per_second: f64,
    /// Packets received per second.
    pub receive_packets_per_second: f64,
    /// Packets sent per second.
    pub transmit_packets_per_second: f64,
    /// Packets dropped (both directions) per second.
    pub drops_per_second: f64,
    /// Errors (both directions) per second.
    pub errors_per_second: f64,
}

/// The machine.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SystemSample {
    /// When the machine booted, in Unix seconds.
    pub boot_time_seconds: Option<f64>,
    /// CPU use over the last interval (`None` on the first sample).
    pub cpu_percent: Option<CpuPercent>,
    /// CPU time per CPU and mode since boot.
    pub cpu_seconds: Vec<CpuSeconds>,
    /// Load average over 1, 5 and 15 minutes.
    pub load_average: Option<[f64; 3]>,
    /// Memory.
    pub memory: Option<MemorySample>,
    /// Memory pressure, where the kernel reports it.
    pub memory_pressure: Option<PressureSample>,
    /// Whole disks.
    pub disks: Vec<DiskSample>,
    /// Mounted filesystems that hold data.
    pub filesystems: Vec<FilesystemSample>,
    /// Network interfaces.
    pub network: Vec<InterfaceSample>,
    /// TCP connections (IPv4 and IPv6) by state, in node_exporter's state names; on
    /// Linux counted at most every 10 s (the kernel walks its whole connection table
    /// for them) and repeated by samples in between.
    pub tcp_connections: Option<BTreeMap<String, u64>>,
}

impl SystemSample {
    /// All whole disks together over the last interval: operations and bytes summed, the
    /// busiest disk's utilisation, queue lengths summed. `None` until a second sample gives
    /// rates, or when there are no disks.
    pub fn all_disks(&self) -> Option<DiskRates> {
        let mut rates = self.disks.iter().filter_map(|d| d.rates).peekable();
        rates.peek()?;
        Some(rates.fold(DiskRates::default(), |t, r| DiskRates {
            read_ops_per_second: t.read_ops_per_second + r.read_ops_per_second,
            write_ops_per_second: t.write_ops_per_second + r.write_ops_per_second,
            read_bytes_per_second: t.read_bytes_per_second + r.read_bytes_per_second,
            write_bytes_per_second: t.write_bytes_per_second + r.write_bytes_per_second,
            utilisation_percent: t.utilisation_percent.max(r.utilisation_percent),
            queue_length: t.queue_length + r.queue_length,
        }))
    }

    /// All network interfaces together over the last interval, every rate summed. `None`
    /// until a second sample gives rates, or when there are no interfaces.
    pub fn all_interfaces(&self) -> Option<InterfaceRates> {
        let mut rates = self.network.iter().filter_map(|n| n.rates).peekable();
        rates.peek()?;
        Some(
            rates.fold(InterfaceRates::default(), |t, r| InterfaceRates {
                receive_bytes_per_second: t.receive_bytes_per_second + r.receive_bytes_per_second,
                transmit_bytes_per_second: t.transmit_bytes_per_second
                    + r.transmit_bytes_per_second,
                receive_packets_per_second: t.receive_packets_per_second
                    + r.receive_packets_per_second,
                transmit_packets_per_second: t.transmit_packets_per_second
                    + r.transmit_packets_per_second,
                drops_per_second: t.drops_per_second + r.drops_per_second,
                errors_per_second: t.errors_per_second + r.errors_per_second,
            }),
        )
    }

    /// Established TCP connections (IPv4 and IPv6), when connections are counted here.
    pub fn tcp_established(&self) -> Option<u64> {
        self.tcp_connections
            .as_ref()
            .map(|t| t.get("established").copied().unwrap_or(0))
    }
}
