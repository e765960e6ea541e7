//! The only module that turns raw pointers from C into Rust references, boxes and arcs.
//!
//! Every C-visible type is an opaque zero-sized struct tied to its Rust type and to an
//! ownership kind by [`Castable`], so a pointer can only be converted back with the helper
//! that matches how it was handed out (`Arc` handles with [`arc_into_ptr`] / [`arc_free`],
//! `Box` objects with [`box_into_ptr`] / [`box_free`] / [`try_box_from_ptr`]). Exported
//! functions use the early-return macros ([`try_ref!`], [`try_mut!`], [`try_box!`],
//! [`try_out!`], [`try_str!`], [`try_strs!`], [`try_slice!`]) and are otherwise safe code.
//!
//! The contract every helper relies on, stated once: a non-NULL pointer that C passes for a
//! handle was returned by this library for that handle type and has not been freed; a
//! non-NULL `(ptr, len)` pair points at `len` readable elements; an out pointer points at
//! writable, aligned memory for its type. These are the C API's documented preconditions and
//! cannot be checked; NULL is always checked.

use std::ffi::c_char;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::error::{fail, metricore_status};

/// Marks a C type handed out as `Arc<RustType>` (`_clone` adds a reference, `_free` drops one).
pub(crate) struct OwnershipArc;
/// Marks a C type handed out as `Box<RustType>` (one owner; `_free` or a consuming call).
pub(crate) struct OwnershipBox;

/// Ties an opaque C type to the Rust type behind it and to how it is owned.
pub(crate) trait Castable {
    /// [`OwnershipArc`] or [`OwnershipBox`].
    type Ownership;
    /// What a pointer to the C type really points at.
    type RustType;
}

/// A borrowed, length-delimited UTF-8 string: `data` points at `len` bytes, not
/// NUL-terminated. As an input, `{NULL, 0}` is the empty string. As an output, its
/// lifetime is documented by the function that returned it, and it contains no NUL byte.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct metricore_str {
    /// The first byte (may be NULL when `len` is 0).
    pub data: *const c_char,
    /// The number of bytes.
    pub len: usize,
}

impl Default for metricore_str {
    /// `{NULL, 0}`, the empty string.
    fn default() -> Self {
        Self {
            data: std::ptr::null(),
            len: 0,
        }
    }
}

impl metricore_str {
    /// A view of `s`, which must outlive every use C makes of the view.
    pub(crate) fn borrowed(s: &str) -> Self {
        Self {
            data: s.as_ptr().cast(),
            len: s.len(),
        }
    }
}

// ------------------------------------------------------------ Arc handles

/// Moves `value` into a new `Arc` and hands C a pointer that owns one reference.
pub(crate) fn arc_into_ptr<C: Castable<Ownership = OwnershipArc>>(value: C::RustType) -> *const C {
    Arc::into_raw(Arc::new(value)).cast()
}

/// Adds a reference to the `Arc` behind `ptr` and returns the same pointer (NULL for NULL).
pub(crate) fn arc_clone<C: Castable<Ownership = OwnershipArc>>(ptr: *const C) -> *const C {
    if !ptr.is_null() {
        // SAFETY: per the module contract, a non-NULL handle pointer came from `arc_into_ptr`
        // for this type and still owns a reference, so the Arc is alive.
        unsafe { Arc::increment_strong_count(ptr.cast::<C::RustType>()) };
    }
    ptr
}

/// Drops the reference `ptr` owns (nothing for NULL).
pub(crate) fn arc_free<C: Castable<Ownership = OwnershipArc>>(ptr: *const C) {
    if !ptr.is_null() {
        // SAFETY: per the module contract the pointer came from `arc_into_ptr` and owns one
        // reference, which C gives up by calling `_free`; it is not used again.
        drop(unsafe { Arc::from_raw(ptr.cast::<C::RustType>()) });
    }
}

// ------------------------------------------------------------ Box objects

/// Moves `value` into a new `Box` owned by C.
pub(crate) fn box_into_ptr<C: Castable<Ownership = OwnershipBox>>(value: C::RustType) -> *mut C {
    Box::into_raw(Box::new(value)).cast()
}

