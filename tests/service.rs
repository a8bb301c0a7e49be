//! The transport inside long-running services: cancellation from another thread, a server
//! that closes idle keep-alive connections (the stale-connection re-send), timeouts that
//! name the budget that ran out, a pool that holds a connection per caller, and oversized
//! response headers. Each runs against a real
//! loopback peer: ycm-mock, or a raw TCP server scripted here.

mod common;

use common::{mock, TOKEN};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ycm::{Auth, Cancel, Client, Code, Config, Secret, UserUpdate};
use ycm_mock::Faults;

fn client_for(url: &str, configure: impl FnOnce(Config) -> Config) -> Client {
    let config = Config::new(url, Auth::AccessToken(Secret::new(TOKEN))).unwrap();
    Client::new(configure(config)).unwrap()
}

/// Triggers `cancel` after `delay` on another thread.
fn cancel_after(cancel: &Cancel, delay: Duration) -> std::thread::JoinHandle<Instant> {
    let cancel = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        cancel.cancel();
        Instant::now()
    })
}

#[test]
fn a_cancelled_read_returns_at_once_and_the_client_stays_usable() {
    let server = mock();
    let client = client_for(&server.url(), |c| c);
    client.get_user(13329).unwrap(); // a pooled connection exists
    server.set_faults(Faults {
        latency_ms: Some(20_000),
        ..Faults::default()
    });
    let cancel = Cancel::new();
    let trigger = cancel_after(&cancel, Duration::from_millis(200));
    let err = client.with_cancel(&cancel).get_user(13329).unwrap_err();
    let returned = Instant::now();
    let triggered = trigger.join().unwrap();
    assert_eq!(err.code(), Code::Cancelled, "{err}");
    assert_eq!(err.info().attempts, 1);
    let lag = returned.saturating_duration_since(triggered);
    assert!(
        lag < Duration::from_secs(2),
        "returned {lag:?} after cancel"
    );
    eprintln!("cancelled read returned {lag:?} after the trigger");

    server.set_faults(Faults::default());
    let before = server.stats().requests;
    let read = client.get_user(13329).unwrap();
    assert_eq!(
        read.info.attempts, 1,
        "the cancelled connection was not reused"
    );
    assert_eq!(server.stats().requests, before + 1);
}

#[test]
fn a_cancel_ends_a_retry_wait_and_an_already_triggered_one_sends_nothing() {
    let server = mock();
    let client = client_for(&server.url(), |c| {
        c.retries(3, Duration::from_millis(10), Duration::from_millis(50))
    });
    server.set_faults(Faults {
        fail_next: 5,
        fail_status: 503,
        retry_after: Some("20".into()),
        ..Faults::default()
    });
    let cancel = Cancel::new();
    let trigger = cancel_after(&cancel, Duration::from_millis(300));
    let started = Instant::now();
    let err = client
        .with_cancel(&cancel)
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    trigger.join().unwrap();
    assert_eq!(err.code(), Code::Cancelled, "{err}");
    assert_eq!((err.info().attempts, err.info().http_status), (1, 503));
    assert!(started.elapsed() < Duration::from_secs(5));

    let requests = server.stats().requests;
    let err = client.with_cancel(&cancel).get_user(13329).unwrap_err();
    assert_eq!((err.code(), err.info().attempts), (Code::Cancelled, 0));
    assert_eq!(server.stats().requests, requests, "nothing was sent");
}

#[test]
fn a_cancel_stops_a_connect_in_progress() {
    let (url, _listener, _queued) = unresponsive_listener();
    let client = client_for(&url, |c| c.connect_timeout(Duration::from_secs(20)));
    let cancel = Cancel::new();
    let trigger = cancel_after(&cancel, Duration::from_millis(200));
    let err = client.with_cancel(&cancel).get_user(1).unwrap_err();
    let lag = Instant::now().saturating_duration_since(trigger.join().unwrap());
    assert_eq!(err.code(), Code::Cancelled, "{err}");
    assert!(
        lag < Duration::from_secs(2),
        "returned {lag:?} after cancel"
    );
}

