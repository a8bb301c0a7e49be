//! The `ycm` binary end to end against ycm-mock (started in this process on port 0): every
//! command, every output format parsed back, every exit code, the precedence of settings,
//! the secret never in argv or output, progress absent when stderr is not a terminal, the
//! settings-file permission warning, a name lookup that never ends, and Ctrl-C during `sync
//! apply` followed by a resume that sends no record twice.

use serde_json::Value;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use ycm_mock::Faults;

mod support;
use support::*;

// --- users ---------------------------------------------------------------------------------

#[test]
fn users_get_in_every_format() {
    let s = Setup::new();
    let expected = s.mock.user(13329).unwrap();
    let out = ok(s.ycm().args(["users", "get", "13329"]));
    assert_eq!(
        json(&out.stdout),
        expected,
        "json is the default when stdout is not a terminal"
    );
    let out = ok(s.ycm().args(["users", "get", "13329", "--output", "jsonl"]));
    assert_eq!(out.stdout.lines().count(), 1);
    assert_eq!(json(&out.stdout), expected);
    let out = ok(s.ycm().args(["--output", "csv", "users", "get", "13329"]));
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["company"], expected["company"].as_str().unwrap());
    assert_eq!(rows[0]["userId"], "13329");
    let out = ok(s.ycm().args(["users", "get", "13329", "--output", "table"]));
    let table: HashMap<&str, &str> = out
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once("  "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    assert_eq!(table["email"], expected["email"].as_str().unwrap());
    assert!(out.stdout.starts_with("FIELD"));
}

#[test]
fn users_list_one_page_and_all_pages() {
    let s = Setup::new();
    let out = ok(s.ycm().args(["users", "list", "--page-size", "5"]));
    let users = json(&out.stdout);
    let ids: Vec<i64> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [13329, 13330, 13331, 20001, 20002]);
    let out = ok(s.ycm().args([
        "users",
        "list",
        "--page-size",
        "5",
        "--page",
        "2",
        "--output",
        "csv",
    ]));
    let rows = csv_rows(&out.stdout);
    assert_eq!(
        rows.iter()
            .map(|r| r["userId"].as_str())
            .collect::<Vec<_>>(),
        ["20003", "20004", "20005", "20006", "20007"]
    );
    let out = ok(s.ycm().args([
        "users",
        "list",
        "--all",
        "--page-size",
        "7",
        "--output",
        "jsonl",
    ]));
    let all = jsonl(&out.stdout);
    assert_eq!(all.len(), 120);
    let ids: Vec<i64> = all.iter().map(|u| u["userId"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by userId");
    let out = ok(s
        .ycm()
        .args(["users", "list", "--all", "--output", "table"]));
    assert_eq!(out.stdout.lines().count(), 121);
    assert!(out.stdout.starts_with("userId"));
    // The page size is checked by clap, naming the argument and the rule.
    let bad = run(s.ycm().args(["users", "list", "--page-size", "51"]));
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("--page-size") && bad.stderr.contains("1..=50"),
        "{}",
        bad.stderr
    );
}

#[test]
fn users_export_writes_every_user_as_csv_or_jsonl() {
    let s = Setup::new();
    let out = ok(s.ycm().args(["users", "export"]));
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), 120);
    assert_eq!(
        rows[0]["company"],
        s.mock.user(13329).unwrap()["company"].as_str().unwrap()
    );
    let out = ok(s.ycm().args(["users", "export", "--format", "jsonl"]));
    let users = jsonl(&out.stdout);
    assert_eq!(users.len(), 120);
    assert_eq!(users[5]["userId"], 20003);
}

#[test]
fn users_update_sends_only_the_flags_given() {
    let s = Setup::new();
    let out = ok(s.ycm().args([
        "users",
        "update",
        "13329",
        "--company",
        "New Co",
        "--remark",
        "",
        "--disable-two-factor",
        "--pbx-creation-limit",
        "unlimited",
    ]));
    let result = json(&out.stdout);
    assert_eq!(result["userId"], 13329);
    assert_eq!(
        result["updated"],
        serde_json::json!([
            "company",
            "remark",
            "twoFactorAuthenticationEnable",
            "pbxCreationLimit"
        ])
    );
    assert!(!result["requestId"].as_str().unwrap().is_empty());
    let user = s.mock.user(13329).unwrap();
    assert_eq!(user["company"], "New Co");
    assert_eq!(user["remark"], "");
    assert_eq!(user["pbxCreationLimit"], "");
    let put = s
        .mock
        .log()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(
        json(&put.body),
        serde_json::json!({"company": "New Co", "remark": "", "twoFactorAuthenticationEnable": "disable", "pbxCreationLimit": ""})
    );
    let out = ok(s.ycm().args([
        "users",
        "update",
        "13331",
        "--first-name",
        "Ann",
        "--pbx-creation-limit",
        "12",
        "--output",
        "csv",
    ]));
    assert_eq!(
        csv_rows(&out.stdout)[0]["updated"],
        "firstName;pbxCreationLimit"
    );
}

