//! CSV written so that no spreadsheet runs a cell as a formula, and read back with the same
//! meaning: the one rule for every CSV ycm writes (exports, plans, reports, failed rows) and
//! for the records reader. Following OWASP's guidance on CSV injection, a cell whose value
//! starts with one of [`FORMULA_STARTS`] (`=`, `+`, `-`, `@`, tab, carriage return) is
//! written with a single quote (`'`) in front, and every text cell is quoted, so a
//! spreadsheet shows it as text; phone numbers such as `+44 20 7946 0000` are escaped too
//! (a spreadsheet would otherwise take them for a sum), and ycm reads them back without the
//! quote. So that the round trip is exact, a value that itself starts with `'` followed by
//! one of those characters or by another `'` gets one more `'` in front; the reader removes
//! one leading `'` from exactly those cells ([`unescape_cell`]) and leaves every other cell,
//! `'x` included, as it is.

use std::borrow::Cow;
use std::io::Write;

/// The first characters that make a spreadsheet evaluate a cell.
///
/// ```
/// assert!(ycm::sync::FORMULA_STARTS.contains(&'@'));
/// ```
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The escape mark put in front of a value.
const MARK: char = '\'';

/// Whether `text` reads as an escaped cell: the mark, then a formula start or another mark.
fn looks_escaped(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next() == Some(MARK)
        && chars
            .next()
            .is_some_and(|c| c == MARK || FORMULA_STARTS.contains(&c))
}

/// The cell that holds `value` in a CSV ycm writes (see the module documentation).
///
/// ```
/// use ycm::sync::{escape_cell, unescape_cell};
/// assert_eq!(escape_cell("=HYPERLINK(\"http://x\",\"y\")"), "'=HYPERLINK(\"http://x\",\"y\")");
/// assert_eq!(escape_cell("+44 20"), "'+44 20");
/// assert_eq!(escape_cell("'=1"), "''=1");
/// assert_eq!(escape_cell("'x"), "'x");
/// for value in ["=1", "'=1", "''", "'", "'x", "x", "", "-2"] {
///     assert_eq!(unescape_cell(&escape_cell(value)), value);
/// }
/// ```
pub fn escape_cell(value: &str) -> Cow<'_, str> {
    let formula = value.starts_with(FORMULA_STARTS);
    if formula || looks_escaped(value) {
        Cow::Owned(format!("{MARK}{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// The value of a cell of a CSV ycm wrote: [`escape_cell`] undone.
///
/// ```
/// assert_eq!(ycm::sync::unescape_cell("'@SUM(1+1)"), "@SUM(1+1)");
/// assert_eq!(ycm::sync::unescape_cell("'quoted'"), "'quoted'");
/// ```
pub fn unescape_cell(cell: &str) -> &str {
    if looks_escaped(cell) {
        &cell[MARK.len_utf8()..]
    } else {
        cell
    }
}

/// A CSV writer that writes every cell through [`escape_cell`] and quotes every text cell.
///
/// ```
/// let mut writer = ycm::sync::CsvWriter::new(Vec::new());
/// writer.record(["userId", "company"])?;
/// writer.record(["7", "=1+1"])?;
/// assert_eq!(String::from_utf8(writer.finish()?).unwrap(), "\"userId\",\"company\"\n7,\"'=1+1\"\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// A writer to `out`.
    pub fn new(out: W) -> CsvWriter<W> {
        CsvWriter {
            inner: csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::NonNumeric)
                .from_writer(out),
        }
    }

    /// Writes one record.
    pub fn record<I, S>(&mut self, cells: I) -> std::io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for cell in cells {
            self.inner
                .write_field(escape_cell(cell.as_ref()).as_bytes())?;
        }
        self.inner.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Flushes and returns the output.
    pub fn finish(self) -> std::io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_and_no_cell_starts_a_formula() {
        let starts = [
            "", "'", "''", "x", "=", "+", "-", "@", "\t", "\r", "\n", "\"",
        ];
        let mut values = Vec::new();
        for a in starts {
            for b in starts {
                for c in starts {
                    values.push(format!("{a}{b}{c}"));
                }
            }
        }
        values.extend(["+44 20 7946 0000", "-2", "héllo", "'quoted'"].map(String::from));
        let mut writer = CsvWriter::new(Vec::new());
        for value in &values {
            let cell = escape_cell(value);
            assert!(!cell.starts_with(FORMULA_STARTS), "{value:?} -> {cell:?}");
            assert_eq!(unescape_cell(&cell), value, "{cell:?}");
            writer.record([value.as_str()]).unwrap();
        }
        let text = writer.finish().unwrap();
        let rows = crate::sync::csv_strict::read(&text).unwrap();
        let back: Vec<&str> = rows.iter().map(|r| unescape_cell(&r.cells[0])).collect();
        assert_eq!(back, values);
    }
}
