//! The sockets under ureq: [`SocketConnector`] opens TCP connections (non-blocking connect,
//! so a [`Cancel`] or the deadline ends it at once) and [`Socket`] is the transport ureq
//! drives and pools. A socket belongs to the process that opened it (after `fork()` the
//! child closes it and opens its own), is watched by the call's [`Cancel`] while in use,
//! sends a request's headers and body in one write, checks liveness with one peek per
//! reuse (before its first write, outside ureq's pool lock), and re-arms its socket
//! timeouts only when they change by a whole millisecond (rounded up, so a timeout is never
//! early).
//!
//! ureq drives a request synchronously on the calling thread, so the per-attempt facts
//! (the call's cancel flag, the attempt's deadline, which caps every wait here and ureq's
//! name resolution; whether this attempt opened a connection or reused a pooled one,
//! whether that one was found closed before anything was written, whether any response
//! byte arrived) live in a thread-local [`Attempt`] scope that [`crate::transport`] opens
//! around each attempt.

use crate::cancel::Cancel;
use crate::fork;
use socket2::{Domain, Protocol, SockAddr, Type};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

/// Longest a connect in progress waits before checking the cancel flag again.
const CONNECT_POLL_SLICE: Duration = Duration::from_millis(20);
/// Output held back beyond this is written at once rather than coalesced.
const MAX_PENDING_OUTPUT: usize = 64 * 1024;

/// What one attempt did, as seen from the sockets.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AttemptReport {
    /// The attempt wrote to a connection.
    pub sent: bool,
    /// The attempt opened a new connection (false: it used a pooled one, or none).
    pub opened: bool,
    /// At least one byte of the response arrived.
    pub received: bool,
    /// A signal handler ran during a wait and the call's flag stops on signals.
    pub interrupted: bool,
    /// The pooled connection taken was found closed before anything was written to it.
    pub found_closed: bool,
}

struct AttemptState {
    cancel: Option<Cancel>,
    /// When the attempt's share of the call's budget runs out.
    deadline: Instant,
    /// Pooled connections must not be used: this attempt re-sends after a stale one.
    fresh_only: bool,
    report: AttemptReport,
}

thread_local! {
    static ATTEMPT: RefCell<Option<AttemptState>> = const { RefCell::new(None) };
}

/// The scope of one attempt on this thread; [`Attempt::finish`] ends it.
pub(crate) struct Attempt(());

impl Attempt {
    /// Opens the scope of an attempt made with `cancel` that must end by `deadline`;
    /// `fresh_only` keeps it off pooled connections.
    pub fn begin(cancel: Option<&Cancel>, deadline: Instant, fresh_only: bool) -> Attempt {
        ATTEMPT.with(|slot| {
            *slot.borrow_mut() = Some(AttemptState {
                cancel: cancel.cloned(),
                deadline,
                fresh_only,
                report: AttemptReport::default(),
            })
        });
        Attempt(())
    }

    /// Ends the scope and says what the attempt did.
    pub fn finish(self) -> AttemptReport {
        let report = ATTEMPT.with(|slot| slot.borrow_mut().take().map(|s| s.report));
        std::mem::forget(self);
        report.unwrap_or_default()
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        ATTEMPT.with(|slot| slot.borrow_mut().take());
    }
}

fn with_attempt<R>(f: impl FnOnce(&mut AttemptState) -> R) -> Option<R> {
    ATTEMPT.with(|slot| slot.borrow_mut().as_mut().map(f))
}

fn current_cancel() -> Option<Cancel> {
    with_attempt(|state| state.cancel.clone()).flatten()
}

/// How long an operation may take: ureq's `timeout`, or what is left of the attempt's
/// budget when that ends sooner (then reported as the call's global timeout). The budget
/// lives here rather than in a per-request ureq configuration, which ureq would copy for
/// every request.
fn bounded(timeout: NextTimeout) -> (Duration, ureq::Timeout) {
    let own = (*timeout.after, timeout.reason);
    match with_attempt(|state| state.deadline) {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < own.0 {
                (left, ureq::Timeout::Global)
            } else {
                own
            }
        }
        None => own,
    }
}

