//! What `ycm users export` writes is valid `sync plan` input as it is: a fresh export of a
//! 5,000-user mock, as CSV and as JSONL, planned against the same mock gives 0 updates and
//! 0 invalid (`--detailed-exitcode` exits 0). The export's read-only columns are ignored, a
//! two-factor `enable` leaves the field alone, and `pbxCreationLimit` is compared whenever
//! the server returns it; a truly unknown column is still refused, naming it.

mod support;
use support::*;
use ycm::sync::{Action, Plan};
use ycm_mock::MockConfig;

/// Plans `file` with `--detailed-exitcode`: the exit code, the plan and stderr.
fn plan_of(s: &Setup, file: &std::path::Path) -> (i32, Option<Plan>, String) {
    let out = run(s
        .ycm()
        .args(["sync", "plan", "--detailed-exitcode", "--output", "json"])
        .arg(file));
    (out.code, Plan::from_json(&out.stdout).ok(), out.stderr)
}

#[test]
fn a_fresh_export_of_5000_users_plans_back_to_nothing_to_do() {
    let s = Setup::with(MockConfig {
        users: 5000,
        ..MockConfig::default()
    });
    for (format, name) in [("csv", "export.csv"), ("jsonl", "export.jsonl")] {
        let out = ok(s.ycm().args(["users", "export", "--format", format]));
        let file = s.path(name);
        std::fs::write(&file, &out.stdout).unwrap();
        let (code, plan, stderr) = plan_of(&s, &file);
        let plan = plan.unwrap_or_else(|| panic!("{format}: no plan: {stderr}"));
        let counts = plan.counts();
        assert_eq!(counts.get(&Action::Update), None, "{format}: {stderr}");
        assert_eq!(counts.get(&Action::Invalid), None, "{format}: {stderr}");
        assert_eq!(counts[&Action::Unchanged], 5000, "{format}: {stderr}");
        assert_eq!(code, 0, "{format}: nothing to do: {stderr}");
    }
}

#[test]
fn an_unknown_column_beside_the_exported_ones_is_still_refused_by_name() {
    let s = Setup::new();
    let out = ok(s.ycm().args(["users", "export", "--format", "csv"]));
    let mut lines = out.stdout.lines();
    let header = lines.next().unwrap();
    let mut text = format!("{header},nickname\n");
    for line in lines {
        text.push_str(line);
        text.push_str(",x\n");
    }
    let file = s.path("export.csv");
    std::fs::write(&file, text).unwrap();
    let (code, _, stderr) = plan_of(&s, &file);
    assert_eq!(code, 1, "{stderr}");
    let message = message(&stderr);
    assert!(
        message.contains("row 1, column 15: unknown column \"nickname\""),
        "{message}"
    );

    let out = ok(s.ycm().args(["users", "export", "--format", "jsonl"]));
    let first = out.stdout.lines().next().unwrap();
    let line = first.replacen('{', "{\"nickname\":\"x\",", 1);
    let file = s.path("export.jsonl");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let (code, plan, stderr) = plan_of(&s, &file);
    assert_eq!(code, 3, "{stderr}");
    let error = plan.unwrap().items[0].error.clone().unwrap();
    assert!(error.contains("unknown field \"nickname\""), "{error}");
}

#[test]
fn the_limit_is_compared_when_a_single_read_returns_it_and_enable_leaves_2fa_alone() {
    let s = Setup::new();
    // Few records: the plan reads each user alone, and the mock's read returns the limit.
    assert_eq!(s.mock.user(13329).unwrap()["pbxCreationLimit"], 10);
    assert_eq!(s.mock.user(13331).unwrap()["pbxCreationLimit"], "");
    let file = s.path("few.csv");
    std::fs::write(
        &file,
        "userId,pbxCreationLimit,twoFactorAuthenticationEnable\n13329,10,enable\n13331,Unlimited,ENABLE\n",
    )
    .unwrap();
    let (code, plan, stderr) = plan_of(&s, &file);
    let plan = plan.unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(plan.counts().get(&Action::Unchanged), Some(&2), "{stderr}");
    assert_eq!(code, 0, "{stderr}");
    // A limit that differs is an update with its value before.
    std::fs::write(&file, "userId,pbxCreationLimit\n13329,12\n").unwrap();
    let (code, plan, stderr) = plan_of(&s, &file);
    let item = &plan.unwrap().items[0];
    assert_eq!(code, 2, "{stderr}");
    let change = item.changes.get("pbxCreationLimit").unwrap();
    assert_eq!(change.before, Some(serde_json::json!(10)));
    assert!(!change.not_compared);
}
