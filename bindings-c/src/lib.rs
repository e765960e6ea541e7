//! # metricore-c: the C ABI of metricore
//!
//! `libmetricore.so` / `libmetricore.a` and `include/metricore.h` (generated from this crate
//! by a pinned cbindgen and committed). The conventions, the same for every function, follow
//! rustls-ffi:
//!
//! - **Names.** Every symbol starts with `metricore_`; functions are
//!   `metricore_<type>_<verb>`; `_new`, `_clone`, `_free` and `_build` mean the same thing
//!   everywhere. The object comes first, then inputs, then outputs (`*_out`, `out_n`).
//! - **Handles.** Every type is opaque. Registries, families and series (counter, gauge,
//!   histogram) and samplers are reference-counted (`Arc`): `_clone` adds a reference, `_free`
//!   drops one, and they are safe to use from any thread. Builders, timers, snapshots and
//!   collections are owned by the caller (`Box`), freed by `_free` (or consumed by `_build`,
//!   `_stop`, `_discard`), and not safe for concurrent mutation.
//! - **Errors.** Fallible calls return `metricore_status` (`METRICORE_STATUS_OK` is 0) and
//!   write outputs only on success; a failing call stores a message naming the metric and
//!   the rule it broke, read with `metricore_last_error_message`. Hot-path calls (`inc`,
//!   `add`, `set`, `record`) return nothing: on NULL they do nothing.
//! - **NULL.** Every pointer is checked: a fallible call returns
//!   `METRICORE_STATUS_NULL_PARAMETER`, an infallible one returns 0, false or NULL.
//! - **Strings** go in as `(const char *ptr, size_t len)` (or `metricore_str` arrays for label
//!   values), checked to be UTF-8 without NUL bytes; `{NULL, 0}` is the empty string.
//!   Returned `metricore_str` views say how long they live.
//! - **Buffers.** Outputs of unknown size (exposition, JSON, V2 blobs) are written into the
//!   caller's `(buf, len)`, without a NUL; `*out_n` gets the size, and a buffer too small gets
//!   `METRICORE_STATUS_BUFFER_TOO_SMALL` with the size needed in `*out_n`.
//! - **Panics** never cross into C: every body runs inside `catch_unwind`, and a panic comes
//!   back as `METRICORE_STATUS_PANIC` (or the neutral default).
//!
//! Raw pointers are only turned into references in [`ffi`]; see its docs for the helpers.
#![deny(clippy::undocumented_unsafe_blocks)]
// The C names are the ABI: snake_case types such as `metricore_counter`.
#![allow(non_camel_case_types)]

#[macro_use]
mod boundary;
#[macro_use]
mod ffi;
mod collector;
mod counter;
mod error;
mod family;
mod gauge;
mod histogram;
#[cfg(test)]
mod hostile_tests;
mod registry;
mod sampler;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "testing")]
mod testing;
#[cfg(test)]
mod tests;

use std::ffi::c_char;

/// The C ABI's version: incremented whenever a change could break a program compiled
/// against an earlier header (a removed or changed function, a changed struct layout or
/// enum value). Adding functions does not change it. It is the SONAME's number
/// (`libmetricore.so.1`). Keep in sync with `METRICORE_ABI_VERSION` in cbindgen.toml and
/// `ABI_VERSION` in build.rs (both checked by unit tests).
pub(crate) const ABI_VERSION: u32 = 1;

/// The library's version as a static NUL-terminated string such as `"0.1.0"` (the
/// metricore release, the same for the Rust, C, Python and Node packages). Never NULL;
/// must not be freed. Compare with the header's `METRICORE_VERSION_*` macros to detect a
/// header/library mismatch. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_version() -> *const c_char {
    boundary! {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast::<c_char>()
    }
}

/// The ABI version of the loaded library. A program should check that it equals the
/// `METRICORE_ABI_VERSION` of the header it was compiled against. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_abi_version() -> u32 {
    boundary! {
        ABI_VERSION
    }
}
