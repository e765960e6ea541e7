//! Reading the arena: the aggregate a scrape renders, the fold of dead segments into the
//! archive, and the schema file that keeps shapes consistent between processes.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::format::{
    self, FamilyDef, FormatError, GaugeMode, HEADER_LEN, Kind, Record, RecordBuf, cells_for,
};
use super::sys::{self, Mapping, dir_error};
use super::{
    ARCHIVE_FILE, ARCHIVE_TMP, LOCK_FILE, SCHEMA_FILE, SEGMENT_PREFIX, SUFFIX, TMP_PREFIX,
    conflict, open_lock,
};
use crate::collect::{
    CollectResult, Collector, FamilySnapshot, MetricKind, SeriesSnapshot, SeriesValue,
};
use crate::error::Result;
use crate::histogram::HistogramSnapshot;
use crate::labels::LabelValues;

/// How many absorbed segment ids the archive remembers. A reader that opened a segment
/// before it was folded skips it by its id; forgetting ids only after this many later
/// folds makes a double count need that many folds within one scrape.
const ABSORBED_KEPT: usize = 4096;

/// One merged value.
#[derive(Debug, Clone)]
enum Value {
    Counter { whole: u64, fraction: f64 },
    Gauge { value: f64, at: u64 },
    Histogram { counts: Vec<u64>, sum: f64 },
    Summary { count: u64, sum: f64 },
}

impl Value {
    fn from_cells(kind: Kind, c: &[u64]) -> Self {
        match kind {
            Kind::Counter => Self::Counter {
                whole: c[0],
                fraction: f64::from_bits(c[1]),
            },
            Kind::Gauge => Self::Gauge {
                value: f64::from_bits(c[0]),
                at: c[1],
            },
            Kind::Histogram => Self::Histogram {
                counts: c[..c.len() - 1].to_vec(),
                sum: f64::from_bits(c[c.len() - 1]),
            },
            Kind::Summary => Self::Summary {
                count: c[0],
                sum: f64::from_bits(c[1]),
            },
        }
    }

    fn to_cells(&self) -> Vec<u64> {
        match self {
            Self::Counter { whole, fraction } => vec![*whole, fraction.to_bits()],
            Self::Gauge { value, at } => vec![value.to_bits(), *at],
            Self::Histogram { counts, sum } => {
                let mut v = counts.clone();
                v.push(sum.to_bits());
                v
            }
            Self::Summary { count, sum } => vec![*count, sum.to_bits()],
        }
    }

    /// Merges `other` (same kind) into `self`; gauges by `mode`.
    fn merge(&mut self, other: &Self, mode: GaugeMode) {
        match (self, other) {
            (
                Self::Counter { whole, fraction },
                Self::Counter {
                    whole: w,
                    fraction: f,
                },
            ) => {
                *whole = whole.wrapping_add(*w);
                *fraction += f;
            }
            (Self::Gauge { value, at }, Self::Gauge { value: v, at: a }) => match mode {
                GaugeMode::Min => *value = value.min(*v),
                GaugeMode::Max => *value = value.max(*v),
                GaugeMode::Sum | GaugeMode::LiveSum => *value += v,
                GaugeMode::MostRecent | GaugeMode::LiveMostRecent => {
                    if a > at {
                        (*value, *at) = (*v, *a);
                    }
                }
                // One series per pid: a second value for the same pid is the same process
                // seen twice (a forked child's inherited cells), keep the later set.
                GaugeMode::All | GaugeMode::LiveAll => {
                    if a >= at {
                        *value = *v;
                    }
                }
            },
            (Self::Histogram { counts, sum }, Self::Histogram { counts: c, sum: s }) => {
                for (a, b) in counts.iter_mut().zip(c) {
                    *a = a.wrapping_add(*b);
                }
                *sum += s;
            }
            (Self::Summary { count, sum }, Self::Summary { count: c, sum: s }) => {
                *count = count.wrapping_add(*c);
                *sum += s;
            }
            _ => {}
        }
    }
}

