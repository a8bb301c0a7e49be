//! Every CSV the `ycm` binary writes is safe to open in a spreadsheet and reads back with
//! the same meaning: server values such as `=HYPERLINK(...)`, `@SUM(...)`, phone numbers
//! starting with `+` and values starting with `-` or a quote, through `users export`, `users
//! get/list --output csv`, `sync plan --output csv`, `sync apply --output csv`, `--report`
//! and `--failed-out`. Each file is checked by `spreadsheet_check.py` (an independent reader:
//! no cell a spreadsheet would evaluate), and an export planned against the same server
//! gives 0 updates.

use std::collections::HashMap;
use std::path::Path;

mod support;
use support::*;

/// The values planted on the server: user id, wire name, value.
const PLANTED: [(i64, &str, &str); 8] = [
    (20001, "company", "=HYPERLINK(\"http://x\",\"y\")"),
    (20002, "firstName", "@SUM(1+1)"),
    (20003, "phone", "+1"),
    (20003, "mobile", "-2"),
    (20004, "remark", "'=already quoted"),
    (20004, "lastName", "'plain"),
    (20005, "address", "\tTabbed"),
    (20005, "email", "-x@example.com"),
];

/// Runs the independent spreadsheet check on `files`; panics with what it found.
fn assert_no_formula(files: &[&Path]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spreadsheet_check.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(files)
        .output()
        .expect("python3 runs (the spreadsheet check needs it)");
    assert!(
        out.status.success(),
        "a spreadsheet would run formulas:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The rows of a CSV ycm wrote, each cell read back with ycm's rule.
fn read_back(text: &str) -> Vec<HashMap<String, String>> {
    csv_rows(text)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(k, v)| (k, ycm::sync::unescape_cell(&v).to_string()))
                .collect()
        })
        .collect()
}

fn plant(s: &Setup) {
    for (id, wire, value) in PLANTED {
        let flag = format!("--{}={value}", wire_to_flag(wire));
        ok(s.ycm().args(["users", "update", &id.to_string(), &flag]));
        assert_eq!(s.mock.user(id).unwrap()[wire], value);
    }
}

fn wire_to_flag(wire: &str) -> String {
    let field = ycm::fields::by_wire(wire).unwrap();
    field.snake.replace('_', "-")
}

#[test]
fn an_export_holds_no_formula_and_plans_back_to_zero_updates() {
    let s = Setup::new();
    plant(&s);
    let export = s.path("export.csv");
    let out = ok(s.ycm().args(["users", "export", "--format", "csv"]));
    std::fs::write(&export, &out.stdout).unwrap();
    assert_no_formula(&[&export]);
    let rows = read_back(&out.stdout);
    for (id, wire, value) in PLANTED {
        let row = rows.iter().find(|r| r["userId"] == id.to_string()).unwrap();
        assert_eq!(
            row[wire], value,
            "user {id} {wire} reads back as it is on the server"
        );
    }
    let seeded = rows.iter().find(|r| r["userId"] == "13329").unwrap();
    assert!(seeded["phone"].starts_with('+'), "{seeded:?}");

    // The export's editable text columns, kept as written (escapes included), planned
    // against the same server: nothing to do.
    let columns: Vec<&str> = ycm::fields::FIELDS
        .iter()
        .filter(|f| f.kind == ycm::fields::FieldKind::Text && f.readable.by_list())
        .map(|f| f.wire)
        .collect();
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let header = reader.headers().unwrap().clone();
    let keep: Vec<usize> = std::iter::once("userId")
        .chain(columns.iter().copied())
        .map(|c| header.iter().position(|h| h == c).unwrap())
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(keep.iter().map(|&i| &header[i]))
        .unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        writer
            .write_record(keep.iter().map(|&i| &record[i]))
            .unwrap();
    }
    let records = s.path("records.csv");
    std::fs::write(&records, writer.into_inner().unwrap()).unwrap();
    let out = ok(s
        .ycm()
        .args(["sync", "plan", "--output", "json"])
        .arg(&records));
    let plan = ycm::sync::Plan::from_json(&out.stdout).unwrap();
    let counts = plan.counts();
    assert_eq!(
        counts.get(&ycm::sync::Action::Update),
        None,
        "{}",
        out.stderr
    );
    assert_eq!(counts[&ycm::sync::Action::Unchanged], rows.len());

    // One user's reads as CSV.
    let get = s.path("get.csv");
    let out = ok(s.ycm().args(["users", "get", "20001", "--output", "csv"]));
    std::fs::write(&get, &out.stdout).unwrap();
    let list = s.path("list.csv");
    let out = ok(s.ycm().args(["users", "list", "--output", "csv"]));
    std::fs::write(&list, &out.stdout).unwrap();
    assert_no_formula(&[&get, &list]);
    assert_eq!(read_back(&out.stdout)[0]["phone"], "+86 592 5503301");
}

