//! Status codes and the thread-local last error.

use std::cell::RefCell;
use std::ffi::c_char;

use metricore::ErrorKind;

use crate::ffi::{self, OutPtr};

/// The result of every fallible call. `METRICORE_STATUS_OK` is 0; every other value is an
/// error, and the call that returned it has stored a message naming the metric and the rule
/// that was broken (read it with `metricore_last_error_message`).
///
/// Values are fixed forever: a retired value stays reserved, new ones are appended. A C caller
/// may see a value newer than its header; `metricore_status_str` accepts any integer.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum metricore_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// An argument is out of its documented range (an unknown enum value, a quantile
    /// outside 0..=1, an index past the end).
    InvalidArgument = 2,
    /// A string argument is not valid UTF-8, or contains a NUL byte.
    InvalidUtf8 = 3,
    /// A Rust panic was caught at the boundary; the message says where. Nothing crossed
    /// into C; the library stays usable.
    Panic = 4,
    /// The caller's buffer is too small; `*out_n` holds the size needed.
    BufferTooSmall = 5,
    /// An invalid metric name or label name.
    InvalidName = 6,
    /// Wrong label count, or unknown, missing or repeated labels.
    InvalidLabels = 7,
    /// The name is registered already with another kind, help, labels or options.
    Conflict = 8,
    /// A value that is not allowed here: NaN, negative or infinite where a duration or
    /// observation is expected. Nothing was recorded.
    InvalidValue = 9,
    /// Inconsistent options (histogram range, precision or buckets, sampler interval).
    InvalidConfig = 10,
    /// An invalid exemplar.
    InvalidExemplar = 11,
    /// Bytes that are not a valid HdrHistogram V2 blob, or histograms that cannot merge.
    CorruptBlob = 12,
    /// No family or series with that name and those labels in a collection.
    NotFound = 13,
    /// The family exists but is of another kind than the call expects.
    WrongKind = 14,
    /// An error of a kind this version of the C ABI does not know (a newer core).
    Unknown = 15,
    /// A custom collector's callback failed (while registering it, its first collection).
    CollectorFailed = 16,
    /// The operating system refused something: an address that cannot be bound (in use, not
    /// local, no permission), a file that cannot be read.
    Io = 17,
}

impl metricore_status {
    /// The description of a status code, without its NUL.
    pub(crate) fn message(code: u32) -> &'static str {
        Self::description(code).trim_end_matches('\0')
    }

    /// The static, NUL-terminated description of a status code.
    fn description(code: u32) -> &'static str {
        match code {
            0 => "ok\0",
            1 => "a required pointer argument was NULL\0",
            2 => "invalid argument\0",
            3 => "string argument is not valid UTF-8 or contains a NUL byte\0",
            4 => "a Rust panic was caught at the C boundary\0",
            5 => "buffer too small\0",
            6 => "invalid metric or label name\0",
            7 => "invalid labels\0",
            8 => "conflicting registration\0",
            9 => "invalid value\0",
            10 => "invalid configuration\0",
            11 => "invalid exemplar\0",
            12 => "corrupt HdrHistogram blob\0",
            13 => "not found\0",
            14 => "wrong metric kind\0",
            15 => "unknown error\0",
            16 => "a custom collector failed\0",
            17 => "the operating system refused (address in use, unreadable file)\0",
            _ => "unrecognised status code\0",
        }
    }
}

/// The status for a core error kind.
pub(crate) fn status_of(kind: ErrorKind) -> metricore_status {
    match kind {
        ErrorKind::InvalidName => metricore_status::InvalidName,
        ErrorKind::InvalidLabels => metricore_status::InvalidLabels,
        ErrorKind::Conflict => metricore_status::Conflict,
        ErrorKind::InvalidValue => metricore_status::InvalidValue,
        ErrorKind::InvalidConfig => metricore_status::InvalidConfig,
        ErrorKind::InvalidExemplar => metricore_status::InvalidExemplar,
        ErrorKind::CorruptBlob => metricore_status::CorruptBlob,
        ErrorKind::CollectorFailed => metricore_status::CollectorFailed,
        ErrorKind::Io => metricore_status::Io,
        _ => metricore_status::Unknown,
    }
}

