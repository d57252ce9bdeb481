//! TLS for the syslog input (RFC 5425): the server certificate and key from PEM files, and
//! optionally a CA whose certificates clients must present (mutual TLS), through rustls.
//!
//! The files are read once at start; replacing a certificate needs a restart. Errors name the
//! file and say what is wrong with it, because a TLS misconfiguration is the admin's most
//! likely first problem with this input.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// The rustls server configuration [`server_config`] builds.
pub use rustls::ServerConfig as TlsConfig;

/// Where the certificate, the key and the optional client CA are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server certificate chain, PEM (leaf first).
    pub cert: PathBuf,
    /// The private key of the leaf certificate, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// When set, clients must present a certificate signed by one of these CAs (PEM).
    pub client_ca: Option<PathBuf>,
}

/// A TLS setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM item.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the combination (for example a key that does not match the certificate).
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::File { path: path.to_path_buf(), reason: reason.to_string() }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| file_error(path, error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| file_error(path, error))?;
    if certificates.is_empty() {
        return Err(file_error(path, "no PEM certificate (-----BEGIN CERTIFICATE-----) in it"));
    }
    Ok(certificates)
}

/// Builds the rustls server configuration for the syslog TLS listener.
///
/// # Errors
/// A file that cannot be read or parsed, a key that does not match, an unusable client CA.
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| {
        file_error(
            &files.key,
            format!("no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {error}"),
        )
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Config(error.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in certificates(path)? {
                roots.add(certificate).map_err(|error| file_error(path, error))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| file_error(path, error))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|error| TlsError::Config(format!("certificate and key: {error}")))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not pem\n").expect("write");
        let files =
            TlsFiles { cert: dir.path().join("absent.pem"), key: empty.clone(), client_ca: None };
        let error = server_config(&files).expect_err("absent certificate").to_string();
        assert!(error.contains("absent.pem"), "{error}");
        let files = TlsFiles { cert: empty.clone(), key: empty, client_ca: None };
        let error = server_config(&files).expect_err("no certificate").to_string();
        assert!(error.contains("no PEM certificate"), "{error}");
    }
}
