//! OpenDocument spreadsheet (ODF 1.2): a ZIP with `mimetype` first and stored, the manifest,
//! and `content.xml` with one table, written row by row. Text is a string cell (never a
//! formula), numbers are floats, times are dates, flags are booleans.

use std::fmt::Write as _;

use super::zip::ZipStream;
use super::{Cell, Writer};

const MIMETYPE: &str = "application/vnd.oasis.opendocument.spreadsheet";
const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#;
const CONTENT_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Demandes">"#;
const CONTENT_END: &str =
    "</table:table></office:spreadsheet></office:body></office:document-content>\n";

pub struct Ods {
    zip: ZipStream,
}

impl Ods {
    pub fn new() -> Self {
        Self {
            zip: ZipStream::new(),
        }
    }

    fn begin(&mut self, headers: &[&str]) -> std::io::Result<Vec<u8>> {
        let mut out = self.zip.stored("mimetype", MIMETYPE.as_bytes())?;
        out.extend(
            self.zip
                .stored("META-INF/manifest.xml", MANIFEST.as_bytes())?,
        );
        out.extend(self.zip.begin("content.xml")?);
        let mut xml = String::from(CONTENT_START);
        let header: Vec<Cell> = headers
            .iter()
            .map(|h| Cell::Text((*h).to_owned()))
            .collect();
        row(&mut xml, &header);
        out.extend(self.zip.write(xml.as_bytes())?);
        Ok(out)
    }
}

impl Writer for Ods {
    fn start(&mut self, headers: &[&str]) -> Vec<u8> {
        // Writing into memory cannot fail short of a 4 GiB archive.
        self.begin(headers).unwrap_or_default()
    }

    fn rows(&mut self, rows: &[Vec<Cell>]) -> std::io::Result<Vec<u8>> {
        let mut xml = String::new();
        for r in rows {
            row(&mut xml, r);
        }
        self.zip.write(xml.as_bytes())
    }

    fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = self.zip.write(CONTENT_END.as_bytes())?;
        out.extend(self.zip.end()?);
        out.extend(self.zip.finish()?);
        Ok(out)
    }
}

fn row(xml: &mut String, cells: &[Cell]) {
    xml.push_str("<table:table-row>");
    for c in cells {
        match c {
            Cell::Text(s) => {
                let _ = write!(
                    xml,
                    r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                    escape(s)
                );
            }
            Cell::Number(n) => {
                let _ = write!(
                    xml,
                    r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                );
            }
            Cell::Integer(n) => {
                let _ = write!(
                    xml,
                    r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                );
            }
            Cell::Bool(b) => {
                let _ = write!(
                    xml,
                    r#"<table:table-cell office:value-type="boolean" office:boolean-value="{b}"><text:p>{b}</text:p></table:table-cell>"#
                );
            }
            Cell::Time(t) => {
                // ODF dates have no offset: the time is given in UTC, as the column says.
                let utc = t.to_offset(time::UtcOffset::UTC);
                let value = format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                    utc.year(),
                    u8::from(utc.month()),
                    utc.day(),
                    utc.hour(),
                    utc.minute(),
                    utc.second()
                );
                let _ = write!(
                    xml,
                    r#"<table:table-cell office:value-type="date" office:date-value="{value}"><text:p>{value}</text:p></table:table-cell>"#
                );
            }
            Cell::Empty => xml.push_str("<table:table-cell/>"),
        }
    }
    xml.push_str("</table:table-row>");
}

/// XML text: the five special characters escaped, and the control characters XML 1.0 cannot
/// hold dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn an_archive_starts_with_its_stored_mimetype() {
        let mut ods = Ods::new();
        let mut bytes = ods.start(&["Numéro"]);
        bytes.extend(ods.rows(&[vec![Cell::Text("=1+1".into())]]).unwrap());
        bytes.extend(ods.finish().unwrap());
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        // The name right after the 30-byte header, then the content stored as is: what
        // tools read to tell an ODS file.
        assert_eq!(&bytes[30..38], b"mimetype");
        assert_eq!(&bytes[38..38 + MIMETYPE.len()], MIMETYPE.as_bytes());
        // The end of central directory record counts three entries.
        let end = bytes.len() - 22;
        assert_eq!(&bytes[end..end + 4], &0x0605_4b50u32.to_le_bytes());
        assert_eq!(u16::from_le_bytes([bytes[end + 10], bytes[end + 11]]), 3);
    }
}