/// `timeout` capped by what is left of the attempt's budget, for the waits ureq makes
/// itself (name resolution).
pub(crate) fn capped(timeout: NextTimeout) -> NextTimeout {
    let (after, reason) = bounded(timeout);
    NextTimeout {
        after: after.into(),
        reason,
        ..timeout
    }
}

/// After `EINTR`: whether the current call stops on signals (and then records that it
/// was stopped).
fn stop_on_signal() -> bool {
    with_attempt(|state| {
        let stop = state.cancel.as_ref().is_some_and(Cancel::stops_on_signal);
        state.report.interrupted |= stop;
        stop
    })
    .unwrap_or(false)
}

/// The error a socket operation of a cancelled call fails with (the retry loop reports
/// [`crate::Code::Cancelled`] whatever the error, from the flag).
fn cancelled() -> ureq::Error {
    ureq::Error::Io(io::Error::new(
        io::ErrorKind::Interrupted,
        "the call was cancelled",
    ))
}

/// Opens plain TCP connections for ureq (TLS is layered on top by ureq's rustls connector).
#[derive(Debug, Default)]
pub(crate) struct SocketConnector;

impl<In: Transport> Connector<In> for SocketConnector {
    type Out = Socket;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<In>,
    ) -> Result<Option<Socket>, ureq::Error> {
        let cancel = current_cancel();
        let started = Instant::now();
        let (budget, reason) = bounded(details.timeout);
        let addrs: Vec<SocketAddr> = details.addrs.iter().copied().collect();
        let mut last_error = ureq::Error::ConnectionFailed;
        for (i, addr) in addrs.iter().enumerate() {
            let left = budget.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(ureq::Error::Timeout(reason));
            }
            // Later addresses keep a share of the budget, as ureq's own connector does.
            let share = left / (addrs.len() - i) as u32;
            match connect_one(*addr, share, cancel.as_ref()) {
                Ok(stream) => {
                    if details.config.no_delay() {
                        stream.set_nodelay(true)?;
                    }
                    with_attempt(|state| {
                        state.report.opened = true;
                        // This connection is the fresh one the attempt asked for.
                        state.fresh_only = false;
                    });
                    let buffers = LazyBuffers::new(
                        details.config.input_buffer_size(),
                        details.config.output_buffer_size(),
                    );
                    return Ok(Some(Socket::new(stream, buffers)));
                }
                Err(ConnectError::TimedOut) => last_error = ureq::Error::Timeout(reason),
                Err(ConnectError::Cancelled) => return Err(cancelled()),
                Err(ConnectError::Io(e)) => last_error = ureq::Error::Io(e),
            }
        }
        Err(last_error)
    }
}

enum ConnectError {
    TimedOut,
    Cancelled,
    Io(io::Error),
}

impl From<io::Error> for ConnectError {
    fn from(e: io::Error) -> ConnectError {
        ConnectError::Io(e)
    }
}

/// Connects to `addr` within `budget`, checking `cancel` while the handshake is pending.
fn connect_one(
    addr: SocketAddr,
    budget: Duration,
    cancel: Option<&Cancel>,
) -> Result<TcpStream, ConnectError> {
    let deadline = Instant::now() + budget;
    // socket2 opens it close-on-exec.
    let socket =
        socket2::Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => loop {
            if cancel.is_some_and(Cancel::is_cancelled) {
                return Err(ConnectError::Cancelled);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ConnectError::TimedOut);
            }
            let slice = if cancel.is_some() {
                left.min(CONNECT_POLL_SLICE)
            } else {
                left
            };
            match poll_writable(&socket, slice) {
                Ok(true) => {
                    if let Some(e) = socket.take_error()? {
                        return Err(ConnectError::Io(e));
                    }
                    break;
                }
                Ok(false) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if stop_on_signal() {
                        return Err(ConnectError::Cancelled);
                    }
                }
                Err(e) => return Err(ConnectError::Io(e)),
            }
        },
        Err(e) => return Err(ConnectError::Io(e)),
    }
    socket.set_nonblocking(false)?;
    Ok(socket.into())
}

