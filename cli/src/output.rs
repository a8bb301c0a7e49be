//! Data on stdout in the format of `--output`: `table` (aligned columns, the default on a
//! terminal), `json` (one document, the default otherwise), `jsonl` (one object per line)
//! or `csv` (a header row, then one row per object, written by the library's [`CsvWriter`]
//! so that no cell runs as a formula in a spreadsheet). Lists are streamed ([`Rows`]) except
//! as a table, whose column widths need every row.

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

/// Writes a table: a header row and aligned columns.
pub fn table(out: &mut dyn Write, header: &[String], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut line = |cells: &[String]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(c);
            } else {
                let pad = widths[i].saturating_sub(c.chars().count());
                text.push_str(c);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(header)?;
    for row in rows {
        line(row)?;
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
            table(out, &["FIELD".into(), "VALUE".into()], &rows)
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
            OutputFormat::Table => table(self.out, &self.columns, &self.table)?,
            _ => {}
        }
        self.out.flush()
    }
}
