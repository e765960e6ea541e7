//! TLS through rustls (ring provider): certificate and key files, optional client CAs.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig, server::WebPkiClientVerifier};

use super::TlsOptions;
use crate::error::{Error, ErrorKind, Result};

fn read_certs(path: &std::path::Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::Io,
            None,
            format!("cannot read the TLS {what} file {}: {e}", path.display()),
        )
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if certs.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            None,
            format!(
                "the TLS {what} file {} holds no PEM certificate",
                path.display()
            ),
        ));
    }
    Ok(certs)
}

fn config_error(e: &rustls::Error) -> Error {
    Error::new(
        ErrorKind::InvalidConfig,
        None,
        format!("the TLS configuration is not usable: {e}"),
    )
}

/// The acceptor for `opts`, its files read now so that a bad one is reported at start.
pub(crate) fn acceptor(opts: &TlsOptions) -> Result<TlsAcceptor> {
    let certs = read_certs(&opts.cert, "certificate")?;
    let key = PrivateKeyDer::from_pem_file(&opts.key).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            None,
            format!("cannot read a private key from {}: {e}", opts.key.display()),
        )
    })?;
    // ring rather than aws-lc-rs: aws-lc-rs builds a large C library with cmake. rustls
    // marks ring's provider deprecated only because it lacks post-quantum key exchange;
    // its classical suites are rustls' safe defaults.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(&e))?;
    let builder = match &opts.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(ca, "client CA")? {
                roots.add(cert).map_err(|e| config_error(&e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if opts.client_cert_required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier.build().map_err(|e| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    None,
                    format!("the client CA file {} is not usable: {e}", ca.display()),
                )
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| config_error(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