/// Takes ownership of the `Box` behind `ptr` back from C (`None` for NULL).
pub(crate) fn try_box_from_ptr<C: Castable<Ownership = OwnershipBox>>(
    ptr: *mut C,
) -> Option<Box<C::RustType>> {
    // SAFETY: per the module contract a non-NULL pointer came from `box_into_ptr` for this
    // type and was not freed; C hands its ownership back with this call.
    NonNull::new(ptr).map(|p| unsafe { Box::from_raw(p.as_ptr().cast::<C::RustType>()) })
}

/// Drops the `Box` behind `ptr` (nothing for NULL).
pub(crate) fn box_free<C: Castable<Ownership = OwnershipBox>>(ptr: *mut C) {
    drop(try_box_from_ptr(ptr));
}

/// A mutable borrow of the `Box`-owned value behind `ptr` (`None` for NULL).
pub(crate) fn try_mut_from_ptr<'a, C: Castable<Ownership = OwnershipBox>>(
    ptr: *mut C,
) -> Option<&'a mut C::RustType> {
    // SAFETY: per the module contract a non-NULL pointer came from `box_into_ptr` and is
    // alive; box objects are documented as not safe for concurrent use, so this is the only
    // borrow for the duration of the call.
    unsafe { ptr.cast::<C::RustType>().as_mut() }
}

// ------------------------------------------------------------ both

/// A shared borrow of the value behind a handle of either ownership (`None` for NULL).
pub(crate) fn try_ref_from_ptr<'a, C: Castable>(ptr: *const C) -> Option<&'a C::RustType> {
    // SAFETY: per the module contract a non-NULL pointer came from `arc_into_ptr` or
    // `box_into_ptr` for this type (both point at the RustType itself) and stays alive for
    // the call: C may not free a handle while it is using it.
    unsafe { ptr.cast::<C::RustType>().as_ref() }
}

// ------------------------------------------------------------ out pointers and buffers

/// A checked, non-NULL out pointer. It is only written on success ("no partial results").
pub(crate) struct OutPtr<'a, T> {
    ptr: NonNull<T>,
    _borrow: PhantomData<&'a mut T>,
}

impl<T> OutPtr<'_, T> {
    /// `None` for NULL.
    pub(crate) fn new(ptr: *mut T) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Self {
            ptr,
            _borrow: PhantomData,
        })
    }

    /// Stores `value` without reading or dropping what was there (it may be uninitialised).
    pub(crate) fn write(self, value: T) {
        // SAFETY: non-NULL by construction; per the module contract an out pointer points at
        // writable memory for one aligned `T`. `write` neither reads nor drops the old value.
        unsafe { self.ptr.as_ptr().write(value) };
    }
}

/// Copies `bytes` to the start of the caller's buffer `buf` of `len` bytes.
///
/// # Panics
/// If `bytes` does not fit (callers check first).
pub(crate) fn copy_to_buf(buf: *mut u8, len: usize, bytes: &[u8]) {
    assert!(bytes.len() <= len && (!buf.is_null() || bytes.is_empty()));
    if bytes.is_empty() {
        return;
    }
    // SAFETY: `buf` is non-NULL (checked above) and per the module contract points at `len`
    // writable bytes, of which we write `bytes.len() <= len`; a Rust slice cannot overlap
    // memory C handed us as an output buffer.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
}

/// The output-buffer convention: sets `*out_n` to `bytes.len()`, then copies the bytes if
/// they fit (no NUL is added) or returns `BUFFER_TOO_SMALL` writing nothing else. `buf` may
/// be NULL only with `len` 0, to ask for the size.
pub(crate) fn write_buf(
    bytes: &[u8],
    buf: *mut u8,
    len: usize,
    out_n: OutPtr<'_, usize>,
    what: &str,
) -> metricore_status {
    if buf.is_null() && len > 0 {
        return fail(
            metricore_status::NullParameter,
            format!("argument 'buf' is NULL but 'len' is {len}"),
        );
    }
    out_n.write(bytes.len());
    if bytes.len() > len {
        return fail(
            metricore_status::BufferTooSmall,
            format!(
                "{what} needs {} bytes, the buffer has {len}; call again with a buffer of at least the size in *out_n",
                bytes.len()
            ),
        );
    }
    copy_to_buf(buf, len, bytes);
    metricore_status::Ok
}

// ------------------------------------------------------------ slices and strings

