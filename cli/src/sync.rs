//! `ycm sync plan|apply` on the library's bulk engine (`ycm::sync`). A plan is printed (and
//! saved with `--out`); an apply confirms on a terminal unless `--yes`, refuses without
//! `--yes` when stdin is not a terminal, shows progress, writes the journal, the report and
//! the failed rows, prints the summary, and exits 0, 3 (some records need attention), 4
//! (credentials refused), 5 (rate/retry budget or `--max-failures`) or 130, 143, 129 (Ctrl-C,
//! SIGTERM, SIGHUP). A signal stops scheduling; the calls in flight end
//! and are journalled, the report and failed rows are written; the same command resumes.

use crate::args::{Apply, OutputFormat, Sync};
use crate::fail::{self, Failure};
use crate::monitor::Monitor;
use crate::output::{self, cell};
use crate::paths::{self, Kind};
use crate::signal;
use crate::ui::{self, Progress};
use crate::Context;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use ycm::sync::{
    apply, read_records, read_regular_file, Action, ApplyOptions, Control, CsvWriter, Event,
    FileFormat, Format, Journal, Outcome, Plan, Rate, Report, StopReason, REPORT_COLUMNS,
};

/// Runs a `sync` command.
pub fn run(context: &Context, command: &Sync) -> Result<u8, Failure> {
    match command {
        Sync::Plan {
            file,
            out,
            detailed_exitcode,
        } => run_plan(context, file, out.as_deref(), *detailed_exitcode).map_err(|failure| {
            if *detailed_exitcode {
                fail::detailed(failure)
            } else {
                failure
            }
        }),
        Sync::Apply(args) => run_apply(context, args),
    }
}

/// A library error, or exit 128 + the signal's number when a signal stopped the call.
fn stopped_or(e: ycm::Error) -> Failure {
    if signal::interrupted() || e.code() == ycm::Code::Cancelled {
        let mut failure = Failure::from(e);
        failure.exit = signal::exit_code();
        failure.message = format!(
            "stopped by {} while reading the current users; no update was sent",
            signal::name()
        );
        return failure;
    }
    e.into()
}

fn counts_text(plan: &Plan) -> String {
    plan.counts()
        .iter()
        .map(|(action, n)| format!("{n} {}", action.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_plan(
    context: &Context,
    file: &Path,
    out: Option<&Path>,
    detailed: bool,
) -> Result<u8, Failure> {
    let records = read_records(file)?;
    if let Some(path) = out {
        paths::check_writable(path, "--out", Kind::Output)?;
    }
    let (client, _) = context.client()?;
    let cancel = signal::install();
    let plan = Plan::build(&client, &records, Some(&cancel)).map_err(stopped_or)?;
    if let Some(path) = out {
        paths::write_output(path, "--out", plan.to_json().as_bytes())?;
    }
    let mut stdout = std::io::stdout().lock();
    let cut = output::stdout_cut(context.terminal);
    write_plan(&mut stdout, context.format, &plan, cut).map_err(output::write_error)?;
    context.note(&format!("ycm: plan: {}", counts_text(&plan)));
    let counts = plan.counts();
    let pending = counts.get(&Action::Update).copied().unwrap_or(0) > 0;
    let problems = counts
        .keys()
        .any(|a| matches!(a, Action::Invalid | Action::UnknownUser));
    // Records to look at are never hidden by pending updates.
    Ok(if problems {
        fail::PROBLEMS
    } else if detailed && pending {
        fail::PENDING
    } else {
        fail::OK
    })
}

/// The plan on stdout: the plan's JSON; one item per line; or one row per change (a table
/// leaves out the unchanged records and is cut as `cut` says).
fn write_plan(
    out: &mut dyn Write,
    format: OutputFormat,
    plan: &Plan,
    cut: Option<output::Cut>,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => writeln!(out, "{}", plan.to_json()),
        OutputFormat::Jsonl => {
            for item in &plan.items {
                serde_json::to_writer(&mut *out, item)?;
                writeln!(out)?;
            }
            Ok(())
        }
        OutputFormat::Csv | OutputFormat::Table => {
            let header: Vec<String> = [
                "row", "userId", "action", "field", "before", "after", "error",
            ]
            .map(String::from)
            .to_vec();
            let mut rows = Vec::new();
            for item in &plan.items {
                if format == OutputFormat::Table && item.action == Action::Unchanged {
                    continue;
                }
                let base = |field: String, before: String, after: String| {
                    vec![
                        item.row.to_string(),
                        item.user_id.map(|id| id.to_string()).unwrap_or_default(),
                        item.action.as_str().to_string(),
                        field,
                        before,
                        after,
                        item.error.clone().unwrap_or_default(),
                    ]
                };
                if item.changes.is_empty() {
                    rows.push(base(String::new(), String::new(), String::new()));
                }
                for (name, change) in item.changes.to_vec() {
                    let before = match &change.before {
                        None => "(not compared)".to_string(),
                        Some(v) => cell(&name, v),
                    };
                    let after = cell(&name, &change.after);
                    rows.push(base(name, before, after));
                }
            }
            if format == OutputFormat::Table {
                output::table(out, &header, &rows, cut)
            } else {
                let mut writer = CsvWriter::new(out);
                writer.record(&header)?;
                for row in rows {
                    writer.record(row)?;
                }
                writer.finish()?.flush()
            }
        }
    }
}

/// The rows of the plan shown on the terminal before `sync apply` asks.
const ROWS_BEFORE_ASKING: usize = 10;

/// Shows the first changes of the plan on stderr (the counts are said just before), so the
/// question is asked about something the user has seen.
fn show_plan_before_asking(plan: &Plan) {
    let cut = output::Cut {
        rows: ROWS_BEFORE_ASKING,
        hint: "`ycm sync plan FILE --output csv` lists them all",
    };
    let mut text = Vec::new();
    if write_plan(&mut text, OutputFormat::Table, plan, Some(cut)).is_ok() {
        for line in String::from_utf8_lossy(&text).lines() {
            ui::line(line);
        }
    }
}

/// Asks on the terminal; Ctrl-C at the prompt (or end of input) declines.
fn confirm(question: &str) -> Result<bool, Failure> {
    ui::line(question);
    let mut answer = Vec::new();
    let mut stdin = std::io::stdin().lock();
    let mut byte = [0u8; 1];
    loop {
        match stdin.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => answer.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                return Err(interrupted_before_sending())
            }
            Err(e) => return Err(Failure::error(format!("cannot read the answer: {e}"))),
        }
    }
    let answer = String::from_utf8_lossy(&answer).trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}

