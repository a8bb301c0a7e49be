//! The `ycm` binary as a person meets it, against ycm-mock: help with the global options
//! apart, examples and the environment; man pages that `man -l` renders without a warning
//! and that carry EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES; `--output` honoured or
//! refused by `users export`; errors readable on stderr unless JSON was asked for; tables
//! aligned by display width (CJK company names); long tables cut on a terminal and whole
//! when piped; `sync apply` showing the plan before it asks; the permission warning only
//! where a secret is; `ycm configure` with flags and at the prompts of a terminal. Terminal
//! behaviour runs under a pseudo-terminal (`script`).

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::*;

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// Every command path of the binary (`""`, `"users"`, `"users get"`, ...).
fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in command.get_subcommands() {
            let mut child = path.clone();
            child.push(sub.get_name().to_string());
            walk(sub, child, out);
        }
    }
    let mut out = Vec::new();
    walk(&ycm_cli::command(), Vec::new(), &mut out);
    out
}

/// The lines of `text` from the heading `name:` to the next heading (or the end).
fn section<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| *l != format!("{name}:"));
    lines.next();
    lines
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

#[test]
fn every_help_shows_global_options_apart_and_ends_with_examples() {
    let s = Setup::new();
    for path in command_paths() {
        let mut args = path.clone();
        args.push("--help".into());
        let out = ok(s.bare().args(&args));
        let shown = format!("ycm {}", path.join(" "));
        let tail = out.stdout.trim_end();
        let examples = tail
            .rfind("Examples:")
            .unwrap_or_else(|| panic!("{shown}: {tail}"));
        assert!(
            tail[examples..].contains("ycm "),
            "{shown}: its examples run ycm: {tail}"
        );
        if path.first().is_some_and(|p| p == "help") {
            continue;
        }
        let global = section(&out.stdout, "Global options").join("\n");
        assert!(
            global.contains("--base-url") && global.contains("--output"),
            "{shown}: {}",
            out.stdout
        );
        let own = section(&out.stdout, "Options").join("\n");
        assert!(!own.contains("--base-url"), "{shown}: {own}");
    }
    // A command's own flags stay under "Options".
    let out = ok(s.bare().args(["sync", "apply", "--help"]));
    let own = section(&out.stdout, "Options").join("\n");
    assert!(
        own.contains("--concurrency") && own.contains("--yes"),
        "{own}"
    );
}

#[test]
fn help_names_the_environment_but_never_its_values() {
    let s = Setup::new();
    let out = ok(s
        .bare()
        .env("YCM_PROXY", "http://user:HiddenPassword@127.0.0.1:1")
        .env("YCM_BASE_URL", "https://hidden.example")
        .args(["users", "list", "--help"]));
    for name in [
        "[env: YCM_BASE_URL]",
        "[env: YCM_PROFILE]",
        "[env: YCM_PROXY]",
        "[env: YCM_SHARED_STATE]",
    ] {
        assert!(out.stdout.contains(name), "{name}: {}", out.stdout);
    }
    assert!(!out.stdout.contains("HiddenPassword") && !out.stdout.contains("hidden.example"));
    // The top-level long help lists the variables that are not flags too.
    let out = ok(s.bare().arg("--help"));
    let environment = section(&out.stdout, "Environment").join("\n");
    for (name, _) in ycm_cli::help::ENVIRONMENT {
        assert!(environment.contains(name), "{name}: {environment}");
    }
}

