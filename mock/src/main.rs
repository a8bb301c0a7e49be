//! The `ycm-mock` command: parses the CLI, starts a [`ycm_mock::MockServer`] (HTTPS with
//! `--tls-cert` and `--tls-key`), prints `ycm-mock listening on http://HOST:PORT` (or
//! `https://`) as the first stdout line, and runs until SIGINT or SIGTERM, then shuts the
//! server down and exits 0.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ycm_mock::{ErrorStyle, MockConfig, MockServer, TlsIdentity};

/// A stateful mock of the Yeastar Central Management (YCM) user API.
#[derive(Parser, Debug)]
#[command(name = "ycm-mock", version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    addr: String,
    /// Static access token accepted alongside issued ones.
    #[arg(long, default_value = "ycm-mock-token", value_name = "TOKEN")]
    access_token: String,
    /// Accept only tokens issued by the token endpoint.
    #[arg(long)]
    no_static_token: bool,
    /// OAuth client id.
    #[arg(long, default_value = "ycm-mock-client")]
    client_id: String,
    /// OAuth client secret.
    #[arg(long, default_value = "ycm-mock-secret")]
    client_secret: String,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    token_ttl: u64,
    /// Delay added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    latency_ms: u64,
    /// Do not log each request on stderr.
    #[arg(long)]
    quiet: bool,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Seed N users in all: 13329, 13330, 13331, then generated ids 20001 upward
    /// (deterministic; at most 1000000).
    #[arg(long, default_value_t = ycm_mock::DEFAULT_USERS, value_name = "N", value_parser = parse_users)]
    users: usize,
    /// YCM's rate limit, a token bucket per client: at most BURST tokens, refilled at RATE
    /// per INTERVAL_S seconds, one per API request (e.g. 50/100/1).
    #[arg(long, value_name = "BURST/RATE/INTERVAL_S")]
    rate_limit: Option<ycm_mock::RateLimit>,
    /// With which HTTP status Failed envelopes are sent: http (401, 403, 429, 400, ... as
    /// each refusal has it) or ok (HTTP 200 for every Failed envelope).
    #[arg(long, default_value = "http", value_name = "http|ok")]
    error_style: ErrorStyle,
    /// At most N valid issued access tokens at once; a grant beyond that is refused
    /// (errcode 1000044, HTTP 403).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_tokens: Option<u64>,
    /// After N failed authentications in a row from one address, refuse every
    /// authentication from it (errcode 1000042, HTTP 403) until POST /__mock/unblock.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    lockout_after: Option<u32>,
}

/// `--users N`: a whole number up to [`ycm_mock::MAX_USERS`].
fn parse_users(raw: &str) -> Result<usize, String> {
    match raw.parse::<usize>() {
        Ok(n) if n <= ycm_mock::MAX_USERS => Ok(n),
        _ => Err(format!(
            "expected a whole number of users from 0 to {}",
            ycm_mock::MAX_USERS
        )),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match TlsIdentity::from_files(cert, key) {
            Ok(identity) => Some(identity),
            Err(e) => {
                eprintln!("ycm-mock: cannot read the TLS certificate or key: {e}");
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let config = MockConfig {
        access_token: (!args.no_static_token).then_some(args.access_token),
        client_id: args.client_id,
        client_secret: args.client_secret,
        token_ttl: Duration::from_secs(args.token_ttl),
        latency: Duration::from_millis(args.latency_ms),
        log_requests: !args.quiet,
        tls,
        users: args.users,
        rate_limit: args.rate_limit,
        error_style: args.error_style,
        max_tokens: args
            .max_tokens
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        lockout_after: args.lockout_after,
        ..MockConfig::default()
    };
    let server = match MockServer::start(&args.addr, config) {
        Ok(server) => server,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData && args.tls_cert.is_some() => {
            eprintln!("ycm-mock: cannot serve HTTPS: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("ycm-mock: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (nobody reads it) is no reason to stop serving.
    let _ =
        writeln!(stdout, "ycm-mock listening on {}", server.url()).and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(e) = wait_for_signal() {
        eprintln!("ycm-mock: cannot wait for signals: {e}");
        server.shutdown();
        return ExitCode::FAILURE;
    }
    server.shutdown();
    ExitCode::SUCCESS
}

/// Blocks until SIGINT (Ctrl-C) or, on Unix, SIGTERM.
fn wait_for_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })
}
