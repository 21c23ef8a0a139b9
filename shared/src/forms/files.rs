//! Uploads: what the caller tells about each file, and the checks of a file field's rules.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::answers::{Checker, shown_key};
use super::definition::{Field, FormDefinition, Kind};
use crate::sniff;

/// One uploaded file, as the caller saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// The id of the file field it answers.
    pub field: String,
    pub filename: String,
    /// Sniffed from the bytes by the caller (see [`crate::sniff`]).
    pub mime: String,
    pub bytes: u64,
}

/// The file fields that are asked given the (normalised) data; uploads for other fields are
/// not checked by [`validate`](super::validate) and should be discarded by the caller.
pub fn active_file_fields<'a>(form: &'a FormDefinition, data: &Map<String, Value>) -> Vec<&'a str> {
    form.fields
        .iter()
        .filter(|f| f.kind == Kind::File)
        .filter(|f| f.when.as_ref().is_none_or(|c| c.holds(data.get(&c.field))))
        .map(|f| f.id.as_str())
        .collect()
}

impl Checker<'_> {
    /// The uploads of one file field against its rules.
    pub(super) fn files_of(&mut self, f: &Field) {
        let path = format!("files.{}", f.id);
        let mine: Vec<&FileMeta> = self.files.iter().filter(|m| m.field == f.id).collect();
        if mine.is_empty() {
            if f.required {
                self.err(path, "required", "a file is required");
            }
            return;
        }
        // A file field without rules accepts nothing rather than anything.
        let (max_files, max_bytes) = f
            .file
            .as_ref()
            .map_or((0, 0), |r| (r.max_files as usize, r.max_bytes));
        if mine.len() > max_files {
            self.err(
                &*path,
                "too-many-files",
                format!(
                    "{} files given; at most {max_files} are allowed",
                    mine.len()
                ),
            );
        }
        for m in mine {
            let name = shown_key(&m.filename);
            if m.bytes == 0 {
                self.err(&*path, "file-empty", format!("{name} is empty"));
            } else if m.bytes > max_bytes {
                self.err(
                    &*path,
                    "file-too-large",
                    format!(
                        "{name} has {} bytes; at most {max_bytes} are allowed",
                        m.bytes
                    ),
                );
            }
            if !f.file.as_ref().is_some_and(|r| r.accepts(&m.mime)) {
                self.err(
                    &*path,
                    "file-type-not-allowed",
                    format!(
                        "{name} is of type {:?}, which this field does not accept",
                        m.mime
                    ),
                );
            }
        }
    }
}