/// A listener whose accept queue is full, so that a further connect hangs in SYN-SENT; and
/// the connections filling it (kept alive by the caller).
fn unresponsive_listener() -> (String, socket2::Socket, Vec<TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    for _ in 0..8 {
        // Fill the queue; once it is full the connects themselves start to hang.
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(stream) => queued.push(stream),
            Err(_) => break,
        }
    }
    (format!("http://{addr}"), socket, queued)
}

#[test]
fn timeouts_name_the_budget_that_ran_out() {
    let (url, _listener, _queued) = unresponsive_listener();
    let whole_call = client_for(&url, |c| {
        c.timeout(Duration::from_millis(300))
            .connect_timeout(Duration::from_secs(10))
            .retries(0, Duration::from_millis(10), Duration::from_millis(10))
    });
    let err = whole_call.get_user(1).unwrap_err();
    assert_eq!(err.code(), Code::Timeout);
    assert_eq!(
        err.message(),
        "GET /dm/open_api/v1/users/1 did not complete within timeout_ms (300 ms)"
    );

    let connect = client_for(&url, |c| {
        c.timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_millis(300))
            .retries(0, Duration::from_millis(10), Duration::from_millis(10))
    });
    let err = connect.get_user(1).unwrap_err();
    assert_eq!(err.code(), Code::Timeout);
    assert_eq!(
        err.message(),
        format!("could not connect to {url} within connect_timeout_ms (300 ms)")
    );
}

/// A raw HTTP/1.1 server on a thread: answers each request on a connection with `answer`,
/// `delay` after reading it, and then, when `close_after_each` says so, closes the
/// connection without saying so (no `Connection: close`), as servers with short keep-alive
/// timeouts do. Counts the connections it accepts.
fn raw_server(
    answer: Vec<u8>,
    delay: Duration,
    close_after_each: bool,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            std::thread::spawn(move || serve(stream, &answer, delay, close_after_each));
        }
    });
    (url, connections)
}

fn serve(mut stream: TcpStream, answer: &[u8], delay: Duration, close_after_each: bool) {
    while ycm_mock::scripted::read_request(&mut stream, || true).is_some() {
        std::thread::sleep(delay);
        if stream.write_all(answer).is_err() {
            return;
        }
        if close_after_each {
            // Close a moment later, racing the client's next request on this connection
            // (which then meets a reset, not a response).
            std::thread::sleep(Duration::from_micros(fastrand_micros()));
            return;
        }
    }
}

/// 0 to 2 ms, varying from call to call.
fn fastrand_micros() -> u64 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    (NEXT.fetch_add(677, Ordering::Relaxed) % 2000) as u64
}

