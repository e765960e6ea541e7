//! Many processes, one view: a shared-memory arena for pre-fork servers.
//!
//! A service that runs as several processes (gunicorn or uvicorn workers, a C server that
//! forks, Node's `cluster`) has one registry per process, and a scrape reaches one of them.
//! The arena gives them one view: every participating process keeps its series in shared
//! memory in a directory the user names, and any process (or a separate one) renders the
//! aggregate by reading that memory, without asking the others.
//!
//! ## The directory
//!
//! - `seg-<pid>-<id>.mca`: one **segment** per process, written only by it: a table of
//!   series records (family, label values) each followed by its value cells. The format is
//!   described in `format.rs`: a 64-byte header (magic, format version, pid, random id, the
//!   committed length), then 8-aligned records.
//! - `archive.mca`: what dead processes left, folded into one file (below).
//! - `schema.mca`: every family any process declared, with its shape, so a second process
//!   declaring the same name with a different shape gets the same
//!   [`ErrorKind::Conflict`] as within one process.
//! - `metricore.lock`: the directory lock (flock), held briefly to declare a family or to
//!   fold.
//!
//! ## The rules
//!
//! - **Hot path.** A handle points at its cells in the process's own mapping. Counters,
//!   histogram bucket counts and summary counts are one `fetch_add`; sums (histograms,
//!   summaries, fractional counter increments) are f64 bits updated by a CAS loop, one CAS
//!   when uncontended (integer fixed-point would lose the values' magnitudes); gauges store
//!   their f64 bits (the `mostrecent` modes also store the time of the set). No system call,
//!   no lock.
//! - **Series creation** appends a record to the process's segment under the arena's
//!   mutex: the record is written in full, then the header's committed length moves past it
//!   with a Release store. A reader loads the committed length with Acquire and parses only
//!   below it, so a process killed mid-record (`kill -9`) leaves no torn series: the partial
//!   record lies beyond the committed length. Declaring a new family also takes the
//!   directory lock to check and extend `schema.mca`.
//! - **Liveness.** A process holds an exclusive `flock` on its segment for as long as it
//!   lives; the kernel drops it when the process dies, `kill -9` included. A reader that can
//!   take the lock knows the owner is gone. A child forked after the segment was created
//!   inherits the lock and the mapping, and keeps writing its inherited handles' cells there
//!   (so the segment stays live while any process that can write it lives); series it
//!   creates itself go to a segment of its own.
//! - **Folding.** A dead process's segment is folded into `archive.mca`: counters and
//!   histograms added, gauges of the `min`, `max`, `sum` and `mostrecent` modes merged by
//!   their mode, `all` gauges kept with their `pid` label, live-only gauges dropped. The new
//!   archive is written to a temporary file, synced and renamed over the old one before the
//!   dead segment is unlinked; it lists the ids of the segments it absorbed, and readers
//!   and later folds skip a segment whose id is listed. A fold killed at any point
//!   therefore neither loses nor double-counts, totals never go backwards, and the directory
//!   holds the live segments plus one archive however often processes restart. Folds run
//!   when a process opens the arena and, when the directory lock is free, at a scrape.
//! - **Reading** maps each segment read-only, loads the cells atomically and merges:
//!   counters summed, histogram buckets and sums added (exact; the arena keeps Prometheus
//!   buckets, not HDR counts), summaries' counts and sums added (no quantiles, as in
//!   prometheus_client's multiprocess mode), gauges by their [`GaugeMode`]. Segments are
//!   opened before the archive is read, so a fold racing with a scrape is seen either
//!   before (the segment counted, the old archive) or after (the segment skipped as
//!   absorbed), never both.
//! - **Bad input.** A missing or unwritable directory, a full disk, or files written by an
//!   incompatible format version give [`ErrorKind::ArenaUnavailable`]
//!   when the arena is opened, naming the directory and the cause; a series that does not
//!   fit later (the disk filled up) is an error when it is created, never at scrape time.
//!
//! The handles are their own types ([`ArenaCounter`], [`ArenaGauge`], [`ArenaHistogram`],
//! [`ArenaSummary`]): their cells live in the file rather than in the core's striped
//! cells, and keeping them apart leaves the single-process types untouched.
//!
//! Memory: a series costs its record (16 bytes of header and ids, the label values, padding
//! to 8) plus 16 bytes of cells for counters, gauges and summaries and `8 * (bounds + 2)`
//! for histograms, per process that uses it; the segment grows in 64 KiB steps.

