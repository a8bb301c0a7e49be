//! CONNECT tunnels: the connector that sits between [`crate::net`]'s sockets (connected to
//! the proxy, because the resolver answers with the proxy's address) and ureq's rustls
//! layer. For an https base URL it asks the proxy for `CONNECT host:port` (with
//! `Proxy-Authorization` when the proxy URL had credentials), reads the answer with
//! `httparse`, and hands the socket on as the tunnel, so the TLS handshake, `ca_file`
//! included, is made with YCM itself. A refusal becomes a [`TunnelError`], which the
//! transport turns into an error naming the proxy: 4xx (407 included) as
//! [`Code::Http`] (not retried: the proxy refuses by rule or wants credentials), 5xx and a
//! proxy that closes before answering as [`Code::Connect`] (retried like any connect
//! failure: nothing reached YCM).

use super::Proxy;
use crate::error::Code;
use crate::net::Socket;
use std::fmt;
use std::io;
use std::sync::Arc;
use ureq::unversioned::transport::{ConnectionDetails, Connector, Transport};

/// The most bytes a proxy's answer to CONNECT may take before its end.
const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// The most header lines read from a proxy's answer.
const MAX_ANSWER_HEADERS: usize = 64;

/// Opens a CONNECT tunnel through `proxy` on each new connection of an https client; a
/// connector that passes sockets through when there is no proxy or the target is http.
#[derive(Debug)]
pub(crate) struct TunnelConnector {
    proxy: Option<Arc<Proxy>>,
    user_agent: String,
}

impl TunnelConnector {
    /// Tunnels through `proxy` (when given), announcing itself with `user_agent`.
    pub fn new(proxy: Option<Arc<Proxy>>, user_agent: &str) -> TunnelConnector {
        TunnelConnector {
            proxy,
            user_agent: user_agent.to_owned(),
        }
    }
}

impl Connector<Socket> for TunnelConnector {
    type Out = Socket;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<Socket>,
    ) -> Result<Option<Socket>, ureq::Error> {
        let Some(mut socket) = chained else {
            return Ok(None);
        };
        let Some(proxy) = self.proxy.as_deref().filter(|_| details.needs_tls()) else {
            // No proxy, or an http target, which the proxy gets in absolute form instead.
            return Ok(Some(socket));
        };
        let target = target_of(details.uri);
        let mut head = format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: {}\r\n",
            self.user_agent
        );
        if let Some(authorization) = proxy.authorization() {
            head.push_str("Proxy-Authorization: ");
            head.push_str(authorization.expose());
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let head = zeroize::Zeroizing::new(head);
        let output = socket.buffers().output();
        if output.len() < head.len() {
            return Err(ureq::Error::Io(io::Error::other(
                "CONNECT request too long",
            )));
        }
        output[..head.len()].copy_from_slice(head.as_bytes());
        socket.transmit_output(head.len(), details.timeout)?;
        let status = loop {
            let more = socket.await_input(details.timeout)?;
            let input = socket.buffers().input();
            let mut headers = [httparse::EMPTY_HEADER; MAX_ANSWER_HEADERS];
            let mut answer = httparse::Response::new(&mut headers);
            match answer.parse(input) {
                Ok(httparse::Status::Complete(used)) => {
                    let status = answer.code.unwrap_or(0);
                    socket.buffers().input_consume(used);
                    break status;
                }
                Ok(httparse::Status::Partial) if more && input.len() <= MAX_ANSWER_BYTES => {}
                Ok(httparse::Status::Partial) if !more => {
                    return Err(TunnelError::Closed { target }.into())
                }
                Ok(httparse::Status::Partial) => {
                    return Err(TunnelError::Garbled {
                        target,
                        why: format!("no end of headers within {MAX_ANSWER_BYTES} bytes"),
                    }
                    .into())
                }
                Err(e) => {
                    return Err(TunnelError::Garbled {
                        target,
                        why: e.to_string(),
                    }
                    .into())
                }
            }
        };
        if (200..300).contains(&status) {
            Ok(Some(socket))
        } else {
            Err(TunnelError::Refused {
                target,
                status,
                hint: proxy.credentials_hint(status),
            }
            .into())
        }
    }
}

/// `host:port` of the request's target (the port is always written, as CONNECT needs).
fn target_of(uri: &ureq::http::Uri) -> String {
    let host = uri.host().unwrap_or("");
    let port = uri.port_u16().unwrap_or(443);
    format!("{host}:{port}")
}

/// Why the proxy did not open a tunnel (never holding a credential).
#[derive(Debug)]
pub(crate) enum TunnelError {
    /// The proxy answered CONNECT with a non-2xx status.
    Refused {
        target: String,
        status: u16,
        /// [`Proxy::credentials_hint`] for the status.
        hint: &'static str,
    },
    /// The proxy closed the connection before its answer was complete.
    Closed { target: String },
    /// The proxy's answer was not HTTP.
    Garbled { target: String, why: String },
}

impl fmt::Display for TunnelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TunnelError::Refused { target, status, .. } => {
                write!(f, "CONNECT {target} answered HTTP {status}")
            }
            TunnelError::Closed { target } => write!(f, "CONNECT {target}: closed"),
            TunnelError::Garbled { target, why } => write!(f, "CONNECT {target}: {why}"),
        }
    }
}

impl std::error::Error for TunnelError {}

impl From<TunnelError> for ureq::Error {
    fn from(e: TunnelError) -> ureq::Error {
        ureq::Error::Io(io::Error::other(e))
    }
}

/// What a refused tunnel becomes: its code, whether it may be retried, the message (naming
/// the proxy as `proxy` describes it), and the proxy's HTTP status (0 when none).
pub(crate) struct Refusal {
    pub code: Code,
    pub retryable: bool,
    pub message: String,
    pub http_status: u16,
}

impl TunnelError {
    /// The refusal of a tunnel through the proxy described as `proxy`.
    pub fn refusal(&self, proxy: &str) -> Refusal {
        match self {
            TunnelError::Refused {
                target,
                status,
                hint,
            } => {
                let reason = ureq::http::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map_or(String::new(), |r| format!(" {r}"));
                let (code, retryable, verb) = if *status >= 500 {
                    (Code::Connect, true, "could not open")
                } else {
                    (Code::Http, false, "refused to open")
                };
                Refusal {
                    code,
                    retryable,
                    message: format!(
                        "the {proxy} {verb} a tunnel to {target}: it answered CONNECT with HTTP {status}{reason}{hint}"
                    ),
                    http_status: *status,
                }
            }
            TunnelError::Closed { target } => Refusal {
                code: Code::Connect,
                retryable: true,
                message: format!(
                    "the {proxy} closed the connection before answering CONNECT {target}"
                ),
                http_status: 0,
            },
            TunnelError::Garbled { target, why } => Refusal {
                code: Code::Connect,
                retryable: false,
                message: format!(
                    "the {proxy} answered CONNECT {target} with something that is not HTTP ({why})"
                ),
                http_status: 0,
            },
        }
    }
}
