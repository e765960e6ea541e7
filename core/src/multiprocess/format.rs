//! The on-disk format shared by segments, the archive and the schema file, and the parser
//! that reads it back.
//!
//! Every file starts with a 64-byte header:
//!
//! ```text
//! 0   magic      8 bytes  "MCARENA\0"
//! 8   version    u32      FORMAT_VERSION; a reader refuses any other
//! 12  pid        u32      the owning process (0 for the archive and the schema)
//! 16  id         u64      random, names the segment in the archive's absorbed list
//! 24  committed  u64      end of the published records (atomic, Release by the writer)
//! 32  start      u64      creation time, Unix nanoseconds
//! ```
//!
//! followed by records, each 8-byte aligned: `u32 len` (whole record, a multiple of 8),
//! `u32 tag`, then the payload. A record lies wholly below `committed` before anyone reads
//! it, because the writer fills it in and only then moves `committed` past it: a process
//! killed halfway through a record leaves it beyond `committed`, invisible.
//!
//! Records:
//! - `FAMILY`: kind `u8`, gauge mode `u8`, 2 pad, bound count `u32`, name, help, label
//!   count `u32` and label names (strings are `u32` length + UTF-8), the bounds as `f64`s.
//! - `SERIES`: family ordinal `u32` (the n-th `FAMILY` record of the same file), pid `u32`,
//!   label count `u32` and values, padding to 8, then the value cells, `u64` each, their
//!   number fixed by the family's kind ([`cells_for`]).
//! - `ABSORBED` (archive only): count `u32`, pad, the `u64` ids of the segments folded in.

use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) const MAGIC: [u8; 8] = *b"MCARENA\0";
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 64;
pub(crate) const COMMITTED_AT: usize = 24;

pub(crate) const TAG_FAMILY: u32 = 1;
pub(crate) const TAG_SERIES: u32 = 2;
pub(crate) const TAG_ABSORBED: u32 = 3;

/// The kinds a family can have in the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter = 1,
    Gauge = 2,
    Histogram = 3,
    Summary = 4,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Counter,
            2 => Self::Gauge,
            3 => Self::Histogram,
            4 => Self::Summary,
            _ => return None,
        })
    }
}

/// How the gauges of many processes become one value per label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GaugeMode {
    /// One series per process, with a `pid` label; dead processes' values are kept.
    #[default]
    All,
    /// One series per live process, with a `pid` label.
    LiveAll,
    /// The smallest value of any process, dead ones included.
    Min,
    /// The largest value of any process, dead ones included.
    Max,
    /// The sum over all processes, dead ones included.
    Sum,
    /// The sum over live processes.
    LiveSum,
    /// The value set most recently by any process, dead ones included.
    MostRecent,
    /// The value set most recently by a live process.
    LiveMostRecent,
}

impl GaugeMode {
    /// prometheus_client's spelling of the mode (`all`, `liveall`, `livesum`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::LiveAll => "liveall",
            Self::Min => "min",
            Self::Max => "max",
            Self::Sum => "sum",
            Self::LiveSum => "livesum",
            Self::MostRecent => "mostrecent",
            Self::LiveMostRecent => "livemostrecent",
        }
    }

    /// Parses prometheus_client's spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "all" => Self::All,
            "liveall" => Self::LiveAll,
            "min" => Self::Min,
            "max" => Self::Max,
            "sum" => Self::Sum,
            "livesum" => Self::LiveSum,
            "mostrecent" => Self::MostRecent,
            "livemostrecent" => Self::LiveMostRecent,
            _ => return None,
        })
    }

    /// Whether a dead process's value is dropped.
    pub fn live_only(self) -> bool {
        matches!(self, Self::LiveAll | Self::LiveSum | Self::LiveMostRecent)
    }

    /// Whether each process keeps its own series, told apart by a `pid` label.
    pub fn per_process(self) -> bool {
        matches!(self, Self::All | Self::LiveAll)
    }

    /// Whether a set records the time, to find the most recent.
    pub(crate) fn timed(self) -> bool {
        matches!(self, Self::MostRecent | Self::LiveMostRecent)
    }

    fn to_u8(self) -> u8 {
        self as u8
    }

    fn from_u8(b: u8) -> Option<Self> {
        [
            Self::All,
            Self::LiveAll,
            Self::Min,
            Self::Max,
            Self::Sum,
            Self::LiveSum,
            Self::MostRecent,
            Self::LiveMostRecent,
        ]
        .get(usize::from(b))
        .copied()
    }
}

/// A family as the files describe it: everything that must agree between processes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FamilyDef {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) kind: Kind,
    pub(crate) mode: GaugeMode,
    pub(crate) label_names: Vec<String>,
    pub(crate) bounds: Vec<f64>,
}