struct FamilyAgg {
    def: FamilyDef,
    /// Earliest start of a contributing file, Unix nanoseconds.
    created: u64,
    /// (label values, pid for per-process gauges else 0) to the merged value.
    series: BTreeMap<(Vec<String>, u32), Value>,
}

/// The merged content of several files.
#[derive(Default)]
pub(crate) struct Aggregate {
    families: BTreeMap<String, FamilyAgg>,
    absorbed: Vec<u64>,
}

/// Where cells are read from: a live mapping (atomically) or a copy of a dead file.
enum Source<'a> {
    Mapped(&'a Mapping),
    Copied(&'a [u8]),
}

impl Source<'_> {
    fn cells(&self, at: usize, n: usize) -> Vec<u64> {
        (0..n)
            .map(|i| match self {
                // Relaxed: each cell is read once; its owner may be adding to it.
                Self::Mapped(m) => m.cell(at + i * 8).load(Ordering::Relaxed),
                Self::Copied(b) => b
                    .get(at + i * 8..at + i * 8 + 8)
                    .and_then(|s| s.try_into().ok())
                    .map_or(0, u64::from_le_bytes),
            })
            .collect()
    }
}

impl Aggregate {
    /// Adds the records of one file (`bytes[..end]`). `live` is false for a dead process's
    /// segment and for the archive: their live-only gauges are dropped.
    fn add(
        &mut self,
        bytes: &[u8],
        end: usize,
        source: &Source<'_>,
        live: bool,
    ) -> Result<(), FormatError> {
        let header = format::read_header(bytes)?;
        let mut defs: Vec<FamilyDef> = Vec::new();
        format::for_each_record(bytes, end, |r| {
            match r {
                Record::Family(def) => defs.push(def),
                Record::Series {
                    family,
                    pid,
                    labels,
                    cells_at,
                    ..
                } => {
                    let def = &defs[family as usize];
                    if def.kind == Kind::Gauge && def.mode.live_only() && !live {
                        return Ok(());
                    }
                    let value =
                        Value::from_cells(def.kind, &source.cells(cells_at, cells_for(def)));
                    let fam = self
                        .families
                        .entry(def.name.clone())
                        .or_insert_with(|| FamilyAgg {
                            def: def.clone(),
                            created: header.start_nanos,
                            series: BTreeMap::new(),
                        });
                    if !fam.def.same_shape(def) {
                        // The schema file prevents this; a hand-edited directory could not.
                        return Ok(());
                    }
                    fam.created = fam.created.min(header.start_nanos);
                    let pid = if def.kind == Kind::Gauge && def.mode.per_process() {
                        pid
                    } else {
                        0
                    };
                    match fam.series.entry((labels, pid)) {
                        std::collections::btree_map::Entry::Vacant(e) => {
                            e.insert(value);
                        }
                        std::collections::btree_map::Entry::Occupied(mut e) => {
                            e.get_mut().merge(&value, def.mode);
                        }
                    }
                }
                Record::Absorbed(ids) => self.absorbed.extend(ids),
            }
            Ok(())
        })
    }

    /// The archive's bytes.
    fn encode(&self) -> Vec<u8> {
        let mut buf = RecordBuf::default();
        buf.bytes.resize(HEADER_LEN, 0);
        let keep = self.absorbed.len().saturating_sub(ABSORBED_KEPT);
        buf.absorbed(&self.absorbed[keep..]);
        let mut created = u64::MAX;
        for (ordinal, fam) in self.families.values().enumerate() {
            buf.family(&fam.def);
            created = created.min(fam.created);
            for ((labels, pid), value) in &fam.series {
                buf.series(ordinal as u32, *pid, labels, &value.to_cells());
            }
        }
        let header = format::header(
            0,
            0,
            buf.bytes.len() as u64,
            if created == u64::MAX {
                sys::now_nanos()
            } else {
                created
            },
        );
        buf.bytes[..HEADER_LEN].copy_from_slice(&header);
        buf.bytes
    }

