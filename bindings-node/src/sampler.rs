//! The resource sampler: CPU, memory, disk, network, threads and file descriptors of this
//! process and the machine, from the core's collector.
//!
//! Samples cross into JavaScript as plain objects (`#[napi(object)]`), converted field by
//! field from the core's [`Sample`]: keys camelCased, a figure the platform cannot give
//! `null`, never 0. Byte counts become doubles, exact up to 2^53 (8 PiB). The TypeScript-era
//! `ResourceMetrics` shape (`cpu`, `memory`, `disk`, `network`) is built here too, from the
//! same sample: only this package's TypeScript-era API speaks it. Starting and sampling can
//! take a millisecond, so each also comes as a Promise-returning task on metricore's worker
//! thread, which builds the object there and leaves only its conversion to the event loop.

use std::collections::BTreeMap;

use metricore::sampler::{
    CpuPercent, CpuSeconds, DiskRates, DiskSample, FilesystemSample, InterfaceRates,
    InterfaceSample, MemorySample, PressureSample, ProcessSample, SystemSample, interval_from_secs,
};
use metricore::{ResourceMetrics, Sample, Sampler};
use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;

use crate::errors::OrThrow;
use crate::tasks;

// JavaScript numbers are doubles: counts and byte totals are converted once, here.
#[allow(
    clippy::cast_precision_loss,
    reason = "counts above 2^53 are beyond what a JS number holds exactly"
)]
fn number(n: u64) -> f64 {
    n as f64
}

fn numbers(n: Option<u64>) -> Option<f64> {
    n.map(number)
}

/// One sample of the process and the machine.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct ResourceSample {
    /// When it was taken, in Unix seconds.
    pub timestamp: f64,
    /// Seconds since the previous sample (null for the first): the interval every rate and
    /// percentage covers.
    pub interval_seconds: Option<f64>,
    /// This process.
    pub process: ProcessFigures,
    /// The machine.
    pub system: SystemFigures,
}

impl From<&Sample> for ResourceSample {
    fn from(s: &Sample) -> Self {
        Self {
            timestamp: s.timestamp,
            interval_seconds: s.interval_seconds,
            process: ProcessFigures::from(&s.process),
            system: SystemFigures::from(&s.system),
        }
    }
}

/// This process.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct ProcessFigures {
    /// CPU time (user plus system) since the process started.
    pub cpu_seconds: Option<f64>,
    /// CPU time in user mode.
    pub cpu_user_seconds: Option<f64>,
    /// CPU time in the kernel on the process's behalf.
    pub cpu_system_seconds: Option<f64>,
    /// CPU used over the last interval, in percent of one core (two busy cores: 200).
    pub cpu_percent: Option<f64>,
    /// Resident set size.
    pub resident_memory_bytes: Option<f64>,
    /// Virtual memory size.
    pub virtual_memory_bytes: Option<f64>,
    /// Threads in the process.
    pub threads: Option<f64>,
    /// Open file descriptors.
    pub open_fds: Option<f64>,
    /// The soft limit on open file descriptors (null when unlimited).
    pub max_fds: Option<f64>,
    /// When the process started, in Unix seconds.
    pub start_time_seconds: Option<f64>,
    /// Bytes the process caused to be read from storage.
    pub io_read_bytes: Option<f64>,
    /// Bytes the process caused to be written to storage.
    pub io_write_bytes: Option<f64>,
    /// Times the process gave up the CPU.
    pub voluntary_context_switches: Option<f64>,
    /// Times the process was preempted.
    pub involuntary_context_switches: Option<f64>,
}

