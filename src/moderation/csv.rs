//! A small RFC 4180 reader for the labelled sets: comma-separated fields, quoted fields
//! that may hold commas, newlines and doubled quotes (`""`), CRLF or LF line ends.
//! Enough for `eval/moderation/*.csv`; no dependency needed.

/// A CSV syntax error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A quoted field runs to the end of the input.
    #[error("line {0}: quoted field is not closed")]
    Unterminated(usize),
    /// Something other than a comma or a line end follows a closing quote.
    #[error("line {0}: unexpected character after a closing quote")]
    AfterQuote(usize),
}

/// Parses `input` into records of fields. A blank line is skipped; a UTF-8 byte-order
/// mark at the start is ignored.
pub fn parse(input: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let input = input.strip_prefix('\u{FEFF}').unwrap_or(input);
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = input.chars().peekable();
    let mut line = 1usize;
    // Whether the current record has any content yet (to skip blank lines).
    let mut started = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() => {
                started = true;
                let open_line = line;
                loop {
                    match chars.next() {
                        None => return Err(CsvError::Unterminated(open_line)),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            field.push(ch);
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(_) => return Err(CsvError::AfterQuote(line)),
                }
            }
            ',' => {
                started = true;
                record.push(std::mem::take(&mut field));
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                if started || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                started = false;
            }
            _ => {
                started = true;
                field.push(c);
            }
        }
    }
    if started || !field.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_quoted_fields() {
        let got = parse("text,expected\nciao,allow\n\"a, b\",vulgar\r\n\"he said \"\"no\"\"\",threat\n").unwrap();
        assert_eq!(
            got,
            vec![
                vec!["text", "expected"],
                vec!["ciao", "allow"],
                vec!["a, b", "vulgar"],
                vec!["he said \"no\"", "threat"]
            ]
        );
    }

    #[test]
    fn newlines_inside_quotes_and_empty_fields() {
        let got = parse("a,b\n\"x\ny\",\n,\n\n").unwrap();
        assert_eq!(got, vec![vec!["a", "b"], vec!["x\ny", ""], vec!["", ""]]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse("a\n\"open"), Err(CsvError::Unterminated(2)));
        assert_eq!(parse("\"a\"b,c"), Err(CsvError::AfterQuote(1)));
    }

    #[test]
    fn no_trailing_newline_and_bom() {
        assert_eq!(parse("\u{FEFF}a,b").unwrap(), vec![vec!["a", "b"]]);
    }
}
