//! One TLS handshake with one server, and how a TLS failure becomes a typed
//! [`TlsError`] that names the server and what did not verify.

use std::io;
use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, CertificateError};
use tracing::debug;

use super::TlsConfig;
use crate::error::{Disconnect, TlsError, TlsErrorKind};
use crate::session::connect_string::HostAddr;

/// A TLS connection to a server.
pub(crate) type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// Runs the TLS handshake on `tcp` with `host`, whose certificate must name the host as
/// the connect string writes it (unless hostname verification is off).
pub(crate) async fn handshake(
    config: &TlsConfig,
    host: &HostAddr,
    tcp: TcpStream,
) -> Result<TlsStream, Disconnect> {
    let name = ServerName::try_from(host.host.as_str())
        .map(|name| name.to_owned())
        .map_err(|e| {
            Disconnect::Tls(TlsError::new(
                host.to_string(),
                TlsErrorKind::HostnameMismatch,
                format!(
                    "{:?} is neither a DNS name nor an IP address a certificate can name: {e}",
                    host.host
                ),
            ))
        })?;
    let stream =
        config
            .connector()
            .connect(name, tcp)
            .await
            .map_err(|e| match tls_error(host, &e) {
                Some(tls) => Disconnect::Tls(tls),
                None => Disconnect::Io(Arc::new(e)),
            })?;
    let (_, connection) = stream.get_ref();
    debug!(
        %host,
        version = ?connection.protocol_version(),
        cipher_suite = ?connection.negotiated_cipher_suite().map(|s| s.suite()),
        "TLS handshake done"
    );
    Ok(stream)
}

/// The TLS failure inside an I/O error from a TLS stream, if that is what it is: the
/// handshake's own, or one that arrives after it (with TLS 1.3 a server that refuses the
/// client's certificate says so on the first read).
pub(crate) fn tls_error(host: &HostAddr, e: &io::Error) -> Option<TlsError> {
    let tls = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(TlsError::new(
        host.to_string(),
        kind_of(tls),
        tls.to_string(),
    ))
}

fn kind_of(e: &rustls::Error) -> TlsErrorKind {
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                TlsErrorKind::UntrustedCertificate
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsErrorKind::HostnameMismatch
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsErrorKind::CertificateNotValidNow,
            _ => TlsErrorKind::InvalidCertificate,
        },
        rustls::Error::AlertReceived(_) => TlsErrorKind::RefusedByServer,
        _ => TlsErrorKind::Protocol,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostAddr {
        HostAddr {
            host: "127.0.0.1".into(),
            port: 2281,
        }
    }

    #[test]
    fn rustls_failures_become_typed_errors_naming_the_host() {
        let unknown = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let tls = tls_error(&host(), &unknown).expect("a TLS error");
        assert_eq!(tls.kind, TlsErrorKind::UntrustedCertificate);
        assert_eq!(tls.host, "127.0.0.1:2281");
        assert!(tls.reason.contains("UnknownIssuer"), "{}", tls.reason);

        let refused = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate),
        );
        assert_eq!(
            tls_error(&host(), &refused).map(|t| t.kind),
            Some(TlsErrorKind::RefusedByServer)
        );
        let name = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
        );
        assert_eq!(
            tls_error(&host(), &name).map(|t| t.kind),
            Some(TlsErrorKind::HostnameMismatch)
        );
    }

    #[test]
    fn other_io_errors_are_not_tls_errors() {
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(tls_error(&host(), &reset).is_none());
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert!(tls_error(&host(), &eof).is_none());
    }
}
