//! The few system calls the arena makes, each wrapped once: file locks, mappings, space
//! reservation, and the errors that name the directory.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::{Error, ErrorKind};

/// An error about the arena directory, naming it and the cause.
pub(crate) fn dir_error(dir: &Path, what: &str, cause: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::ArenaUnavailable,
        None,
        format!(
            "multiprocess directory '{}': {what}: {cause}",
            dir.display()
        ),
    )
}

/// Takes `op` (LOCK_SH / LOCK_EX, with LOCK_NB to try); `Ok(false)` when a try finds it
/// held elsewhere.
pub(crate) fn flock(file: &File, op: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: flock on an open descriptor owned by `file`; no memory is passed.
        let r = unsafe { libc::flock(file.as_raw_fd(), op) };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

pub(crate) fn unlock(file: &File) {
    // SAFETY: as in `flock`. Unlocking cannot fail on a valid descriptor; a failure would
    // only leave the lock until the descriptor closes.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
}

/// Makes `file` at least `len` bytes with its blocks allocated now, so that a full disk is
/// an error here rather than a SIGBUS when a mapped page is first written.
pub(crate) fn reserve(file: &File, len: usize) -> io::Result<()> {
    let len =
        libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    loop {
        // SAFETY: posix_fallocate on an open descriptor; no memory is passed.
        let r = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
        match r {
            0 => return Ok(()),
            libc::EINTR => {}
            // Filesystems without fallocate: extend the size instead (blocks come on write).
            libc::EOPNOTSUPP => return file.set_len(len as u64),
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

/// A shared mapping of a file, unmapped on drop.
pub(crate) struct Mapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; every access through it that can race with
// another thread or process is an atomic operation (see the module docs).
unsafe impl Send for Mapping {}
// SAFETY: as for Send.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `file`; writable mappings may extend past the file's current end
    /// (pages there are touched only after `reserve` has grown the file over them).
    pub(crate) fn new(file: &File, len: usize, writable: bool) -> io::Result<Self> {
        if len == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh mapping chosen by the kernel (addr NULL) of an open descriptor;
        // the result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            ptr: ptr.cast(),
            len,
        })
    }

    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The first `len` bytes, which must lie within the file.
    ///
    /// Bytes read through this slice that another process may be changing are only ever
    /// record bytes below the committed length, which nobody changes once published; cells
    /// are read through [`Mapping::cell`].
    pub(crate) fn bytes(&self, len: usize) -> &[u8] {
        // SAFETY: `len` is clamped to the mapping; the memory stays mapped while `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr, len.min(self.len)) }
    }

    /// The atomic cell at byte `at` (8-aligned, within the mapped file).
    pub(crate) fn cell(&self, at: usize) -> &std::sync::atomic::AtomicU64 {
        assert!(
            at % 8 == 0 && at + 8 <= self.len,
            "cell outside the mapping"
        );
        // SAFETY: in bounds and aligned (checked above; the mapping is page-aligned); the
        // memory lives as long as `self`, and AtomicU64 has u64's layout.
        unsafe { &*self.ptr.add(at).cast::<std::sync::atomic::AtomicU64>() }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `new` mapped; no reference into it outlives `self`
        // (handles hold an Arc of the mapping).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Flushes a directory's entries (after a rename), so the rename survives a power cut.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The current process id.
pub(crate) fn pid() -> u32 {
    std::process::id()
}

/// Unix time in nanoseconds (read through the vDSO: no system call).
pub(crate) fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A random 64-bit id (std's per-process hash keys, mixed with the pid and the time).
pub(crate) fn random_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(pid());
    h.write_u64(now_nanos());
    h.finish().max(1)
}
