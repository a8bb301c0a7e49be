//! `ycm-fault-server --case NAME [--addr HOST:PORT]`: serves one scripted fault case of
//! [`ycm_mock::scripted::Case`] for the C and Python fault tests. The first stdout line is
//! `ycm-fault-server listening on http://HOST:PORT`; it runs until killed.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use ycm_mock::scripted::{Case, ScriptedServer};

/// A raw-TCP peer that misbehaves in one scripted way.
#[derive(Parser, Debug)]
#[command(name = "ycm-fault-server", about)]
struct Args {
    /// The fault case (see `ycm_mock::scripted::Case::ALL` for the names).
    #[arg(long, value_parser = case_names())]
    case: String,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    addr: String,
}

fn case_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Case::ALL.map(|(name, _)| name))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(case) = Case::from_name(&args.case) else {
        return ExitCode::from(2);
    };
    let server = match ScriptedServer::start_on(&args.addr, case.script()) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("ycm-fault-server: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    println!("ycm-fault-server listening on {}", server.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