/// The media type of a file, from its bytes: [`sniff::sniff`]'s format, by its MIME type.
pub fn sniff_mime(bytes: &[u8]) -> Option<&'static str> {
    sniff::sniff(bytes).map(sniff::Format::mime)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;
    use super::super::validate;
    use super::*;
    use crate::sniff::tests::zip_entry;

    #[test]
    fn files_are_checked_against_their_rules() {
        let f = files_form();
        let ok = [
            file("cv", "application/pdf", 900),
            file("photos", "image/jpeg", 500),
            file("photos", "image/heic", 10),
        ];
        assert_eq!(validate(&f, &json!({}), &ok, TODAY), Ok(Map::new()));
        assert_eq!(errors(&f, json!({}), &[]), vec![pc("files.cv", "required")]);
        assert_eq!(
            errors(&f, json!({}), &[file("cv", "application/pdf", 1001)]),
            vec![pc("files.cv", "file-too-large")]
        );
        assert_eq!(
            errors(&f, json!({}), &[file("cv", "image/png", 10)]),
            vec![pc("files.cv", "file-type-not-allowed")]
        );
        assert_eq!(
            errors(&f, json!({}), &[file("cv", "application/pdf", 0)]),
            vec![pc("files.cv", "file-empty")]
        );
        assert_eq!(
            errors(
                &f,
                json!({}),
                &[
                    file("cv", "application/pdf", 10),
                    file("cv", "application/pdf", 10)
                ]
            ),
            vec![pc("files.cv", "too-many-files")]
        );
        assert_eq!(
            errors(
                &f,
                json!({}),
                &[
                    file("cv", "application/pdf", 10),
                    file("photos", "image/png", 10),
                    file("photos", "image/png", 10),
                    file("photos", "imagex/png", 10),
                ]
            ),
            vec![
                pc("files.photos", "too-many-files"),
                pc("files.photos", "file-type-not-allowed")
            ]
        );
        assert_eq!(
            errors(
                &f,
                json!({}),
                &[
                    file("cv", "application/pdf", 10),
                    file("passport", "application/pdf", 10),
                    file("passport", "application/pdf", 10),
                ]
            ),
            vec![pc("files.passport", "unknown-field")]
        );
        assert_eq!(
            errors(
                &f,
                json!({"cv": "cv.pdf"}),
                &[file("cv", "application/pdf", 10)]
            ),
            vec![pc("data.cv", "wrong-type")]
        );
    }

    #[test]
    fn files_of_a_field_that_is_not_asked_are_ignored_and_reported_inactive() {
        let f = files_form();
        let cv = file("cv", "application/pdf", 10);
        let stray = file("proof", "image/png", 10_000);
        let out = validate(
            &f,
            &json!({"has_proof": false}),
            &[cv.clone(), stray.clone()],
            TODAY,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(active_file_fields(&f, &out), vec!["cv", "photos"]);
        assert_eq!(
            errors(&f, json!({"has_proof": true}), &[cv.clone(), stray]),
            vec![
                pc("files.proof", "file-too-large"),
                pc("files.proof", "file-type-not-allowed")
            ]
        );
        assert_eq!(
            errors(&f, json!({"has_proof": true}), std::slice::from_ref(&cv)),
            vec![pc("files.proof", "required")]
        );
        let out = validate(
            &f,
            &json!({"has_proof": true}),
            &[cv, file("proof", "application/pdf", 10)],
            TODAY,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(active_file_fields(&f, &out), vec!["cv", "photos", "proof"]);
    }

    #[test]
    fn media_types_are_sniffed_from_the_bytes() {
        assert_eq!(sniff_mime(b"%PDF-1.7\n%\xe2\xe3"), Some("application/pdf"));
        assert_eq!(
            sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff_mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(sniff_mime(b"GIF89a\x01\0\x01\0"), Some("image/gif"));
        assert_eq!(sniff_mime(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_mime(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(
            sniff_mime(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Some("image/heic")
        );
        assert_eq!(
            sniff_mime(b"\0\0\0\x18ftypmif1\0\0\0\0"),
            Some("image/heif")
        );
        assert_eq!(
            sniff_mime(b"\0\0\0\x1cftypavif\0\0\0\0"),
            Some("image/avif")
        );
        assert_eq!(sniff_mime(b"\0\0\0\x18ftypisom\0\0\0\0"), None);

        let odt = zip_entry(b"mimetype", b"application/vnd.oasis.opendocument.text");
        assert_eq!(
            sniff_mime(&odt),
            Some("application/vnd.oasis.opendocument.text")
        );
        let ods = zip_entry(
            b"mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        );
        assert_eq!(
            sniff_mime(&ods),
            Some("application/vnd.oasis.opendocument.spreadsheet")
        );
        let epub = zip_entry(b"mimetype", b"application/epub+zip");
        assert_eq!(sniff_mime(&epub), Some("application/zip"));
        let mut docx = zip_entry(b"[Content_Types].xml", b"<Types/>");
        docx.extend(zip_entry(b"word/document.xml", b"<w:document/>"));
        assert_eq!(
            sniff_mime(&docx),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        let mut xlsx = zip_entry(b"[Content_Types].xml", b"<Types/>");
        xlsx.extend(zip_entry(b"xl/workbook.xml", b"<workbook/>"));
        assert_eq!(
            sniff_mime(&xlsx),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        assert_eq!(
            sniff_mime(&zip_entry(b"a.txt", b"hi")),
            Some("application/zip")
        );
        // A truncated header must not panic.
        assert_eq!(sniff_mime(b"PK\x03\x04\x14"), Some("application/zip"));

        assert_eq!(
            sniff_mime("Bonjour,\r\nça va ?\tOui.\n".as_bytes()),
            Some("text/plain")
        );
        let cut = "café".as_bytes();
        assert_eq!(sniff_mime(&cut[..cut.len() - 1]), Some("text/plain"));
        assert_eq!(sniff_mime(b"abc\0def"), None);
        assert_eq!(sniff_mime(b"caf\xe9 noir"), None);
        assert_eq!(sniff_mime(&[0x01, 0x02, 0x03]), None);
        assert_eq!(sniff_mime(b""), None);
    }
}