#[test]
fn a_bad_update_exits_2_naming_the_field_and_sends_nothing() {
    let s = Setup::new();
    for (args, names) in [
        (vec!["--pbx-creation-limit", "0"], "pbxCreationLimit"),
        (vec!["--pbx-creation-limit", "lots"], "--pbx-creation-limit"),
        (vec![], "the update is empty"),
    ] {
        let mut command = s.ycm();
        command
            .args(["--output", "json", "users", "update", "13329"])
            .args(&args);
        let out = run(&mut command);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        let error = json(&out.stderr);
        assert!(
            error["error"]["message"].as_str().unwrap().contains(names),
            "{}",
            out.stderr
        );
    }
    let out = run(s.ycm().args(["users", "update", "0", "--company", "x"]));
    assert_eq!(out.code, 2);
    assert_eq!(s.mock.stats().requests, 0, "nothing was sent");
    // --dry-run checks and prints the body, and sends nothing (no credentials needed).
    let out = ok(s
        .bare()
        .args(["users", "update", "13329", "--company", "Dry", "--dry-run"]));
    assert_eq!(json(&out.stdout), serde_json::json!({"company": "Dry"}));
    assert!(out.stderr.contains("nothing was sent"));
    assert_eq!(s.mock.stats().requests, 0);
}

// --- auth, completion, help ---------------------------------------------------------------