/// `(ptr, len)` as a slice: `{NULL, 0}` is empty; NULL with `len > 0` is `NULL_PARAMETER`.
pub(crate) fn slice_from_parts<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], metricore_status> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(fail(
            metricore_status::NullParameter,
            format!("argument '{what}' is NULL but its length is {len}"),
        ));
    }
    if len > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(fail(
            metricore_status::InvalidArgument,
            format!("argument '{what}' has an impossible length {len}"),
        ));
    }
    // SAFETY: non-NULL and a size that fits in isize (checked above); per the module
    // contract it points at `len` readable, initialised elements that C does not change
    // during the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `(ptr, len)` as `&str`: valid UTF-8 without NUL bytes, else `INVALID_UTF8` naming the
/// argument and the offset.
pub(crate) fn str_from_parts<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, metricore_status> {
    let bytes = slice_from_parts(ptr.cast::<u8>(), len, what)?;
    let s = std::str::from_utf8(bytes).map_err(|e| {
        fail(
            metricore_status::InvalidUtf8,
            format!(
                "argument '{what}' is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    if let Some(i) = s.bytes().position(|b| b == 0) {
        return Err(fail(
            metricore_status::InvalidUtf8,
            format!("argument '{what}' contains a NUL byte at offset {i}"),
        ));
    }
    Ok(s)
}

/// An array of [`metricore_str`] as `Vec<&str>`, each checked as by [`str_from_parts`].
pub(crate) fn strs_from_parts<'a>(
    ptr: *const metricore_str,
    len: usize,
    what: &str,
) -> Result<Vec<&'a str>, metricore_status> {
    slice_from_parts(ptr, len, what)?
        .iter()
        .enumerate()
        .map(|(i, s)| str_from_parts(s.data, s.len, &format!("{what}[{i}]")))
        .collect()
}

// ------------------------------------------------------------ macros

/// `try_ref!(ptr)`: borrows the value behind a handle; on NULL returns
/// `METRICORE_STATUS_NULL_PARAMETER` (recording which argument) or the neutral default.
macro_rules! try_ref {
    ($ptr:ident) => {
        match $crate::ffi::try_ref_from_ptr($ptr) {
            Some(r) => r,
            None => {
                return $crate::boundary::NullParameterOrDefault::null_parameter(stringify!($ptr));
            }
        }
    };
}

/// `try_mut!(ptr)`: mutably borrows a `Box` object; NULL as [`try_ref!`].
macro_rules! try_mut {
    ($ptr:ident) => {
        match $crate::ffi::try_mut_from_ptr($ptr) {
            Some(r) => r,
            None => {
                return $crate::boundary::NullParameterOrDefault::null_parameter(stringify!($ptr));
            }
        }
    };
}

/// `try_box!(ptr)`: takes a `Box` object back from C (consuming it); NULL as [`try_ref!`].
macro_rules! try_box {
    ($ptr:ident) => {
        match $crate::ffi::try_box_from_ptr($ptr) {
            Some(r) => r,
            None => {
                return $crate::boundary::NullParameterOrDefault::null_parameter(stringify!($ptr));
            }
        }
    };
}

/// `try_out!(ptr)`: checks an out pointer; NULL as [`try_ref!`].
macro_rules! try_out {
    ($ptr:ident) => {
        match $crate::ffi::OutPtr::new($ptr) {
            Some(o) => o,
            None => {
                return $crate::boundary::NullParameterOrDefault::null_parameter(stringify!($ptr));
            }
        }
    };
}

/// `try_str!(ptr, len)`: a checked UTF-8 string argument, or return its error status.
macro_rules! try_str {
    ($ptr:ident, $len:ident) => {
        match $crate::ffi::str_from_parts($ptr, $len, stringify!($ptr)) {
            Ok(s) => s,
            Err(status) => return status,
        }
    };
}

/// `try_strs!(ptr, len)`: a checked array of `metricore_str`, or return its error status.
macro_rules! try_strs {
    ($ptr:ident, $len:ident) => {
        match $crate::ffi::strs_from_parts($ptr, $len, stringify!($ptr)) {
            Ok(s) => s,
            Err(status) => return status,
        }
    };
}

/// `try_slice!(ptr, len)`: a checked array argument, or return its error status.
macro_rules! try_slice {
    ($ptr:ident, $len:ident) => {
        match $crate::ffi::slice_from_parts($ptr, $len, stringify!($ptr)) {
            Ok(s) => s,
            Err(status) => return status,
        }
    };
}
