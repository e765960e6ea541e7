//! The HTTP server: a registry's `/metrics`, `/health`, `/ready`, `/api/v1/snapshot`, `/live`
//! and the dashboard, served from a thread of its own (built with the `server` feature).

use std::ffi::c_char;
use std::net::SocketAddr;
use std::path::PathBuf;

use metricore::server::{Auth, ServeOptions, ServerHandle, TlsOptions, serve};

use crate::error::{check, fail, metricore_status};
use crate::ffi::{self, Castable, OwnershipBox};
use crate::registry::metricore_registry;

/// How to serve: the address, the metrics path, credentials and TLS files.
///
/// Under the hood a `Box`. Made by `metricore_server_options_new` (127.0.0.1:9090,
/// `/metrics`, no credentials, no TLS), changed by the `metricore_server_options_set_*`
/// calls, read (not consumed) by `metricore_server_start`, and freed with
/// `metricore_server_options_free`. Not safe for concurrent use.
pub struct metricore_server_options {
    _private: [u8; 0],
}

impl Castable for metricore_server_options {
    type Ownership = OwnershipBox;
    type RustType = ServeOptions;
}

/// A running server. Under the hood a `Box`; `metricore_server_stop` stops it and frees it.
/// The calls that read it are safe from any thread; stop it from one thread, once.
pub struct metricore_server {
    _private: [u8; 0],
}

impl Castable for metricore_server {
    type Ownership = OwnershipBox;
    type RustType = ServerHandle;
}

/// New server options with the defaults, stored in `*options_out`. The caller frees them
/// with `metricore_server_options_free`.
///
/// Errors: `NULL_PARAMETER`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_options_new(
    options_out: *mut *mut metricore_server_options,
) -> metricore_status {
    boundary! {
        let options_out = try_out!(options_out);
        options_out.write(ffi::box_into_ptr::<metricore_server_options>(ServeOptions::new()));
        metricore_status::Ok
    }
}

/// Frees server options. NULL does nothing. A server started with them keeps its own copy.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_options_free(options: *mut metricore_server_options) {
    boundary! {
        ffi::box_free(options);
    }
}

/// Sets the address to listen on, `"IP:PORT"` (`addr_len` bytes of UTF-8), e.g.
/// `"127.0.0.1:0"` for a free loopback port or `"[::1]:9090"`.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `INVALID_ARGUMENT` when it is not an IP address
/// and port. Not thread-safe for the same options.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_options_set_listen(
    options: *mut metricore_server_options,
    addr: *const c_char,
    addr_len: usize,
) -> metricore_status {
    boundary! {
        let options = try_mut!(options);
        let text = try_str!(addr, addr_len);
        let Ok(addr) = text.parse::<SocketAddr>() else {
            return fail(
                metricore_status::InvalidArgument,
                format!("'{text}' is not an IP address and port such as 127.0.0.1:9090"),
            );
        };
        *options = std::mem::take(options).listen(addr);
        metricore_status::Ok
    }
}

/// Sets the path of the scrape endpoint (default `/metrics`); it is checked when the server
/// starts.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`. Not thread-safe for the same options.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_options_set_metrics_path(
    options: *mut metricore_server_options,
    path: *const c_char,
    path_len: usize,
) -> metricore_status {
    boundary! {
        let options = try_mut!(options);
        let path = try_str!(path, path_len);
        *options = std::mem::take(options).metrics_path(path);
        metricore_status::Ok
    }
}

/// Requires `Authorization: Bearer TOKEN` (or `?access_token=TOKEN`) on every request.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `INVALID_ARGUMENT` for an empty token. Not
/// thread-safe for the same options.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_options_set_bearer_token(
    options: *mut metricore_server_options,
    token: *const c_char,
    token_len: usize,
) -> metricore_status {
    boundary! {
        let options = try_mut!(options);
        let token = try_str!(token, token_len);
        if token.is_empty() {
            return fail(metricore_status::InvalidArgument, "the bearer token is empty");
        }
        *options = std::mem::take(options).auth(Auth::Bearer(token.to_owned()));
        metricore_status::Ok
    }
}