impl FamilyDef {
    /// Whether `other` has the same shape (help text may differ, as in one process).
    pub(crate) fn same_shape(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.label_names == other.label_names
            && (self.kind != Kind::Gauge || self.mode == other.mode)
            && self.bounds.len() == other.bounds.len()
            && self
                .bounds
                .iter()
                .zip(&other.bounds)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

/// Value cells per series of a family.
pub(crate) fn cells_for(def: &FamilyDef) -> usize {
    match def.kind {
        // Whole increments (one fetch_add), fractional ones (f64 bits, CAS).
        Kind::Counter => 2,
        // Value (f64 bits), time of the last set (Unix nanoseconds, timed modes only).
        Kind::Gauge => 2,
        // One count per bucket, +Inf last, then the sum (f64 bits, CAS).
        Kind::Histogram => def.bounds.len() + 2,
        // Count, sum (f64 bits).
        Kind::Summary => 2,
    }
}

pub(crate) fn pad8(n: usize) -> usize {
    (n + 7) & !7
}

/// Builds records into a byte buffer.
#[derive(Default)]
pub(crate) struct RecordBuf {
    pub(crate) bytes: Vec<u8>,
}

impl RecordBuf {
    fn start(&mut self, tag: u32) -> usize {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(&0u32.to_le_bytes());
        self.bytes.extend_from_slice(&tag.to_le_bytes());
        at
    }

    fn finish(&mut self, at: usize) {
        self.bytes.resize(at + pad8(self.bytes.len() - at), 0);
        let len = u32::try_from(self.bytes.len() - at).unwrap_or(u32::MAX);
        self.bytes[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
        self.bytes.extend_from_slice(s.as_bytes());
    }

    fn len_u32(n: usize) -> u32 {
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub(crate) fn family(&mut self, def: &FamilyDef) {
        let at = self.start(TAG_FAMILY);
        self.bytes
            .extend_from_slice(&[def.kind as u8, def.mode.to_u8(), 0, 0]);
        self.u32(Self::len_u32(def.bounds.len()));
        self.str(&def.name);
        self.str(&def.help);
        self.u32(Self::len_u32(def.label_names.len()));
        for l in &def.label_names {
            self.str(l);
        }
        for b in &def.bounds {
            self.bytes.extend_from_slice(&b.to_le_bytes());
        }
        self.finish(at);
    }

    /// Appends a series record; returns the offset of its first cell within the buffer.
    pub(crate) fn series(
        &mut self,
        family: u32,
        pid: u32,
        labels: &[String],
        cells: &[u64],
    ) -> usize {
        let at = self.start(TAG_SERIES);
        self.u32(family);
        self.u32(pid);
        self.u32(Self::len_u32(labels.len()));
        for v in labels {
            self.str(v);
        }
        self.bytes.resize(at + pad8(self.bytes.len() - at), 0);
        let cells_at = self.bytes.len();
        for c in cells {
            self.bytes.extend_from_slice(&c.to_le_bytes());
        }
        self.finish(at);
        cells_at
    }

    pub(crate) fn absorbed(&mut self, ids: &[u64]) {
        let at = self.start(TAG_ABSORBED);
        self.u32(Self::len_u32(ids.len()));
        self.u32(0);
        for id in ids {
            self.bytes.extend_from_slice(&id.to_le_bytes());
        }
        self.finish(at);
    }
}

pub(crate) fn header(pid: u32, id: u64, committed: u64, start_nanos: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&pid.to_le_bytes());
    h[16..24].copy_from_slice(&id.to_le_bytes());
    h[24..32].copy_from_slice(&committed.to_le_bytes());
    h[32..40].copy_from_slice(&start_nanos.to_le_bytes());
    h
}

/// Why a file could not be read.
#[derive(Debug)]
pub(crate) enum FormatError {
    /// Not an arena file, or one of another format version.
    Incompatible(String),
    /// A record does not parse (the file was written by something else, or damaged).
    Corrupt(String),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Incompatible(s) | Self::Corrupt(s) => f.write_str(s),
        }
    }
}

/// The parsed header of a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) id: u64,
    pub(crate) start_nanos: u64,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Checks the header of `bytes` (at least the header's length).
pub(crate) fn read_header(bytes: &[u8]) -> Result<Header, FormatError> {
    if bytes.len() < HEADER_LEN || bytes[..8] != MAGIC {
        return Err(FormatError::Incompatible(
            "not a metricore arena file (bad magic)".into(),
        ));
    }
    let version = u32_at(bytes, 8).unwrap_or(0);
    if version != FORMAT_VERSION {
        return Err(FormatError::Incompatible(format!(
            "written by an incompatible metricore (arena format version {version}, this one reads {FORMAT_VERSION})"
        )));
    }
    Ok(Header {
        id: u64_at(bytes, 16).unwrap_or(0),
        start_nanos: u64_at(bytes, 32).unwrap_or(0),
    })
}

/// Reads the committed length of a mapped file: the word is atomic because its owner moves
/// it while others read.
///
/// # Safety
/// `base` must point to a live mapping of at least `HEADER_LEN` bytes, 8-aligned.
pub(crate) unsafe fn load_committed(base: *const u8) -> u64 {
    // SAFETY: the caller guarantees the mapping; offset 24 is 8-aligned within the header.
    let word = unsafe { &*base.add(COMMITTED_AT).cast::<AtomicU64>() };
    // Acquire: pairs with the writer's Release store, so every record below it is complete.
    word.load(Ordering::Acquire)
}

/// One parsed record.
pub(crate) enum Record<'a> {
    Family(FamilyDef),
    Series {
        family: u32,
        pid: u32,
        labels: Vec<String>,
        /// Offset of the first cell in the file.
        cells_at: usize,
        _bytes: &'a [u8],
    },
    Absorbed(Vec<u64>),
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn u32(&mut self) -> Option<u32> {
        if self.at + 4 > self.end {
            return None;
        }
        let v = u32_at(self.b, self.at)?;
        self.at += 4;
        Some(v)
    }

    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        if self.at.checked_add(n)? > self.end {
            return None;
        }
        let s = std::str::from_utf8(&self.b[self.at..self.at + n]).ok()?;
        self.at += n;
        Some(s.to_owned())
    }
}

