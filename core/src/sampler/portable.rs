//! The portable source, through `sysinfo`: what every platform it supports can
//! give. On Linux the `/proc` source gives more and is the default; this one
//! is there for the other platforms and for checking the two against each other.

use sysinfo::{Disks, Networks, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::Errors;
use super::sample::{
    FilesystemSample, InterfaceSample, MemorySample, ProcessSample, Sample, SystemSample,
};

pub(crate) struct Portable {
    system: System,
    disks: Disks,
    networks: Networks,
    pid: Option<Pid>,
}

impl Portable {
    pub(crate) fn new() -> Self {
        Self {
            system: System::new(),
            disks: Disks::new(),
            networks: Networks::new(),
            pid: sysinfo::get_current_pid().ok(),
        }
    }

    pub(crate) fn sample(&mut self, errors: &mut Errors) -> Sample {
        Sample {
            timestamp: crate::clock::unix_seconds(),
            interval_seconds: None,
            process: self.process(errors),
            system: self.system(),
        }
    }

    fn process(&mut self, errors: &mut Errors) -> ProcessSample {
        let Some(pid) = self.pid else {
            errors.note("process");
            return ProcessSample::default();
        };
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            false,
            ProcessRefreshKind::nothing()
                .with_cpu()
                .with_memory()
                .with_disk_usage()
                .with_tasks(),
        );
        let Some(p) = self.system.process(pid) else {
            errors.note("process");
            return ProcessSample::default();
        };
        let io = p.disk_usage();
        ProcessSample {
            cpu_seconds: Some(p.accumulated_cpu_time() as f64 / 1e3),
            resident_memory_bytes: Some(p.memory()),
            virtual_memory_bytes: Some(p.virtual_memory()),
            threads: p.tasks().map(|t| t.len() as u64),
            start_time_seconds: Some(p.start_time() as f64),
            io_read_bytes: Some(io.total_read_bytes),
            io_write_bytes: Some(io.total_written_bytes),
            ..ProcessSample::default()
        }
    }

    fn system(&mut self) -> SystemSample {
        self.system.refresh_memory();
        self.disks.refresh(true);
        self.networks.refresh(true);
        let s = &self.system;
        let load = System::load_average();
        let swap_total = s.total_swap();
        SystemSample {
            boot_time_seconds: Some(System::boot_time() as f64),
            load_average: (cfg!(unix)).then_some([load.one, load.five, load.fifteen]),
            memory: (s.total_memory() > 0).then(|| MemorySample {
                total_bytes: s.total_memory(),
                used_bytes: s.used_memory(),
                free_bytes: s.free_memory(),
                available_bytes: Some(s.available_memory()),
                swap_total_bytes: Some(swap_total),
                swap_used_bytes: Some(s.used_swap()),
                swap_free_bytes: Some(s.free_swap()),
                ..MemorySample::default()
            }),
            filesystems: self
                .disks
                .list()
                .iter()
                .map(|d| {
                    let size = d.total_space();
                    let avail = d.available_space();
                    FilesystemSample {
                        device: d.name().to_string_lossy().into_owned(),
                        mountpoint: d.mount_point().to_string_lossy().into_owned(),
                        fstype: d.file_system().to_string_lossy().into_owned(),
                        size_bytes: size,
                        // sysinfo reports what unprivileged users may use; root's reserve is not
                        // separable here.
                        free_bytes: avail,
                        avail_bytes: avail,
                        used_bytes: size.saturating_sub(avail),
                    }
                })
                .collect(),
            network: self
                .networks
                .list()
                .iter()
                .map(|(name, n)| InterfaceSample {
                    device: name.clone(),
                    receive_bytes: n.total_received(),
                    transmit_bytes: n.total_transmitted(),
                    receive_packets: n.total_packets_received(),
                    transmit_packets: n.total_packets_transmitted(),
                    receive_errs: Some(n.total_errors_on_received()),
                    transmit_errs: Some(n.total_errors_on_transmitted()),
                    ..InterfaceSample::default()
                })
                .collect(),
            ..SystemSample::default()
        }
    }
}
