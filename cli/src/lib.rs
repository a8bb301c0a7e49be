//! The `ycm` command line (the binary in `src/main.rs`): YCM users from a terminal, a
//! script or cron, on the `ycm` crate. [`main`] parses the arguments ([`args`]), resolves
//! the settings ([`settings`]), runs the command ([`users`], [`sync`], `auth check`,
//! `configure`, `completion`, `help`), writes data to stdout ([`output`]) and everything else to stderr
//! ([`ui`]), and returns the documented exit code ([`fail`]). [`write_docs`] writes the
//! shell completions and one man page per command (`make cli-docs`).

pub mod args;
pub mod configure;
mod dumps;
pub mod fail;
pub mod help;
pub mod man;
pub mod monitor;
pub mod output;
pub mod paths;
pub mod settings;
mod signal;
pub mod sync;
pub mod ui;
pub mod users;

use args::{Cli, Command, OutputFormat, Shell};
use clap::{CommandFactory, FromArgMatches};
use fail::Failure;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// The clap definition of the whole command line, with each command's examples.
pub fn command() -> clap::Command {
    help::decorate(Cli::command())
}

/// Parses the command line: clap's definition with its examples, then what clap read from
/// an environment variable forgotten (see [`args::Global`]: `settings` reads those).
fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    let matches = command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let from_env = |id: &str| {
        let mut current = &matches;
        let mut found = current.value_source(id);
        while let Some((_, sub)) = current.subcommand() {
            current = sub;
            found = found.or(current.value_source(id));
        }
        found == Some(clap::parser::ValueSource::EnvVariable)
    };
    let global = &mut cli.global;
    for (id, value) in [
        ("base_url", &mut global.base_url),
        ("profile", &mut global.profile),
        ("shared_state", &mut global.shared_state),
        ("proxy", &mut global.proxy),
    ] {
        if from_env(id) {
            *value = None;
        }
    }
    Ok(cli)
}

/// What every command needs: the global flags and the output format in use.
pub struct Context {
    /// The global flags.
    pub global: args::Global,
    /// The output format resolved (flag, else table on a terminal, json otherwise).
    pub format: OutputFormat,
    /// Whether stdout is a terminal (a long table is cut there).
    pub terminal: bool,
}

impl Context {
    /// Resolves the settings and builds the client (sends nothing).
    pub fn client(&self) -> Result<(ycm::Client, settings::Resolved), Failure> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let inputs = settings::Inputs {
            base_url: self.global.base_url.as_deref(),
            profile: self.global.profile.as_deref(),
            timeout_ms: self.global.timeout_ms,
            shared_state: self.global.shared_state.as_deref(),
            proxy: self.global.proxy.as_deref(),
            env: &env,
        };
        let resolved =
            settings::resolve(&inputs, &mut |warning| ui::line(&format!("ycm: {warning}")))?;
        let client = ycm::Client::from_json(&resolved.config_json)?;
        Ok((client, resolved))
    }

    /// A note on stderr, unless `--quiet`.
    pub fn note(&self, text: &str) {
        if !self.global.quiet {
            ui::line(text);
        }
    }
}

/// Runs the command line; returns the exit code.
pub fn main() -> ExitCode {
    dumps::forbid();
    signal::ignore_file_size_signal();
    let cli = match parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let code = e.exit_code().clamp(0, 255) as u8;
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            if code != fail::OK && fail::detailed_asked(&args) {
                return ExitCode::from(fail::ERROR);
            }
            return ExitCode::from(code);
        }
    };
    let context = Context {
        format: output::resolve(cli.global.output),
        global: cli.global.clone(),
        terminal: std::io::stdout().is_terminal(),
    };
    if context.global.verbose {
        ui::install_trace();
    } else if !context.global.quiet {
        ui::install_warnings();
    }
    match run(&context, &cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            report(&context, &failure);
            ExitCode::from(failure.exit)
        }
    }
}

/// Writes a failure to stderr: JSON when `--output json` or `jsonl` was asked for, else one
/// readable line (a pipe on stdout alone does not make errors JSON).
fn report(context: &Context, failure: &Failure) {
    if failure.message.is_empty() {
        return;
    }
    let text = match context.global.output {
        Some(OutputFormat::Json | OutputFormat::Jsonl) => failure.to_json(),
        _ => {
            let mut text = format!("ycm: error: {}", failure.message);
            if let Some(info) = &failure.info {
                let mut facts = Vec::new();
                if info.http_status != 0
                    && !failure
                        .message
                        .contains(&format!("HTTP {}", info.http_status))
                {
                    facts.push(format!("HTTP {}", info.http_status));
                }
                facts.push(format!("{} attempt(s)", info.attempts));
                if !info.request_id.is_empty() {
                    facts.push(format!("requestId {}", info.request_id));
                }
                text.push_str(&format!(" ({})", facts.join(", ")));
            }
            text
        }
    };
    ui::line(&text);
}

fn run(context: &Context, cmd: &Command) -> Result<u8, Failure> {
    // What writes no data has no format to honour: --output is refused, not ignored.
    if let (Some(_), Command::Completion { .. } | Command::Help { .. }) =
        (context.global.output, cmd)
    {
        return Err(Failure::usage(
            "--output does not apply to `completion` or `help`, which write text for a shell or a person",
        ));
    }
    match cmd {
        Command::Users(users) => users::run(context, users),
        Command::Sync(sync) => sync::run(context, sync),
        Command::Auth(args::Auth::Check) => auth_check(context),
        Command::Auth(args::Auth::Status) => auth_status(context),
        Command::Auth(args::Auth::Reset) => auth_reset(context),
        Command::Configure(args) => configure::run(context, args),
        Command::Completion { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(clap_shell(*shell), &mut command(), "ycm", &mut out);
            out.flush().map_err(output::write_error)?;
            Ok(fail::OK)
        }
        Command::Help { topic } => help(topic),
    }
}