impl From<&ProcessSample> for ProcessFigures {
    fn from(p: &ProcessSample) -> Self {
        Self {
            cpu_seconds: p.cpu_seconds,
            cpu_user_seconds: p.cpu_user_seconds,
            cpu_system_seconds: p.cpu_system_seconds,
            cpu_percent: p.cpu_percent,
            resident_memory_bytes: numbers(p.resident_memory_bytes),
            virtual_memory_bytes: numbers(p.virtual_memory_bytes),
            threads: numbers(p.threads),
            open_fds: numbers(p.open_fds),
            max_fds: numbers(p.max_fds),
            start_time_seconds: p.start_time_seconds,
            io_read_bytes: numbers(p.io_read_bytes),
            io_write_bytes: numbers(p.io_write_bytes),
            voluntary_context_switches: numbers(p.voluntary_context_switches),
            involuntary_context_switches: numbers(p.involuntary_context_switches),
        }
    }
}

/// The machine.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct SystemFigures {
    /// When the machine booted, in Unix seconds.
    pub boot_time_seconds: Option<f64>,
    /// CPU use over the last interval (null on the first sample).
    pub cpu_percent: Option<CpuPercentFigures>,
    /// CPU time per CPU and mode since boot.
    pub cpu_seconds: Vec<CpuSecondsFigures>,
    /// Load average over 1, 5 and 15 minutes.
    pub load_average: Option<Vec<f64>>,
    /// Memory.
    pub memory: Option<MemoryFigures>,
    /// Memory pressure, where the kernel reports it.
    pub memory_pressure: Option<PressureFigures>,
    /// Whole disks.
    pub disks: Vec<DiskFigures>,
    /// Mounted filesystems that hold data.
    pub filesystems: Vec<FilesystemFigures>,
    /// Network interfaces.
    pub network: Vec<InterfaceFigures>,
    /// TCP connections by state (`established`, `synSent`, `timeWait`, ...).
    pub tcp_connections: Option<BTreeMap<String, f64>>,
}

impl From<&SystemSample> for SystemFigures {
    fn from(s: &SystemSample) -> Self {
        Self {
            boot_time_seconds: s.boot_time_seconds,
            cpu_percent: s.cpu_percent.as_ref().map(CpuPercentFigures::from),
            cpu_seconds: s.cpu_seconds.iter().map(CpuSecondsFigures::from).collect(),
            load_average: s.load_average.map(Vec::from),
            memory: s.memory.as_ref().map(MemoryFigures::from),
            memory_pressure: s.memory_pressure.as_ref().map(PressureFigures::from),
            disks: s.disks.iter().map(DiskFigures::from).collect(),
            filesystems: s.filesystems.iter().map(FilesystemFigures::from).collect(),
            network: s.network.iter().map(InterfaceFigures::from).collect(),
            tcp_connections: s.tcp_connections.as_ref().map(|states| {
                states
                    .iter()
                    .map(|(state, n)| (camel_case(state), number(*n)))
                    .collect()
            }),
        }
    }
}

/// `syn_sent` as `synSent`: the state names are keys of a JavaScript object, spelt as every
/// other key this package returns.
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// CPU use over the last interval, in percent of all CPUs.
#[napi(object, object_from_js = false)]
pub struct CpuPercentFigures {
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

impl From<&CpuPercent> for CpuPercentFigures {
    fn from(c: &CpuPercent) -> Self {
        Self {
            user: c.user,
            system: c.system,
            idle: c.idle,
            iowait: c.iowait,
            steal: c.steal,
            total: c.total,
        }
    }
}

/// One CPU's time per mode since boot.
#[napi(object, object_from_js = false)]
pub struct CpuSecondsFigures {
    /// The CPU's number.
    pub cpu: String,
    /// `[mode, seconds]` for user, nice, system, idle, iowait, irq, softirq and steal.
    pub modes: Vec<(String, f64)>,
}

impl From<&CpuSeconds> for CpuSecondsFigures {
    fn from(c: &CpuSeconds) -> Self {
        Self {
            cpu: c.cpu.clone(),
            modes: c.modes.clone(),
        }
    }
}

/// Machine memory.
#[allow(
    clippy::struct_field_names,
    reason = "the core's field names, camelCased by napi"
)]
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct MemoryFigures {
    /// Total usable memory.
    pub total_bytes: f64,
    /// In use.
    pub used_bytes: f64,
    /// Unused.
    pub free_bytes: f64,
    /// Available for new work without swapping (the kernel's estimate).
    pub available_bytes: Option<f64>,
    /// Page cache.
    pub cached_bytes: Option<f64>,
    /// Block device buffers.
    pub buffers_bytes: Option<f64>,
    /// Total swap.
    pub swap_total_bytes: Option<f64>,
    /// Swap in use.
    pub swap_used_bytes: Option<f64>,
    /// Swap free.
    pub swap_free_bytes: Option<f64>,
}

