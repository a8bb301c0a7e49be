//! What a person reads besides the flags, declared once: the environment variables
//! ([`ENVIRONMENT`], whose names the flags' `env = ...` and the settings use), the files
//! ([`files`]) and each command's examples ([`EXAMPLES`]). [`decorate`] puts them into the
//! clap definition (every command's help ends with its examples; the top-level `--help`
//! lists the environment), and `man.rs` renders the same tables as the EXAMPLES,
//! ENVIRONMENT and FILES sections of the man pages, so help and man pages cannot disagree.

/// `YCM_BASE_URL`.
pub const BASE_URL: &str = "YCM_BASE_URL";
/// `YCM_ACCESS_TOKEN`.
pub const ACCESS_TOKEN: &str = "YCM_ACCESS_TOKEN";
/// `YCM_CLIENT_ID`.
pub const CLIENT_ID: &str = "YCM_CLIENT_ID";
/// `YCM_CLIENT_SECRET`.
pub const CLIENT_SECRET: &str = "YCM_CLIENT_SECRET";
/// `YCM_PROFILE`.
pub const PROFILE: &str = "YCM_PROFILE";
/// `YCM_SHARED_STATE`.
pub const SHARED_STATE: &str = "YCM_SHARED_STATE";
/// `YCM_PROXY`.
pub const PROXY: &str = "YCM_PROXY";
/// `YCM_STATUS_INTERVAL_MS`.
pub const STATUS_INTERVAL_MS: &str = "YCM_STATUS_INTERVAL_MS";
/// `NO_COLOR`.
pub const NO_COLOR: &str = "NO_COLOR";

/// Every environment variable `ycm` reads, with what it does, in the order shown.
pub const ENVIRONMENT: [(&str, &str); 13] = [
    (BASE_URL, "The YCM base URL, as --base-url."),
    (
        ACCESS_TOKEN,
        "A static access token (a secret: never a flag). Replaces a profile's credentials.",
    ),
    (
        CLIENT_ID,
        "The client ID of a YCM API app; with YCM_CLIENT_SECRET, tokens are fetched and renewed.",
    ),
    (CLIENT_SECRET, "The client secret that goes with YCM_CLIENT_ID (a secret: never a flag)."),
    (PROFILE, "The profile of the settings file, as --profile (default \"default\")."),
    (SHARED_STATE, "Where the token and the rate budget are shared, as --shared-state."),
    (
        PROXY,
        "The HTTP proxy, as --proxy; may carry user:password@ (a flag may not).",
    ),
    (
        "HTTPS_PROXY, https_proxy, HTTP_PROXY, ALL_PROXY, NO_PROXY",
        "Read as curl reads them when neither --proxy, YCM_PROXY nor the profile sets a proxy.",
    ),
    (
        "XDG_CONFIG_HOME",
        "The settings file is $XDG_CONFIG_HOME/ycm/config.toml (default ~/.config/ycm/config.toml).",
    ),
    (
        "XDG_RUNTIME_DIR, XDG_CACHE_HOME",
        "The host scope's state directory: $XDG_RUNTIME_DIR/ycm, else $XDG_CACHE_HOME/ycm, else ~/.cache/ycm.",
    ),
    (
        STATUS_INTERVAL_MS,
        "Milliseconds between status lines when stderr is not a terminal (default 5000).",
    ),
    (NO_COLOR, "Set and not empty: no colour on a terminal either."),
    (
        "HOME",
        "Where ~ is, for the default settings file and state directory.",
    ),
];

/// The files `ycm` reads or writes, with what they hold.
pub fn files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "$XDG_CONFIG_HOME/ycm/config.toml (default ~/.config/ycm/config.toml)",
            "The settings: one [profiles.NAME] table per YCM instance with the library's \
             config keys (base_url, access_token or client_id with client_secret_file, \
             timeout_ms, shared_state, rate_limit, ...); [profiles.default] is used when no \
             profile is named. Written by `ycm configure` with mode 0600; a file that holds \
             a secret and that others can read draws a warning.",
        ),
        (
            "$XDG_CONFIG_HOME/ycm/NAME.secret",
            "A client secret `ycm configure` stored for profile NAME (mode 0600), named by \
             the profile's client_secret_file.",
        ),
        (
            "$XDG_RUNTIME_DIR/ycm/ (else $XDG_CACHE_HOME/ycm/, else ~/.cache/ycm/)",
            "The host scope's shared state: one file per client ID (token, rate budget, \
             refusal latch); directory 0700, files 0600. `ycm auth reset` clears it.",
        ),
    ]
}

/// One example: what it does, and the command.
pub type Example = (&'static str, &'static str);