    /// The families, as a scrape shows them.
    fn render(&self) -> Vec<FamilySnapshot> {
        self.families
            .values()
            .filter_map(|fam| {
                let def = &fam.def;
                let per_process = def.kind == Kind::Gauge && def.mode.per_process();
                let mut label_names = def.label_names.clone();
                if per_process {
                    label_names.push("pid".to_owned());
                }
                let created = fam.created as f64 / 1e9;
                let mut series: Vec<SeriesSnapshot> = Vec::with_capacity(fam.series.len());
                for ((labels, pid), value) in &fam.series {
                    let mut labels = labels.clone();
                    if per_process {
                        labels.push(pid.to_string());
                    }
                    let value = match value {
                        Value::Counter { whole, fraction } => SeriesValue::Counter {
                            value: *whole as f64 + fraction,
                            whole: (*fraction == 0.0).then_some(*whole),
                            exemplar: None,
                        },
                        Value::Gauge { value, .. } => SeriesValue::Gauge { value: *value },
                        Value::Histogram { counts, sum } => SeriesValue::Histogram(
                            HistogramSnapshot::from_exact_buckets(
                                &def.name,
                                &def.bounds,
                                counts.clone(),
                                *sum,
                            )
                            .ok()?,
                        ),
                        Value::Summary { count, sum } => SeriesValue::Summary {
                            snapshot: HistogramSnapshot::from_exact_buckets(
                                &def.name,
                                &[f64::MAX],
                                vec![*count, 0],
                                *sum,
                            )
                            .ok()?,
                            quantiles: Vec::new(),
                        },
                    };
                    series.push(SeriesSnapshot {
                        labels: LabelValues::new(&labels),
                        created,
                        value,
                    });
                }
                // Per-process gauges sort by pid numerically, not as text.
                if per_process {
                    series.sort_by(|a, b| {
                        let key = |s: &SeriesSnapshot| {
                            let v = s.labels.to_vec();
                            let pid = v.last().and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
                            (v[..v.len() - 1].to_vec(), pid)
                        };
                        key(a).cmp(&key(b))
                    });
                }
                Some(FamilySnapshot {
                    name: def.name.clone(),
                    help: def.help.clone(),
                    unit: None,
                    kind: match def.kind {
                        Kind::Counter => MetricKind::Counter,
                        Kind::Gauge => MetricKind::Gauge,
                        Kind::Histogram => MetricKind::Histogram,
                        Kind::Summary => MetricKind::Summary,
                    },
                    label_names,
                    series,
                    named_total: true,
                })
            })
            .collect()
    }
}

/// Segment (and stale temporary) files in `dir`.
fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, bool)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(SUFFIX) {
            continue;
        }
        if name.starts_with(SEGMENT_PREFIX) {
            out.push((entry.path(), false));
        } else if name.starts_with(TMP_PREFIX) {
            out.push((entry.path(), true));
        }
    }
    out.sort();
    Ok(out)
}

fn read_archive(dir: &Path, into: &mut Aggregate) -> Result<()> {
    let path = dir.join(ARCHIVE_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(dir_error(dir, "cannot read the archive", e)),
    };
    let end = bytes.len();
    into.add(&bytes, end, &Source::Copied(&bytes), false)
        .map_err(|e| dir_error(dir, &format!("cannot read {ARCHIVE_FILE}"), e))
}

/// Checks that every file in `dir` is of this format version.
pub(crate) fn check_versions(dir: &Path) -> Result<()> {
    let mut names: Vec<PathBuf> = list(dir)
        .map_err(|e| dir_error(dir, "cannot list", e))?
        .into_iter()
        .filter(|(_, tmp)| !tmp)
        .map(|(p, _)| p)
        .collect();
    names.push(dir.join(ARCHIVE_FILE));
    names.push(dir.join(SCHEMA_FILE));
    for path in names {
        let mut head = [0u8; HEADER_LEN];
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(dir_error(
                    dir,
                    &format!("cannot read {}", path.display()),
                    e,
                ));
            }
        };
        if file.read_exact(&mut head).is_err() {
            // A segment whose creator died before writing its header is still a tmp file;
            // anything else this short is not ours.
            return Err(dir_error(
                dir,
                &format!("{} is not a metricore arena file", path.display()),
                "too short",
            ));
        }
        format::read_header(&head)
            .map_err(|e| dir_error(dir, &format!("{}", path.display()), e))?;
    }
    Ok(())
}