impl From<&MemorySample> for MemoryFigures {
    fn from(m: &MemorySample) -> Self {
        Self {
            total_bytes: number(m.total_bytes),
            used_bytes: number(m.used_bytes),
            free_bytes: number(m.free_bytes),
            available_bytes: numbers(m.available_bytes),
            cached_bytes: numbers(m.cached_bytes),
            buffers_bytes: numbers(m.buffers_bytes),
            swap_total_bytes: numbers(m.swap_total_bytes),
            swap_used_bytes: numbers(m.swap_used_bytes),
            swap_free_bytes: numbers(m.swap_free_bytes),
        }
    }
}

/// Memory pressure stall information.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct PressureFigures {
    /// Percent of the last 10 s in which some task stalled on memory.
    pub some_avg10: f64,
    /// Percent of the last 10 s in which all non-idle tasks stalled on memory.
    pub full_avg10: Option<f64>,
    /// Total time some task stalled, since boot.
    pub some_total_seconds: f64,
    /// Total time all tasks stalled, since boot.
    pub full_total_seconds: Option<f64>,
}

impl From<&PressureSample> for PressureFigures {
    fn from(p: &PressureSample) -> Self {
        Self {
            some_avg10: p.some_avg10,
            full_avg10: p.full_avg10,
            some_total_seconds: p.some_total_seconds,
            full_total_seconds: p.full_total_seconds,
        }
    }
}

/// One whole disk.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct DiskFigures {
    /// Device name (`sda`, `nvme0n1`).
    pub device: String,
    /// Reads completed since boot.
    pub reads_completed: f64,
    /// Writes completed since boot.
    pub writes_completed: f64,
    /// Bytes read since boot.
    pub read_bytes: f64,
    /// Bytes written since boot.
    pub written_bytes: f64,
    /// Time spent doing I/O since boot.
    pub io_time_seconds: f64,
    /// Time spent doing I/O, weighted by the number of requests in flight.
    pub io_time_weighted_seconds: f64,
    /// Requests in flight now.
    pub io_now: f64,
    /// Per-second rates over the last interval (null on the first sample).
    pub rates: Option<DiskRateFigures>,
}

impl From<&DiskSample> for DiskFigures {
    fn from(d: &DiskSample) -> Self {
        Self {
            device: d.device.clone(),
            reads_completed: number(d.reads_completed),
            writes_completed: number(d.writes_completed),
            read_bytes: number(d.read_bytes),
            written_bytes: number(d.written_bytes),
            io_time_seconds: d.io_time_seconds,
            io_time_weighted_seconds: d.io_time_weighted_seconds,
            io_now: number(d.io_now),
            rates: d.rates.as_ref().map(DiskRateFigures::from),
        }
    }
}

/// A disk's rates over the last interval.
#[napi(object, object_from_js = false)]
pub struct DiskRateFigures {
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
    /// Average requests in flight.
    pub queue_length: f64,
}

impl From<&DiskRates> for DiskRateFigures {
    fn from(r: &DiskRates) -> Self {
        Self {
            read_ops_per_second: r.read_ops_per_second,
            write_ops_per_second: r.write_ops_per_second,
            read_bytes_per_second: r.read_bytes_per_second,
            write_bytes_per_second: r.write_bytes_per_second,
            utilisation_percent: r.utilisation_percent,
            queue_length: r.queue_length,
        }
    }
}

