//! What a file is, read from its first bytes: never from its name or the type a client claims.
//!
//! One sniffer for every upload: the photos of a report, the files of a form, the photos the
//! app prepares on the phone. It only says what the bytes are; each caller decides what it
//! accepts (the photo pipeline decodes JPEG, PNG and WebP and explains a HEIC refusal; a form
//! field compares the MIME type with its rules).
//!
//! Recognised: JPEG, PNG, WebP, GIF, TIFF, HEIC, HEIF and AVIF images, PDF, OpenDocument text,
//! spreadsheet and presentation (their first zip entry is an uncompressed `mimetype`, which the
//! format requires), Office Open XML documents (a zip holding `[Content_Types].xml` and the
//! usual `word/document.xml`, `xl/workbook.xml` or `ppt/presentation.xml`; entry names are
//! stored uncompressed, so a byte search finds them), other zips, and UTF-8 text without
//! control characters other than tab, line breaks and form feed. A prefix of the file is
//! enough for all but the Office Open XML kinds, which need the whole file (otherwise they are
//! reported as [`Format::Zip`]).

/// A file format recognised by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
    Tiff,
    /// HEIF holding HEVC pictures: what iPhones take by default.
    Heic,
    /// HEIF of an unspecified codec (`mif1`/`msf1` brands).
    Heif,
    Avif,
    Pdf,
    /// A zip that is none of the office formats below.
    Zip,
    /// OpenDocument text (`.odt`).
    Odt,
    /// OpenDocument spreadsheet (`.ods`).
    Ods,
    /// OpenDocument presentation (`.odp`).
    Odp,
    /// Office Open XML text document (Word, `.docx`).
    Docx,
    /// Office Open XML spreadsheet (Excel, `.xlsx`).
    Xlsx,
    /// Office Open XML presentation (PowerPoint, `.pptx`).
    Pptx,
    /// UTF-8 text.
    Text,
}

impl Format {
    pub const ALL: [Format; 17] = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Gif,
        Format::Tiff,
        Format::Heic,
        Format::Heif,
        Format::Avif,
        Format::Pdf,
        Format::Zip,
        Format::Odt,
        Format::Ods,
        Format::Odp,
        Format::Docx,
        Format::Xlsx,
        Format::Pptx,
        Format::Text,
    ];

    /// The media type, as stored with a file and compared with a form field's rules.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Tiff => "image/tiff",
            Format::Heic => "image/heic",
            Format::Heif => "image/heif",
            Format::Avif => "image/avif",
            Format::Pdf => "application/pdf",
            Format::Zip => "application/zip",
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Odp => "application/vnd.oasis.opendocument.presentation",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Format::Text => "text/plain",
        }
    }

    /// The usual file extension, without the dot: what a stored file's key ends with.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
            Format::Tiff => "tif",
            Format::Heic => "heic",
            Format::Heif => "heif",
            Format::Avif => "avif",
            Format::Pdf => "pdf",
            Format::Zip => "zip",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Text => "txt",
        }
    }

    /// A short name for messages to people ("it looks like PDF").
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
            Format::Gif => "GIF",
            Format::Tiff => "TIFF",
            Format::Heic => "HEIC",
            Format::Heif => "HEIF",
            Format::Avif => "AVIF",
            Format::Pdf => "PDF",
            Format::Zip => "ZIP",
            Format::Odt => "ODT",
            Format::Ods => "ODS",
            Format::Odp => "ODP",
            Format::Docx => "DOCX",
            Format::Xlsx => "XLSX",
            Format::Pptx => "PPTX",
            Format::Text => "text",
        }
    }

    /// The format of a media type given by [`Format::mime`] (case and surrounding blanks
    /// ignored); `None` for any other type.
    pub fn from_mime(mime: &str) -> Option<Format> {
        let mime = mime.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.mime().eq_ignore_ascii_case(mime))
    }

    /// The format whose [`Format::extension`] is `ext` (exactly, lower case); `None` for any
    /// other: what a store checks a key's extension against.
    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }
}

/// The file extension for a media type that [`sniff`] gives, `None` for any other (the caller
/// picks its fallback, such as `bin`).
pub fn extension_for_mime(mime: &str) -> Option<&'static str> {
    Format::from_mime(mime).map(Format::extension)
}