// Pedantic lints left for a clean-up pass: every cell cast is to an offset checked 8-aligned
// (`Mapping::cell`, the header's committed word), and tests compare exact float results.
#![allow(
    clippy::cast_ptr_alignment,
    clippy::float_cmp,
    clippy::match_same_arms,
    clippy::elidable_lifetime_names,
    clippy::manual_is_multiple_of,
    clippy::collapsible_if,
    clippy::doc_markdown,
    clippy::semicolon_if_nothing_returned,
    clippy::missing_errors_doc,
    clippy::needless_pass_by_value,
    clippy::single_match_else
)]

mod format;
mod read;
mod sys;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub use format::GaugeMode;
pub use read::ArenaCollector;

use crate::error::{Error, ErrorKind, Result};
use crate::labels::{validate_label_name, validate_metric_name};
use format::{FamilyDef, HEADER_LEN, Kind, RecordBuf, cells_for};
use sys::{Mapping, dir_error};

/// Address space reserved per segment; the file grows inside it.
const RESERVED: usize = 1 << 30;
/// The file grows in steps of this many bytes.
const GROWTH: usize = 64 << 10;

pub(crate) const LOCK_FILE: &str = "metricore.lock";
pub(crate) const SCHEMA_FILE: &str = "schema.mca";
pub(crate) const ARCHIVE_FILE: &str = "archive.mca";
pub(crate) const ARCHIVE_TMP: &str = "archive.tmp";
pub(crate) const SEGMENT_PREFIX: &str = "seg-";
pub(crate) const TMP_PREFIX: &str = "tmp-";
pub(crate) const SUFFIX: &str = ".mca";

/// One process's segment, as its owner writes it.
struct Segment {
    /// Holds the exclusive flock that says the owner lives.
    file: File,
    map: Arc<Mapping>,
    pid: u32,
    /// Bytes allocated in the file.
    file_len: usize,
    /// End of the records (the committed length).
    end: usize,
}

impl Segment {
    fn create(dir: &Path) -> Result<Self> {
        let pid = sys::pid();
        let id = sys::random_id();
        let tmp = dir.join(format!("{TMP_PREFIX}{pid}-{id:016x}{SUFFIX}"));
        let fail = |what: &str, e: std::io::Error| dir_error(dir, what, e);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|e| fail("cannot create this process's segment", e))?;
        let ok = sys::flock(&file, libc::LOCK_EX | libc::LOCK_NB)
            .map_err(|e| fail("cannot lock this process's segment", e))?;
        if !ok {
            return Err(dir_error(
                dir,
                "cannot lock this process's segment",
                "held elsewhere",
            ));
        }
        let built = (|| {
            sys::reserve(&file, GROWTH).map_err(|e| fail("cannot allocate a segment", e))?;
            let map =
                Mapping::new(&file, RESERVED, true).map_err(|e| fail("cannot map a segment", e))?;
            let header = format::header(pid, id, HEADER_LEN as u64, sys::now_nanos());
            // SAFETY: the mapping is at least GROWTH bytes of allocated file, nobody else
            // has the file yet (it is still under its temporary name).
            unsafe {
                std::ptr::copy_nonoverlapping(header.as_ptr(), map.ptr(), HEADER_LEN);
            }
            let path = dir.join(format!("{SEGMENT_PREFIX}{pid}-{id:016x}{SUFFIX}"));
            std::fs::rename(&tmp, &path).map_err(|e| fail("cannot publish a segment", e))?;
            Ok(Self {
                file,
                map: Arc::new(map),
                pid,
                file_len: GROWTH,
                end: HEADER_LEN,
            })
        })();
        if built.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        built
    }

    /// Appends a record and publishes it; returns its offset in the file.
    fn append(&mut self, dir: &Path, bytes: &[u8]) -> Result<usize> {
        let at = self.end;
        let end = at + bytes.len();
        if end > self.file_len {
            let len = end.div_ceil(GROWTH) * GROWTH;
            if len > RESERVED {
                return Err(dir_error(
                    dir,
                    "this process's segment is full",
                    "1 GiB of series",
                ));
            }
            sys::reserve(&self.file, len)
                .map_err(|e| dir_error(dir, "cannot grow this process's segment", e))?;
            self.file_len = len;
        }
        // SAFETY: `at..end` lies in the allocated file and the mapping; readers never read
        // past the committed length, which still ends at `at`.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.map.ptr().add(at), bytes.len());
        }
        // Release: the record's bytes become visible before the length that covers them.
        self.map
            .cell(format::COMMITTED_AT)
            .store(end as u64, Ordering::Release);
        self.end = end;
        Ok(at)
    }
}

