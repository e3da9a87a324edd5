//! CSV that staff download (the audit log, a comune's subscribers): every cell quoted
//! (RFC 4180), lines ended by CRLF, and guarded against formula injection: a cell that a
//! spreadsheet would run (`=`, `+`, `-`, `@`, a tab or a carriage return first) starts
//! with an apostrophe instead.

/// One cell, quoted and guarded.
pub fn cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// One line of cells, with its CRLF.
pub fn line<S: AsRef<str>>(cells: &[S]) -> String {
    cells.iter().map(|c| cell(c.as_ref())).collect::<Vec<_>>().join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_never_run() {
        assert_eq!(cell("plain"), "\"plain\"");
        assert_eq!(cell("say \"hi\", ok"), "\"say \"\"hi\"\", ok\"");
        for bad in ["=1+1", "+39", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(bad).starts_with("\"'"), "{bad}");
        }
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(line(&["a", "b,c"]), "\"a\",\"b,c\"\r\n");
    }
}
