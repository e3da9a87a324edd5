//! A small RFC 4180 reader for FAQ spreadsheets exported by operators: comma or
//! semicolon separated (Italian spreadsheets export with `;`), detected from the header
//! line; quoted fields with `""` escapes and line breaks inside quotes; CRLF or LF.
//! Returns rows of strings; knows nothing of FAQ columns.

/// A parsed row and the 1-based line where it starts (for error messages).
pub(crate) struct Row {
    pub(crate) line: usize,
    pub(crate) fields: Vec<String>,
}

/// Why a CSV text could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CsvError {
    pub(crate) line: usize,
    pub(crate) reason: &'static str,
}

/// The delimiter used by the header line: the more frequent of `;` and `,` outside
/// quotes; comma on a tie.
pub(crate) fn detect_delimiter(text: &str) -> char {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            '\n' | '\r' if !quoted => break,
            _ => {}
        }
    }
    if semicolons > commas {
        ';'
    } else {
        ','
    }
}

/// Splits `text` into rows. Blank lines are skipped; a leading byte-order mark is ignored.
pub(crate) fn parse(text: &str, delimiter: char) -> Result<Vec<Row>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut row_line) = (1, 1);
    // Whether the current field started with a quote, and whether we are inside it.
    let (mut was_quoted, mut in_quotes) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                was_quoted = true;
                in_quotes = true;
            }
            '"' => {
                return Err(CsvError {
                    line,
                    reason: "quote inside an unquoted field",
                })
            }
            c if c == delimiter => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                fields.push(std::mem::take(&mut field));
                push_row(&mut rows, &mut fields, row_line);
                was_quoted = false;
                line += 1;
                row_line = line;
            }
            _ if was_quoted => {
                return Err(CsvError {
                    line,
                    reason: "text after a closing quote",
                })
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError {
            line: row_line,
            reason: "unclosed quote",
        });
    }
    fields.push(field);
    push_row(&mut rows, &mut fields, row_line);
    Ok(rows)
}

fn push_row(rows: &mut Vec<Row>, fields: &mut Vec<String>, line: usize) {
    let fields = std::mem::take(fields);
    if fields.iter().all(|f| f.trim().is_empty()) {
        return;
    }
    rows.push(Row { line, fields });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(text: &str) -> Vec<Vec<String>> {
        parse(text, detect_delimiter(text))
            .unwrap()
            .into_iter()
            .map(|r| r.fields)
            .collect()
    }

    #[test]
    fn comma_and_semicolon() {
        assert_eq!(detect_delimiter("id,question,answer\n"), ',');
        assert_eq!(detect_delimiter("id;question;answer\r\na,b;c"), ';');
        assert_eq!(detect_delimiter("\"a;b;c\",x\n"), ',');
        assert_eq!(cells("a;b\r\n1;2\r\n"), [["a", "b"], ["1", "2"]]);
        assert_eq!(cells("a,b\n\n1,2"), [["a", "b"], ["1", "2"]]);
    }

    #[test]
    fn quotes() {
        let rows = cells("id,answer\nx,\"Scrivete \"\"ATTIVA\"\", poi\nattendete\"\n");
        assert_eq!(rows[1], ["x", "Scrivete \"ATTIVA\", poi\nattendete"]);
        assert_eq!(cells("\u{feff}a,\"\"\n"), [["a", ""]]);
    }

    #[test]
    fn malformed_is_an_error() {
        assert_eq!(
            parse("a,\"b\n", ',').err(),
            Some(CsvError {
                line: 1,
                reason: "unclosed quote"
            })
        );
        assert!(parse("a,b\"c\n", ',').is_err());
        assert!(parse("a,\"b\"c\n", ',').is_err());
    }
}