struct WriterState {
    segment: Option<Segment>,
    /// Families of the current segment: definition and ordinal.
    families: HashMap<String, (FamilyDef, u32)>,
    /// Series of the current segment: (ordinal, label values) to the first cell's offset.
    series: HashMap<(u32, Vec<String>), usize>,
    /// Families this process has checked against the schema file.
    declared: HashMap<String, FamilyDef>,
}

struct ArenaInner {
    dir: PathBuf,
    lock: File,
    state: Mutex<WriterState>,
}

/// This process's part of a multiprocess arena: creates series in its segment.
///
/// Cloning is cheap and shares the segment. See the [module docs](self) for the rules.
#[derive(Clone)]
pub struct Arena {
    inner: Arc<ArenaInner>,
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

/// Opens the directory lock file, checking that the directory exists and is writable.
pub(crate) fn open_lock(dir: &Path) -> Result<File> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(dir_error(dir, "cannot be used", "not a directory")),
        Err(e) => return Err(dir_error(dir, "cannot be used", e)),
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_CLOEXEC)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| dir_error(dir, "cannot open the directory lock", e))
}

impl Arena {
    /// Joins the arena in `dir` (which must exist and be writable): folds what dead
    /// processes left, checks every file's format version and creates this process's
    /// segment.
    ///
    /// # Errors
    /// [`ErrorKind::ArenaUnavailable`] naming the directory and the cause: missing, not a
    /// directory, not writable, full, or holding files of an incompatible format version.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let lock = open_lock(&dir)?;
        read::check_versions(&dir)?;
        read::fold_dead(&dir, &lock, true)?;
        let segment = Segment::create(&dir)?;
        Ok(Self {
            inner: Arc::new(ArenaInner {
                dir,
                lock,
                state: Mutex::new(WriterState {
                    segment: Some(segment),
                    families: HashMap::new(),
                    series: HashMap::new(),
                    declared: HashMap::new(),
                }),
            }),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// A collector that renders the aggregate of every process in the arena.
    pub fn collector(&self) -> Result<ArenaCollector> {
        ArenaCollector::open(&self.inner.dir)
    }

    /// A counter series. A name ending in `_total` is stored without it, as counters are
    /// exposed.
    ///
    /// # Errors
    /// Invalid names or label values, [`ErrorKind::Conflict`] when any process declared the
    /// name with another shape, [`ErrorKind::ArenaUnavailable`] when the segment cannot grow.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        label_values: &[&str],
    ) -> Result<ArenaCounter> {
        let name = name.strip_suffix("_total").unwrap_or(name);
        let def = def(
            name,
            help,
            Kind::Counter,
            GaugeMode::All,
            label_names,
            Vec::new(),
        );
        let (map, cells) = self.series(def, label_values)?;
        Ok(ArenaCounter { cells, _map: map })
    }

    /// A gauge series, aggregated across processes by `mode`.
    ///
    /// # Errors
    /// As [`Arena::counter`].
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        mode: GaugeMode,
        label_names: &[&str],
        label_values: &[&str],
    ) -> Result<ArenaGauge> {
        let def = def(name, help, Kind::Gauge, mode, label_names, Vec::new());
        let (map, cells) = self.series(def, label_values)?;
        Ok(ArenaGauge {
            cells,
            timed: mode.timed(),
            _map: map,
        })
    }