#[test]
fn plans_reports_and_failed_rows_hold_no_formula_and_feed_back_in() {
    let s = Setup::new();
    let records = s.path("records.jsonl");
    std::fs::write(
        &records,
        concat!(
            "{\"userId\":20001,\"company\":\"=cmd|' /C calc'!A0\"}\n",
            "{\"userId\":20002,\"remark\":\"''=two quotes\",\"phone\":\"+44 1\"}\n",
            "{\"userId\":99999,\"company\":\"@SUM(1+1)\",\"mobile\":\"-3\"}\n",
        ),
    )
    .unwrap();
    let plan_csv = s.path("plan.csv");
    let out = run(s
        .ycm()
        .args(["sync", "plan", "--output", "csv"])
        .arg(&records));
    assert_eq!(out.code, 3, "an unknown user: {}", out.stderr);
    std::fs::write(&plan_csv, &out.stdout).unwrap();
    let plan_rows = read_back(&out.stdout);
    assert!(plan_rows
        .iter()
        .any(|r| r["field"] == "company" && r["after"] == "=cmd|' /C calc'!A0"));

    let report = s.path("report.csv");
    let failed_jsonl = s.path("failed.jsonl");
    let stdout_csv = s.path("stdout.csv");
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--output", "csv", "--report"])
        .arg(&report)
        .arg("--failed-out")
        .arg(&failed_jsonl)
        .arg(&records));
    assert_eq!(out.code, 3, "{}", out.stderr);
    std::fs::write(&stdout_csv, &out.stdout).unwrap();
    assert_eq!(s.mock.user(20001).unwrap()["company"], "=cmd|' /C calc'!A0");
    assert_eq!(s.mock.user(20002).unwrap()["remark"], "''=two quotes");
    assert_no_formula(&[&plan_csv, &report, &stdout_csv]);

    // The failed rows are in the input's format: CSV from a CSV input.
    let failed = s.path("failed.csv");
    let csv_records = s.path("records.csv");
    std::fs::write(
        &csv_records,
        "userId,company,mobile\n99999,'@SUM(1+1),'-3\n20003,'=1+1,'-4\n",
    )
    .unwrap();
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--failed-out"])
        .arg(&failed)
        .arg(&csv_records));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(s.mock.user(20003).unwrap()["company"], "=1+1");
    assert_eq!(s.mock.user(20003).unwrap()["mobile"], "-4");
    assert_no_formula(&[&failed]);
    let failed_rows = read_back(&std::fs::read_to_string(&failed).unwrap());
    assert_eq!(failed_rows.len(), 1);
    assert_eq!(failed_rows[0]["company"], "@SUM(1+1)");
    assert_eq!(failed_rows[0]["mobile"], "-3");
    // Fed back in, it means what the input meant.
    let out = run(s
        .ycm()
        .args(["sync", "plan", "--output", "jsonl"])
        .arg(&failed));
    assert_eq!(out.code, 3, "{}", out.stderr);
    let item = json(out.stdout.lines().next().unwrap());
    assert_eq!(item["desired"]["company"], "@SUM(1+1)");
    assert_eq!(item["desired"]["mobile"], "-3");
}