/// Folds the segments of dead processes into the archive (see the module docs). With
/// `wait` false, gives up at once when another process holds the directory lock.
pub(crate) fn fold_dead(dir: &Path, lock: &File, wait: bool) -> Result<()> {
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    if !sys::flock(lock, op).map_err(|e| dir_error(dir, "cannot take the directory lock", e))? {
        return Ok(());
    }
    let result = fold_locked(dir);
    sys::unlock(lock);
    result
}

fn fold_locked(dir: &Path) -> Result<()> {
    let mut agg = Aggregate::default();
    read_archive(dir, &mut agg)?;
    let absorbed: HashSet<u64> = agg.absorbed.iter().copied().collect();
    // Locked files of dead owners: folded now or already absorbed, unlinked at the end.
    let mut dead: Vec<(PathBuf, File)> = Vec::new();
    let mut added = false;
    for (path, tmp) in list(dir).map_err(|e| dir_error(dir, "cannot list", e))? {
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if !sys::flock(&file, libc::LOCK_EX | libc::LOCK_NB).unwrap_or(false) {
            continue; // live
        }
        if tmp {
            dead.push((path, file));
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(header) = format::read_header(&bytes) else {
            continue; // another version's file: reported at open, left alone
        };
        if !absorbed.contains(&header.id) {
            let end = committed_of(&bytes);
            if agg
                .add(&bytes, end, &Source::Copied(&bytes), false)
                .is_err()
            {
                continue;
            }
            agg.absorbed.push(header.id);
            added = true;
        }
        dead.push((path, file));
    }
    if added {
        let tmp = dir.join(ARCHIVE_TMP);
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_CLOEXEC)
                .open(&tmp)?;
            f.write_all(&agg.encode())?;
            f.sync_all()?;
            std::fs::rename(&tmp, dir.join(ARCHIVE_FILE))?;
            sys::sync_dir(dir)
        };
        write().map_err(|e| dir_error(dir, "cannot write the archive", e))?;
    }
    for (path, _file) in dead {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// The committed length recorded in a copied file's header.
fn committed_of(bytes: &[u8]) -> usize {
    bytes
        .get(format::COMMITTED_AT..format::COMMITTED_AT + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, |b| {
            usize::try_from(u64::from_le_bytes(b)).unwrap_or(usize::MAX)
        })
}

/// Checks `def` against the schema file and adds it when new, under the directory lock.
pub(crate) fn declare(dir: &Path, lock: &File, def: &FamilyDef) -> Result<()> {
    sys::flock(lock, libc::LOCK_EX)
        .map_err(|e| dir_error(dir, "cannot take the directory lock", e))?;
    let result = declare_locked(dir, def);
    sys::unlock(lock);
    result
}

fn declare_locked(dir: &Path, def: &FamilyDef) -> Result<()> {
    let fail = |e: std::io::Error| dir_error(dir, &format!("cannot update {SCHEMA_FILE}"), e);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_CLOEXEC)
        .open(dir.join(SCHEMA_FILE))
        .map_err(fail)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(fail)?;
    if bytes.len() < HEADER_LEN {
        bytes = format::header(0, 0, HEADER_LEN as u64, sys::now_nanos()).to_vec();
        file.write_all_at(&bytes, 0).map_err(fail)?;
    }
    format::read_header(&bytes).map_err(|e| dir_error(dir, SCHEMA_FILE, e))?;
    let end = committed_of(&bytes);
    let mut found = None;
    format::for_each_record(&bytes, end, |r| {
        if let Record::Family(known) = r {
            if known.name == def.name {
                found = Some(known);
            }
        }
        Ok(())
    })
    .map_err(|e| dir_error(dir, SCHEMA_FILE, e))?;
    match found {
        Some(known) if known.same_shape(def) => Ok(()),
        Some(_) => Err(conflict(&def.name)),
        None => {
            // Written past the committed length, then committed: a crash in between leaves
            // the record unread and overwritten by the next declaration.
            let mut buf = RecordBuf::default();
            buf.family(def);
            file.write_all_at(&buf.bytes, end as u64).map_err(fail)?;
            file.sync_data().map_err(fail)?;
            let committed = (end + buf.bytes.len()) as u64;
            file.seek(SeekFrom::Start(format::COMMITTED_AT as u64))
                .map_err(fail)?;
            file.write_all(&committed.to_le_bytes()).map_err(fail)?;
            Ok(())
        }
    }
}