    /// A histogram series with the given bucket bounds (base units, ascending, finite;
    /// `+Inf` implied), whose bucket counts and sum are exact across processes.
    ///
    /// # Errors
    /// As [`Arena::counter`], and [`ErrorKind::InvalidConfig`] for bad bounds.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        bounds: &[f64],
        label_names: &[&str],
        label_values: &[&str],
    ) -> Result<ArenaHistogram> {
        // The core's own checks on bounds, so the arena accepts exactly what a histogram does.
        crate::HistogramSnapshot::from_exact_buckets(name, bounds, vec![0; bounds.len() + 1], 0.0)?;
        let def = def(
            name,
            help,
            Kind::Histogram,
            GaugeMode::All,
            label_names,
            bounds.to_vec(),
        );
        let (map, cells) = self.series(def, label_values)?;
        Ok(ArenaHistogram {
            cells,
            bounds: bounds.into(),
            _map: map,
        })
    }

    /// A summary series: count and sum, exact across processes (no quantiles).
    ///
    /// # Errors
    /// As [`Arena::counter`].
    pub fn summary(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        label_values: &[&str],
    ) -> Result<ArenaSummary> {
        let def = def(
            name,
            help,
            Kind::Summary,
            GaugeMode::All,
            label_names,
            Vec::new(),
        );
        let (map, cells) = self.series(def, label_values)?;
        Ok(ArenaSummary { cells, _map: map })
    }

    /// Finds or creates the series; returns the mapping and its first cell.
    fn series(
        &self,
        def: FamilyDef,
        values: &[&str],
    ) -> Result<(Arc<Mapping>, NonNull<AtomicU64>)> {
        validate_metric_name(&def.name)?;
        for l in &def.label_names {
            validate_label_name(&def.name, l)?;
        }
        if def.kind == Kind::Gauge
            && def.mode.per_process()
            && def.label_names.iter().any(|l| l == "pid")
        {
            return Err(Error::for_metric(
                ErrorKind::InvalidLabels,
                &def.name,
                "a gauge of mode 'all' or 'liveall' gets a 'pid' label per process and cannot have its own",
            ));
        }
        if values.len() != def.label_names.len() {
            return Err(Error::for_metric(
                ErrorKind::InvalidLabels,
                &def.name,
                format!(
                    "expected {} label values, got {}",
                    def.label_names.len(),
                    values.len()
                ),
            ));
        }
        let dir = &self.inner.dir;
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match state.declared.get(&def.name) {
            Some(known) if known.same_shape(&def) => {}
            Some(_) => return Err(conflict(&def.name)),
            None => {
                read::declare(dir, &self.inner.lock, &def)?;
                state.declared.insert(def.name.clone(), def.clone());
            }
        }
        let forked = state.segment.as_ref().is_none_or(|s| s.pid != sys::pid());
        if forked {
            // A forked child writes new series to a segment of its own (see the module docs).
            state.segment = Some(Segment::create(dir)?);
            state.families.clear();
            state.series.clear();
        }
        let WriterState {
            segment,
            families,
            series,
            ..
        } = &mut *state;
        let Some(segment) = segment.as_mut() else {
            return Err(dir_error(dir, "no segment", "unreachable"));
        };
        let ordinal = match families.get(&def.name) {
            Some((_, ordinal)) => *ordinal,
            None => {
                let mut buf = RecordBuf::default();
                buf.family(&def);
                segment.append(dir, &buf.bytes)?;
                let ordinal = u32::try_from(families.len()).unwrap_or(u32::MAX);
                families.insert(def.name.clone(), (def.clone(), ordinal));
                ordinal
            }
        };
        let key = (
            ordinal,
            values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>(),
        );
        let cells_at = match series.get(&key) {
            Some(&at) => at,
            None => {
                let mut buf = RecordBuf::default();
                let cells = vec![0u64; cells_for(&def)];
                let offset = buf.series(ordinal, segment.pid, &key.1, &cells);
                let at = segment.append(dir, &buf.bytes)? + offset;
                series.insert(key, at);
                at
            }
        };
        let map = Arc::clone(&segment.map);
        let cells = NonNull::from(map.cell(cells_at));
        Ok((map, cells))
    }
}

fn def(
    name: &str,
    help: &str,
    kind: Kind,
    mode: GaugeMode,
    labels: &[&str],
    bounds: Vec<f64>,
) -> FamilyDef {
    FamilyDef {
        name: name.to_owned(),
        help: help.to_owned(),
        kind,
        mode,
        label_names: labels.iter().map(|l| (*l).to_owned()).collect(),
        bounds,
    }
}

pub(crate) fn conflict(name: &str) -> Error {
    Error::for_metric(
        ErrorKind::Conflict,
        name,
        "already registered in the multiprocess directory with a different kind, labels, buckets or gauge mode",
    )
}

/// Cell `i` of a series.
///
/// # Safety
/// `cells` must point at a series' first cell in a mapping that outlives the returned
/// reference, and `i` must be below its cell count.
#[inline]
unsafe fn cell<'a>(cells: NonNull<AtomicU64>, i: usize) -> &'a AtomicU64 {
    // SAFETY: per the caller's contract.
    unsafe { &*cells.as_ptr().add(i) }
}

