//! A sample as metric families, under the conventional names: the Prometheus
//! client libraries' `process_*` and node_exporter's `node_*`. A figure that is
//! absent in the sample is a series that is absent here.

use std::collections::BTreeMap;

use super::sample::{DiskSample, FilesystemSample, InterfaceSample, Sample, SystemSample};
use crate::collect::{FamilySnapshot, MetricKind, SeriesSnapshot, SeriesValue};
use crate::labels::LabelValues;

/// Every family name a sample can produce, reserved in the registry that owns the sampler.
pub(crate) const FAMILY_NAMES: &[(&str, MetricKind)] = &[
    ("process_cpu_seconds", MetricKind::Counter),
    ("process_resident_memory_bytes", MetricKind::Gauge),
    ("process_virtual_memory_bytes", MetricKind::Gauge),
    ("process_open_fds", MetricKind::Gauge),
    ("process_max_fds", MetricKind::Gauge),
    ("process_start_time_seconds", MetricKind::Gauge),
    ("process_threads", MetricKind::Gauge),
    ("process_io_read_bytes", MetricKind::Counter),
    ("process_io_write_bytes", MetricKind::Counter),
    ("process_context_switches", MetricKind::Counter),
    ("node_boot_time_seconds", MetricKind::Gauge),
    ("node_cpu_seconds", MetricKind::Counter),
    ("node_load1", MetricKind::Gauge),
    ("node_load5", MetricKind::Gauge),
    ("node_load15", MetricKind::Gauge),
    ("node_memory_MemTotal_bytes", MetricKind::Gauge),
    ("node_memory_MemFree_bytes", MetricKind::Gauge),
    ("node_memory_MemAvailable_bytes", MetricKind::Gauge),
    ("node_memory_Cached_bytes", MetricKind::Gauge),
    ("node_memory_Buffers_bytes", MetricKind::Gauge),
    ("node_memory_SwapTotal_bytes", MetricKind::Gauge),
    ("node_memory_SwapFree_bytes", MetricKind::Gauge),
    ("node_pressure_memory_waiting_seconds", MetricKind::Counter),
    ("node_pressure_memory_stalled_seconds", MetricKind::Counter),
    ("node_disk_reads_completed", MetricKind::Counter),
    ("node_disk_writes_completed", MetricKind::Counter),
    ("node_disk_read_bytes", MetricKind::Counter),
    ("node_disk_written_bytes", MetricKind::Counter),
    ("node_disk_io_time_seconds", MetricKind::Counter),
    ("node_disk_io_time_weighted_seconds", MetricKind::Counter),
    ("node_disk_io_now", MetricKind::Gauge),
    ("node_filesystem_size_bytes", MetricKind::Gauge),
    ("node_filesystem_free_bytes", MetricKind::Gauge),
    ("node_filesystem_avail_bytes", MetricKind::Gauge),
    ("node_network_receive_bytes", MetricKind::Counter),
    ("node_network_transmit_bytes", MetricKind::Counter),
    ("node_network_receive_packets", MetricKind::Counter),
    ("node_network_transmit_packets", MetricKind::Counter),
    ("node_network_receive_drop", MetricKind::Counter),
    ("node_network_transmit_drop", MetricKind::Counter),
    ("node_network_receive_errs", MetricKind::Counter),
    ("node_network_transmit_errs", MetricKind::Counter),
    ("node_tcp_connection_states", MetricKind::Gauge),
    ("metricore_sampler_errors", MetricKind::Counter),
];

/// Builds families in [`FAMILY_NAMES`] order, skipping those without series.
struct Builder {
    out: Vec<FamilySnapshot>,
}

impl Builder {
    fn push(
        &mut self,
        name: &str,
        help: &str,
        label_names: &[&str],
        created: f64,
        rows: impl IntoIterator<Item = (Vec<String>, f64)>,
    ) {
        let kind = FAMILY_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(MetricKind::Gauge, |&(_, k)| k);
        let series: Vec<SeriesSnapshot> = rows
            .into_iter()
            .map(|(labels, value)| SeriesSnapshot {
                labels: LabelValues::new(&labels),
                created,
                value: match kind {
                    MetricKind::Counter => SeriesValue::SampledCounter { value },
                    _ => SeriesValue::Gauge { value },
                },
            })
            .collect();
        if series.is_empty() {
            return;
        }
        self.out.push(FamilySnapshot {
            named_total: true,
            name: name.to_owned(),
            help: help.to_owned(),
            unit: None,
            kind,
            label_names: label_names.iter().map(|&s| s.to_owned()).collect(),
            series,
        });
    }

