//! `ycm-fault-server --case NAME [--addr HOST:PORT]`: serves one scripted fault case of
//! [`ycm_mock::scripted::Case`] for the C and Python fault tests. The first stdout line is
//! `ycm-fault-server listening on http://HOST:PORT`; it runs until killed.
//! `ycm-fault-server --cases-json` (or `--cases-tsv`) prints the cases' expected outcomes
//! ([`ycm_mock::fault_matrix`]) and exits: the table those tests read.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use ycm_mock::fault_matrix;
use ycm_mock::scripted::{Case, ScriptedServer};

/// A raw-TCP peer that misbehaves in one scripted way.
#[derive(Parser, Debug)]
#[command(name = "ycm-fault-server", about)]
struct Args {
    /// The fault case to serve.
    #[arg(long, value_parser = case_names(), required_unless_present_any = ["cases_json", "cases_tsv"])]
    case: Option<String>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    addr: String,
    /// Print every case's expected outcome for the suites' client options as JSON, and exit.
    #[arg(long, conflicts_with_all = ["case", "cases_tsv"])]
    cases_json: bool,
    /// Print the same table as tab-separated lines (for C), and exit.
    #[arg(long, conflicts_with = "case")]
    cases_tsv: bool,
}

fn case_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Case::ALL.map(Case::name))
}

fn print(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ycm-fault-server: cannot write the table: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.cases_json {
        return print(&format!("{:#}\n", fault_matrix::table_json()));
    }
    if args.cases_tsv {
        return print(&fault_matrix::table_tsv());
    }
    let Some(case) = args.case.as_deref().and_then(Case::from_name) else {
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
