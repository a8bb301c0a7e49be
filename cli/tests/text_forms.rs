//! One text form per field kind and one meaning per file extension, through the binary:
//! `unlimited` in any case is read the same by a CSV cell and by `--pbx-creation-limit`;
//! "no limit" is written `unlimited` in exports and plan tables (never an empty cell, which
//! a reader takes as "leave alone"); `.json` is one JSON document everywhere (plans,
//! reports), records are `.csv` or `.jsonl`, and a name that says neither is refused naming
//! the flag, before anything is sent.

mod support;
use support::*;

#[test]
fn the_limit_flag_reads_unlimited_in_any_case_as_a_csv_cell_does() {
    let s = Setup::new();
    for text in ["unlimited", "Unlimited", "UNLIMITED"] {
        let out = ok(s.ycm().args([
            "users",
            "update",
            "13329",
            "--pbx-creation-limit",
            text,
            "--dry-run",
            "--output",
            "json",
        ]));
        assert_eq!(json(&out.stdout)["pbxCreationLimit"], "", "{text}");
    }
    let out = run(s
        .ycm()
        .args(["users", "update", "13329", "--pbx-creation-limit", "none"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    let said = message(&out.stderr);
    assert!(
        said.contains("--pbx-creation-limit") && said.contains("\"unlimited\" (any case)"),
        "{said}"
    );
}

#[test]
fn no_limit_is_written_unlimited_in_exports_and_plans_and_reads_back() {
    let s = Setup::new();
    assert_eq!(s.mock.user(13331).unwrap()["pbxCreationLimit"], "");
    let out = ok(s.ycm().args(["users", "export", "--format", "csv"]));
    let rows = csv_rows(&out.stdout);
    let row = rows.iter().find(|r| r["userId"] == "13331").unwrap();
    assert_eq!(row["pbxCreationLimit"], "unlimited");
    let out = ok(s.ycm().args(["users", "get", "13331", "--output", "csv"]));
    assert_eq!(csv_rows(&out.stdout)[0]["pbxCreationLimit"], "unlimited");

    let file = s.path("limits.csv");
    std::fs::write(&file, "userId,pbxCreationLimit\n13329,unlimited\n13331,5\n").unwrap();
    let out = ok(s.ycm().args(["sync", "plan", "--output", "csv"]).arg(&file));
    let rows = csv_rows(&out.stdout);
    let cells = |id: &str| {
        let row = rows.iter().find(|r| r["userId"] == id).unwrap();
        (row["before"].clone(), row["after"].clone())
    };
    assert_eq!(cells("13329"), ("10".to_string(), "unlimited".to_string()));
    assert_eq!(cells("13331"), ("unlimited".to_string(), "5".to_string()));
    // The plan's cell, fed back as a records cell, means what it meant in the plan.
    std::fs::write(&file, "userId,pbxCreationLimit\n13331,unlimited\n").unwrap();
    let out = ok(s
        .ycm()
        .args(["sync", "plan", "--output", "json"])
        .arg(&file));
    let plan = ycm::sync::Plan::from_json(&out.stdout).unwrap();
    assert_eq!(plan.items[0].action, ycm::sync::Action::Unchanged);
}

#[test]
fn dot_json_is_one_json_document_and_other_names_are_refused_naming_the_flag() {
    let s = Setup::new();
    let records = s.path("users.jsonl");
    std::fs::write(&records, "{\"userId\":20001,\"remark\":\"r1\"}\n").unwrap();
    // Records in a .json file: refused, saying what .json means and what to name it.
    let named_json = s.path("users.json");
    std::fs::copy(&records, &named_json).unwrap();
    let out = run(s.ycm().args(["sync", "plan"]).arg(&named_json));
    assert_eq!(out.code, 2, "{}", out.stderr);
    let said = message(&out.stderr);
    assert!(
        said.contains("one JSON document") && said.contains(".jsonl"),
        "{said}"
    );

    // --report: .json is one JSON document, .jsonl one object per line, .csv CSV.
    for (name, check) in [
        ("r.json", "document"),
        ("r.jsonl", "lines"),
        ("r.csv", "csv"),
    ] {
        let report = s.path(name);
        ok(s.ycm()
            .args(["sync", "apply", "--yes", "--output", "json", "--report"])
            .arg(&report)
            .arg(&records));
        let text = std::fs::read_to_string(&report).unwrap();
        match check {
            "document" => assert_eq!(json(&text)["rows"][0]["userId"], 20001, "{text}"),
            "lines" => assert_eq!(jsonl(&text)[0]["userId"], 20001, "{text}"),
            _ => assert_eq!(csv_rows(&text)[0]["userId"], "20001", "{text}"),
        }
    }
    let puts_before = s.puts();
    for (flag, name, needle) in [
        ("--report", "r.txt", ".csv, .jsonl or .json"),
        ("--failed-out", "failed.csv", "the input is JSONL"),
    ] {
        let out = run(s
            .ycm()
            .args(["sync", "apply", "--yes", flag])
            .arg(s.path(name))
            .arg(&records));
        assert_eq!(out.code, 2, "{flag}: {}", out.stderr);
        let said = message(&out.stderr);
        assert!(
            said.contains(flag) && said.contains(needle),
            "{flag}: {said}"
        );
    }
    assert_eq!(s.puts(), puts_before, "refused before anything was sent");
}