thread_local! {
    /// The message of the latest failing call on this thread.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error and returns `status`, for `return fail(..)`.
pub(crate) fn fail(status: metricore_status, message: impl Into<String>) -> metricore_status {
    let message = message.into();
    // A thread being torn down has no TLS left; the status still says what went wrong.
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            *e = message;
        }
    });
    status
}

/// Records a core error (its text names the metric and the rule) and returns its status.
pub(crate) fn fail_core(err: &metricore::Error) -> metricore_status {
    fail(status_of(err.kind()), err.to_string())
}

/// Maps a core `Result` to a status, recording the error.
pub(crate) fn check<T>(r: metricore::Result<T>) -> Result<T, metricore_status> {
    r.map_err(|e| fail_core(&e))
}

/// `Ok` for `Ok(())`, else the recorded error's status.
pub(crate) fn status(r: Result<(), metricore_status>) -> metricore_status {
    match r {
        Ok(()) => metricore_status::Ok,
        Err(s) => s,
    }
}

/// Records a caught panic's payload as the last error.
pub(crate) fn record_panic(payload: &(dyn std::any::Any + Send)) {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic with a non-string payload");
    fail(
        metricore_status::Panic,
        format!("a Rust panic was caught at the C boundary: {what}"),
    );
}

/// A static, NUL-terminated English description of a status code. Any integer is accepted:
/// unknown values (from a newer library, or garbage) give "unrecognised status code".
///
/// The returned pointer is never NULL, lives for the whole program and must not be freed.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_status_str(code: u32) -> *const c_char {
    boundary! {
        metricore_status::description(code).as_ptr().cast::<c_char>()
    }
}

/// Copies this thread's last error message into `buf` (`len` bytes), always NUL-terminated
/// when `len > 0` and truncated to fit, and sets `*out_n` to the message's full length in
/// bytes, not counting the NUL. With no error yet on this thread the message is empty.
///
/// The message is set by every call that returns a status other than
/// `METRICORE_STATUS_OK`, names the metric and the rule that was broken
/// (`metric 'http_requests': expected 1 label values (method), got 2`), and stays until the
/// next failing call on the same thread: successful calls do not clear it.
///
/// Returns `METRICORE_STATUS_OK` when the whole message fit, `METRICORE_STATUS_BUFFER_TOO_SMALL`
/// when it was truncated (call again with `*out_n + 1` bytes), and
/// `METRICORE_STATUS_NULL_PARAMETER` if `out_n` is NULL, or `buf` is NULL while `len > 0`.
/// `buf = NULL, len = 0` only asks for the length. This call never changes the last error.
///
/// Thread-safe: each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> metricore_status {
    boundary! {
        let Some(out_n) = OutPtr::new(out_n) else {
            return metricore_status::NullParameter;
        };
        if buf.is_null() && len > 0 {
            return metricore_status::NullParameter;
        }
        let message = LAST_ERROR
            .try_with(|e| e.try_borrow().map(|e| e.clone()).unwrap_or_default())
            .unwrap_or_default();
        out_n.write(message.len());
        if len == 0 {
            return if message.is_empty() {
                metricore_status::Ok
            } else {
                metricore_status::BufferTooSmall
            };
        }
        // Truncate on a character boundary: the C string stays valid UTF-8.
        let mut n = message.len().min(len - 1);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        let mut text = message.as_bytes()[..n].to_vec();
        text.push(0);
        ffi::copy_to_buf(buf.cast::<u8>(), len, &text);
        if n < message.len() {
            metricore_status::BufferTooSmall
        } else {
            metricore_status::Ok
        }
    }
}