/// Renders the aggregate of every process in an arena directory, as a [`Collector`]:
/// register it with a [`Registry`](crate::Registry) to serve it in any format and dialect.
///
/// It needs no segment of its own, so a process that only serves scrapes (or a separate
/// exporter) can use it without joining the arena.
#[derive(Debug)]
pub struct ArenaCollector {
    dir: PathBuf,
    lock: File,
}

impl ArenaCollector {
    /// A collector of the arena in `dir`.
    ///
    /// # Errors
    /// [`ErrorKind::ArenaUnavailable`](crate::ErrorKind::ArenaUnavailable) naming the
    /// directory and the cause: missing, not writable, or holding files of an incompatible
    /// format version.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let lock = open_lock(&dir)?;
        check_versions(&dir)?;
        Ok(Self { dir, lock })
    }

    /// The families of every process, merged.
    ///
    /// # Errors
    /// [`ErrorKind::ArenaUnavailable`](crate::ErrorKind::ArenaUnavailable) when the
    /// directory or the archive cannot be read.
    pub fn families(&self) -> Result<Vec<FamilySnapshot>> {
        let dir = &self.dir;
        fold_dead(dir, &self.lock, false)?;
        // Segments first, the archive after: see "Reading" in the module docs.
        let mut open = Vec::new();
        for (path, tmp) in list(dir).map_err(|e| dir_error(dir, "cannot list", e))? {
            if tmp {
                continue;
            }
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let live = match sys::flock(&file, libc::LOCK_SH | libc::LOCK_NB) {
                Ok(true) => {
                    sys::unlock(&file);
                    false
                }
                _ => true,
            };
            let Ok(meta) = file.metadata() else { continue };
            let len = usize::try_from(meta.len()).unwrap_or(0);
            if len < HEADER_LEN {
                continue;
            }
            let Ok(map) = Mapping::new(&file, len, false) else {
                continue;
            };
            open.push((map, len, live));
        }
        let mut agg = Aggregate::default();
        read_archive(dir, &mut agg)?;
        let absorbed: HashSet<u64> = agg.absorbed.iter().copied().collect();
        for (map, len, live) in &open {
            let bytes = map.bytes(*len);
            let Ok(header) = format::read_header(bytes) else {
                continue;
            };
            if absorbed.contains(&header.id) {
                continue;
            }
            // SAFETY: the mapping covers at least the header (checked above).
            let end = unsafe { format::load_committed(map.ptr()) };
            let end = usize::try_from(end).unwrap_or(usize::MAX).min(*len);
            // A file another version wrote, or damaged, is left out of the scrape; opening
            // the arena reports it.
            let _ = agg.add(bytes, end, &Source::Mapped(map), *live);
        }
        Ok(agg.render())
    }

    /// Total bytes of the arena's files (segments, archive, schema), for sizing.
    ///
    /// # Errors
    /// When the directory cannot be listed.
    pub fn disk_bytes(&self) -> Result<u64> {
        let mut total = 0;
        for entry in
            std::fs::read_dir(&self.dir).map_err(|e| dir_error(&self.dir, "cannot list", e))?
        {
            let entry = entry.map_err(|e| dir_error(&self.dir, "cannot list", e))?;
            let name = entry.file_name();
            if name
                .to_str()
                .is_some_and(|n| n.ends_with(SUFFIX) || n == LOCK_FILE)
            {
                total += entry.metadata().map_or(0, |m| m.len());
            }
        }
        Ok(total)
    }
}

impl Collector for ArenaCollector {
    fn collect(&self) -> CollectResult {
        Ok(self.families()?)
    }
}
