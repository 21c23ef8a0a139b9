//! CSV as RFC 4180 describes it (comma, CRLF, quotes doubled), UTF-8 with a byte order mark
//! so that spreadsheets read the accents right. A text cell that starts like a formula
//! (`=`, `+`, `-`, `@`, tab, carriage return) gets a leading apostrophe: opened in a
//! spreadsheet, a citizen's description never runs.

use super::{Cell, Writer, rfc3339};

pub struct Csv;

impl Writer for Csv {
    fn start(&mut self, headers: &[&str]) -> Vec<u8> {
        let mut out = "\u{feff}".as_bytes().to_vec();
        line(&mut out, headers.iter().map(|h| field(h)));
        out
    }

    fn rows(&mut self, rows: &[Vec<Cell>]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for row in rows {
            line(&mut out, row.iter().map(cell));
        }
        Ok(out)
    }

    fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

fn line(out: &mut Vec<u8>, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(f.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => field(&neutralise(s)),
        Cell::Number(n) => n.to_string(),
        Cell::Integer(n) => n.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Time(t) => rfc3339(*t),
        Cell::Empty => String::new(),
    }
}

fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_row(cells: Vec<Cell>) -> String {
        String::from_utf8(Csv.rows(&[cells]).unwrap()).unwrap()
    }

    #[test]
    fn formulas_are_neutralised_and_fields_quoted() {
        assert_eq!(
            one_row(vec![
                Cell::Text("=HYPERLINK(\"http://evil\")".into()),
                Cell::Text("+33 6".into()),
                Cell::Text("-1".into()),
                Cell::Text("@SUM(A1)".into()),
                Cell::Text("a, b".into()),
                Cell::Text("ligne\nsuivante".into()),
            ]),
            "\"'=HYPERLINK(\"\"http://evil\"\")\",'+33 6,'-1,'@SUM(A1),\"a, b\",\"ligne\nsuivante\"\r\n"
        );
    }

    #[test]
    fn numbers_stay_numbers() {
        assert_eq!(
            one_row(vec![
                Cell::Number(-1.68),
                Cell::Integer(-3),
                Cell::Bool(true),
                Cell::Empty
            ]),
            "-1.68,-3,true,\r\n"
        );
    }
}