/// What the bytes are, or `None` when they are none of the recognised formats.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        return Some(Format::Pdf);
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(Format::Gif);
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Some(Format::Webp);
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some(Format::Tiff);
    }
    // ISO base media file: a `ftyp` box first, whose major brand names the format.
    if bytes.get(4..8) == Some(b"ftyp") {
        match bytes.get(8..12) {
            Some(b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis") => {
                return Some(Format::Heic);
            }
            Some(b"mif1" | b"msf1") => return Some(Format::Heif),
            Some(b"avif" | b"avis") => return Some(Format::Avif),
            _ => {}
        }
    }
    if starts(b"PK\x03\x04") {
        return Some(sniff_zip(bytes));
    }
    sniff_text(bytes)
}

fn sniff_zip(b: &[u8]) -> Format {
    let le16 = |i: usize| {
        b.get(i..i + 2)
            .map(|s| usize::from(s[0]) | usize::from(s[1]) << 8)
    };
    let le32 = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    // Local file header: method at 8, compressed size at 18, name and extra lengths at 26
    // and 28, name at 30.
    if let (Some(0), Some(size), Some(name_len), Some(extra_len)) =
        (le16(8), le32(18), le16(26), le16(28))
        && b.get(30..30 + name_len) == Some(b"mimetype")
    {
        let start = 30 + name_len + extra_len;
        let declared = b.get(start..start.saturating_add(size));
        if let Some(f) = [Format::Odt, Format::Ods, Format::Odp]
            .into_iter()
            .find(|f| declared == Some(f.mime().as_bytes()))
        {
            return f;
        }
    }
    let contains = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    if contains(b"[Content_Types].xml") {
        if contains(b"word/document.xml") {
            return Format::Docx;
        }
        if contains(b"xl/workbook.xml") {
            return Format::Xlsx;
        }
        if contains(b"ppt/presentation.xml") {
            return Format::Pptx;
        }
    }
    Format::Zip
}