fn clap_shell(shell: Shell) -> clap_complete::Shell {
    match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    }
}

/// `ycm help [COMMAND...|exit-codes]`.
fn help(topic: &[String]) -> Result<u8, Failure> {
    let mut out = std::io::stdout().lock();
    if topic.len() == 1 && topic[0] == "exit-codes" {
        out.write_all(fail::exit_codes_help().as_bytes())
            .map_err(output::write_error)?;
        return Ok(fail::OK);
    }
    let mut cmd = command();
    cmd.build();
    let mut current = &mut cmd;
    for word in topic {
        let known: Vec<String> = current
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        current = current.find_subcommand_mut(word).ok_or_else(|| {
            Failure::usage(format!(
                "help: no command or topic \"{word}\"; known: {}, exit-codes",
                known.join(", ")
            ))
        })?;
    }
    let text = current.render_long_help().to_string();
    out.write_all(text.as_bytes())
        .map_err(output::write_error)?;
    Ok(fail::OK)
}

/// `ycm auth check`: fetches a token when the client manages them, then reads one user.
fn auth_check(context: &Context) -> Result<u8, Failure> {
    let (client, resolved) = context.client()?;
    let query = ycm::ListQuery::new(1, 1, None)?;
    let (data, info) = client.list_users_data(&query)?;
    let mut result = serde_json::Map::new();
    result.insert("ok".into(), true.into());
    result.insert("baseUrl".into(), resolved.base_url.into());
    result.insert("auth".into(), resolved.auth.into());
    result.insert("source".into(), resolved.auth_source.into());
    result.insert(
        "profile".into(),
        resolved.profile.map_or(serde_json::Value::Null, Into::into),
    );
    result.insert(
        "users".into(),
        data.get("total").cloned().unwrap_or_default(),
    );
    result.insert("requestId".into(), info.request_id.into());
    let mut out = std::io::stdout().lock();
    output::object(&mut out, context.format, &result).map_err(output::write_error)?;
    Ok(fail::OK)
}

/// `ycm auth status`: what the client ID's shared state holds, read without a request.
fn auth_status(context: &Context) -> Result<u8, Failure> {
    let (client, resolved) = context.client()?;
    let status = client.shared_status();
    let millis = |ms: f64| serde_json::Value::from(ms.round() as i64);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let mut result = serde_json::Map::new();
    result.insert("baseUrl".into(), resolved.base_url.into());
    result.insert("auth".into(), resolved.auth.into());
    result.insert("source".into(), resolved.auth_source.into());
    result.insert("sharedState".into(), status.scope.into());
    result.insert(
        "proxy".into(),
        client
            .proxy_description()
            .map_or(serde_json::Value::Null, Into::into),
    );
    let (age, expires) = match status.token {
        Some((granted, expires)) => (
            millis((now - granted) / 1000.0),
            millis((expires - now) / 1000.0),
        ),
        None => (serde_json::Value::Null, serde_json::Value::Null),
    };
    result.insert("tokenAgeS".into(), age);
    result.insert("tokenExpiresInS".into(), expires);
    result.insert(
        "rateLimit".into(),
        client
            .config()
            .rate_limit_setting()
            .map_or(serde_json::Value::Null, |l| l.to_string().into()),
    );
    result.insert(
        "budgetLevel".into(),
        if status.level.is_finite() {
            serde_json::Value::from((status.level * 10.0).floor() / 10.0)
        } else {
            serde_json::Value::Null
        },
    );
    result.insert("throttled".into(), status.throttled.into());
    result.insert("grants".into(), status.grants.into());
    result.insert(
        "refusalLatch".into(),
        match status.latch {
            Some((at, by, reason)) => serde_json::json!({
                "atUnixS": (at / 1000.0).floor() as i64,
                "by": by,
                "reason": reason,
            }),
            None => serde_json::Value::Null,
        },
    );
    let mut out = std::io::stdout().lock();
    output::object(&mut out, context.format, &result).map_err(output::write_error)?;
    Ok(fail::OK)
}

/// `ycm auth reset`: drops the client ID's shared token and refusal latch.
fn auth_reset(context: &Context) -> Result<u8, Failure> {
    let (client, resolved) = context.client()?;
    client.reset_shared_state();
    let mut result = serde_json::Map::new();
    result.insert("reset".into(), true.into());
    result.insert("baseUrl".into(), resolved.base_url.into());
    result.insert("sharedState".into(), client.shared_status().scope.into());
    let mut out = std::io::stdout().lock();
    output::object(&mut out, context.format, &result).map_err(output::write_error)?;
    Ok(fail::OK)
}

/// Writes the shell completions (`DIR/completions/`) and one man page per command
/// (`DIR/man/ycm.1`, `ycm-users.1`, `ycm-users-get.1`, ...).
pub fn write_docs(dir: &Path) -> std::io::Result<()> {
    let completions = dir.join("completions");
    let man = dir.join("man");
    std::fs::create_dir_all(&completions)?;
    std::fs::create_dir_all(&man)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(clap_shell(shell), &mut command(), "ycm", &completions)?;
    }
    man::write_pages(&man)
}