/// Parses the records of `bytes[HEADER_LEN..end]`, calling `f` for each.
pub(crate) fn for_each_record<'a>(
    bytes: &'a [u8],
    end: usize,
    mut f: impl FnMut(Record<'a>) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let end = end.min(bytes.len());
    let mut at = HEADER_LEN;
    let corrupt = |at: usize| FormatError::Corrupt(format!("unreadable record at byte {at}"));
    let mut families: Vec<usize> = Vec::new();
    while at + 8 <= end {
        let len = u32_at(bytes, at).ok_or_else(|| corrupt(at))? as usize;
        let tag = u32_at(bytes, at + 4).ok_or_else(|| corrupt(at))?;
        if len < 8 || len % 8 != 0 || at + len > end {
            return Err(corrupt(at));
        }
        let mut c = Cursor {
            b: bytes,
            at: at + 8,
            end: at + len,
        };
        match tag {
            TAG_FAMILY => {
                let def = (|| {
                    let head = bytes.get(c.at..c.at + 4)?;
                    let kind = Kind::from_u8(head[0])?;
                    let mode = GaugeMode::from_u8(head[1])?;
                    c.at += 4;
                    let nb = c.u32()? as usize;
                    let name = c.str()?;
                    let help = c.str()?;
                    let nl = c.u32()? as usize;
                    let mut label_names = Vec::with_capacity(nl.min(64));
                    for _ in 0..nl {
                        label_names.push(c.str()?);
                    }
                    let mut bounds = Vec::with_capacity(nb.min(1024));
                    for _ in 0..nb {
                        if c.at + 8 > c.end {
                            return None;
                        }
                        bounds.push(f64::from_bits(u64_at(bytes, c.at)?));
                        c.at += 8;
                    }
                    Some(FamilyDef {
                        name,
                        help,
                        kind,
                        mode,
                        label_names,
                        bounds,
                    })
                })()
                .ok_or_else(|| corrupt(at))?;
                families.push(cells_for(&def));
                f(Record::Family(def))?;
            }
            TAG_SERIES => {
                let (family, pid, labels) = (|| {
                    let family = c.u32()?;
                    let pid = c.u32()?;
                    let n = c.u32()? as usize;
                    let mut labels = Vec::with_capacity(n.min(64));
                    for _ in 0..n {
                        labels.push(c.str()?);
                    }
                    Some((family, pid, labels))
                })()
                .ok_or_else(|| corrupt(at))?;
                let cells_at = at + pad8(c.at - at);
                let cells = *families.get(family as usize).ok_or_else(|| corrupt(at))?;
                if cells_at + cells * 8 > at + len {
                    return Err(corrupt(at));
                }
                f(Record::Series {
                    family,
                    pid,
                    labels,
                    cells_at,
                    _bytes: bytes,
                })?;
            }
            TAG_ABSORBED => {
                let n = c.u32().ok_or_else(|| corrupt(at))? as usize;
                let first = at + 16;
                if first + n * 8 > at + len {
                    return Err(corrupt(at));
                }
                let ids = (0..n)
                    .map(|i| u64_at(bytes, first + i * 8).unwrap_or(0))
                    .collect();
                f(Record::Absorbed(ids))?;
            }
            _ => return Err(corrupt(at)),
        }
        at += len;
    }
    Ok(())
}