/// Each command's examples, by command path (`""` is `ycm` itself).
pub const EXAMPLES: &[(&str, &[Example])] = &[
    (
        "",
        &[
            ("Create a profile, then check it", "ycm configure && ycm auth check"),
            ("Read a user as a table", "ycm users get 13329"),
            ("Plan a sync, then apply it", "ycm sync plan users.csv && ycm sync apply users.csv"),
        ],
    ),
    (
        "users",
        &[
            ("Read one user", "ycm users get 13329"),
            ("Every user, as CSV", "ycm users export > users.csv"),
        ],
    ),
    (
        "users get",
        &[
            ("Read a user as a table", "ycm users get 13329"),
            ("Only the e-mail address, with jq", "ycm users get 13329 --output json | jq -r .email"),
        ],
    ),
    (
        "users list",
        &[
            ("The first page of 50", "ycm users list"),
            ("Every user, one JSON object per line", "ycm users list --all --output jsonl"),
        ],
    ),
    (
        "users update",
        &[
            ("Change a company name", "ycm users update 13329 --company \"Acme Ltd\""),
            ("Check an update without sending it", "ycm users update 13329 --pbx-creation-limit unlimited --dry-run"),
        ],
    ),
    (
        "users export",
        &[
            ("Every user as CSV (valid sync input as it is)", "ycm users export > users.csv"),
            ("As JSON lines", "ycm users export --output jsonl > users.jsonl"),
        ],
    ),
    (
        "sync",
        &[
            ("What a run would change", "ycm sync plan users.csv"),
            ("Apply it, resumable, with a report", "ycm sync apply users.csv --journal sync.journal --report report.csv"),
        ],
    ),
    (
        "sync plan",
        &[
            ("The changes, as a table", "ycm sync plan users.csv"),
            ("Save the plan to apply later", "ycm sync plan users.csv --out plan.json"),
            ("In a script: 2 means updates pending", "ycm sync plan users.csv --detailed-exitcode --quiet > /dev/null"),
        ],
    ),
    (
        "sync apply",
        &[
            ("Apply after confirming on the terminal", "ycm sync apply users.csv"),
            ("Nightly from cron: no question, 100 requests a minute", "ycm sync apply users.csv --yes --rate 100/min --journal-dir /var/lib/ycm --summary /var/lib/ycm/summary.json"),
            ("A saved plan", "ycm sync apply --plan plan.json --yes"),
        ],
    ),
    (
        "auth",
        &[
            ("Are the credentials accepted?", "ycm auth check"),
            ("What the shared state holds", "ycm auth status"),
        ],
    ),
    ("auth check", &[("Check the profile \"staging\"", "ycm --profile staging auth check")]),
    ("auth status", &[("The shared token's age and the budget", "ycm auth status")]),
    ("auth reset", &[("Clear a refusal latch after fixing the secret", "ycm auth reset")]),
    (
        "configure",
        &[
            ("Create the default profile, asking on the terminal", "ycm configure"),
            ("Without questions, the secret from a file", "ycm configure --profile staging --base-url https://ycm.example.com --client-id ID --client-secret-file ~/.ycm-secret"),
            ("Without questions, the secret from stdin", "pass show ycm | ycm configure --base-url https://ycm.example.com --client-id ID --secret-stdin"),
        ],
    ),
    (
        "completion",
        &[("Bash completion for this shell", "source <(ycm completion bash)")],
    ),
    (
        "help",
        &[
            ("The exit codes", "ycm help exit-codes"),
            ("Help on a command", "ycm help sync apply"),
        ],
    ),
];

/// The examples of the command at `path` (`"users get"`).
pub fn examples_of(path: &str) -> &'static [Example] {
    EXAMPLES
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(&[], |(_, examples)| examples)
}

/// The examples as the end of a help text.
fn examples_text(examples: &[Example]) -> String {
    let mut text = String::from("Examples:\n");
    for (what, command) in examples {
        text.push_str(&format!("  # {what}\n  {command}\n"));
    }
    text.trim_end().to_string()
}

/// The environment as the end of the top-level `--help`.
fn environment_text() -> String {
    let mut text = String::from("Environment:\n");
    for (name, meaning) in ENVIRONMENT {
        text.push_str(&format!("  {name}\n      {meaning}\n"));
    }
    text.trim_end().to_string()
}

/// Ends every command's help with its examples (and the top level's long help with the
/// environment and the exit codes' pointer).
pub fn decorate(command: clap::Command) -> clap::Command {
    fn walk(command: clap::Command, path: &str) -> clap::Command {
        let examples = examples_text(examples_of(path));
        let mut command = if path.is_empty() {
            let short = format!(
                "{examples}\n\nSecrets are never taken as flags: set {ACCESS_TOKEN}, or {CLIENT_ID} and \
                 {CLIENT_SECRET}, or run `ycm configure`. `ycm help exit-codes` lists the exit codes."
            );
            let long = format!("{short}\n\n{}", environment_text());
            command.after_help(short).after_long_help(long)
        } else {
            command.after_help(examples)
        };
        let names: Vec<String> = command
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        for name in names {
            let child = if path.is_empty() {
                name.clone()
            } else {
                format!("{path} {name}")
            };
            command = command.mut_subcommand(&name, |sub| walk(sub, &child));
        }
        command
    }
    walk(command, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command has examples, and every example names a command that exists.
    #[test]
    fn every_command_has_examples_and_no_example_is_orphaned() {
        fn paths(command: &clap::Command, path: &str, out: &mut Vec<String>) {
            out.push(path.to_string());
            for sub in command.get_subcommands() {
                let child = if path.is_empty() {
                    sub.get_name().to_string()
                } else {
                    format!("{path} {}", sub.get_name())
                };
                paths(sub, &child, out);
            }
        }
        let mut all = Vec::new();
        paths(&crate::command(), "", &mut all);
        for path in &all {
            assert!(
                !examples_of(path).is_empty(),
                "no examples for `ycm {path}`"
            );
            for (_, line) in examples_of(path) {
                assert!(line.contains("ycm "), "{path}: {line}");
            }
        }
        for (path, _) in EXAMPLES {
            assert!(
                all.iter().any(|p| p == path),
                "examples for a missing command `{path}`"
            );
        }
    }
}