/// A variable clap shows is still resolved by the settings, with their rules: YCM_PROXY may
/// carry credentials where --proxy may not.
#[test]
fn variables_keep_their_own_rules() {
    let s = Setup::new();
    let out = run(s
        .ycm()
        .env("YCM_PROXY", "http://user:pw@127.0.0.1:9")
        .args(["--output", "json", "auth", "status"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(s
        .ycm()
        .args(["--proxy", "http://user:pw@127.0.0.1:9", "auth", "status"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    // YCM_PROFILE names itself in its message.
    let out = run(s
        .ycm()
        .env("YCM_PROFILE", "nowhere")
        .args(["users", "get", "13329"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("from YCM_PROFILE"), "{}", out.stderr);
}

#[test]
fn man_pages_render_without_warnings_and_carry_every_section() {
    if !have("man") {
        eprintln!("skipped: no man (apt-get install man-db)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    ycm_cli::write_docs(dir.path()).unwrap();
    let pages: Vec<_> = std::fs::read_dir(dir.path().join("man"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(pages.len(), command_paths().len());
    for page in pages {
        let out = Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{}: {stderr}",
            page.display()
        );
        let text = String::from_utf8_lossy(&out.stdout);
        for heading in [
            "NAME",
            "SYNOPSIS",
            "EXAMPLES",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
        ] {
            assert!(
                text.lines().any(|l| l == heading),
                "{}: no {heading}",
                page.display()
            );
        }
        assert!(text.contains("YCM_CLIENT_SECRET") && text.contains("config.toml"));
        for (code, _) in ycm_cli::fail::EXIT_CODES {
            assert!(
                text.contains(&format!("\n       {code} ")),
                "{}: {code}",
                page.display()
            );
        }
    }
    let sync_apply = std::fs::read_to_string(dir.path().join("man/ycm-sync-apply.1")).unwrap();
    assert!(sync_apply.contains("journal\\-dir"), "its own options");
}

#[test]
fn users_export_honours_or_refuses_output() {
    let s = Setup::new();
    let csv = ok(s.ycm().args(["users", "export"]));
    assert_eq!(csv_rows(&csv.stdout).len(), ycm_mock::DEFAULT_USERS);
    let lines = ok(s.ycm().args(["--output", "jsonl", "users", "export"]));
    assert_eq!(jsonl(&lines.stdout).len(), ycm_mock::DEFAULT_USERS);
    let document = ok(s.ycm().args(["--output", "json", "users", "export"]));
    assert_eq!(
        json(&document.stdout).as_array().unwrap().len(),
        ycm_mock::DEFAULT_USERS
    );
    let agreed = ok(s
        .ycm()
        .args(["--output", "csv", "users", "export", "--format", "csv"]));
    assert_eq!(agreed.stdout, csv.stdout);
    for args in [
        vec!["--output", "table", "users", "export"],
        vec!["--output", "jsonl", "users", "export", "--format", "csv"],
    ] {
        let out = run(s.ycm().args(&args));
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stdout.is_empty() && message(&out.stderr).contains("users export"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn output_is_refused_where_there_is_no_data_to_format() {
    let s = Setup::new();
    for args in [vec!["completion", "bash"], vec!["help", "exit-codes"]] {
        let out = run(s.bare().args(["--output", "csv"]).args(&args));
        assert_eq!(out.code, 2, "{args:?}");
        assert!(
            out.stderr.contains("--output does not apply"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
        ok(s.bare().args(&args));
    }
}

#[test]
fn errors_are_one_readable_line_unless_json_was_asked_for() {
    let s = Setup::new();
    // stdout is a pipe here: that alone does not make the error JSON.
    let out = run(s.ycm().args(["users", "get", "99999"]));
    assert_eq!(out.code, 1);
    let line = out.stderr.trim_end();
    assert!(
        line.starts_with("ycm: error: ") && !line.contains('\n'),
        "{line}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(line).is_err());
    for format in ["json", "jsonl"] {
        let out = run(s.ycm().args(["--output", format, "users", "get", "99999"]));
        assert_eq!(out.code, 1);
        let error = json(out.stderr.trim());
        assert_eq!(error["error"]["exit_code"], 1, "{}", out.stderr);
    }
    let out = run(s.bare().args(["--output", "csv", "users", "get", "1"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with("ycm: error: no base URL"),
        "{}",
        out.stderr
    );
}

/// Display columns of `text`: East Asian wide characters take two.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn tables_align_cjk_company_names_by_display_width() {
    let s = Setup::new();
    let page = ok(s
        .ycm()
        .args(["--output", "json", "users", "list", "--page-size", "5"]));
    let ids: Vec<String> = json(&page.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].to_string())
        .collect();
    let names = [
        ("深圳市云宇科技有限公司", "Zed"),
        ("Acme", "Amy"),
        ("株式会社テスト", "Kai"),
    ];
    for (id, (company, first)) in ids.iter().zip(names) {
        ok(s.ycm().args([
            "users",
            "update",
            id,
            "--company",
            company,
            "--first-name",
            first,
        ]));
    }
    let out = ok(s
        .ycm()
        .args(["--output", "table", "users", "list", "--page-size", "5"]));
    let lines: Vec<&str> = out.stdout.lines().collect();
    let column = width(&lines[0][..lines[0].find("firstName").unwrap()]);
    for (_, first) in names {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!("  {first}  ")))
            .unwrap_or_else(|| panic!("{first}: {}", out.stdout));
        let at = line.find(&format!("  {first}  ")).unwrap() + 2;
        assert_eq!(width(&line[..at]), column, "{first}:\n{}", out.stdout);
    }
}

/// Runs `inner` (a shell command line) under `script`, so its stdin, stdout and stderr are
/// a terminal; `answers` are typed once their prompt is on the screen. Returns the exit
/// code and the terminal's transcript.
fn on_terminal(s: &Setup, inner: &str, answers: &[(&str, &str)]) -> (Option<i32>, String) {
    let log = s.path("typescript");
    let _ = std::fs::remove_file(&log);
    let mut child = Command::new("script")
        .args(["-q", "-e", "-f", "-c", inner])
        .arg(&log)
        .env("YCM_ACCESS_TOKEN", TOKEN)
        .env("XDG_CONFIG_HOME", s.path("config"))
        .env("HOME", s.dir.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env_remove("YCM_BASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut seen = 0;
    for (prompt, answer) in answers {
        let started = Instant::now();
        loop {
            let shown = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(at) = shown[seen.min(shown.len())..].find(prompt) {
                seen += at + prompt.len();
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no {prompt:?}: {shown}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The prompt is written before the terminal's echo is switched off: let it settle.
        std::thread::sleep(Duration::from_millis(150));
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    }
    let status = child.wait_with_output().unwrap().status;
    drop(stdin);
    (status.code(), std::fs::read_to_string(&log).unwrap())
}

#[test]
fn a_long_table_is_cut_on_a_terminal_and_whole_when_piped() {
    if !have("script") {
        eprintln!("skipped: no `script` for a pty");
        return;
    }
    let s = Setup::new();
    let ycm = env!("CARGO_BIN_EXE_ycm");
    let (code, shown) = on_terminal(
        &s,
        &format!("{ycm} --base-url {} --quiet users list --all", s.mock.url()),
        &[],
    );
    assert_eq!(code, Some(0), "{shown}");
    let more = ycm_mock::DEFAULT_USERS - ycm_cli::output::TERMINAL_ROWS;
    assert!(
        shown.contains(&format!("... {more} more; use --output csv")),
        "{shown}"
    );
    let rows = shown
        .lines()
        .filter(|l| l.trim_start().starts_with(char::is_numeric))
        .count();
    assert_eq!(rows, ycm_cli::output::TERMINAL_ROWS, "{shown}");
    // Piped, the same table is whole.
    let out = ok(s
        .ycm()
        .args(["--output", "table", "users", "list", "--all"]));
    assert_eq!(out.stdout.lines().count(), 1 + ycm_mock::DEFAULT_USERS);
    assert!(!out.stdout.contains("more;"));
}

#[test]
fn sync_apply_shows_the_plan_before_it_asks_and_cuts_the_report() {
    if !have("script") {
        eprintln!("skipped: no `script` for a pty");
        return;
    }
    let s = Setup::new();
    let file = records(&s, 60, false);
    let ycm = env!("CARGO_BIN_EXE_ycm");
    let inner = format!(
        "{ycm} --base-url {} sync apply {}",
        s.mock.url(),
        file.display()
    );
    let (code, shown) = on_terminal(&s, &inner, &[("[y/N]", "n")]);
    assert_eq!(code, Some(1), "{shown}");
    let question = shown.find("[y/N]").unwrap();
    let before = &shown[..question];
    assert!(before.contains("ycm: plan: 60 update"), "{before}");
    assert!(
        before.contains("20001") && before.contains("Synced 20001") && before.contains("before"),
        "the first changes: {before}"
    );
    assert!(
        before.contains("... 50 more; `ycm sync plan FILE --output csv`"),
        "{before}"
    );
    assert!(!before.contains("20060"), "only the first rows: {before}");
    assert!(s.puts().is_empty());

    let (code, shown) = on_terminal(&s, &inner, &[("[y/N]", "y")]);
    assert_eq!(code, Some(0), "{shown}");
    let after = &shown[shown.find("[y/N]").unwrap()..];
    assert!(after.contains("... 10 more; use --output csv"), "{after}");
    assert!(!after.contains("20060"), "{after}");
    assert_eq!(s.puts().len(), 60);
}

#[test]
fn the_permission_warning_comes_only_where_a_secret_is() {
    let s = Setup::new();
    let secret_file = s.path("secret");
    std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n")).unwrap();
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let by_reference = format!(
        "[profiles.default]\nbase_url = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_file = \"{}\"\n",
        s.mock.url(),
        secret_file.display()
    );
    s.write_profile(&by_reference, 0o644);
    let out = ok(s.bare().args(["auth", "check"]));
    assert!(
        !out.stderr.contains("warning"),
        "no secret in it: {}",
        out.stderr
    );
    // The secret file itself is a secret: open to its group, it is refused (as ssh refuses
    // such a key), not merely warned about.
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(s.bare().args(["auth", "check"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("client_secret_file") && out.stderr.contains("its group"),
        "{}",
        out.stderr
    );
    // A token inline, in any profile, is.
    let inline = format!(
        "{by_reference}\n[profiles.other]\nbase_url = \"{}\"\naccess_token = \"{TOKEN}\"\n",
        s.mock.url()
    );
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = s.write_profile(&inline, 0o644);
    let out = ok(s.bare().args(["auth", "check"]));
    assert!(
        out.stderr.contains(&path.display().to_string())
            && out.stderr.contains("profile \"other\" access_token")
            && out.stderr.contains("readable by others"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(TOKEN));
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn configure_with_flags_writes_a_private_profile_that_every_command_uses() {
    let s = Setup::new();
    let settings = s.path("config").join("ycm").join("config.toml");
    // The client secret from stdin: into a 0600 file the profile names.
    let mut configure = s.bare();
    configure
        .args(["--base-url", &s.mock.url(), "--output", "json", "configure"])
        .args(["--client-id", CLIENT_ID, "--secret-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = configure.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{CLIENT_SECRET}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = json(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(written["profile"], "default");
    assert_eq!(written["auth"], "client_credentials");
    let secret_file = Path::new(written["clientSecretFile"].as_str().unwrap()).to_path_buf();
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        format!("{CLIENT_SECRET}\n")
    );
    assert_eq!((mode(&settings), mode(&secret_file)), (0o600, 0o600));
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(!text.contains(CLIENT_SECRET), "{text}");
    let check = ok(s.bare().args(["--output", "json", "auth", "check"]));
    assert_eq!(json(&check.stdout)["source"], "profile \"default\"");
    assert!(check.stderr.is_empty(), "{}", check.stderr);

    // A second profile is appended (the first and its comments kept); an existing one is
    // replaced only with --force.
    let with_comment = format!("# mine\n{text}");
    std::fs::write(&settings, &with_comment).unwrap();
    let mut token = s.bare();
    token
        .args([
            "--base-url",
            &s.mock.url(),
            "--profile",
            "static",
            "configure",
            "--secret-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = token.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(TOKEN.as_bytes())
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(text.starts_with(&with_comment), "{text}");
    assert_eq!(mode(&settings), 0o600);
    let check = ok(s
        .bare()
        .args(["--profile", "static", "--output", "json", "auth", "check"]));
    assert_eq!(json(&check.stdout)["auth"], "access_token");
    let again = run(s
        .bare()
        .args([
            "--base-url",
            "https://x.example",
            "configure",
            "--client-id",
            "x",
        ])
        .args(["--client-secret-file"])
        .arg(&secret_file));
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    let forced = run(s
        .bare()
        .args([
            "--base-url",
            "https://x.example",
            "configure",
            "--force",
            "--client-id",
            "x",
        ])
        .args(["--client-secret-file"])
        .arg(&secret_file));
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(
        text.contains("https://x.example") && text.contains("[profiles.static]"),
        "{text}"
    );

    // Off a terminal, nothing is asked: a missing value is refused.
    let out = run(s
        .bare()
        .args(["--profile", "p", "configure", "--client-id", "x"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--base-url"), "{}", out.stderr);
}

#[test]
fn configure_asks_on_a_terminal_without_echoing_the_secret() {
    if !have("script") {
        eprintln!("skipped: no `script` for a pty");
        return;
    }
    let s = Setup::new();
    let ycm = env!("CARGO_BIN_EXE_ycm");
    let secret = "TypedSecret-NeverShown";
    let (code, shown) = on_terminal(
        &s,
        &format!("env -u YCM_ACCESS_TOKEN {ycm} --profile typed configure"),
        &[
            ("YCM base URL", &s.mock.url()),
            ("Client ID", CLIENT_ID),
            ("Client secret (not shown)", secret),
        ],
    );
    assert_eq!(code, Some(0), "{shown}");
    assert!(!shown.contains(secret), "the secret was echoed: {shown}");
    assert!(shown.contains("ycm --profile typed auth check"), "{shown}");
    let secret_file = s.path("config").join("ycm").join("typed.secret");
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        format!("{secret}\n")
    );
    assert_eq!(mode(&secret_file), 0o600);
}

#[test]
fn ctrl_c_at_the_secret_prompt_exits_130_writes_nothing_and_restores_the_terminal() {
    if !have("script") {
        eprintln!("skipped: no `script` for a pty");
        return;
    }
    let s = Setup::new();
    let ycm = env!("CARGO_BIN_EXE_ycm");
    let (_, shown) = on_terminal(
        &s,
        &format!("{ycm} configure; echo \"rc=$?\"; stty -a"),
        &[
            ("YCM base URL", &s.mock.url()),
            ("Client ID", CLIENT_ID),
            ("Client secret (not shown)", "partial\u{3}"),
        ],
    );
    assert!(
        shown.contains("rc=130") && shown.contains("interrupted"),
        "{shown}"
    );
    let settings: Vec<&str> = shown[shown.find("rc=130").unwrap()..]
        .split_whitespace()
        .collect();
    for mode in ["echo", "icanon", "isig"] {
        assert!(settings.contains(&mode), "{mode} not restored: {shown}");
    }
    assert!(!shown.contains("partial"));
    assert!(!s.path("config").join("ycm").join("config.toml").exists());
    assert!(!s.path("config").join("ycm").join("default.secret").exists());
}
