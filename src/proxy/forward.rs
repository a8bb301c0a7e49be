//! Forwarding: an http base URL reached through a proxy is sent to it as a normal request
//! whose target is in absolute form (`PUT http://host:port/path HTTP/1.1`, RFC 9112
//! section 3.2.2), as curl does, rather than tunnelled (proxies commonly allow CONNECT to
//! port 443 only). ureq always writes the origin form (`/path`), so the connector wraps the
//! proxy's socket in [`Forwarded`], which puts the origin (`http://host:port`) in front of
//! the target of each request line it sends. Requests are not pipelined, so a request line
//! starts the first write after a response was read (or the first write of all). The
//! transport adds `Proxy-Authorization` to each request itself.

use crate::net::Socket;
use std::io;
use std::sync::Arc;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, NextTimeout, Transport,
};

/// Wraps new connections of an http client forwarded through a proxy; passes the others
/// through as they are.
#[derive(Debug)]
pub(crate) struct ForwardConnector {
    /// `http://host:port` of the base URL, when forwarding.
    origin: Option<Arc<str>>,
}

impl ForwardConnector {
    /// Forwards to `origin` (`scheme://authority` of the base URL) when given.
    pub fn new(origin: Option<String>) -> ForwardConnector {
        ForwardConnector {
            origin: origin.map(Arc::from),
        }
    }
}

impl Connector<Socket> for ForwardConnector {
    type Out = Either<Socket, Forwarded>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<Socket>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(socket) = chained else {
            return Ok(None);
        };
        Ok(Some(match &self.origin {
            Some(origin) if !details.needs_tls() => Either::B(Forwarded {
                inner: socket,
                origin: origin.clone(),
                request_start: true,
            }),
            _ => Either::A(socket),
        }))
    }
}

/// A connection to a forwarding proxy: request targets are written in absolute form.
#[derive(Debug)]
pub(crate) struct Forwarded {
    inner: Socket,
    origin: Arc<str>,
    /// The next write starts a request line.
    request_start: bool,
}

impl Forwarded {
    /// Inserts the origin before the target of the request line at the start of the
    /// output's first `amount` bytes; the new amount.
    fn absolute_form(&mut self, amount: usize) -> Result<usize, ureq::Error> {
        let origin = self.origin.clone();
        let output = self.inner.buffers().output();
        let target = output[..amount]
            .iter()
            .position(|&b| b == b' ')
            .map(|space| space + 1)
            .filter(|&at| output.get(at) == Some(&b'/'));
        let Some(at) = target else {
            return Err(ureq::Error::Io(io::Error::other(
                "a request to the proxy does not start with a request line in origin form",
            )));
        };
        let grown = amount + origin.len();
        if grown > output.len() {
            return Err(ureq::Error::Io(io::Error::other(
                "the request head does not fit the output buffer with its absolute target",
            )));
        }
        output.copy_within(at..amount, at + origin.len());
        output[at..at + origin.len()].copy_from_slice(origin.as_bytes());
        Ok(grown)
    }
}

impl Transport for Forwarded {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let amount = if std::mem::take(&mut self.request_start) {
            self.absolute_form(amount)?
        } else {
            amount
        };
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.request_start = true;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }
}