fn interrupted_before_sending() -> Failure {
    Failure {
        exit: signal::exit_code(),
        code: ycm::Code::Cancelled.name().into(),
        message: format!("stopped by {}; no update was sent", signal::name()),
        info: None,
    }
}

fn run_apply(context: &Context, args: &Apply) -> Result<u8, Failure> {
    let mut monitor = Monitor::new(args.summary.clone(), args.metrics.clone());
    let result = apply_run(context, args, &mut monitor);
    monitor.finish(result)
}

/// `sync apply` itself; `monitor` takes what the summary needs as the run goes.
fn apply_run(context: &Context, args: &Apply, monitor: &mut Monitor) -> Result<u8, Failure> {
    let interactive = std::io::stdin().is_terminal();
    if !args.yes && !interactive {
        return Err(Failure::usage(
            "sync apply: stdin is not a terminal, so it cannot ask for confirmation: pass --yes to apply without asking",
        ));
    }
    // The plan: read from a file, or made now (reading the current users).
    let saved = match &args.plan {
        Some(path) => {
            let cannot = |e: &dyn std::fmt::Display| {
                Failure::usage(format!("--plan \"{}\" cannot be read: {e}", path.display()))
            };
            let bytes = read_regular_file(path).map_err(|e| cannot(&e))?;
            let text = String::from_utf8(bytes).map_err(|e| cannot(&e))?;
            Some(Plan::from_json(&text)?)
        }
        None => None,
    };
    let records = match (&saved, &args.file) {
        (None, Some(file)) => Some(read_records(file)?),
        _ => None,
    };
    let (input_hash, input_format) = match (&saved, &records) {
        (Some(plan), _) => (plan.input_hash.clone(), plan.input_format),
        (None, Some(records)) => (records.input_hash.clone(), records.format),
        (None, None) => return Err(Failure::usage("sync apply needs FILE or --plan PLAN.json")),
    };
    let journal = journal_path(args, &input_hash)?;
    // Every file the run writes, before its first request.
    for (path, flag, kind) in [
        (&args.report, "--report", Kind::Output),
        (&args.failed_out, "--failed-out", Kind::Output),
        (&journal, "--journal", Kind::Regular),
    ] {
        if let Some(path) = path {
            paths::check_writable(path, flag, kind)?;
        }
    }
    // What each output's name says it holds, before anything is sent.
    let report_format = args.report.as_deref().map(report_format).transpose()?;
    if let Some(path) = &args.failed_out {
        check_failed_out(path, input_format)?;
    }
    monitor.check()?;
    if let Some(journal) = &journal {
        // Refused before anything is sent or asked (the run would refuse it too).
        Journal::check_input(journal, &input_hash)?;
    }
    let (client, resolved) = context.client()?;
    monitor.client_built(&client);
    let cancel = signal::install();
    let plan = match (saved, records) {
        (Some(plan), _) => plan,
        (None, Some(records)) => {
            Plan::build(&client, &records, Some(&cancel)).map_err(stopped_or)?
        }
        (None, None) => return Err(Failure::usage("sync apply needs FILE or --plan PLAN.json")),
    };
    let updates = plan.counts().get(&Action::Update).copied().unwrap_or(0);
    context.note(&format!("ycm: plan: {}", counts_text(&plan)));
    if !args.yes && updates > 0 {
        show_plan_before_asking(&plan);
        let question = format!("Apply {updates} update(s) to {}? [y/N]", resolved.base_url);
        if !confirm(&question)? {
            return Err(Failure::error(
                "sync apply: not confirmed; nothing was sent",
            ));
        }
    }
    if signal::interrupted() {
        return Err(interrupted_before_sending());
    }

    let options = ApplyOptions {
        concurrency: args.concurrency as usize,
        rate: args.rate.map(|rate| Rate {
            requests: rate.requests,
            interval: rate.interval,
            burst: args.burst.unwrap_or(rate.requests),
        }),
        journal: journal.clone(),
        max_failures: args.max_failures.map(|n| n as usize),
        cancel: Some(cancel),
        grace: Some(std::time::Duration::from_secs(args.stop_grace)),
    };
    // From here on a signal reaches only the watcher, never a request in flight.
    signal::shield();
    let mut progress = Progress::new("updates", None, context.global.quiet);
    let quiet = context.global.quiet;
    let report = apply(&client, &plan, &options, |event| {
        match event {
            Event::Started {
                updates,
                journal_repaired,
                ..
            } => {
                if *journal_repaired {
                    ui::line(&format!(
                        "ycm: note: the journal \"{}\" ended in a line torn by a run stopped mid-write; that line was dropped",
                        journal.as_deref().unwrap_or(Path::new("")).display()
                    ));
                }
                progress.set_total(*updates as u64)
            }
            Event::Done { .. } => progress.advance(1),
            Event::Stopping { reason } if !quiet => ui::line(&format!(
                "ycm: stopping ({}): no new update is started; waiting for the calls in flight",
                stop_text(*reason)
            )),
            Event::Stopping { .. } => {}
        }
        Control::Continue
    })?;
    progress.finish();

    monitor.run_ended(&client);
    // Each file is written even when another cannot be; the first failure is the error.
    let mut unwritten: Option<Failure> = None;
    if let Some(path) = &args.report {
        let text = match report_format {
            Some(FileFormat::Csv) => report.to_csv(),
            Some(FileFormat::Json) => report.to_json(),
            _ => report.to_jsonl(),
        };
        if let Err(failure) = paths::write_output(path, "--report", text.as_bytes()) {
            ui::line(&format!("ycm: error: {}", failure.message));
            unwritten.get_or_insert(failure);
        }
    }
    if let Some(path) = &args.failed_out {
        let text = report.failed_rows(&plan.items, plan.input_format);
        if let Err(failure) = paths::write_output(path, "--failed-out", text.as_bytes()) {
            ui::line(&format!("ycm: error: {}", failure.message));
            unwritten.get_or_insert(failure);
        }
    }
    let mut stdout = std::io::stdout().lock();
    let cut = output::stdout_cut(context.terminal);
    let shown =
        write_report(&mut stdout, context.format, &report, cut).map_err(output::write_error);
    drop(stdout);
    let summary = summary(&report, journal.as_deref());
    if signal::interrupted() {
        // Said even with --quiet: the one line a supervisor's log keeps of the stop.
        ui::line(&summary);
    } else {
        context.note(&summary);
    }
    let exit = exit_of_report(&report);
    monitor.report = Some(report);
    shown?;
    match unwritten {
        // Already said above: only the exit code is left to give.
        Some(failure) if exit == fail::OK || exit == fail::PROBLEMS => Err(Failure {
            message: String::new(),
            ..failure
        }),
        _ => Ok(exit),
    }
}