/// One mounted filesystem.
#[napi(object, object_from_js = false)]
pub struct FilesystemFigures {
    /// What is mounted.
    pub device: String,
    /// Where.
    pub mountpoint: String,
    /// The filesystem type.
    pub fstype: String,
    /// Size.
    pub size_bytes: f64,
    /// Free, including blocks reserved for root.
    pub free_bytes: f64,
    /// Available to unprivileged users.
    pub avail_bytes: f64,
    /// Used: size less free.
    pub used_bytes: f64,
}

impl From<&FilesystemSample> for FilesystemFigures {
    fn from(f: &FilesystemSample) -> Self {
        Self {
            device: f.device.clone(),
            mountpoint: f.mountpoint.clone(),
            fstype: f.fstype.clone(),
            size_bytes: number(f.size_bytes),
            free_bytes: number(f.free_bytes),
            avail_bytes: number(f.avail_bytes),
            used_bytes: number(f.used_bytes),
        }
    }
}

/// One network interface.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct InterfaceFigures {
    /// Interface name.
    pub device: String,
    /// Bytes received since boot.
    pub receive_bytes: f64,
    /// Bytes sent since boot.
    pub transmit_bytes: f64,
    /// Packets received since boot.
    pub receive_packets: f64,
    /// Packets sent since boot.
    pub transmit_packets: f64,
    /// Received packets dropped.
    pub receive_drop: Option<f64>,
    /// Sent packets dropped.
    pub transmit_drop: Option<f64>,
    /// Receive errors.
    pub receive_errs: Option<f64>,
    /// Transmit errors.
    pub transmit_errs: Option<f64>,
    /// Per-second rates over the last interval (null on the first sample).
    pub rates: Option<InterfaceRateFigures>,
}

impl From<&InterfaceSample> for InterfaceFigures {
    fn from(n: &InterfaceSample) -> Self {
        Self {
            device: n.device.clone(),
            receive_bytes: number(n.receive_bytes),
            transmit_bytes: number(n.transmit_bytes),
            receive_packets: number(n.receive_packets),
            transmit_packets: number(n.transmit_packets),
            receive_drop: numbers(n.receive_drop),
            transmit_drop: numbers(n.transmit_drop),
            receive_errs: numbers(n.receive_errs),
            transmit_errs: numbers(n.transmit_errs),
            rates: n.rates.as_ref().map(InterfaceRateFigures::from),
        }
    }
}

/// An interface's rates over the last interval.
#[allow(
    clippy::struct_field_names,
    reason = "the core's field names, camelCased by napi"
)]
#[napi(object, object_from_js = false)]
pub struct InterfaceRateFigures {
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

impl From<&InterfaceRates> for InterfaceRateFigures {
    fn from(r: &InterfaceRates) -> Self {
        Self {
            receive_bytes_per_second: r.receive_bytes_per_second,
            transmit_bytes_per_second: r.transmit_bytes_per_second,
            receive_packets_per_second: r.receive_packets_per_second,
            transmit_packets_per_second: r.transmit_packets_per_second,
            drops_per_second: r.drops_per_second,
            errors_per_second: r.errors_per_second,
        }
    }
}

/// The flat resource figures: this process's memory, CPU, threads and file descriptors,
/// the machine's memory total and the root filesystem.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct ResourceFigures {
    /// This process's resident memory.
    pub memory_used_bytes: Option<f64>,
    /// The machine's memory.
    pub memory_total_bytes: Option<f64>,
    /// This process's CPU use over the last interval, in percent of one core.
    pub cpu_usage_percent: Option<f64>,
    /// Used bytes of the filesystem mounted at `/`.
    pub disk_used_bytes: Option<f64>,
    /// Size of the filesystem mounted at `/`.
    pub disk_total_bytes: Option<f64>,
    /// This process's threads.
    pub thread_count: Option<f64>,
    /// This process's open file descriptors.
    pub fd_count: Option<f64>,
    /// When the sample was taken, in Unix seconds.
    pub timestamp: f64,
}

