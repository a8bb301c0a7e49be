//! The command line itself: every command, flag and value rule, declared with clap's
//! derive. Nothing here touches the network; `lib.rs` dispatches what was parsed. No flag
//! takes a secret (a secret on the command line shows in `ps`): tokens and client secrets
//! come from the environment or the profile file only.

use crate::help;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// YCM users from a terminal, a script or cron.
///
/// Settings, highest first: flags; the environment (YCM_BASE_URL, YCM_ACCESS_TOKEN,
/// YCM_CLIENT_ID, YCM_CLIENT_SECRET, YCM_PROFILE, YCM_SHARED_STATE, YCM_PROXY); the profile in
/// $XDG_CONFIG_HOME/ycm/config.toml (default ~/.config/ycm/config.toml); defaults.
/// Data goes to stdout, progress, logs and errors to stderr. `ycm help exit-codes` lists
/// the exit codes.
/// (The examples at the end of every command's help, and the environment, are added by
/// `help::decorate` from their one declaration.)
#[derive(Parser, Debug)]
#[command(name = "ycm", version, disable_help_subcommand = true)]
pub struct Cli {
    /// Global settings.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, shown apart from each command's own ("Global options"). The
/// ones with an environment variable show it (`[env: YCM_...]`); clap reads the variable
/// only to show it: `settings` resolves the variables itself (`main` forgets what clap read
/// from them), so flag, variable and profile keep one precedence and one set of messages.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The YCM base URL, e.g. `https://ycm.example.com` (overrides the profile).
    #[arg(long, global = true, value_name = "URL", env = help::BASE_URL, hide_env_values = true)]
    pub base_url: Option<String>,
    /// The profile of the settings file to use (default "default").
    #[arg(long, global = true, value_name = "NAME", env = help::PROFILE, hide_env_values = true)]
    pub profile: Option<String>,
    /// How data is written to stdout (default: table on a terminal, json otherwise).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// One line per HTTP attempt on stderr (method, path, status, attempt, ms); never a secret.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Whole-call time budget in milliseconds, retries included (overrides the profile's timeout_ms).
    #[arg(long, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: Option<u64>,
    /// Where the token, rate budget and refusal latch are shared: process, host, or a
    /// redis:// or rediss:// URL (overrides YCM_SHARED_STATE and the profile's shared_state;
    /// default host).
    #[arg(long, global = true, value_name = "SCOPE", env = help::SHARED_STATE, hide_env_values = true)]
    pub shared_state: Option<String>,
    /// The HTTP proxy, `http://host:port` (overrides YCM_PROXY and the profile's proxy;
    /// without any, https_proxy, HTTPS_PROXY, http_proxy, ALL_PROXY and NO_PROXY are read as
    /// curl reads them; "" turns proxies off). Credentials are refused here (a flag shows in
    /// `ps`): put user:password@ in YCM_PROXY, HTTPS_PROXY or the profile.
    #[arg(long, global = true, value_name = "URL", env = help::PROXY, hide_env_values = true)]
    pub proxy: Option<String>,
    /// No progress, status lines or summaries on stderr (errors are still written).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The formats of `--output`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns, for people.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read, list, update and export users.
    #[command(subcommand)]
    Users(Users),
    /// Make YCM's users match a CSV or JSONL file: plan, then apply.
    #[command(subcommand)]
    Sync(Sync),
    /// Check the credentials.
    #[command(subcommand)]
    Auth(Auth),
    /// Create or replace a profile of the settings file (asks on a terminal).
    Configure(Configure),
    /// Print a shell completion script to stdout.
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Help on a command, or on a topic: `ycm help exit-codes`.
    Help {
        /// A command path (`users get`) or `exit-codes`.
        topic: Vec<String>,
    },
}