/// The format of `--report`, as its name says ([`FileFormat`]); a name that says none is
/// refused.
fn report_format(path: &Path) -> Result<FileFormat, Failure> {
    FileFormat::of_path(path).ok_or_else(|| {
        Failure::usage(format!(
            "--report \"{}\": the name must end in {} to tell the report's format (CSV, one JSON object per line, one JSON document); nothing was sent",
            path.display(),
            FileFormat::ENDINGS
        ))
    })
}

/// `--failed-out` is written in the input's own format (so it can be fed back in): its name
/// must say that format.
fn check_failed_out(path: &Path, input: Format) -> Result<(), Failure> {
    if Format::of_path(path) == Some(input) {
        return Ok(());
    }
    let (name, ending) = match input {
        Format::Csv => ("CSV", ".csv"),
        Format::Jsonl => ("JSONL", ".jsonl"),
    };
    Err(Failure::usage(format!(
        "--failed-out \"{}\": the failed rows are written in the input's format and the input is {name}: name the file {ending}; nothing was sent",
        path.display()
    )))
}

/// The journal of the run: `--journal`, or the input's journal in `--journal-dir` (the
/// directory created, its old journals pruned).
fn journal_path(args: &Apply, input_hash: &str) -> Result<Option<PathBuf>, Failure> {
    let Some(dir) = &args.journal_dir else {
        return Ok(args.journal.clone());
    };
    let refuse = |e: &dyn std::fmt::Display| {
        Failure::usage(format!(
            "--journal-dir \"{}\" cannot be used: {e}; nothing was sent",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| refuse(&e))?;
    ycm::sync::prune_journals(dir, ycm::sync::JOURNAL_KEEP).map_err(|e| refuse(&e))?;
    Ok(Some(ycm::sync::journal_in(dir, input_hash)))
}

fn stop_text(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Cancelled => signal::stop_text(),
        StopReason::Aborted => "aborted",
        StopReason::CredentialsRefused => "the server refused the credentials",
        StopReason::MaxFailures => "--max-failures reached",
        StopReason::RateLimited => "the server kept throttling after every retry",
        StopReason::JournalFailed => "the journal could not be written",
    }
}

/// The exit code of a finished or stopped run.
pub fn exit_of_report(report: &Report) -> u8 {
    match report.stopped {
        Some(StopReason::CredentialsRefused) => fail::CREDENTIALS,
        Some(StopReason::RateLimited | StopReason::MaxFailures) => fail::BUDGET,
        Some(StopReason::Cancelled | StopReason::Aborted) => signal::exit_code(),
        Some(StopReason::JournalFailed) => fail::ERROR,
        None if report.rows.iter().any(|r| r.outcome.is_problem()) => fail::PROBLEMS,
        None => fail::OK,
    }
}

fn summary(report: &Report, journal: Option<&Path>) -> String {
    let counts = report
        .counts()
        .iter()
        .map(|(outcome, n)| format!("{n} {}", outcome.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!("ycm: sync apply: {counts}");
    if report.throttled > 0 {
        text.push_str(&format!("; throttled {} time(s)", report.throttled));
    }
    if let Some(reason) = report.stopped {
        text.push_str(&format!("; stopped: {}", stop_text(reason)));
        if let Some(error) = &report.stop_error {
            text.push_str(&format!(" ({error})"));
        }
        text.push_str(match journal {
            Some(_) => "; the journal is written: rerun the same command to resume",
            None => {
                "; rerun the same command to go on (with --journal a rerun also skips what is done)"
            }
        });
    }
    text
}

/// The report on stdout: as JSON, JSONL or CSV, or as a table of the rows that did not end
/// unchanged (cut as `cut` says).
fn write_report(
    out: &mut dyn Write,
    format: OutputFormat,
    report: &Report,
    cut: Option<output::Cut>,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => writeln!(out, "{}", report.to_json()),
        OutputFormat::Jsonl => out.write_all(report.to_jsonl().as_bytes()),
        OutputFormat::Csv => out.write_all(report.to_csv().as_bytes()),
        OutputFormat::Table => {
            // The report's columns up to `message` (requestId and attempts are for files).
            const SHOWN: usize = 6;
            let header: Vec<String> = REPORT_COLUMNS[..SHOWN]
                .iter()
                .map(|c| c.to_string())
                .collect();
            let rows: Vec<Vec<String>> = report
                .rows
                .iter()
                .filter(|r| r.outcome != Outcome::Unchanged)
                .map(|r| r.cells()[..SHOWN].to_vec())
                .collect();
            output::table(out, &header, &rows, cut)
        }
    }
}