impl From<&ResourceMetrics> for ResourceFigures {
    fn from(m: &ResourceMetrics) -> Self {
        Self {
            memory_used_bytes: numbers(m.memory_used_bytes),
            memory_total_bytes: numbers(m.memory_total_bytes),
            cpu_usage_percent: m.cpu_usage_percent,
            disk_used_bytes: numbers(m.disk_used_bytes),
            disk_total_bytes: numbers(m.disk_total_bytes),
            thread_count: numbers(m.thread_count),
            fd_count: numbers(m.fd_count),
            timestamp: m.timestamp,
        }
    }
}

/// The TypeScript-era `ResourceMetrics` shape: machine CPU, memory, disk and network, rates
/// per second over the last interval. Each part is null when the platform (or, for `cpu`,
/// `disk` and `network`, a first sample without rates) cannot give it.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct ResourceShapes {
    /// CPU, in percent of all CPUs.
    pub cpu: Option<CpuShape>,
    /// Memory, in bytes.
    pub memory: Option<MemoryShape>,
    /// All whole disks together, per second.
    pub disk: Option<DiskShape>,
    /// All interfaces together, per second.
    pub network: Option<NetworkShape>,
}

/// The TypeScript-era `cpu`, in percent.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct CpuShape {
    /// Busy: everything but idle and iowait.
    pub usage: f64,
    /// User mode.
    pub user: f64,
    /// Kernel mode.
    pub system: f64,
    /// Idle.
    pub idle: f64,
    /// Waiting for I/O.
    pub iowait: f64,
    /// Taken by the hypervisor.
    pub steal: f64,
    /// Load averages over 1, 5 and 15 minutes.
    pub load_avg: Option<Vec<f64>>,
}

/// The TypeScript-era `memory`, in bytes.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct MemoryShape {
    /// Used.
    pub used: f64,
    /// Free.
    pub free: f64,
    /// Page cache.
    pub cached: Option<f64>,
    /// Buffers.
    pub buffers: Option<f64>,
    /// Swap used.
    pub swap_used: Option<f64>,
    /// Swap free.
    pub swap_free: Option<f64>,
    /// Percent of the last 10 s some task stalled on memory.
    pub pressure: Option<f64>,
}

/// The TypeScript-era `disk`, per second (the legacy `utilizaton` spelled right).
#[napi(object, object_from_js = false)]
pub struct DiskShape {
    /// Reads per second.
    pub read_ops: f64,
    /// Writes per second.
    pub write_ops: f64,
    /// Bytes read per second.
    pub read_bytes: f64,
    /// Bytes written per second.
    pub write_bytes: f64,
    /// The busiest disk's utilisation, in percent.
    pub utilization: f64,
    /// Summed average queue length.
    pub queue_length: f64,
}

/// The TypeScript-era `network`.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct NetworkShape {
    /// Established TCP connections.
    pub connections: Option<f64>,
    /// Bytes per second, in and out.
    pub bandwidth: f64,
    /// Packets per second.
    pub packets: PacketsShape,
}

/// The TypeScript-era `network.packets`, per second.
#[napi(object, object_from_js = false)]
pub struct PacketsShape {
    /// Received.
    #[napi(js_name = "in")]
    pub received: f64,
    /// Sent.
    pub out: f64,
    /// Dropped.
    pub dropped: f64,
    /// Errors.
    pub errors: f64,
}