/// Adds `v` to the f64 stored as bits in `cell`.
#[inline]
fn add_f64(cell: &AtomicU64, v: f64) {
    // Relaxed: the cell publishes nothing else; the CAS alone makes the add atomic.
    let mut cur = cell.load(Ordering::Relaxed);
    loop {
        let new = (f64::from_bits(cur) + v).to_bits();
        match cell.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(seen) => cur = seen,
        }
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident { $($extra:ident: $ty:ty),* }) => {
        $(#[$doc])*
        #[must_use = "arena handles do nothing unless you use them"]
        #[derive(Clone)]
        pub struct $name {
            cells: NonNull<AtomicU64>,
            $($extra: $ty,)*
            /// Keeps the cells mapped.
            _map: Arc<Mapping>,
        }

        // SAFETY: the cells are atomics in a mapping the handle keeps alive.
        unsafe impl Send for $name {}
        // SAFETY: as for Send.
        unsafe impl Sync for $name {}

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        impl $name {
            #[inline]
            fn cell(&self, i: usize) -> &AtomicU64 {
                // SAFETY: `cells` is the series' first cell in `_map`, which `self` keeps
                // alive; every caller's `i` is below the kind's cell count (`cells_for`).
                unsafe { cell(self.cells, i) }
            }
        }
    };
}

handle!(
    /// A counter series in the arena.
    ArenaCounter {}
);

impl ArenaCounter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        // Relaxed: a counter publishes nothing else; readers only need the add to be atomic.
        self.cell(0).fetch_add(n, Ordering::Relaxed);
    }

    /// Adds `v`, which may have a fraction.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidValue`] for a negative or non-finite `v`; nothing is added.
    pub fn add(&self, v: f64) -> Result<()> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::new(
                ErrorKind::InvalidValue,
                None,
                "a counter only goes up by a finite amount >= 0",
            ));
        }
        if v.fract() == 0.0 && v < 9_007_199_254_740_992.0 {
            self.inc_by(v as u64);
        } else {
            add_f64(self.cell(1), v);
        }
        Ok(())
    }

    /// This process's total.
    pub fn get(&self) -> f64 {
        // Relaxed: a plain read of the total.
        self.cell(0).load(Ordering::Relaxed) as f64
            + f64::from_bits(self.cell(1).load(Ordering::Relaxed))
    }
}

handle!(
    /// A gauge series in the arena.
    ArenaGauge { timed: bool }
);

impl ArenaGauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        // Relaxed: the value publishes nothing else.
        self.cell(0).store(v.to_bits(), Ordering::Relaxed);
        if self.timed {
            // Relaxed: a racing reader may pair the new time with the old value for an
            // instant; the next scrape sees both.
            self.cell(1).store(sys::now_nanos(), Ordering::Relaxed);
        }
    }

    /// Adds `v` (negative to subtract).
    #[inline]
    pub fn add(&self, v: f64) {
        add_f64(self.cell(0), v);
        if self.timed {
            // Relaxed: as in `set`.
            self.cell(1).store(sys::now_nanos(), Ordering::Relaxed);
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// This process's value.
    pub fn get(&self) -> f64 {
        // Relaxed: a plain read.
        f64::from_bits(self.cell(0).load(Ordering::Relaxed))
    }
}

handle!(
    /// A histogram series in the arena: exact buckets and sum.
    ArenaHistogram { bounds: Arc<[f64]> }
);

impl ArenaHistogram {
    /// Records `v` in base units: counted in the first bucket whose bound is `>= v`
    /// (`+Inf` for larger values), added to the sum. NaN is not recorded.
    #[inline]
    pub fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        let bucket = self.bounds.partition_point(|&b| b < v);
        // Relaxed: counts publish nothing else; readers add what they see.
        self.cell(bucket).fetch_add(1, Ordering::Relaxed);
        add_f64(self.cell(self.bounds.len() + 1), v);
    }
}

handle!(
    /// A summary series in the arena: count and sum.
    ArenaSummary {}
);

impl ArenaSummary {
    /// Records `v`: one more in the count, `v` more in the sum. NaN is not recorded.
    #[inline]
    pub fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        // Relaxed: as in ArenaHistogram::observe.
        self.cell(0).fetch_add(1, Ordering::Relaxed);
        add_f64(self.cell(1), v);
    }
}

#[cfg(test)]
mod tests;
