//! HTTPS for the mock: the [`TlsIdentity`] (PEM certificate chain and private key) a server
//! can be given, the rustls server configuration built from it (rustls 0.23 with the ring
//! provider, TLS 1.2 and 1.3, ALPN `http/1.1`), and the accept loop that terminates TLS and
//! serves the same axum router over each connection with hyper-util, exactly as
//! `axum::serve` does for plain HTTP (HTTP/1.1, keep-alive, graceful shutdown). A client
//! whose handshake fails, stalls or never starts only loses its own connection. Handlers
//! see the client's address as `ConnectInfo<SocketAddr>` over HTTPS as over HTTP.

use std::fmt;
use std::io;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{crypto, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// How long a client has to complete the TLS handshake after connecting.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate and key an HTTPS mock presents: a PEM certificate chain (leaf first,
/// then any intermediates) and a PEM private key (PKCS#8, PKCS#1 or SEC1).
#[derive(Clone)]
pub struct TlsIdentity {
    /// PEM `CERTIFICATE` blocks, leaf first.
    pub cert_chain_pem: Vec<u8>,
    /// One PEM private key block.
    pub private_key_pem: Vec<u8>,
}

impl TlsIdentity {
    /// An identity from PEM text or bytes (`String`, `&str` and `Vec<u8>` all work).
    pub fn from_pem(
        cert_chain_pem: impl Into<Vec<u8>>,
        private_key_pem: impl Into<Vec<u8>>,
    ) -> TlsIdentity {
        TlsIdentity {
            cert_chain_pem: cert_chain_pem.into(),
            private_key_pem: private_key_pem.into(),
        }
    }

    /// Reads an identity from a PEM certificate-chain file and a PEM key file.
    pub fn from_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> io::Result<TlsIdentity> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        Ok(TlsIdentity {
            cert_chain_pem: read(cert_chain.as_ref())?,
            private_key_pem: read(private_key.as_ref())?,
        })
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field(
                "cert_chain_pem",
                &format_args!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("private_key_pem", &format_args!("[REDACTED]"))
            .finish()
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Builds the TLS acceptor for `identity`; fails when the PEM holds no certificate or no
/// usable key, or when the key does not match the leaf certificate.
pub(crate) fn acceptor(identity: &TlsIdentity) -> io::Result<TlsAcceptor> {
    let certs = CertificateDer::pem_slice_iter(&identity.cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("TLS certificate chain is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(
            "TLS certificate chain holds no PEM CERTIFICATE block".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&identity.private_key_pem)
        .map_err(|e| invalid(format!("TLS private key is not a usable PEM key: {e}")))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(format!("TLS configuration failed: {e}")))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| invalid(format!("TLS certificate or key refused: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts TLS connections until `signal` fires, serving `router` on each; then stops
/// accepting, asks every connection to finish gracefully, and returns once all are closed
/// (the caller bounds that wait).
pub(crate) async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    signal: impl std::future::Future<Output = ()>,
) {
    // Connections watch `stop_tx` (closed = stop) and each holds a `done_rx` clone.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    let mut signal = pin!(signal);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Per-connection errors (reset before accept) are harmless; others, such
                    // as running out of file descriptors, deserve a short pause (axum does too).
                    if !is_connection_error(&e) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        // Handlers see the client's address as axum's `ConnectInfo`, as over plain HTTP.
        let router = router.clone().layer(Extension(ConnectInfo(peer)));
        let stop_rx = stop_rx.clone();
        let done_rx = done_rx.clone();
        tokio::spawn(async move {
            let _done = done_rx;
            let mut stop_rx = stop_rx;
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    // A failed or stalled handshake ends this connection only.
                    Ok(Err(_)) | Err(_) => return,
                },
                // Stopping: a connection still in its handshake has no request to finish.
                _ = stop_rx.changed() => return,
            };
            serve_connection(stream, router, stop_rx).await;
        });
    }
    drop(listener);
    drop(stop_rx);
    drop(done_rx);
    // Dropping the sender is the stop signal: every `changed()` then fails at once.
    drop(stop_tx);
    done_tx.closed().await;
}

/// Serves HTTP/1.1 on one established TLS stream, shutting down gracefully when `stop`
/// closes.
async fn serve_connection(
    stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    router: Router,
    mut stop: watch::Receiver<()>,
) {
    let service = TowerToHyperService::new(router);
    let builder = Builder::new(TokioExecutor::new());
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            // `changed` fails once the sender is dropped: the stop signal.
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