#[test]
fn auth_check_accepts_good_credentials_and_exits_4_on_refused_ones() {
    let s = Setup::new();
    let out = ok(s.ycm().args(["auth", "check"]));
    let result = json(&out.stdout);
    assert_eq!(result["ok"], true);
    assert_eq!(result["auth"], "access_token");
    assert_eq!(result["users"], 120);
    let out = ok(s
        .bare()
        .env("YCM_BASE_URL", s.mock.url())
        .env("YCM_CLIENT_ID", CLIENT_ID)
        .env("YCM_CLIENT_SECRET", CLIENT_SECRET)
        .args(["auth", "check", "--output", "jsonl"]));
    assert_eq!(json(&out.stdout)["auth"], "client_credentials");
    let out = run(s
        .ycm()
        .env("YCM_ACCESS_TOKEN", "wrong-token")
        .args(["--output", "json", "auth", "check"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(json(&out.stderr)["error"]["code"], "YCM_ERR_UNAUTHORIZED");
    let out = run(s
        .bare()
        .env("YCM_BASE_URL", s.mock.url())
        .env("YCM_CLIENT_ID", CLIENT_ID)
        .env("YCM_CLIENT_SECRET", "not-the-secret")
        .args(["auth", "check", "--output", "table"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.starts_with("ycm: error: "), "{}", out.stderr);
}

#[test]
fn completions_and_help() {
    let s = Setup::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ycm"),
        ("fish", "complete -c ycm"),
    ] {
        let out = ok(s.bare().args(["completion", shell]));
        assert!(out.stdout.contains(marker), "{shell}");
        assert!(
            out.stdout.contains("export"),
            "{shell} completes subcommands"
        );
    }
    let out = ok(s.bare().args(["help", "exit-codes"]));
    for code in ["0", "1", "2", "3", "4", "5", "130"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "{code}"
        );
    }
    let out = ok(s.bare().args(["help", "sync", "apply"]));
    assert!(out.stdout.contains("--max-failures"));
    let out = run(s.bare().args(["help", "nonsense"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("nonsense"));
}

/// The README's exit-code table is the one `ycm help exit-codes` prints.
#[test]
fn the_readme_lists_the_exit_codes() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    for (code, meaning) in ycm_cli::fail::EXIT_CODES {
        let row = format!("| {code} | {meaning} |");
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

// --- exit codes ----------------------------------------------------------------------------

#[test]
fn exit_codes_1_2_and_5() {
    let s = Setup::new();
    // 1: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = run(s.ycm().args([
        "users",
        "get",
        "13329",
        "--output",
        "json",
        "--base-url",
        &url,
    ]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(json(&out.stderr)["error"]["code"], "YCM_ERR_CONNECT");
    // 1: an unknown user is the server's answer.
    let out = run(s.ycm().args(["users", "get", "99999", "--output", "json"]));
    assert_eq!(out.code, 1);
    assert_eq!(json(&out.stderr)["error"]["code"], "YCM_ERR_API");
    // 2: bad usage.
    let out = run(s.ycm().args(["users", "frobnicate"]));
    assert_eq!(out.code, 2);
    let out = run(s.ycm().args(["users", "get", "-5"]));
    assert_eq!(out.code, 2);
    // 5: still throttled after the retry budget.
    s.mock.set_faults(Faults {
        fail_next: 1000,
        fail_status: 429,
        retry_after: Some("0".into()),
        ..Faults::default()
    });
    let out = run(s.ycm().args(["users", "get", "13329", "--output", "json"]));
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert_eq!(json(&out.stderr)["error"]["code"], "YCM_ERR_RATE_LIMITED");
}

/// A name whose lookup never ends (a resolver that does not answer) costs the call's
/// budget, not a hang: `getaddrinfo` is replaced, for this one name, by one that sleeps.
#[test]
fn a_host_name_that_never_resolves_times_out_within_timeout_ms() {
    let s = Setup::new();
    let source = s.path("hang_dns.c");
    std::fs::write(
        &source,
        r#"#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
typedef int (*lookup_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
    if (node != NULL && strcmp(node, "dns-hangs.invalid") == 0) {
        sleep(60);
        return EAI_AGAIN;
    }
    return ((lookup_fn)dlsym(RTLD_NEXT, "getaddrinfo"))(node, service, hints, res);
}
"#,
    )
    .unwrap();
    let library = s.path("hang_dns.so");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .status()
        .expect("cc runs");
    assert!(built.success(), "cc could not build the getaddrinfo shim");
    let started = Instant::now();
    let out = run(s
        .ycm()
        .env("LD_PRELOAD", &library)
        .args([
            "users",
            "get",
            "13329",
            "--timeout-ms",
            "700",
            "--output",
            "json",
        ])
        .args(["--base-url", "https://dns-hangs.invalid"]));
    let elapsed = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let error = &json(&out.stderr)["error"];
    assert_eq!(error["code"], "YCM_ERR_TIMEOUT", "{}", out.stderr);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("timeout_ms (700 ms)"),
        "{}",
        out.stderr
    );
    // A hang guard, far from the budget: without the bound the lookup takes 60 s.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

// --- settings ------------------------------------------------------------------------------

#[test]
fn settings_precedence_flag_env_profile_default() {
    let s = Setup::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    s.write_profile(
        &format!(
            "[profiles.default]\nbase_url = \"{}\"\naccess_token = \"{TOKEN}\"\n\n\
             [profiles.bad]\nbase_url = \"{}\"\naccess_token = \"wrong-token\"\n",
            s.mock.url(),
            s.mock.url()
        ),
        0o600,
    );
    // Profile only: works.
    let out = ok(s.bare().args(["users", "get", "13329"]));
    assert_eq!(json(&out.stdout)["userId"], 13329);
    assert!(
        !out.stderr.contains("readable"),
        "no warning at 0600: {}",
        out.stderr
    );
    // The environment beats the profile ...
    let out = run(s
        .bare()
        .env("YCM_BASE_URL", &nowhere)
        .args(["users", "get", "13329"]));
    assert_eq!(out.code, 1, "env base URL used: {}", out.stderr);
    let out = run(s
        .bare()
        .env("YCM_ACCESS_TOKEN", "wrong-token")
        .args(["users", "get", "13329"]));
    assert_eq!(out.code, 4, "env token used: {}", out.stderr);
    // ... and the flag beats the environment.
    ok(s.bare().env("YCM_BASE_URL", &nowhere).args([
        "users",
        "get",
        "13329",
        "--base-url",
        &s.mock.url(),
    ]));
    // YCM_PROFILE names a profile; --profile beats it.
    let out = run(s
        .bare()
        .env("YCM_PROFILE", "bad")
        .args(["users", "get", "13329"]));
    assert_eq!(out.code, 4);
    ok(s.bare()
        .env("YCM_PROFILE", "bad")
        .args(["--profile", "default", "users", "get", "13329"]));
    let out = run(s.bare().args([
        "--profile",
        "missing",
        "--output",
        "json",
        "users",
        "get",
        "13329",
    ]));
    assert_eq!(out.code, 2);
    let message = json(&out.stderr)["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("\"missing\"") && message.contains("--profile"),
        "{message}"
    );
    // --timeout-ms beats the profile's timeout_ms.
    s.write_profile(
        &format!("[profiles.default]\nbase_url = \"{}\"\naccess_token = \"{TOKEN}\"\ntimeout_ms = 100\nmax_retries = 0\n", s.mock.url()),
        0o600,
    );
    s.mock.set_faults(Faults {
        latency_ms: Some(400),
        ..Faults::default()
    });
    let out = run(s.bare().args(["users", "get", "13329", "--output", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(json(&out.stderr)["error"]["code"], "YCM_ERR_TIMEOUT");
    ok(s.bare()
        .args(["users", "get", "13329", "--timeout-ms", "5000"]));
    s.mock.set_faults(Faults::default());
    // Defaults: no base URL anywhere is bad usage, naming where to put one.
    std::fs::remove_file(s.path("config/ycm/config.toml")).unwrap();
    let out = run(s
        .bare()
        .env("YCM_ACCESS_TOKEN", TOKEN)
        .args(["users", "get", "13329"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--base-url") && out.stderr.contains("YCM_BASE_URL"),
        "{}",
        out.stderr
    );
    // An unknown profile key is refused, naming it.
    s.write_profile("[profiles.default]\nbase_urll = \"x\"\n", 0o600);
    let out = run(s.bare().args(["users", "get", "13329"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("base_urll"), "{}", out.stderr);
}

#[test]
/// (A file that holds no secret draws none: `human.rs`.)
fn a_profile_file_holding_a_secret_that_others_can_read_draws_a_warning() {
    let s = Setup::new();
    let profile = format!(
        "[profiles.default]\nbase_url = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
        s.mock.url(),
    );
    let path = s.write_profile(&profile, 0o644);
    let out = ok(s.bare().args(["auth", "check"]));
    assert_eq!(json(&out.stdout)["auth"], "client_credentials");
    assert!(
        out.stderr.contains("warning")
            && out.stderr.contains(&path.display().to_string())
            && out.stderr.contains("readable by others"),
        "{}",
        out.stderr
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = ok(s.bare().args(["auth", "check"]));
    assert!(
        out.stderr.contains("readable by its group"),
        "{}",
        out.stderr
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = ok(s.bare().args(["auth", "check"]));
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_client_secret_file_others_can_use_is_refused_and_nothing_is_sent() {
    let s = Setup::new();
    let secret_file = s.path("my secret");
    std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n")).unwrap();
    s.write_profile(
        &format!(
            "[profiles.default]\nbase_url = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_file = \"{}\"\n",
            s.mock.url(),
            secret_file.display()
        ),
        0o600,
    );
    let chmod = format!("chmod 600 '{}'", secret_file.display());
    for mode in [0o644, 0o640, 0o604, 0o620, 0o602] {
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = run(s.bare().args(["users", "get", "13329", "--output", "json"]));
        assert_eq!(out.code, 2, "{mode:o}: {}", out.stderr);
        let message = json(&out.stderr)["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains(&format!("\"{}\"", secret_file.display()))
                && message.contains(&format!("mode {mode:04o}"))
                && message.contains(&chmod),
            "{mode:o}: {message}"
        );
        assert!(s.mock.log().is_empty(), "{mode:o}: a request was sent");
    }
    // What the message says to run fixes it.
    ok(Command::new("sh").args(["-c", &chmod]));
    let out = ok(s.bare().args(["auth", "check", "--output", "json"]));
    assert_eq!(json(&out.stdout)["auth"], "client_credentials");
    // A file another user owns is refused at 0600 too (only root can make one to test).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let requests = s.mock.log().len();
        std::os::unix::fs::chown(&secret_file, Some(65534), None).unwrap();
        let out = run(s.bare().args(["users", "get", "13329"]));
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains("owned by uid 65534"), "{}", out.stderr);
        assert_eq!(s.mock.log().len(), requests, "a request was sent");
    }
}

#[test]
fn the_secret_is_never_a_flag_nor_in_any_output() {
    let s = Setup::new();
    // No flag takes a secret: clap refuses them as unknown arguments.
    for flag in ["--access-token", "--client-secret", "--token", "--secret"] {
        let out = run(s.bare().args(["users", "get", "13329", flag, "x"]));
        assert_eq!(out.code, 2, "{flag}");
        assert!(
            out.stderr.contains("unexpected argument"),
            "{flag}: {}",
            out.stderr
        );
    }
    // Flags that name a secret take none: a file that holds it, or a switch (stdin).
    let mut flags = Vec::new();
    fn collect(cmd: &clap::Command, flags: &mut Vec<String>) {
        flags.extend(
            cmd.get_arguments()
                .filter(|a| a.get_action().takes_values())
                .filter_map(|a| a.get_long().map(String::from))
                .filter(|long| !long.ends_with("-file")),
        );
        for sub in cmd.get_subcommands() {
            collect(sub, flags);
        }
    }
    collect(&ycm_cli::command(), &mut flags);
    assert!(
        flags
            .iter()
            .all(|f| !f.contains("token") && !f.contains("secret")),
        "{flags:?}"
    );
    // With -v, in every format, on success and on failure, neither secret shows.
    let client = |s: &Setup| {
        let mut c = s.bare();
        c.env("YCM_BASE_URL", s.mock.url())
            .env("YCM_CLIENT_ID", CLIENT_ID)
            .env("YCM_CLIENT_SECRET", CLIENT_SECRET);
        c
    };
    let records = s.path("recs.csv");
    std::fs::write(&records, "userId,remark\n13329,secretless\n").unwrap();
    let records = records.to_str().unwrap().to_string();
    for format in ["json", "jsonl", "csv", "table"] {
        let runs = [
            run(client(&s).args(["-v", "--output", format, "users", "get", "13329"])),
            run(client(&s).args(["-v", "--output", format, "users", "list", "--all"])),
            run(client(&s).args(["-v", "--output", format, "sync", "apply", &records, "--yes"])),
            run(client(&s)
                .env("YCM_CLIENT_SECRET", "wrong-secret")
                .args(["-v", "--output", format, "auth", "check"])),
            run(s
                .ycm()
                .args(["-v", "--output", format, "users", "get", "99999"])),
        ];
        for out in runs {
            for secret in [CLIENT_SECRET, "wrong-secret", TOKEN] {
                assert!(
                    !out.stdout.contains(secret) && !out.stderr.contains(secret),
                    "{secret} in {format}: {}{}",
                    out.stdout,
                    out.stderr
                );
            }
        }
    }
    // -v traces one line per attempt: method, path, status, attempt, ms.
    let out = ok(s.ycm().args(["-v", "users", "get", "13329"]));
    let trace: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("/dm/open_api/"))
        .collect();
    assert_eq!(trace.len(), 1, "{}", out.stderr);
    assert!(
        trace[0].starts_with("ycm: GET /dm/open_api/v1/users/13329 200 attempt 1 ")
            && trace[0].contains(" ms"),
        "{}",
        trace[0]
    );
    let out = ok(s.ycm().args(["users", "get", "13329"]));
    assert_eq!(out.stderr, "", "no trace without -v");
}

#[test]
fn progress_is_status_lines_when_not_a_terminal_and_nothing_with_quiet() {
    let s = Setup::new();
    let out = ok(s
        .ycm()
        .env("YCM_STATUS_INTERVAL_MS", "0")
        .args(["users", "export"]));
    assert!(out.stderr.contains("of 120 users done"), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains('\x1b'),
        "no bar, no colour: {:?}",
        out.stderr
    );
    let out = ok(s
        .ycm()
        .env("YCM_STATUS_INTERVAL_MS", "0")
        .args(["--quiet", "users", "export"]));
    assert_eq!(out.stderr, "");
    assert_eq!(csv_rows(&out.stdout).len(), 120);
}

/// Through a pseudo-terminal (`script`), stderr is a terminal: a bar is drawn.
#[test]
fn progress_is_a_bar_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` for a pty");
        return;
    }
    let s = Setup::new();
    let log = s.path("typescript");
    let inner = format!(
        "{} --base-url {} users export --format jsonl > {}",
        env!("CARGO_BIN_EXE_ycm"),
        s.mock.url(),
        s.path("export.jsonl").display()
    );
    s.mock.set_faults(Faults {
        latency_ms: Some(150),
        ..Faults::default()
    });
    let out = Command::new("script")
        .args(["-q", "-e", "-f", "-c", &inner])
        .arg(&log)
        .env("YCM_ACCESS_TOKEN", TOKEN)
        .env("XDG_CONFIG_HOME", s.path("config"))
        .env("TERM", "xterm")
        .env_remove("YCM_BASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).to_string();
    assert!(
        shown.contains("/120") && shown.contains('\r'),
        "a bar with the total: {shown:?}"
    );
    assert_eq!(
        std::fs::read_to_string(s.path("export.jsonl"))
            .unwrap()
            .lines()
            .count(),
        120
    );
}

// --- sync ----------------------------------------------------------------------------------

#[test]
fn sync_plan_in_every_format_and_the_detailed_exitcode() {
    let s = Setup::new();
    let file = records(&s, 3, false);
    let file = file.to_str().unwrap();
    let plan_path = s.path("plan.json");
    let out = run(s
        .ycm()
        .args(["sync", "plan", file, "--detailed-exitcode", "--out"])
        .arg(&plan_path));
    assert_eq!(out.code, 2, "changes pending: {}", out.stderr);
    let plan = ycm::sync::Plan::from_json(&out.stdout).expect("stdout is the plan");
    assert_eq!(plan.counts()[&ycm::sync::Action::Update], 3);
    let saved = ycm::sync::Plan::from_json(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(saved.items, plan.items);
    let out = ok(s.ycm().args(["sync", "plan", file, "--output", "jsonl"]));
    let items = jsonl(&out.stdout);
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["action"], "update");
    assert_eq!(items[0]["changes"]["company"]["after"], "Synced 20001");
    let out = ok(s.ycm().args(["sync", "plan", file, "--output", "csv"]));
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows[1]["userId"], "20002");
    assert_eq!(rows[1]["after"], "Synced 20002");
    let out = ok(s.ycm().args(["sync", "plan", file, "--output", "table"]));
    assert!(out.stdout.starts_with("row") && out.stdout.contains("Synced 20003"));
    assert_eq!(s.puts().len(), 0, "a plan sends no update");
    ok(s.ycm().args(["sync", "apply", file, "--yes"]));
    let out = ok(s.ycm().args(["sync", "plan", file, "--detailed-exitcode"]));
    assert!(out.stderr.contains("3 unchanged"), "{}", out.stderr);
    // Problems (an unknown user) exit 3; a broken file exits 2.
    let out = run(s
        .ycm()
        .args(["sync", "plan", records(&s, 1, true).to_str().unwrap()]));
    assert_eq!(out.code, 3);
    let broken = s.path("broken.csv");
    std::fs::write(&broken, "userId,colour\n1,blue\n").unwrap();
    let out = run(s
        .ycm()
        .args(["--output", "json", "sync", "plan"])
        .arg(&broken));
    assert_eq!(out.code, 2);
    assert!(json(&out.stderr)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("colour"));
}

#[test]
fn a_file_a_lenient_reader_would_misread_exits_2_naming_row_and_column_and_sends_nothing() {
    let s = Setup::new();
    for (name, bytes, says) in [
        (
            "unterminated.csv",
            &b"userId,company\n20001,\"ACME\n20002,x\n20003,y\n"[..],
            "row 2, column 2: a quote opened here is never closed",
        ),
        (
            "stray-quote.csv",
            b"userId,company\n20001,\"x\"y\n",
            "row 2, column 2: text after the closing quote",
        ),
        (
            "nul.csv",
            b"userId,company\n20001,AC\x00ME\n",
            "row 2, column 2: a NUL byte",
        ),
        // Excel's line ends: the row is the line the editor shows.
        (
            "crlf.csv",
            b"userId,company\r\n20001,x\r\n20002,\"y\"z\r\n",
            "row 3, column 2",
        ),
    ] {
        let path = s.path(name);
        std::fs::write(&path, bytes).unwrap();
        for args in [&["sync", "plan"][..], &["sync", "apply", "--yes"]] {
            let out = run(s.ycm().args(args).arg(&path));
            let command = args[1];
            assert_eq!(out.code, 2, "{name} {command}: {}", out.stderr);
            assert!(
                out.stderr.contains(says),
                "{name} {command}: {}",
                out.stderr
            );
        }
    }
    let utf16: Vec<u8> = "userId,company\n20001,x\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let path = s.path("utf16.csv");
    std::fs::write(&path, [&b"\xFF\xFE"[..], &utf16].concat()).unwrap();
    let out = run(s.ycm().args(["sync", "plan"]).arg(&path));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("UTF-16"), "{}", out.stderr);
    assert!(!out.stderr.contains('\0'));
    assert!(s.puts().is_empty(), "nothing was sent");
}

#[test]
fn sync_apply_writes_report_failed_rows_and_output_and_exits_3_on_problems() {
    let s = Setup::new();
    let file = records(&s, 4, true);
    let report = s.path("report.csv");
    let failed = s.path("failed.csv");
    let journal = s.path("journal.jsonl");
    let out = run(s
        .ycm()
        .args(["sync", "apply"])
        .arg(&file)
        .args([
            "--yes",
            "--concurrency",
            "2",
            "--rate",
            "600/min",
            "--burst",
            "5",
            "--report",
        ])
        .arg(&report)
        .arg("--failed-out")
        .arg(&failed)
        .arg("--journal")
        .arg(&journal));
    assert_eq!(out.code, 3, "{}", out.stderr);
    let result = json(&out.stdout);
    assert_eq!(result["counts"]["updated"], 4);
    assert_eq!(result["counts"]["unknown_user"], 1);
    assert!(
        out.stderr.contains("4 updated, 1 unknown_user"),
        "summary: {}",
        out.stderr
    );
    let rows = csv_rows(&std::fs::read_to_string(&report).unwrap());
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["outcome"], "updated");
    let failed_rows = csv_rows(&std::fs::read_to_string(&failed).unwrap());
    assert_eq!(failed_rows.len(), 1);
    assert_eq!(failed_rows[0]["userId"], "99999");
    assert_eq!(failed_rows[0]["errorCode"], "unknown_user");
    assert!(std::fs::read_to_string(&journal)
        .unwrap()
        .contains("ycm-sync-journal"));
    assert_eq!(s.mock.user(20003).unwrap()["company"], "Synced 20003");
    // The other output formats, parsed back (everything is unchanged now).
    let plain = records(&s, 4, false);
    let out = ok(s
        .ycm()
        .args(["sync", "apply"])
        .arg(&plain)
        .args(["--yes", "--output", "jsonl"]));
    let rows = jsonl(&out.stdout);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["outcome"] == "unchanged"));
    let out = ok(s
        .ycm()
        .args(["sync", "apply"])
        .arg(&plain)
        .args(["--yes", "--output", "csv"]));
    assert_eq!(csv_rows(&out.stdout).len(), 4);
    let out = ok(s
        .ycm()
        .args(["sync", "apply"])
        .arg(&plain)
        .args(["--yes", "--output", "table"]));
    assert!(out.stdout.starts_with("row"));
    // A saved plan applied after the users changed: conflict, left alone, exit 3.
    let plan = s.path("plan.json");
    let target = s.path("target.csv");
    std::fs::write(&target, "userId,company\n20010,Planned\n").unwrap();
    run(s
        .ycm()
        .args(["sync", "plan"])
        .arg(&target)
        .arg("--out")
        .arg(&plan));
    ok(s.ycm()
        .args(["users", "update", "20010", "--company", "Changed meanwhile"]));
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--plan"])
        .arg(&plan)
        .arg("--yes"));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(json(&out.stdout)["counts"]["conflict"], 1);
    assert_eq!(s.mock.user(20010).unwrap()["company"], "Changed meanwhile");
}

#[test]
fn sync_apply_refuses_without_yes_when_stdin_is_not_a_terminal() {
    let s = Setup::new();
    let file = records(&s, 2, false);
    let out = run(s.ycm().args(["sync", "apply"]).arg(&file));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(
        s.mock.stats().requests,
        0,
        "nothing was sent, not even a read"
    );
    // FILE and --plan are exclusive; one is required.
    assert_eq!(run(s.ycm().args(["sync", "apply", "--yes"])).code, 2);
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--burst", "3"])
        .arg(&file));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--rate"), "{}", out.stderr);
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--rate", "fast"])
        .arg(&file));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("N/min or N/s"), "{}", out.stderr);
}

#[test]
fn sync_apply_exit_codes_4_and_5() {
    let s = Setup::new();
    let file = records(&s, 3, false);
    let out = run(s
        .ycm()
        .env("YCM_ACCESS_TOKEN", "wrong-token")
        .args(["sync", "apply", "--yes"])
        .arg(&file));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(s.puts().len(), 0);
    // A saved plan: the apply itself meets the throttling and stops, resumable.
    let plan = s.path("plan.json");
    ok(s.ycm()
        .args(["sync", "plan"])
        .arg(&file)
        .arg("--out")
        .arg(&plan));
    s.write_profile("[profiles.default]\nmax_retries = 0\n", 0o600);
    s.mock.set_faults(Faults {
        fail_next: 1000,
        fail_status: 429,
        retry_after: Some("0".into()),
        ..Faults::default()
    });
    let journal = s.path("journal.jsonl");
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--concurrency", "1", "--plan"])
        .arg(&plan)
        .arg("--journal")
        .arg(&journal));
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("resume"), "{}", out.stderr);
    s.mock.set_faults(Faults::default());
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--plan"])
        .arg(&plan)
        .arg("--journal")
        .arg(&journal));
    assert_eq!(out.code, 0, "the rerun completes: {}", out.stderr);
    assert_eq!(s.mock.user(20002).unwrap()["company"], "Synced 20002");
    // --max-failures stops the run: 5 too.
    s.mock.set_faults(Faults {
        fail_next: 1000,
        fail_status: 500,
        ..Faults::default()
    });
    let more = records(&s, 6, false);
    let out = run(s
        .ycm()
        .args([
            "sync",
            "apply",
            "--yes",
            "--concurrency",
            "1",
            "--max-failures",
            "1",
        ])
        .arg(&more));
    assert_eq!(out.code, 1, "the plan's read fails first: {}", out.stderr);
    s.mock.set_faults(Faults::default());
    let plan6 = s.path("plan6.json");
    ok(s.ycm()
        .args(["sync", "plan"])
        .arg(&more)
        .arg("--out")
        .arg(&plan6));
    s.mock.set_faults(Faults {
        fail_next: 1000,
        fail_status: 500,
        ..Faults::default()
    });
    let out = run(s
        .ycm()
        .args([
            "sync",
            "apply",
            "--yes",
            "--concurrency",
            "1",
            "--max-failures",
            "1",
            "--plan",
        ])
        .arg(&plan6));
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("--max-failures"), "{}", out.stderr);
}

/// A journal started for another input is refused before anything is sent.
#[test]
fn a_journal_of_another_input_is_refused() {
    let s = Setup::new();
    let journal = s.path("journal.jsonl");
    ok(s.ycm()
        .args(["sync", "apply", "--yes"])
        .arg(records(&s, 2, false))
        .arg("--journal")
        .arg(&journal));
    let before = s.puts().len();
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes"])
        .arg(records(&s, 3, false))
        .arg("--journal")
        .arg(&journal));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("another input"), "{}", out.stderr);
    assert_eq!(s.puts().len(), before);
}

#[test]
fn ctrl_c_during_sync_apply_exits_130_and_the_same_command_resumes_without_sending_twice() {
    let s = Setup::new();
    // More than 50 records: the plan reads pages; each request takes 150 ms.
    let n = 60;
    let file = records(&s, n, false);
    let journal = s.path("journal.jsonl");
    s.mock.set_faults(Faults {
        latency_ms: Some(150),
        ..Faults::default()
    });
    let apply = |s: &Setup| {
        let mut command = s.ycm();
        command
            .args([
                "sync",
                "apply",
                "--yes",
                "--concurrency",
                "2",
                "--output",
                "jsonl",
            ])
            .arg(&file)
            .arg("--journal")
            .arg(&journal)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let child = apply(&s).spawn().unwrap();
    // Wait for some progress: a few records done in the journal.
    let started = Instant::now();
    loop {
        let done = std::fs::read_to_string(&journal)
            .map(|j| j.matches("\"event\":\"done\"").count())
            .unwrap_or(0);
        if done >= 5 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    send_signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("resume"),
        "{stderr}"
    );
    let first: Vec<Value> = jsonl(&String::from_utf8(output.stdout).unwrap());
    let updated_first = first.iter().filter(|r| r["outcome"] == "updated").count();
    assert!(
        updated_first >= 5 && updated_first < n as usize,
        "stopped part way: {updated_first}"
    );
    assert!(first.iter().any(|r| r["outcome"] == "not_attempted"));
    // The journal holds a done for every update the server received.
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    let puts_first: usize = s.puts().values().sum();
    assert_eq!(
        journal_text.matches("\"event\":\"done\"").count(),
        puts_first,
        "every call in flight ended and was journalled"
    );

    // The same command again completes the rest.
    let output = apply(&s).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_each_synced_once(&s, 20001, n);
}

/// On a terminal, `sync apply` asks first: "n" sends nothing, "y" applies.
#[test]
fn sync_apply_asks_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` for a pty");
        return;
    }
    let s = Setup::new();
    let file = records(&s, 2, false);
    let answer = |reply: &str| {
        let inner = format!(
            "{} --base-url {} sync apply {} --output json > {}",
            env!("CARGO_BIN_EXE_ycm"),
            s.mock.url(),
            file.display(),
            s.path("out.json").display()
        );
        let mut child = Command::new("script")
            .args(["-q", "-e", "-f", "-c", &inner])
            .arg(s.path("typescript"))
            .env("YCM_ACCESS_TOKEN", TOKEN)
            .env("XDG_CONFIG_HOME", s.path("config"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Answer once the question is on the terminal.
        let started = Instant::now();
        while !std::fs::read_to_string(s.path("typescript"))
            .unwrap_or_default()
            .contains("[y/N]")
        {
            assert!(started.elapsed() < Duration::from_secs(30), "no question");
            std::thread::sleep(Duration::from_millis(20));
        }
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{reply}\n").as_bytes())
            .unwrap();
        let status = child.wait_with_output().unwrap().status;
        let shown = std::fs::read_to_string(s.path("typescript")).unwrap();
        (status.code(), shown)
    };
    let (code, shown) = answer("n");
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains("Apply 2 update(s) to") && shown.contains("not confirmed"),
        "{shown}"
    );
    assert_eq!(s.puts().len(), 0);
    let (code, shown) = answer("y");
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        !shown.contains("\x1b[3"),
        "no colour with NO_COLOR: {shown:?}"
    );
    assert_eq!(s.puts().len(), 2);
    assert_eq!(
        json(&std::fs::read_to_string(s.path("out.json")).unwrap())["counts"]["updated"],
        2
    );
}
