//! A small RFC 4180 reader: quoted fields, doubled quotes, commas and line breaks inside quotes,
//! CRLF or LF line ends. Hand-written because the import needs only this, and the `csv` crate
//! would add a dependency to every component for forty lines of state machine.
//!
//! Lenient where spreadsheets are sloppy (a bare `"` inside an unquoted field is kept as a
//! character, a final line break is optional, a UTF-8 BOM is dropped); strict where the data
//! would be guessed (text after a closing quote, a quote that never closes).

/// A record as read, with the physical line it started on (1-based) for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

impl Record {
    /// An empty line (one empty field), which imports skip.
    pub fn is_blank(&self) -> bool {
        matches!(self.fields.as_slice(), [only] if only.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// Reads every record of `text`. Fields are returned exactly (no trimming).
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                let quote_line = line;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            line += usize::from(c == '\n');
                            field.push(c);
                        }
                        None => {
                            return Err(CsvError {
                                line: quote_line,
                                message: "a quoted field is never closed".into(),
                            })
                        }
                    }
                }
                if !matches!(chars.peek(), None | Some(',' | '\r' | '\n')) {
                    return Err(CsvError {
                        line,
                        message: "a closing quote must end its field (write \"\" for a quote)"
                            .into(),
                    });
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if matches!(c, ',' | '\r' | '\n') {
                        break;
                    }
                    field.push(c);
                    chars.next();
                }
            }
            fields.push(field);
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        records.push(Record {
            line: start_line,
            fields,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap().into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn plain_records_with_crlf_or_lf_and_optional_final_break() {
        let expected = vec![vec!["a", "b"], vec!["1", ""]];
        assert_eq!(fields("a,b\r\n1,\r\n"), expected);
        assert_eq!(fields("a,b\n1,"), expected);
        assert_eq!(fields(""), Vec::<Vec<String>>::new());
        assert_eq!(fields(",,"), vec![vec!["", "", ""]]);
    }

    #[test]
    fn quoted_fields_keep_commas_line_breaks_and_doubled_quotes() {
        let text = "\"a,b\",\"say \"\"hi\"\"\"\r\n\"line1\r\nline2\",\"\"\r\nlast,x";
        assert_eq!(
            fields(text),
            vec![
                vec!["a,b", "say \"hi\""],
                vec!["line1\r\nline2", ""],
                vec!["last", "x"]
            ]
        );
        let lines: Vec<_> = parse(text).unwrap().iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 4], "records start on their physical lines");
    }

    #[test]
    fn a_bom_is_dropped_and_bare_quotes_are_characters() {
        assert_eq!(
            fields("\u{feff}a,5\" screen"),
            vec![vec!["a", "5\" screen"]]
        );
    }

    #[test]
    fn broken_quoting_is_an_error_with_its_line() {
        let open = parse("a,b\n1,\"never\nclosed").unwrap_err();
        assert_eq!(open.line, 2);
        let trailing = parse("a\n\"x\"y,z").unwrap_err();
        assert_eq!(trailing.line, 2);
    }

    #[test]
    fn blank_lines_are_recognisable() {
        let records = parse("a\n\nb\n").unwrap();
        let blank: Vec<_> = records.iter().map(Record::is_blank).collect();
        assert_eq!(blank, [false, true, false]);
    }
}