fn sniff_text(b: &[u8]) -> Option<Format> {
    if b.is_empty() {
        return None;
    }
    let text = match std::str::from_utf8(b) {
        Ok(t) => t,
        // Cut inside a character: the caller passed a prefix of a longer text.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            std::str::from_utf8(&b[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    {
        return None;
    }
    Some(Format::Text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One stored (uncompressed) zip entry: a local file header, the name, the content.
    pub(crate) fn zip_entry(name: &[u8], content: &[u8]) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.extend([20, 0, 0, 0, 0, 0]); // version, flags, method: stored
        v.extend([0; 8]); // time, date, crc
        v.extend((content.len() as u32).to_le_bytes());
        v.extend((content.len() as u32).to_le_bytes());
        v.extend((name.len() as u16).to_le_bytes());
        v.extend([0, 0]);
        v.extend(name);
        v.extend(content);
        v
    }

    /// The first bytes of real files of each format, as their writers emit them.
    fn samples() -> Vec<(&'static str, Vec<u8>, Format)> {
        let office = |main: &[u8]| {
            let mut zip = zip_entry(b"[Content_Types].xml", b"<Types/>");
            zip.extend(zip_entry(b"_rels/.rels", b"<Relationships/>"));
            zip.extend(zip_entry(main, b"<main/>"));
            zip
        };
        let (docx, xlsx, pptx) = (
            office(b"word/document.xml"),
            office(b"xl/workbook.xml"),
            office(b"ppt/presentation.xml"),
        );
        vec![
            // JFIF (cameras' classic header) and EXIF (phones).
            (
                "jfif",
                b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01".to_vec(),
                Format::Jpeg,
            ),
            (
                "exif jpeg",
                b"\xFF\xD8\xFF\xE1\x2f\xfeExif\x00\x00MM\x00*".to_vec(),
                Format::Jpeg,
            ),
            (
                "png",
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00".to_vec(),
                Format::Png,
            ),
            (
                "lossy webp",
                b"RIFF\x24\x0c\x00\x00WEBPVP8 \x18\x0c\x00\x00".to_vec(),
                Format::Webp,
            ),
            (
                "lossless webp",
                b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00".to_vec(),
                Format::Webp,
            ),
            (
                "gif89a",
                b"GIF89a\x01\x00\x01\x00\x80\x00".to_vec(),
                Format::Gif,
            ),
            (
                "gif87a",
                b"GIF87a\x01\x00\x01\x00\x80\x00".to_vec(),
                Format::Gif,
            ),
            ("tiff le", b"II*\x00\x08\x00\x00\x00".to_vec(), Format::Tiff),
            ("tiff be", b"MM\x00*\x00\x00\x00\x08".to_vec(), Format::Tiff),
            (
                "iphone heic",
                b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec(),
                Format::Heic,
            ),
            (
                "heic sequence",
                b"\x00\x00\x00\x1cftyphevc\x00\x00\x00\x00msf1hevc".to_vec(),
                Format::Heic,
            ),
            (
                "heif",
                b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic".to_vec(),
                Format::Heif,
            ),
            (
                "avif",
                b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miaf".to_vec(),
                Format::Avif,
            ),
            (
                "avif sequence",
                b"\x00\x00\x00\x20ftypavis\x00\x00\x00\x00avismsf1miaf".to_vec(),
                Format::Avif,
            ),
            (
                "pdf",
                b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec(),
                Format::Pdf,
            ),
            (
                "odt",
                zip_entry(b"mimetype", b"application/vnd.oasis.opendocument.text"),
                Format::Odt,
            ),
            (
                "ods",
                zip_entry(
                    b"mimetype",
                    b"application/vnd.oasis.opendocument.spreadsheet",
                ),
                Format::Ods,
            ),
            (
                "odp",
                zip_entry(
                    b"mimetype",
                    b"application/vnd.oasis.opendocument.presentation",
                ),
                Format::Odp,
            ),
            ("docx", docx, Format::Docx),
            ("xlsx", xlsx, Format::Xlsx),
            ("pptx", pptx, Format::Pptx),
            ("zip", zip_entry(b"photo.jpg", b"\xFF\xD8\xFF"), Format::Zip),
            (
                "epub",
                zip_entry(b"mimetype", b"application/epub+zip"),
                Format::Zip,
            ),
            (
                "text",
                "Bonjour,\r\nça va ?\tOui.\x0c\n".as_bytes().to_vec(),
                Format::Text,
            ),
        ]
    }

    #[test]
    fn real_magic_bytes_are_recognised() {
        for (what, bytes, format) in samples() {
            assert_eq!(sniff(&bytes), Some(format), "{what}");
        }
    }

    /// Every input one of the former sniffers (the forms', the server's photos', the app's
    /// photos') recognised gets the same answer: the forms' media type, and for the photo
    /// sniffers the same photo format or the same HEIC refusal.
    #[test]
    fn formerly_recognised_inputs_keep_their_answer() {
        let heif = |brand: &[u8]| {
            let mut b = b"\0\0\0\x18ftyp".to_vec();
            b.extend(brand);
            b.extend(b"\0\0\0\0");
            b
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0xFF, 0xD8, 0xFF, 0xE0], "image/jpeg"),
            (vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], "image/jpeg"),
            (b"\x89PNG\r\n\x1a\n....".to_vec(), "image/png"),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "image/png"),
            (b"RIFF\0\0\0\0WEBPVP8 ".to_vec(), "image/webp"),
            (b"RIFF\x24\0\0\0WEBPVP8 ".to_vec(), "image/webp"),
            (b"GIF89a".to_vec(), "image/gif"),
            (b"GIF89a\x01\0\x01\0".to_vec(), "image/gif"),
            (b"%PDF-1.7\n%\xe2\xe3".to_vec(), "application/pdf"),
            (heif(b"heic"), "image/heic"),
            (heif(b"heix"), "image/heic"),
            (heif(b"hevc"), "image/heic"),
            (heif(b"hevx"), "image/heic"),
            (heif(b"heim"), "image/heic"),
            (heif(b"heis"), "image/heic"),
            (heif(b"mif1"), "image/heif"),
            (heif(b"msf1"), "image/heif"),
            (b"\0\0\0\x1cftypavif\0\0\0\0".to_vec(), "image/avif"),
            (
                zip_entry(b"mimetype", b"application/vnd.oasis.opendocument.text"),
                "application/vnd.oasis.opendocument.text",
            ),
            (zip_entry(b"a.txt", b"hi"), "application/zip"),
            (b"PK\x03\x04\x14".to_vec(), "application/zip"),
            (b"hello, I am a text file".to_vec(), "text/plain"),
            (
                "Bonjour,\r\nça va ?\tOui.\n".as_bytes().to_vec(),
                "text/plain",
            ),
        ];
        for (bytes, mime) in cases {
            assert_eq!(sniff(&bytes).map(Format::mime), Some(mime), "{bytes:?}");
        }
    }

    #[test]
    fn every_format_has_its_own_mime_extension_and_name() {
        for f in Format::ALL {
            assert_eq!(Format::from_mime(f.mime()), Some(f));
            assert_eq!(extension_for_mime(f.mime()), Some(f.extension()));
            for g in Format::ALL {
                if f != g {
                    assert_ne!(f.mime(), g.mime());
                    assert_ne!(f.extension(), g.extension());
                    assert_ne!(f.name(), g.name());
                }
            }
        }
        for f in Format::ALL {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
        }
        assert_eq!(Format::from_extension("jpeg"), None);
        assert_eq!(Format::from_extension("PDF"), None);
        assert_eq!(Format::from_extension("bin"), None);
        assert_eq!(extension_for_mime("image/jpeg"), Some("jpg"));
        assert_eq!(extension_for_mime(" Application/PDF "), Some("pdf"));
        assert_eq!(extension_for_mime("text/plain"), Some("txt"));
        assert_eq!(extension_for_mime("application/octet-stream"), None);
        assert_eq!(extension_for_mime("image/*"), None);
        assert_eq!(extension_for_mime(""), None);
    }

    #[test]
    fn what_is_not_recognised() {
        for (what, bytes, expected) in [
            ("empty", b"".as_slice(), None),
            ("wav", b"RIFF\x24\0\0\0WAVEfmt ", None),
            ("mp4", b"\0\0\0\x18ftypisom\0\0\0\0", None),
            ("quicktime", b"\0\0\0\x14ftypqt  \0\0\0\0", None),
            ("nul in text", b"abc\0def", None),
            ("latin-1 text", b"caf\xe9 noir", None),
            ("binary", &[0x01, 0x02, 0x03], None),
            ("elf", b"\x7fELF\x02\x01\x01\0", None),
            ("short jpeg magic", &[0xFF, 0xD8], None),
            // Too short to be the format they start like: only the text they are.
            ("short pdf magic", b"%PDF", Some(Format::Text)),
            ("short gif magic", b"GIF8", Some(Format::Text)),
        ] {
            assert_eq!(sniff(bytes), expected, "{what}");
        }
    }

    #[test]
    fn damaged_headers_do_not_panic() {
        // A zip header cut short, sizes that point past the end, a huge declared size.
        assert_eq!(sniff(b"PK\x03\x04\x14"), Some(Format::Zip));
        let mut lying = zip_entry(b"mimetype", b"application/vnd.oasis.opendocument.text");
        lying[18..22].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(sniff(&lying), Some(Format::Zip));
        let mut long_name = zip_entry(b"mimetype", b"x");
        long_name[26..28].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(sniff(&long_name), Some(Format::Zip));
        assert_eq!(sniff(b"RIFF"), Some(Format::Text));
        assert_eq!(sniff(b"\0\0\0\x18ftyp"), None);
    }

    #[test]
    fn a_prefix_is_enough_except_for_office_open_xml() {
        for (what, bytes, format) in samples() {
            let prefix = &bytes[..bytes.len().min(100)];
            let expected = match format {
                Format::Docx | Format::Xlsx | Format::Pptx => Format::Zip,
                other => other,
            };
            assert_eq!(sniff(prefix), Some(expected), "{what}");
        }
        // A text cut inside a character is still text.
        let cut = "café".as_bytes();
        assert_eq!(sniff(&cut[..cut.len() - 1]), Some(Format::Text));
    }
}