    /// A family of one unlabelled series, if the figure is present.
    fn one(&mut self, name: &str, help: &str, created: f64, value: Option<f64>) {
        self.push(name, help, &[], created, value.map(|v| (Vec::new(), v)));
    }
}

type DiskField = fn(&DiskSample) -> f64;
type FsField = fn(&FilesystemSample) -> u64;
type NetField = fn(&InterfaceSample) -> Option<u64>;

fn f(v: Option<u64>) -> Option<f64> {
    v.map(|v| v as f64)
}

/// The families for `sample`; `errors` are the sampler's failed reads by source and
/// `sampler_created` its creation time (the `_created` of its error counter).
pub(crate) fn families(
    sample: &Sample,
    errors: &BTreeMap<&'static str, u64>,
    sampler_created: f64,
) -> Vec<FamilySnapshot> {
    let mut b = Builder { out: Vec::new() };
    let started = sample.process.start_time_seconds.unwrap_or(sampler_created);
    let booted = sample.system.boot_time_seconds.unwrap_or(sampler_created);
    process(&mut b, &sample.process, started);
    cpu_and_memory(&mut b, &sample.system, booted);
    devices(&mut b, &sample.system, booted);
    filesystems_and_network(&mut b, &sample.system, booted);
    b.push(
        "metricore_sampler_errors",
        "Figures the resource sampler could not read, by source.",
        &["source"],
        sampler_created,
        errors
            .iter()
            .map(|(source, n)| (vec![(*source).to_owned()], *n as f64)),
    );
    b.out
}

fn process(b: &mut Builder, p: &super::ProcessSample, started: f64) {
    b.one(
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds.",
        started,
        p.cpu_seconds,
    );
    b.one(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        started,
        f(p.resident_memory_bytes),
    );
    b.one(
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        started,
        f(p.virtual_memory_bytes),
    );
    b.one(
        "process_open_fds",
        "Number of open file descriptors.",
        started,
        f(p.open_fds),
    );
    b.one(
        "process_max_fds",
        "Maximum number of open file descriptors.",
        started,
        f(p.max_fds),
    );
    b.one(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        started,
        p.start_time_seconds,
    );
    b.one(
        "process_threads",
        "Number of OS threads in the process.",
        started,
        f(p.threads),
    );
    b.one(
        "process_io_read_bytes",
        "Bytes the process caused to be read from storage.",
        started,
        f(p.io_read_bytes),
    );
    b.one(
        "process_io_write_bytes",
        "Bytes the process caused to be written to storage.",
        started,
        f(p.io_write_bytes),
    );
    b.push(
        "process_context_switches",
        "Context switches of the process, by kind.",
        &["kind"],
        started,
        [
            ("voluntary", p.voluntary_context_switches),
            ("involuntary", p.involuntary_context_switches),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((vec![k.to_owned()], v? as f64))),
    );
}

fn cpu_and_memory(b: &mut Builder, s: &SystemSample, booted: f64) {
    b.one(
        "node_boot_time_seconds",
        "Node boot time, in unixtime.",
        booted,
        s.boot_time_seconds,
    );
    b.push(
        "node_cpu_seconds",
        "Seconds the CPUs spent in each mode.",
        &["cpu", "mode"],
        booted,
        s.cpu_seconds.iter().flat_map(|c| {
            c.modes
                .iter()
                .map(|(mode, secs)| (vec![c.cpu.clone(), mode.clone()], *secs))
        }),
    );
    for (i, name) in ["node_load1", "node_load5", "node_load15"]
        .iter()
        .enumerate()
    {
        b.one(
            name,
            &format!("{} minute load average.", [1, 5, 15][i]),
            booted,
            s.load_average.map(|l| l[i]),
        );
    }
    if let Some(m) = &s.memory {
        for (name, field, value) in [
            (
                "node_memory_MemTotal_bytes",
                "MemTotal",
                Some(m.total_bytes),
            ),
            ("node_memory_MemFree_bytes", "MemFree", Some(m.free_bytes)),
            (
                "node_memory_MemAvailable_bytes",
                "MemAvailable",
                m.available_bytes,
            ),
            ("node_memory_Cached_bytes", "Cached", m.cached_bytes),
            ("node_memory_Buffers_bytes", "Buffers", m.buffers_bytes),
            (
                "node_memory_SwapTotal_bytes",
                "SwapTotal",
                m.swap_total_bytes,
            ),
            ("node_memory_SwapFree_bytes", "SwapFree", m.swap_free_bytes),
        ] {
            b.one(
                name,
                &format!("Memory information field {field}_bytes."),
                booted,
                f(value),
            );
        }
    }
    if let Some(pr) = &s.memory_pressure {
        b.one(
            "node_pressure_memory_waiting_seconds",
            "Total time in seconds that processes have waited for memory.",
            booted,
            Some(pr.some_total_seconds),
        );
        b.one(
            "node_pressure_memory_stalled_seconds",
            "Total time in seconds no process could make progress due to memory congestion.",
            booted,
            pr.full_total_seconds,
        );
    }
}