/// Shells `ycm completion` knows.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// `ycm users ...`.
#[derive(Subcommand, Debug)]
pub enum Users {
    /// Read one user.
    Get {
        /// The user's ID.
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
    },
    /// List users: one page, or every page with --all.
    List {
        /// Users per page (1 to 50).
        #[arg(long, default_value_t = 50, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=i64::from(ycm::MAX_PAGE_SIZE)))]
        page_size: u32,
        /// The page to read (1-based); ignored with --all.
        #[arg(long, default_value_t = 1, value_name = "N", conflicts_with = "all",
              value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
        /// Every page, sorted by userId.
        #[arg(long)]
        all: bool,
    },
    /// Update one user's fields; only the fields given are sent.
    Update(Box<Update>),
    /// Every user, to stdout: CSV (the default; valid `sync` input as it is), JSON lines
    /// or one JSON document (`--output`; a table is refused: use `users list --all`).
    Export {
        /// The format written (the same as `--output csv|jsonl`, which it overrides).
        #[arg(long, value_enum)]
        format: Option<ExportFormat>,
    },
}

/// The formats of `users export`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV with a header row of wire names.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `ycm users update`: one flag per update field of `ycm::fields::FIELDS` (a test checks
/// that the flags and the table agree).
#[derive(Args, Debug)]
pub struct Update {
    /// The user's ID.
    #[arg(value_parser = clap::value_parser!(i64).range(1..))]
    pub id: i64,
    /// Company name ("" clears it).
    #[arg(long, value_name = "S")]
    pub company: Option<String>,
    /// First name.
    #[arg(long, value_name = "S")]
    pub first_name: Option<String>,
    /// Last name.
    #[arg(long, value_name = "S")]
    pub last_name: Option<String>,
    /// E-mail address.
    #[arg(long, value_name = "S")]
    pub email: Option<String>,
    /// Phone number.
    #[arg(long, value_name = "S")]
    pub phone: Option<String>,
    /// Mobile number.
    #[arg(long, value_name = "S")]
    pub mobile: Option<String>,
    /// Address.
    #[arg(long, value_name = "S")]
    pub address: Option<String>,
    /// Remark.
    #[arg(long, value_name = "S")]
    pub remark: Option<String>,
    /// Switch two-factor authentication off (the API cannot switch it on).
    #[arg(long)]
    pub disable_two_factor: bool,
    /// A reseller's Cloud PBX creation limit: an integer from 1, or `unlimited`.
    #[arg(long, value_name = "N|unlimited")]
    pub pbx_creation_limit: Option<String>,
    /// Check the update and print the body that would be sent; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `ycm sync ...`.
#[derive(Subcommand, Debug)]
pub enum Sync {
    /// Read the current users and show what a run would change; sends no update.
    Plan {
        /// The records: a .csv or .jsonl file.
        file: PathBuf,
        /// Also write the plan (JSON) to this file, for `sync apply --plan`.
        #[arg(long, value_name = "PLAN.json")]
        out: Option<PathBuf>,
        /// Exit codes as terraform's: 0 nothing to do, 2 updates pending and every record
        /// fine, 3 some records to look at (with or without updates), 1 any error (bad usage
        /// and bad input included).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Send the updates of FILE (planned now) or of a saved plan.
    Apply(Box<Apply>),
}

/// `ycm sync apply`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "plan"])))]
pub struct Apply {
    /// The records: a .csv or .jsonl file (planned now).
    pub file: Option<PathBuf>,
    /// A plan written by `sync plan --out` (each update is checked against the current
    /// values before it is sent; a user changed since is a conflict, left alone).
    #[arg(long, value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// Updates in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// A client-side rate cap: N requests per minute (`N/min`) or per second (`N/s`).
    #[arg(long, value_name = "N/min|N/s", value_parser = parse_rate)]
    pub rate: Option<RateArg>,
    /// Requests that may go at once after a quiet spell (default: the rate's N).
    #[arg(long, value_name = "N", requires = "rate",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub burst: Option<u32>,
    /// The journal: written as the run goes; rerun the same command with it to resume.
    #[arg(long, value_name = "FILE", conflicts_with = "journal_dir")]
    pub journal: Option<PathBuf>,
    /// Keep one journal per input content in DIR (created if missing), for runs on a
    /// schedule: a rerun of the same file resumes, tomorrow's file starts its own; journals
    /// untouched for 30 days are removed.
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// Write the report to FILE: .csv for CSV, .jsonl for one JSON object per line, .json for
    /// one JSON document (any other name is refused).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the records that did not end updated or unchanged to FILE, in the input's own
    /// format with errorCode and errorMessage columns (it can be fed back in).
    #[arg(long, value_name = "FILE")]
    pub failed_out: Option<PathBuf>,
    /// Write a JSON summary of the run to FILE when it ends (or stops gracefully): counts
    /// per outcome, requests, 429s, token grants, duration, rate, stop reason, exit code.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Write the same summary in the Prometheus text format to FILE (for node_exporter's
    /// textfile collector).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// After Ctrl-C, SIGTERM or SIGHUP (or any other stop), how long the updates in flight
    /// may go on before they are cut short too (0: at once); a rerun reads those users
    /// again. Keep it below a supervisor's own limit (systemd's TimeoutStopSec).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub stop_grace: u64,
    /// Stop scheduling once N records failed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_failures: Option<u64>,
    /// Apply without asking (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// A parsed `--rate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateArg {
    /// Requests per interval.
    pub requests: u32,
    /// The interval.
    pub interval: std::time::Duration,
}

/// Parses `N/min`, `N/m`, `N/s` or `N/sec`.
pub fn parse_rate(text: &str) -> Result<RateArg, String> {
    let rule = "must be N/min or N/s with N a whole number from 1, e.g. 100/min";
    let (n, unit) = text.split_once('/').ok_or_else(|| rule.to_string())?;
    let requests: u32 = n.trim().parse().map_err(|_| rule.to_string())?;
    if requests == 0 {
        return Err(rule.to_string());
    }
    let interval = match unit.trim() {
        "min" | "m" | "minute" => std::time::Duration::from_secs(60),
        "s" | "sec" | "second" => std::time::Duration::from_secs(1),
        _ => return Err(rule.to_string()),
    };
    Ok(RateArg { requests, interval })
}

/// `ycm configure`: a profile from flags, asking for what is missing on a terminal. The base
/// URL is the global `--base-url`, the profile the global `--profile` (default "default").
/// A secret is never a flag: it is typed at a prompt that does not echo it, read from stdin
/// (`--secret-stdin`), or left in a file the profile names (`--client-secret-file`).
#[derive(Args, Debug, Clone)]
pub struct Configure {
    /// The client ID of a YCM API app (tokens are fetched and renewed with its secret).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// An existing file whose first line is the client secret; the profile names it.
    #[arg(
        long,
        value_name = "FILE",
        requires = "client_id",
        conflicts_with = "secret_stdin"
    )]
    pub client_secret_file: Option<PathBuf>,
    /// Read the secret from stdin's first line: the client secret with --client-id
    /// (stored in a 0600 file beside the settings), else a static access token.
    #[arg(long)]
    pub secret_stdin: bool,
    /// Replace the profile if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `ycm auth ...`.
#[derive(Subcommand, Debug)]
pub enum Auth {
    /// Authenticate and make one cheap read; exit 4 when the credentials are refused.
    Check,
    /// Show the credential in use, its source, the shared-state scope, the shared token's
    /// age and expiry, the budget's level and any refusal latch (never a secret); sends nothing.
    Status,
    /// Drop this client ID's shared token and refusal latch; sends nothing.
    Reset,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn rates_parse_or_name_the_rule() {
        assert_eq!(
            parse_rate("100/min").unwrap(),
            RateArg {
                requests: 100,
                interval: std::time::Duration::from_secs(60)
            }
        );
        assert_eq!(parse_rate("5/s").unwrap().requests, 5);
        for bad in ["0/s", "100", "x/min", "10/h", "-1/s"] {
            assert!(
                parse_rate(bad).unwrap_err().contains("N/min or N/s"),
                "{bad}"
            );
        }
    }

    /// The update flags are the update fields of the library's table, one each.
    #[test]
    fn update_flags_match_the_field_table() {
        let cli = Cli::command();
        let update = cli
            .find_subcommand("users")
            .and_then(|u| u.find_subcommand("update"))
            .unwrap();
        let flags: Vec<String> = update
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_string))
            .filter(|l| l != "dry-run" && l != "help")
            .filter(|l| {
                !Cli::command()
                    .get_arguments()
                    .any(|g| g.get_long() == Some(l))
            })
            .collect();
        let expected: Vec<String> = ycm::fields::FIELDS
            .iter()
            .map(crate::users::flag_of)
            .collect();
        assert_eq!(flags, expected);
    }
}
