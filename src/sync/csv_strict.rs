//! A strict RFC 4180 reader for records files, where a lenient reader would send wrong data:
//! an unterminated quote (which would swallow the rest of the file into one cell), a quote
//! inside an unquoted field, text after a closing quote, a NUL byte, a bare carriage return
//! outside quotes, invalid UTF-8 (named by row, column and byte) and a UTF-16 file each
//! refuse the input, naming where. Rows are the physical line on which a record starts (LF
//! or CRLF line ends; quoted newlines count), so the row a message names is the line an
//! editor shows. Blank lines are skipped. A UTF-8 BOM is accepted. Parsing is over bytes,
//! and each cell is checked as UTF-8 once it is complete.

use crate::error::{Error, Result};

/// One record of the file: the line it starts on (1-based) and its cells.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CsvRow {
    pub line: usize,
    pub cells: Vec<String>,
}

/// Reads every record of `bytes`.
pub(crate) fn read(bytes: &[u8]) -> Result<Vec<CsvRow>> {
    refuse_utf16(bytes)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = Reader {
        bytes,
        at: 0,
        line: 1,
    };
    let mut rows = Vec::new();
    while reader.at < bytes.len() {
        if let Some(row) = reader.record()? {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// A file that starts with a UTF-16 byte order mark, or whose first bytes are ASCII
/// interleaved with NULs, is UTF-16 (what Excel writes as "Unicode text").
pub(crate) fn refuse_utf16(bytes: &[u8]) -> Result<()> {
    let bom = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
    let head = &bytes[..bytes.len().min(64)];
    let interleaved = head.len() >= 4
        && head.chunks(2).filter(|pair| pair.contains(&0)).count() * 4 >= head.len() * 3 / 2;
    if bom || interleaved {
        return Err(Error::invalid_argument(
            "the input is UTF-16, not UTF-8: save it as \"CSV UTF-8\" (Excel) or convert it, e.g. with iconv -f UTF-16 -t UTF-8",
        ));
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The physical line of `at`.
    line: usize,
}

impl Reader<'_> {
    fn refuse(&self, line: usize, column: usize, rule: &str) -> Error {
        Error::invalid_argument(format!(
            "row {line}, column {column}: {rule}; the CSV must follow RFC 4180 (nothing was sent)"
        ))
    }

    /// One record from `at` to its line end; `None` for a blank line.
    fn record(&mut self) -> Result<Option<CsvRow>> {
        let start_line = self.line;
        if self.line_end_here() {
            return Ok(None);
        }
        let mut cells = Vec::new();
        loop {
            let column = cells.len() + 1;
            let cell = if self.bytes.get(self.at) == Some(&b'"') {
                self.quoted(start_line, column)?
            } else {
                self.unquoted(column)?
            };
            let text = String::from_utf8(cell).map_err(|e| {
                let offset = self.at - (e.as_bytes().len() - e.utf8_error().valid_up_to());
                self.refuse(
                    start_line,
                    column,
                    &format!(
                        "the cell is not UTF-8 (an invalid byte near byte {offset} of the file); save the file as UTF-8"
                    ),
                )
            })?;
            cells.push(text);
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                _ => {
                    self.line_end_here();
                    return Ok(Some(CsvRow {
                        line: start_line,
                        cells,
                    }));
                }
            }
        }
    }

    /// Consumes a line end (LF or CRLF) or the end of the input at `at`; false otherwise.
    fn line_end_here(&mut self) -> bool {
        match (self.bytes.get(self.at), self.bytes.get(self.at + 1)) {
            (None, _) => true,
            (Some(b'\n'), _) => {
                self.at += 1;
                self.line += 1;
                true
            }
            (Some(b'\r'), Some(b'\n')) => {
                self.at += 2;
                self.line += 1;
                true
            }
            _ => false,
        }
    }

    fn unquoted(&mut self, column: usize) -> Result<Vec<u8>> {
        let begin = self.at;
        while let Some(&byte) = self.bytes.get(self.at) {
            match byte {
                b',' | b'\n' => break,
                b'\r' if self.bytes.get(self.at + 1) == Some(&b'\n') => break,
                b'\r' => {
                    return Err(self.refuse(
                        self.line,
                        column,
                        "a carriage return without a line feed outside quotes",
                    ))
                }
                b'"' => {
                    return Err(self.refuse(
                        self.line,
                        column,
                        "a quote inside an unquoted field (quote the whole field and double the quote: \"a \"\"b\"\"\")",
                    ))
                }
                0 => return Err(self.refuse(self.line, column, "a NUL byte")),
                _ => self.at += 1,
            }
        }
        Ok(self.bytes[begin..self.at].to_vec())
    }

    fn quoted(&mut self, start_line: usize, column: usize) -> Result<Vec<u8>> {
        let opened = self.line;
        self.at += 1;
        let mut cell = Vec::new();
        loop {
            match self.bytes.get(self.at) {
                None => return Err(self.refuse(
                    opened,
                    column,
                    "a quote opened here is never closed (it would take in the rest of the file)",
                )),
                Some(b'"') if self.bytes.get(self.at + 1) == Some(&b'"') => {
                    cell.push(b'"');
                    self.at += 2;
                }
                Some(b'"') => {
                    self.at += 1;
                    return match self.bytes.get(self.at) {
                        None | Some(b',') | Some(b'\n') => Ok(cell),
                        Some(b'\r') if self.bytes.get(self.at + 1) == Some(&b'\n') => Ok(cell),
                        Some(_) => Err(self.refuse(
                            self.line.max(start_line),
                            column,
                            "text after the closing quote of a field",
                        )),
                    };
                }
                Some(0) => return Err(self.refuse(self.line, column, "a NUL byte")),
                Some(&byte) => {
                    if byte == b'\n' {
                        self.line += 1;
                    }
                    cell.push(byte);
                    self.at += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8]) -> Vec<(usize, Vec<&'static str>)> {
        read(text)
            .unwrap()
            .into_iter()
            .map(|r| {
                let cells = r
                    .cells
                    .into_iter()
                    .map(|c| &*Box::leak(c.into_boxed_str()))
                    .collect();
                (r.line, cells)
            })
            .collect()
    }

    fn refused(text: &[u8]) -> String {
        read(text).unwrap_err().message().to_string()
    }

    #[test]
    fn rows_are_the_lines_records_start_on_whatever_the_line_ends() {
        let lf = rows(b"userId,company\n20001,\"A\nB\"\n\n20002,x\n");
        let crlf = rows(b"userId,company\r\n20001,\"A\r\nB\"\r\n\r\n20002,x\r\n");
        assert_eq!(lf[1], (2, vec!["20001", "A\nB"]));
        assert_eq!(lf[2], (5, vec!["20002", "x"]));
        assert_eq!(crlf[1], (2, vec!["20001", "A\r\nB"]));
        assert_eq!(crlf[2], (5, vec!["20002", "x"]));
        assert_eq!(
            rows(b"\xEF\xBB\xBFa,\"\"\"q\"\"\",\n")[0].1,
            vec!["a", "\"q\"", ""]
        );
    }

    #[test]
    fn what_a_lenient_reader_would_misread_is_refused_with_row_and_column() {
        for (text, row_column, rule) in [
            (
                &b"userId,company\n20001,\"ACME\n20002,x\n"[..],
                "row 2, column 2",
                "never closed",
            ),
            (
                b"userId,company\n20001,\"x\"y\n",
                "row 2, column 2",
                "after the closing quote",
            ),
            (
                b"userId,company\n20001,x\"y\n",
                "row 2, column 2",
                "quote inside an unquoted",
            ),
            (
                b"userId,company\n20001,AC\x00ME\n",
                "row 2, column 2",
                "NUL",
            ),
            (
                b"userId,company\n20001,a\rb\n",
                "row 2, column 2",
                "carriage return",
            ),
            (
                b"userId,company\n\n20001,\xff\xfe\n",
                "row 3, column 2",
                "not UTF-8 (an invalid byte near byte 22",
            ),
        ] {
            let message = refused(text);
            assert!(message.contains(row_column), "{message}");
            assert!(message.contains(rule), "{message}");
        }
    }

    #[test]
    fn utf16_is_named_as_such() {
        let utf16: Vec<u8> = "userId,company\n1,x\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for text in [utf16.clone(), [&b"\xFF\xFE"[..], &utf16].concat()] {
            let message = refused(&text);
            assert!(message.contains("UTF-16"), "{message}");
            assert!(!message.contains('\0'));
        }
    }
}