fn devices(b: &mut Builder, s: &SystemSample, booted: f64) {
    let disk_fields: [(&str, &str, DiskField); 7] = [
        (
            "node_disk_reads_completed",
            "The total number of reads completed successfully.",
            |d| d.reads_completed as f64,
        ),
        (
            "node_disk_writes_completed",
            "The total number of writes completed successfully.",
            |d| d.writes_completed as f64,
        ),
        (
            "node_disk_read_bytes",
            "The total number of bytes read successfully.",
            |d| d.read_bytes as f64,
        ),
        (
            "node_disk_written_bytes",
            "The total number of bytes written successfully.",
            |d| d.written_bytes as f64,
        ),
        (
            "node_disk_io_time_seconds",
            "Total seconds spent doing I/Os.",
            |d| d.io_time_seconds,
        ),
        (
            "node_disk_io_time_weighted_seconds",
            "The weighted number of seconds spent doing I/Os.",
            |d| d.io_time_weighted_seconds,
        ),
        (
            "node_disk_io_now",
            "The number of I/Os currently in progress.",
            |d| d.io_now as f64,
        ),
    ];
    for (name, help, value) in disk_fields {
        b.push(
            name,
            help,
            &["device"],
            booted,
            s.disks.iter().map(|d| (vec![d.device.clone()], value(d))),
        );
    }
}

fn filesystems_and_network(b: &mut Builder, s: &SystemSample, booted: f64) {
    let fs_fields: [(&str, &str, FsField); 3] = [
        (
            "node_filesystem_size_bytes",
            "Filesystem size in bytes.",
            |m| m.size_bytes,
        ),
        (
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
            |m| m.free_bytes,
        ),
        (
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            |m| m.avail_bytes,
        ),
    ];
    for (name, help, value) in fs_fields {
        b.push(
            name,
            help,
            &["device", "fstype", "mountpoint"],
            booted,
            s.filesystems.iter().map(|m| {
                (
                    vec![m.device.clone(), m.fstype.clone(), m.mountpoint.clone()],
                    value(m) as f64,
                )
            }),
        );
    }
    let net_fields: [(&str, &str, NetField); 8] = [
        (
            "node_network_receive_bytes",
            "Network device statistic receive_bytes.",
            |n| Some(n.receive_bytes),
        ),
        (
            "node_network_transmit_bytes",
            "Network device statistic transmit_bytes.",
            |n| Some(n.transmit_bytes),
        ),
        (
            "node_network_receive_packets",
            "Network device statistic receive_packets.",
            |n| Some(n.receive_packets),
        ),
        (
            "node_network_transmit_packets",
            "Network device statistic transmit_packets.",
            |n| Some(n.transmit_packets),
        ),
        (
            "node_network_receive_drop",
            "Network device statistic receive_drop.",
            |n| n.receive_drop,
        ),
        (
            "node_network_transmit_drop",
            "Network device statistic transmit_drop.",
            |n| n.transmit_drop,
        ),
        (
            "node_network_receive_errs",
            "Network device statistic receive_errs.",
            |n| n.receive_errs,
        ),
        (
            "node_network_transmit_errs",
            "Network device statistic transmit_errs.",
            |n| n.transmit_errs,
        ),
    ];
    for (name, help, value) in net_fields {
        b.push(
            name,
            help,
            &["device"],
            booted,
            s.network
                .iter()
                .filter_map(|n| Some((vec![n.device.clone()], value(n)? as f64))),
        );
    }
    if let Some(tcp) = &s.tcp_connections {
        b.push(
            "node_tcp_connection_states",
            "Number of connection states.",
            &["state"],
            booted,
            tcp.iter()
                .map(|(state, n)| (vec![state.clone()], *n as f64)),
        );
    }
}
