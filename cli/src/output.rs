//! Data on stdout in the format of `--output`: `table` (aligned columns, the default on a
//! terminal), `json` (one document, the default otherwise), `jsonl` (one object per line)
//! or `csv` (a header row, then one row per object, written by the library's [`CsvWriter`]
//! so that no cell runs as a formula in a spreadsheet). Lists are streamed ([`Rows`]) except
//! as a table, whose column widths need every row. Tables are laid out by comfy-table,
//! which measures display width (a CJK character takes two columns), and on a terminal a
//! long one is cut after [`TERMINAL_ROWS`] rows with a line saying how many are left and how
//! to get them all ([`Cut`]); piped or redirected, a table is whole.

use crate::args::OutputFormat;
use crate::fail::Failure;
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};
use ycm::sync::CsvWriter;

/// The format in use: the flag's, else table on a terminal and json otherwise.
pub fn resolve(flag: Option<OutputFormat>) -> OutputFormat {
    flag.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Json
    })
}

/// Turns a failed write to stdout into a failure.
/// A closed pipe (`ycm users export | head`) ends the command quietly, with success.
pub fn write_error(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        let mut quiet = Failure::error("");
        quiet.exit = crate::fail::OK;
        return quiet;
    }
    Failure::error(format!("cannot write to stdout: {e}"))
}

/// The value of the column or field `name` as a table or CSV cell, in its field's one text
/// form (`unlimited` for no limit: an empty cell would read back as "leave alone").
pub fn cell(name: &str, value: &Value) -> String {
    ycm::fields::text::cell(name, value)
}

/// The rows of a table shown on a terminal before it is cut.
pub const TERMINAL_ROWS: usize = 50;

/// Where a long table is cut, and what the line after it tells the reader to do.
#[derive(Clone, Copy, Debug)]
pub struct Cut {
    /// Rows shown.
    pub rows: usize,
    /// How to get them all, e.g. "use --output csv for all of them".
    pub hint: &'static str,
}

/// The cut of a table on stdout: after [`TERMINAL_ROWS`] when stdout is a terminal, none
/// otherwise.
pub fn stdout_cut(terminal: bool) -> Option<Cut> {
    terminal.then_some(Cut {
        rows: TERMINAL_ROWS,
        hint: "use --output csv (or json) for all of them",
    })
}

/// Writes a table: a header row and columns aligned by display width, two spaces apart, no
/// borders; cut after `cut.rows` rows with a `... N more; HINT` line.
pub fn table(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
    cut: Option<Cut>,
) -> std::io::Result<()> {
    use comfy_table::{CellAlignment, ContentArrangement, Table};
    let shown = cut.map_or(rows.len(), |c| c.rows.min(rows.len()));
    let mut table = Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| h.as_str()));
    for row in &rows[..shown] {
        table.add_row(row.iter().map(|c| c.as_str()));
    }
    let last = header.len().saturating_sub(1);
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i == last { 0 } else { 2 }));
        column.set_cell_alignment(CellAlignment::Left);
    }
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    if shown < rows.len() {
        if let Some(cut) = cut {
            writeln!(out, "... {} more; {}", rows.len() - shown, cut.hint)?;
        }
    }
    Ok(())
}

/// Writes one object: as JSON, one JSONL line, a CSV header and row, or a two-column table.
pub fn object(
    out: &mut dyn Write,
    format: OutputFormat,
    object: &Map<String, Value>,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, object)?;
            writeln!(out)
        }
        OutputFormat::Jsonl => {
            serde_json::to_writer(&mut *out, object)?;
            writeln!(out)
        }
        OutputFormat::Csv => {
            let mut writer = CsvWriter::new(out);
            writer.record(object.keys())?;
            writer.record(object.iter().map(|(k, v)| cell(k, v)))?;
            writer.finish()?.flush()
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = object
                .iter()
                .map(|(k, v)| vec![k.clone(), cell(k, v)])
                .collect();
            table(out, &["FIELD".into(), "VALUE".into()], &rows, None)
        }
    }
}

/// A streamed list of objects with known columns.
pub struct Rows<'a> {
    out: &'a mut dyn Write,
    format: OutputFormat,
    columns: Vec<String>,
    count: usize,
    table: Vec<Vec<String>>,
    cut: Option<Cut>,
}

impl<'a> Rows<'a> {
    /// Starts a list with these columns (CSV and table; JSON writes every key).
    pub fn new(
        out: &'a mut dyn Write,
        format: OutputFormat,
        columns: Vec<String>,
    ) -> std::io::Result<Rows<'a>> {
        let mut rows = Rows {
            out,
            format,
            columns,
            count: 0,
            table: Vec::new(),
            cut: None,
        };
        match format {
            OutputFormat::Json => write!(rows.out, "[")?,
            OutputFormat::Csv => {
                let header = rows.columns.clone();
                rows.csv_record(&header)?;
            }
            _ => {}
        }
        Ok(rows)
    }

    /// Cuts the table (only a table) as `cut` says.
    pub fn cut(mut self, cut: Option<Cut>) -> Rows<'a> {
        self.cut = cut;
        self
    }

    fn csv_record(&mut self, record: &[String]) -> std::io::Result<()> {
        let mut writer = CsvWriter::new(Vec::new());
        writer.record(record)?;
        self.out.write_all(&writer.finish()?)
    }

    /// Adds one object.
    pub fn push(&mut self, object: &Map<String, Value>) -> std::io::Result<()> {
        let cells = || {
            self.columns
                .iter()
                .map(|c| object.get(c).map(|v| cell(c, v)).unwrap_or_default())
                .collect::<Vec<String>>()
        };
        match self.format {
            OutputFormat::Json => {
                write!(self.out, "{}\n  ", if self.count == 0 { "" } else { "," })?;
                serde_json::to_writer(&mut *self.out, object)?;
            }
            OutputFormat::Jsonl => {
                serde_json::to_writer(&mut *self.out, object)?;
                writeln!(self.out)?;
            }
            OutputFormat::Csv => {
                let record = cells();
                self.csv_record(&record)?;
            }
            OutputFormat::Table => {
                let record = cells();
                self.table.push(record);
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Ends the list.
    pub fn finish(self) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Json => {
                writeln!(self.out, "{}]", if self.count == 0 { "" } else { "\n" })?
            }
            OutputFormat::Table => table(self.out, &self.columns, &self.table, self.cut)?,
            _ => {}
        }
        self.out.flush()
    }
}
