//! The copies of a declaration that live outside the Rust crate, checked against the one
//! declaration: the Python keywords `UPDATE_KEYWORDS` (bindings/python/ycm/_client.py) and
//! the README's field table against `ycm::fields::FIELDS`, the README's code table against
//! `ycm::Code::ALL`, the README's config-key table and the Python `Client` keywords against
//! `ycm::CONFIG_KEYS`, and the Python `Outcome` and `StopReason` enums
//! (bindings/python/ycm/_sync.py) against `ycm::sync::Outcome::ALL` and `StopReason::ALL`.
//! The files are read as text (no Python needed), so `cargo test` catches
//! the drift. The Python `Code` enum and exception table are checked against include/ycm.h
//! by bindings/python/tests/test_header_drift.py.

use ycm::fields::FIELDS;
use ycm::Code;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `"key": "value",` entries of the Python dict literal that `start` opens.
fn python_dict(text: &str, start: &str) -> Vec<(String, String)> {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not found"));
    let body = &text[from + start.len()..];
    let body = &body[..body.find('}').expect("the dict literal ends")];
    body.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let parts: Vec<&str> = line.trim_end_matches(',').split(':').collect();
            let unquote = |s: &str| {
                let s = s.trim();
                assert!(
                    s.len() >= 2 && s.starts_with('"') && s.ends_with('"'),
                    "{line}"
                );
                s[1..s.len() - 1].to_owned()
            };
            assert_eq!(parts.len(), 2, "cannot read the entry {line:?}");
            (unquote(parts[0]), unquote(parts[1]))
        })
        .collect()
}

/// The rows of the Markdown table that follows `heading`, as lists of cells.
fn markdown_table(text: &str, heading: &str) -> Vec<Vec<String>> {
    let from = text
        .find(heading)
        .unwrap_or_else(|| panic!("{heading} not found"));
    text[from..]
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2) // the header row and the |---| line
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The `backticked` names of a cell, in order.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn python_update_keywords_are_the_table_s_snake_and_wire_names() {
    let text = read("bindings/python/ycm/_client.py");
    let keywords = python_dict(&text, "UPDATE_KEYWORDS: Dict[str, str] = {");
    let table: Vec<(String, String)> = FIELDS
        .iter()
        .map(|f| (f.snake.to_owned(), f.wire.to_owned()))
        .collect();
    assert_eq!(keywords, table);
}

#[test]
fn the_readme_field_table_lists_every_field_in_wire_order() {
    let rows = markdown_table(&read("README.md"), "## The update body");
    let named: Vec<String> = rows.iter().flat_map(|row| backticked(&row[0])).collect();
    let table: Vec<&str> = FIELDS.iter().map(|f| f.wire).collect();
    assert_eq!(named, table);
}

#[test]
fn the_readme_and_the_python_keywords_list_every_config_key() {
    let rows = markdown_table(&read("README.md"), "## Configuration");
    let mut listed: Vec<String> = rows.iter().flat_map(|row| backticked(&row[0])).collect();
    let mut declared: Vec<String> = ycm::CONFIG_KEYS.iter().map(|k| k.to_string()).collect();
    listed.sort();
    declared.sort();
    assert_eq!(listed, declared, "README.md, ## Configuration");
    for (file, class) in [
        ("bindings/python/ycm/_client.py", "class Client:"),
        ("bindings/python/ycm/aio.py", "class AsyncClient:"),
    ] {
        let text = read(file);
        let body = &text[text.find(class).expect(class)..];
        let init = &body[body.find("def __init__(").expect("__init__")..];
        let signature = &init[..init.find(") -> None:").expect("end of signature")];
        for key in ycm::CONFIG_KEYS {
            let keyword = if key == "base_url" {
                key.to_string()
            } else {
                format!("{key}:")
            };
            assert!(
                signature.contains(&keyword),
                "{file}: Client lacks the keyword {key}"
            );
        }
    }
}

#[test]
fn the_readme_code_table_lists_every_code_with_its_number() {
    let rows = markdown_table(&read("README.md"), "## Status codes");
    let listed: Vec<(String, u32)> = rows
        .iter()
        .map(|row| {
            let name = backticked(&row[0]).concat();
            (name, row[1].parse().expect("a number in the second column"))
        })
        .collect();
    let declared: Vec<(String, u32)> = Code::ALL
        .iter()
        .map(|c| (c.name().to_owned(), c.number()))
        .collect();
    assert_eq!(listed, declared);
}

/// The `NAME = "value"` members of the Python enum class `class_name`.
fn python_enum(text: &str, class_name: &str) -> Vec<String> {
    let start = format!("class {class_name}(str, enum.Enum):");
    let from = text
        .find(&start)
        .unwrap_or_else(|| panic!("{start} not found"));
    let body = &text[from + start.len()..];
    let body = &body[..body.find("\n    def ").expect("the class has a method")];
    body.lines()
        .map(str::trim)
        .filter_map(|line| line.split_once(" = \""))
        .map(|(_, value)| value.trim_end_matches('"').to_owned())
        .collect()
}

#[test]
fn python_outcomes_and_stop_reasons_are_the_library_s() {
    let text = read("bindings/python/ycm/_sync.py");
    let outcomes: Vec<&str> = ycm::sync::Outcome::ALL.iter().map(|o| o.as_str()).collect();
    assert_eq!(python_enum(&text, "Outcome"), outcomes);
    let reasons: Vec<&str> = ycm::sync::StopReason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    assert_eq!(python_enum(&text, "StopReason"), reasons);
}