/// Requires HTTP Basic credentials `user`:`password` on every request.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `INVALID_ARGUMENT` for a user holding `:`.
/// Not thread-safe for the same options.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_options_set_basic_auth(
    options: *mut metricore_server_options,
    user: *const c_char,
    user_len: usize,
    password: *const c_char,
    password_len: usize,
) -> metricore_status {
    boundary! {
        let options = try_mut!(options);
        let user = try_str!(user, user_len);
        let password = try_str!(password, password_len);
        if user.contains(':') {
            return fail(
                metricore_status::InvalidArgument,
                "a Basic auth user name cannot hold ':' (RFC 7617)",
            );
        }
        *options = std::mem::take(options).auth(Auth::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        });
        metricore_status::Ok
    }
}

/// Serves HTTPS only, with the certificate chain and private key in these PEM files (read
/// when the server starts).
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`. Not thread-safe for the same options.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_options_set_tls(
    options: *mut metricore_server_options,
    cert_path: *const c_char,
    cert_path_len: usize,
    key_path: *const c_char,
    key_path_len: usize,
) -> metricore_status {
    boundary! {
        let options = try_mut!(options);
        let cert = PathBuf::from(try_str!(cert_path, cert_path_len));
        let key = PathBuf::from(try_str!(key_path, key_path_len));
        *options = std::mem::take(options).tls(TlsOptions {
            cert,
            key,
            client_ca: None,
            client_cert_required: false,
        });
        metricore_status::Ok
    }
}

/// Starts serving `registry` (and its collectors) on a thread of its own and stores the
/// server in `*server_out`. `options` may be NULL for the defaults (127.0.0.1:9090); the
/// server copies what it needs from them. The address is bound before this returns.
///
/// The caller owns the server and stops it with `metricore_server_stop`.
///
/// Errors: `NULL_PARAMETER` (`registry`, `server_out`); `IO` when the address cannot be
/// bound (the message names it: in use, not local, no permission) or a TLS file cannot be
/// read; `INVALID_CONFIG` for a bad metrics path or unusable TLS files. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_start(
    registry: *const metricore_registry,
    options: *const metricore_server_options,
    server_out: *mut *mut metricore_server,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        let server_out = try_out!(server_out);
        let options = if options.is_null() {
            ServeOptions::new()
        } else {
            try_ref!(options).clone()
        };
        match check(serve(registry, options)) {
            Ok(handle) => {
                server_out.write(ffi::box_into_ptr::<metricore_server>(handle));
                metricore_status::Ok
            }
            Err(status) => status,
        }
    }
}

/// Stores in `*port_out` the port the server listens on (the one picked, when port 0 was
/// asked for).
///
/// Errors: `NULL_PARAMETER`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_port(
    server: *const metricore_server,
    port_out: *mut u16,
) -> metricore_status {
    boundary! {
        let server = try_ref!(server);
        let port_out = try_out!(port_out);
        port_out.write(server.local_addr().port());
        metricore_status::Ok
    }
}

/// Writes the address the server listens on, `"IP:PORT"`, into `buf` (`len` bytes, no NUL
/// written); `*out_n` gets its length.
///
/// Errors: `NULL_PARAMETER`, `BUFFER_TOO_SMALL` (with the size needed in `*out_n`).
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_local_addr(
    server: *const metricore_server,
    buf: *mut u8,
    len: usize,
    out_n: *mut usize,
) -> metricore_status {
    boundary! {
        let server = try_ref!(server);
        let out_n = try_out!(out_n);
        let text = server.local_addr().to_string();
        ffi::write_buf(text.as_bytes(), buf, len, out_n, "the server's address")
    }
}

/// Stops the server: stops accepting, closes every connection, joins its thread, and frees
/// it. NULL does nothing. Do not use `server` afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_server_stop(server: *mut metricore_server) {
    boundary! {
        // Dropping the handle stops and joins the server thread.
        ffi::box_free(server);
    }
}