fn envelope_response() -> Vec<u8> {
    let body = r#"{"requestId":"r1","status":"Success","time":1664437503}"#;
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A raw server that closes each connection just after its answer, and a client of it that
/// makes no retries (so only the stale-connection handling can save a call).
fn closing_server_and_client_without_retries() -> (Client, Arc<AtomicUsize>) {
    let (url, connections) = raw_server(envelope_response(), Duration::ZERO, true);
    let client = client_for(&url, |c| {
        c.retries(0, Duration::from_millis(10), Duration::from_millis(10))
    });
    (client, connections)
}

#[test]
fn a_server_closing_idle_connections_costs_no_failure_even_without_retries() {
    let (client, connections) = closing_server_and_client_without_retries();
    let update = UserUpdate::new().company("x");
    let (mut failures, mut resent) = (Vec::new(), 0);
    for _ in 0..300 {
        match client.update_user(13329, &update) {
            Ok(done) => resent += usize::from(done.info.attempts == 2),
            Err(e) => failures.push(format!("{} ({} attempts)", e, e.info().attempts)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..1]
    );
    eprintln!(
        "300 calls, {resent} re-sent on a fresh connection, {} connections",
        connections.load(Ordering::SeqCst)
    );
}

#[test]
fn a_pooled_connection_found_closed_before_writing_is_replaced_without_an_attempt() {
    let (client, connections) = closing_server_and_client_without_retries();
    let update = UserUpdate::new().company("x");
    for call in 1..=5 {
        let done = client.update_user(13329, &update).unwrap();
        assert_eq!(done.info.attempts, 1, "call {call}");
        // The server's close (within 2 ms of its answer) has arrived before the next call.
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(connections.load(Ordering::SeqCst), 5);
}

#[test]
fn as_many_callers_as_the_bulk_engines_top_concurrency_keep_their_connections() {
    // A bulk apply at its highest concurrency is this many threads on one client, and under
    // a rate cap they all wait together between requests: every connection is idle in the
    // pool at once, and each must still be there for its next request, or every request
    // pays a new connect (and, over TLS, a handshake).
    let callers = ycm::sync::MAX_CONCURRENCY as usize;
    // Answers slow enough for every caller to be in flight at once.
    let (url, connections) = raw_server(envelope_response(), Duration::from_millis(50), false);
    let client = client_for(&url, |c| c);
    let update = UserUpdate::new().company("x");
    let all_idle = std::sync::Barrier::new(callers);
    std::thread::scope(|scope| {
        for _ in 0..callers {
            scope.spawn(|| {
                for _ in 0..3 {
                    client.update_user(13329, &update).unwrap();
                    all_idle.wait();
                }
            });
        }
    });
    // A caller opens a connection only when every one in the pool is busy with another.
    let opened = connections.load(Ordering::SeqCst);
    assert!(
        opened <= callers,
        "{callers} callers opened {opened} connections"
    );
}

#[test]
fn oversized_response_headers_are_reported_as_such() {
    let mut answer = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
    answer.extend(std::iter::repeat_n(b'a', 100 * 1024));
    answer.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let (url, _) = raw_server(answer, Duration::ZERO, true);
    let client = client_for(&url, |c| c);
    let err = client.get_user(1).unwrap_err();
    assert_eq!(err.code(), Code::BadResponse);
    assert_eq!(
        err.message(),
        "the response headers of GET /dm/open_api/v1/users/1 are larger than the 65536 bytes the client accepts"
    );
}

extern "C" fn note_signal(_: libc::c_int) {}

#[test]
fn a_signal_handler_stops_a_call_made_with_an_on_signal_flag() {
    // A handler that only notes the signal, installed without SA_RESTART, as Python's is.
    // SAFETY: a plain handler for a signal nothing else in this test binary uses.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = note_signal as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    let server = mock();
    let client = Arc::new(client_for(&server.url(), |c| c));
    client.get_user(13329).unwrap();
    server.set_faults(Faults {
        latency_ms: Some(20_000),
        ..Faults::default()
    });
    let caller = Arc::clone(&client);
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let call = std::thread::spawn(move || {
        // SAFETY: pthread_self has no preconditions.
        tid_tx.send(unsafe { libc::pthread_self() }).unwrap();
        let flag = Cancel::on_signal();
        let result = caller.with_cancel(&flag).get_user(13329);
        (result, flag.is_cancelled(), Instant::now())
    });
    let thread = tid_rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    // SAFETY: the thread is alive: it is blocked in the call.
    assert_eq!(unsafe { libc::pthread_kill(thread, libc::SIGUSR1) }, 0);
    let (result, triggered, returned) = call.join().unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.code(), Code::Cancelled, "{err}");
    assert_eq!(err.message(), "the call was interrupted by a signal");
    assert!(!triggered, "a signal does not leave the flag triggered");
    assert!(returned.saturating_duration_since(signalled) < Duration::from_secs(2));

    server.set_faults(Faults::default());
    let flag = Cancel::on_signal();
    assert_eq!(
        client
            .with_cancel(&flag)
            .get_user(13329)
            .unwrap()
            .info
            .attempts,
        1
    );
}