/// Waits up to `wait` for `socket` to become writable (a connect finished or failed).
fn poll_writable(socket: &socket2::Socket, wait: Duration) -> io::Result<bool> {
    let mut fd = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    let millis = wait.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd for the duration of the call.
    match unsafe { libc::poll(&mut fd, 1, millis) } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// One pooled TCP connection.
pub(crate) struct Socket {
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// Output held back until the first read, so headers and body leave in one write.
    pending: Vec<u8>,
    /// The write timeout of the held-back output, and when it was given.
    pending_timeout: Option<(Duration, ureq::Timeout, Instant)>,
    /// The socket timeouts as last armed (whole milliseconds, rounded up).
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// [`fork::generation`] when the connection was opened.
    generation: u64,
    /// The cancel flag this socket is registered with, while a call uses it.
    watched_by: Option<Cancel>,
    /// Used since it was last offered to or taken from the pool.
    used: bool,
    /// Taken from the pool: its liveness is checked before the first write.
    check_before_write: bool,
    /// Found closed (or sent stray bytes) while idle: nothing more is written or read.
    found_closed: bool,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("peer", &self.stream.peer_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Socket {
    fn new(stream: TcpStream, buffers: LazyBuffers) -> Socket {
        Socket {
            stream: Arc::new(stream),
            buffers,
            pending: Vec::new(),
            pending_timeout: None,
            read_timeout: None,
            write_timeout: None,
            generation: fork::generation(),
            watched_by: None,
            used: true,
            check_before_write: false,
            found_closed: false,
        }
    }

    /// Registers the socket with the current call's cancel flag (once per call); fails
    /// when that flag is triggered.
    fn watch(&mut self) -> Result<(), ureq::Error> {
        let cancel = current_cancel();
        let same = match (&cancel, &self.watched_by) {
            (Some(a), Some(b)) => a.same_flag(b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.unwatch();
            if let Some(cancel) = cancel {
                if !cancel.watch(&self.stream) {
                    return Err(cancelled());
                }
                self.watched_by = Some(cancel);
            }
        } else if self.watched_by.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(cancelled());
        }
        Ok(())
    }

    fn unwatch(&mut self) {
        if let Some(cancel) = self.watched_by.take() {
            cancel.unwatch(&self.stream);
        }
    }

    fn flush_pending(&mut self) -> Result<(), ureq::Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some((after, reason, given)) = self.pending_timeout.take() else {
            return Ok(());
        };
        let left = after.saturating_sub(given.elapsed());
        if left.is_zero() {
            self.pending.clear();
            return Err(ureq::Error::Timeout(reason));
        }
        arm(
            &self.stream,
            &mut self.write_timeout,
            left,
            TcpStream::set_write_timeout,
        )?;
        let result = self.write_pending();
        self.pending.clear();
        result.map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ureq::Error::Timeout(reason),
            _ => ureq::Error::Io(e),
        })
    }

    /// Writes the held-back output (`write_all`, except that a signal stops a call whose
    /// flag says so instead of being retried).
    fn write_pending(&self) -> io::Result<()> {
        let mut rest = &self.pending[..];
        while !rest.is_empty() {
            match (&*self.stream).write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted && !stop_on_signal() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Closing (never shutting down) leaves a copy in a parent or child process intact.
        self.unwatch();
    }
}

/// Arms a socket timeout when the wanted value, rounded up to a whole millisecond,
/// differs from the armed one.
fn arm(
    stream: &TcpStream,
    armed: &mut Option<Duration>,
    wanted: Duration,
    set: fn(&TcpStream, Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let millis = wanted.as_nanos().div_ceil(1_000_000).max(1);
    let rounded = Duration::from_millis(millis.min(u64::MAX as u128) as u64);
    if *armed != Some(rounded) {
        set(stream, Some(rounded))?;
        *armed = Some(rounded);
    }
    Ok(())
}

impl Transport for Socket {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.used = true;
        self.watch()?;
        if std::mem::take(&mut self.check_before_write) && !peek_is_idle(&self.stream) {
            // Kept: a TLS layer above swallows this error and would hand the request's
            // records to a later write.
            self.found_closed = true;
            with_attempt(|state| state.report.found_closed = true);
        }
        if self.found_closed {
            return Err(found_closed());
        }
        let (after, reason) = bounded(timeout.for_write());
        if after.is_zero() {
            return Err(ureq::Error::Timeout(reason));
        }
        self.pending
            .extend_from_slice(&self.buffers.output()[..amount]);
        with_attempt(|state| state.report.sent = true);
        self.pending_timeout = Some((after, reason, Instant::now()));
        if self.pending.len() >= MAX_PENDING_OUTPUT {
            self.flush_pending()?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let given = Instant::now();
        let (after, reason) = bounded(timeout.for_read());
        if self.found_closed {
            return Err(found_closed());
        }
        self.used = true;
        self.watch()?;
        self.flush_pending()?;
        loop {
            let left = after.saturating_sub(given.elapsed());
            if left.is_zero() {
                return Err(ureq::Error::Timeout(reason));
            }
            arm(
                &self.stream,
                &mut self.read_timeout,
                left,
                TcpStream::set_read_timeout,
            )?;
            let input = self.buffers.input_append_buf();
            match (&*self.stream).read(input) {
                Ok(amount) => {
                    self.buffers.input_appended(amount);
                    if amount > 0 {
                        with_attempt(|state| state.report.received = true);
                    }
                    if self.watched_by.as_ref().is_some_and(Cancel::is_cancelled) {
                        return Err(cancelled());
                    }
                    return Ok(amount > 0);
                }
                // A signal: stop if the call's flag says so, else read again with what is
                // left (Linux does not restart reads that have a timeout).
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if stop_on_signal() {
                        return Err(cancelled());
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ureq::Error::Timeout(reason))
                }
                Err(e) => return Err(ureq::Error::Io(e)),
            }
        }
    }

    fn is_open(&mut self) -> bool {
        if self.generation != fork::generation() || self.found_closed {
            // Opened by the parent process (the pool drops it, which closes this copy), or
            // found closed.
            return false;
        }
        if with_attempt(|state| state.fresh_only).unwrap_or(false) {
            return false;
        }
        if !self.pending.is_empty() || self.watched_by.as_ref().is_some_and(Cancel::is_cancelled) {
            return false;
        }
        self.unwatch();
        // ureq asks twice per reuse: when the response is done (the connection is offered
        // to the pool) and, under its pool lock, when a request takes it out. Only a check
        // after the second tells anything new (a close or stray bytes while it sat idle):
        // it is made before the first write, outside the lock (one non-blocking peek).
        if !std::mem::take(&mut self.used) {
            self.check_before_write = true;
        }
        true
    }
}

/// The error of every write and read on a connection found closed before its request.
fn found_closed() -> ureq::Error {
    ureq::Error::Io(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the server closed the pooled connection while it was idle",
    ))
}