impl From<&Sample> for ResourceShapes {
    fn from(s: &Sample) -> Self {
        let sys = &s.system;
        Self {
            cpu: sys.cpu_percent.map(|c| CpuShape {
                usage: c.total,
                user: c.user,
                system: c.system,
                idle: c.idle,
                iowait: c.iowait,
                steal: c.steal,
                load_avg: sys.load_average.map(Vec::from),
            }),
            memory: sys.memory.as_ref().map(|m| MemoryShape {
                used: number(m.used_bytes),
                free: number(m.free_bytes),
                cached: numbers(m.cached_bytes),
                buffers: numbers(m.buffers_bytes),
                swap_used: numbers(m.swap_used_bytes),
                swap_free: numbers(m.swap_free_bytes),
                pressure: sys.memory_pressure.as_ref().map(|p| p.some_avg10),
            }),
            disk: sys.all_disks().map(|d| DiskShape {
                read_ops: d.read_ops_per_second,
                write_ops: d.write_ops_per_second,
                read_bytes: d.read_bytes_per_second,
                write_bytes: d.write_bytes_per_second,
                utilization: d.utilisation_percent,
                queue_length: d.queue_length,
            }),
            network: sys.all_interfaces().map(|n| NetworkShape {
                connections: numbers(sys.tcp_established()),
                bandwidth: n.receive_bytes_per_second + n.transmit_bytes_per_second,
                packets: PacketsShape {
                    received: n.receive_packets_per_second,
                    out: n.transmit_packets_per_second,
                    dropped: n.drops_per_second,
                    errors: n.errors_per_second,
                },
            }),
        }
    }
}

/// A registry's background resource sampler. Its latest sample is rendered with the
/// registry (`process_*`, `node_*`); figures a platform cannot give are null, never 0.
#[napi(js_name = "Sampler")]
pub struct JsSampler {
    pub(crate) inner: Sampler,
}

#[napi]
impl JsSampler {
    /// Starts sampling every `intervalSeconds` (default 10, a sample is taken at once);
    /// restarts with the new interval when running. An interval below 0.1 s or above a
    /// day is a `RangeError` `ERR_METRICORE_INVALID_CONFIG`.
    #[napi(catch_unwind)]
    pub fn start(&self, env: Env, interval_seconds: Option<f64>) -> napi::Result<()> {
        let interval = interval_from_secs(interval_seconds.unwrap_or(10.0)).or_throw(env)?;
        self.inner.start(interval).or_throw(env)
    }

    /// Stops the sampling thread and waits for it (does nothing when stopped).
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Whether a sampling thread runs in this process.
    #[napi(getter, catch_unwind)]
    pub fn is_running(&self) -> bool {
        self.inner.is_running()
    }

    /// Takes a sample now (also published as the latest).
    #[napi(catch_unwind)]
    pub fn sample_now(&self) -> ResourceSample {
        ResourceSample::from(&self.inner.sample_now())
    }

    /// Takes a sample on metricore's worker thread.
    #[napi(catch_unwind, ts_return_type = "Promise<ResourceSample>")]
    pub fn sample_now_async<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let sampler = self.inner.clone();
        tasks::spawn(
            env,
            move || Ok(ResourceSample::from(&sampler.sample_now())),
            std::convert::identity,
        )
    }

    /// The latest sample, or `null` before the first.
    #[napi(catch_unwind)]
    pub fn latest(&self) -> Option<ResourceSample> {
        self.inner.latest().as_ref().map(ResourceSample::from)
    }

    /// A fresh sample in the TypeScript-era `ResourceMetrics` shape; rates cover the time
    /// since the previous sample.
    #[napi(catch_unwind)]
    pub fn resource_shapes(&self) -> ResourceShapes {
        ResourceShapes::from(&self.inner.sample_now())
    }

    /// The TypeScript-era shape, sampled on metricore's worker thread.
    #[napi(catch_unwind, ts_return_type = "Promise<ResourceShapes>")]
    pub fn resource_shapes_async<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let sampler = self.inner.clone();
        tasks::spawn(
            env,
            move || Ok(ResourceShapes::from(&sampler.sample_now())),
            std::convert::identity,
        )
    }

    /// A fresh sample as the flat resource figures (`memoryUsedBytes`, ...).
    #[napi(catch_unwind)]
    pub fn resource_metrics(&self) -> ResourceFigures {
        ResourceFigures::from(&ResourceMetrics::from(&self.inner.sample_now()))
    }

    /// Failed reads by source since the sampler was made.
    #[napi(catch_unwind)]
    pub fn errors(&self) -> BTreeMap<String, f64> {
        self.inner
            .errors()
            .into_iter()
            .map(|(source, n)| (source.to_owned(), number(n)))
            .collect()
    }
}