/// One non-blocking peek: an idle keep-alive connection has nothing to read; end-of-file,
/// an error or unexpected bytes mean it must not be used again.
fn peek_is_idle(stream: &TcpStream) -> bool {
    let mut byte = 0u8;
    // SAFETY: a valid socket and a one-byte buffer that outlives the call.
    let got = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    got < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_timeout_is_armed_rounded_up_and_only_when_it_changes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut armed = None;
        arm(
            &stream,
            &mut armed,
            Duration::from_micros(1500),
            TcpStream::set_read_timeout,
        )
        .unwrap();
        // (The kernel keeps it in scheduler ticks, rounded up: read back, it may be more.)
        assert_eq!(armed, Some(Duration::from_millis(2)));
        assert!(stream.read_timeout().unwrap() >= Some(Duration::from_millis(2)));
        // A change within the same millisecond leaves the socket alone.
        stream
            .set_read_timeout(Some(Duration::from_secs(9)))
            .unwrap();
        arm(
            &stream,
            &mut armed,
            Duration::from_micros(1900),
            TcpStream::set_read_timeout,
        )
        .unwrap();
        assert_eq!(stream.read_timeout().unwrap(), Some(Duration::from_secs(9)));
        arm(
            &stream,
            &mut armed,
            Duration::from_nanos(1),
            TcpStream::set_read_timeout,
        )
        .unwrap();
        assert_eq!(armed, Some(Duration::from_millis(1)));
    }

    #[test]
    fn peek_tells_idle_from_closed_and_from_unexpected_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server_side, _) = listener.accept().unwrap();
        assert!(peek_is_idle(&stream));
        server_side.write_all(b"x").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(!peek_is_idle(&stream), "unexpected bytes");
        drop(server_side);
        let other = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        drop(listener.accept().unwrap());
        std::thread::sleep(Duration::from_millis(20));
        assert!(!peek_is_idle(&other), "closed by the peer");
    }
}
