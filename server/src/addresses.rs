//! Addresses from the Base Adresse Nationale (BAN): `guichet import-addresses` reads a
//! département's CSV (`adresses-35.csv`, or the `.csv.gz` as downloaded) into PostGIS, and
//! the geocoding routes read a typed address and write an address as people read it.
//!
//! The CSV is the BAN's "adresses" format: UTF-8, fields separated by `;`, a header naming the
//! columns. Columns are found by name, so extra ones (the files with BAN ids have more) and
//! missing optional ones are fine. It is streamed: lines are checked one by one and sent to
//! PostgreSQL with `COPY` in chunks, so memory stays flat whatever the file's size. The whole
//! import is one transaction: a malformed line (named by its number) changes nothing.
//!
//! A re-import replaces addresses by BAN id, and removes the addresses of the file's communes
//! that the file no longer has (the BAN retires addresses too).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use sqlx::PgConnection;

use crate::db::{self, DbError};

/// Columns an address cannot do without.
const REQUIRED: [&str; 7] = [
    "id",
    "numero",
    "nom_voie",
    "code_insee",
    "nom_commune",
    "lon",
    "lat",
];

/// The longest line accepted: BAN lines are a few hundred bytes.
const MAX_LINE_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {origin}: {source}")]
    Open {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}, line {line}: {message}")]
    Malformed {
        origin: String,
        line: u64,
        message: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Db(DbError::Sql(e))
    }
}

/// What an import read and changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Address lines read (the header and blank lines aside).
    pub lines: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Addresses of the file's communes that the file no longer has.
    pub removed: u64,
    pub communes: u64,
    pub streets: u64,
}

/// Opens a BAN CSV file, gzipped or not (the downloads are `adresses-35.csv.gz`).
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, ImportError> {
    let opened = |source| ImportError::Open {
        origin: path.display().to_string(),
        source,
    };
    let mut file = BufReader::new(std::fs::File::open(path).map_err(opened)?);
    let gzipped = file.fill_buf().map_err(opened)?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzipped {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Imports a BAN CSV within the caller's transaction (see the module's documentation).
/// `origin` names the file in messages.
pub async fn import<R: BufRead + Send>(
    conn: &mut PgConnection,
    origin: &str,
    mut reader: R,
) -> Result<ImportSummary, ImportError> {
    let malformed = |line: u64, message: String| ImportError::Malformed {
        origin: origin.to_owned(),
        line,
        message,
    };
    let mut raw = Vec::new();
    let mut line = 0u64;
    let columns = loop {
        match next_line(&mut reader, &mut raw) {
            Err(message) => return Err(malformed(line + 1, message)),
            Ok(None) => {
                return Err(malformed(
                    line.max(1),
                    "the file is empty: a BAN CSV starts with its header line".to_owned(),
                ));
            }
            Ok(Some(text)) => {
                line += 1;
                if !text.trim().is_empty() {
                    break Columns::of_header(text).map_err(|m| malformed(line, m))?;
                }
            }
        }
    };

    let mut copy = db::addresses::AddressCopy::begin(conn).await?;
    let mut lines = 0u64;
    let read: Result<(), ImportError> = loop {
        let text = match next_line(&mut reader, &mut raw) {
            Err(message) => break Err(malformed(line + 1, message)),
            Ok(None) => break Ok(()),
            Ok(Some(text)) => text,
        };
        line += 1;
        if text.trim().is_empty() {
            continue;
        }
        let address = match columns.address(text) {
            Ok(a) => a,
            Err(message) => break Err(malformed(line, message)),
        };
        lines += 1;
        if let Err(e) = copy.push(line, &address).await {
            break Err(e.into());
        }
    };
    if let Err(e) = read {
        copy.abort(&e.to_string()).await;
        return Err(e);
    }
    copy.finish().await?;
    let merged = db::addresses::finish_import(conn).await?;
    Ok(ImportSummary {
        lines,
        inserted: merged.inserted,
        updated: merged.updated,
        unchanged: merged.unchanged,
        removed: merged.removed,
        communes: merged.communes,
        streets: merged.streets,
    })
}

/// The next line without its end (`\n` or `\r\n`), `None` at the end of the file.
fn next_line<'a>(
    reader: &mut impl BufRead,
    raw: &'a mut Vec<u8>,
) -> Result<Option<&'a str>, String> {
    raw.clear();
    let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
    let n = reader
        .take(limit + 1)
        .read_until(b'\n', raw)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if n == 0 {
        return Ok(None);
    }
    if raw.len() > MAX_LINE_BYTES {
        return Err(format!(
            "the line is longer than {} KiB: this is not a BAN CSV",
            MAX_LINE_BYTES / 1024
        ));
    }
    while raw.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        raw.pop();
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| "the line is not UTF-8 text (BAN files are UTF-8)".to_owned())?;
    Ok(Some(text.strip_prefix('\u{feff}').unwrap_or(text)))
}

/// Where each column the import reads is, from the header.
#[derive(Debug)]
struct Columns {
    count: usize,
    id: usize,
    numero: usize,
    nom_voie: usize,
    code_insee: usize,
    nom_commune: usize,
    lon: usize,
    lat: usize,
    rep: Option<usize>,
    code_postal: Option<usize>,
    nom_ancienne_commune: Option<usize>,
}

impl Columns {
    fn of_header(line: &str) -> Result<Columns, String> {
        let names: Vec<String> = split_fields(line)?
            .into_iter()
            .map(|n| n.trim().to_lowercase())
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let missing: Vec<&str> = REQUIRED
            .into_iter()
            .filter(|name| find(name).is_none())
            .collect();
        if !missing.is_empty() {
            let found = if names.len() == 1 {
                " (only one column: are the fields separated by `;`?)"
            } else {
                ""
            };
            return Err(format!(
                "the header has no column {}{found}; a BAN \"adresses\" CSV has `{}`",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                REQUIRED.join(";"),
            ));
        }
        let at = |name: &str| find(name).unwrap_or(0);
        Ok(Columns {
            count: names.len(),
            id: at("id"),
            numero: at("numero"),
            nom_voie: at("nom_voie"),
            code_insee: at("code_insee"),
            nom_commune: at("nom_commune"),
            lon: at("lon"),
            lat: at("lat"),
            rep: find("rep"),
            code_postal: find("code_postal"),
            nom_ancienne_commune: find("nom_ancienne_commune"),
        })
    }

    /// One address line, checked.
    fn address(&self, line: &str) -> Result<db::addresses::NewAddress, String> {
        let fields = split_fields(line)?;
        if fields.len() != self.count {
            return Err(format!(
                "{} fields where the header names {} (fields are separated by `;`)",
                fields.len(),
                self.count
            ));
        }
        let get = |i: usize| fields.get(i).map_or("", |f| f.trim());
        let optional = |i: Option<usize>| i.map_or("", get);
        let required = |i: usize, name: &str| {
            let v = get(i);
            if v.is_empty() {
                Err(format!("`{name}` is empty"))
            } else {
                Ok(v.to_owned())
            }
        };
        let id = required(self.id, "id")?;
        let number = match get(self.numero) {
            "" => None,
            n => Some(
                n.parse::<i32>()
                    .ok()
                    .filter(|n| (0..=99_999).contains(n))
                    .ok_or_else(|| format!("`numero` is {n:?}, not a number from 0 to 99999"))?,
            ),
        };
        let rep = Some(optional(self.rep))
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let street = required(self.nom_voie, "nom_voie")?;
        let postcode = optional(self.code_postal);
        let postcode_ok = postcode.is_empty()
            || (postcode.len() == 5 && postcode.bytes().all(|b| b.is_ascii_digit()));
        if !postcode_ok {
            return Err(format!(
                "`code_postal` is {postcode:?}, not a postcode of 5 digits"
            ));
        }
        let citycode = required(self.code_insee, "code_insee")?;
        if !(citycode.len() == 5 && citycode.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Err(format!(
                "`code_insee` is {citycode:?}, not a commune code of 5 characters"
            ));
        }
        let city = required(self.nom_commune, "nom_commune")?;
        let coordinate = |i: usize, name: &str, max: f64| {
            let v = get(i);
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= max)
                .ok_or_else(|| {
                    format!("`{name}` is {v:?}, not a WGS84 coordinate (degrees within ±{max})")
                })
        };
        let lon = coordinate(self.lon, "lon", 180.0)?;
        let lat = coordinate(self.lat, "lat", 90.0)?;
        Ok(db::addresses::NewAddress {
            id,
            number,
            rep,
            street,
            postcode: postcode.to_owned(),
            citycode,
            city,
            old_city: optional(self.nom_ancienne_commune).to_owned(),
            lon,
            lat,
        })
    }
}

/// The fields of a `;`-separated line. BAN files quote no field; a field in double quotes
/// (`"a;b"`, `""` for a quote) is read as CSV would.
fn split_fields(line: &str) -> Result<Vec<std::borrow::Cow<'_, str>>, String> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                match chars.next() {
                    None => return Err("a quoted field has no closing quote".to_owned()),
                    Some((i, '"')) => {
                        if quoted[i + 1..].starts_with('"') {
                            value.push('"');
                            chars.next();
                        } else {
                            break &quoted[i + 1..];
                        }
                    }
                    Some((_, c)) => value.push(c),
                }
            };
            fields.push(std::borrow::Cow::Owned(value));
            match after.strip_prefix(';') {
                Some(next) => rest = next,
                None if after.is_empty() => return Ok(fields),
                None => return Err("a quoted field is followed by more than `;`".to_owned()),
            }
        } else {
            match rest.split_once(';') {
                Some((field, next)) => {
                    fields.push(std::borrow::Cow::Borrowed(field));
                    rest = next;
                }
                None => {
                    fields.push(std::borrow::Cow::Borrowed(rest));
                    return Ok(fields);
                }
            }
        }
    }
}

/// "12", "12 bis": the number of an address as written, if it has one.
pub fn housenumber(number: Option<i32>, rep: Option<&str>) -> Option<String> {
    number.map(|n| match rep.map(str::trim).filter(|r| !r.is_empty()) {
        Some(rep) => format!("{n} {rep}"),
        None => n.to_string(),
    })
}

/// "12 Rue de Paris 35000 Rennes", as the BAN writes labels.
pub fn label(housenumber: Option<&str>, street: &str, postcode: &str, city: &str) -> String {
    [housenumber.unwrap_or(""), street, postcode, city]
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where an address written on one line is (an integrator's `address_string`): the best
/// match when it is the very number typed, or a street when no number was typed. A number the
/// street does not have gives `None` rather than another number's place.
pub async fn locate(
    pool: &sqlx::PgPool,
    text: &str,
) -> Result<Option<db::addresses::Place>, DbError> {
    let typed = TypedAddress::parse(text);
    if typed.words.trim().is_empty() {
        return Ok(None);
    }
    let best = db::addresses::search(
        pool,
        &db::addresses::Search {
            words: typed.words,
            number: typed.number,
            rep: typed.rep.clone(),
            postcode: typed.postcode,
            near: None,
            limit: 1,
        },
    )
    .await?
    .into_iter()
    .next();
    Ok(best.filter(|place| match typed.number {
        None => true,
        Some(n) => {
            place.number == Some(n) && place.rep.as_deref().map(str::to_lowercase) == typed.rep
        }
    }))
}

/// What someone typed to find an address, read: a number in the street (first, as people
/// write it: "12 bis rue…", "12b rue…"), a postcode, and the words of the street and commune
/// with the usual abbreviations written out ("r" → "rue", "bd" → "boulevard", "st" →
/// "saint"). Hyphens separate words, as they do for the search ("St-Anne", "Saint Anne").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedAddress {
    pub words: String,
    pub number: Option<i32>,
    /// The repetition index, in lower case.
    pub rep: Option<String>,
    pub postcode: Option<String>,
}

const REPETITIONS: [&str; 4] = ["bis", "ter", "quater", "quinquies"];

const ABBREVIATIONS: [(&str, &str); 30] = [
    ("r", "rue"),
    ("av", "avenue"),
    ("ave", "avenue"),
    ("bd", "boulevard"),
    ("bld", "boulevard"),
    ("blvd", "boulevard"),
    ("pl", "place"),
    ("all", "allée"),
    ("imp", "impasse"),
    ("ch", "chemin"),
    ("che", "chemin"),
    ("chem", "chemin"),
    ("rte", "route"),
    ("sq", "square"),
    ("fg", "faubourg"),
    ("fbg", "faubourg"),
    ("qu", "quai"),
    ("crs", "cours"),
    ("pass", "passage"),
    ("prom", "promenade"),
    ("esp", "esplanade"),
    ("res", "résidence"),
    ("lot", "lotissement"),
    ("st", "saint"),
    ("ste", "sainte"),
    ("gal", "général"),
    ("gen", "général"),
    ("mal", "maréchal"),
    ("pdt", "président"),
    ("dr", "docteur"),
];

impl TypedAddress {
    pub fn parse(text: &str) -> TypedAddress {
        let tokens: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == '-')
            .filter(|t| !t.is_empty())
            .collect();
        let mut number = None;
        let mut rep: Option<String> = None;
        let mut postcode = None;
        let mut words = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            let lower = token.to_lowercase();
            let digits = lower.bytes().take_while(u8::is_ascii_digit).count();
            if postcode.is_none() && lower.len() == 5 && digits == 5 {
                postcode = Some(lower);
            } else if i == 0 && (1..=5).contains(&digits) {
                let (n, suffix) = lower.split_at(digits);
                let suffix_ok = suffix.is_empty()
                    || REPETITIONS.contains(&suffix)
                    || (suffix.len() == 1 && suffix.bytes().all(|b| b.is_ascii_alphabetic()));
                match (n.parse::<i32>(), suffix_ok) {
                    (Ok(n), true) => {
                        number = Some(n);
                        rep = Some(suffix.to_owned()).filter(|s| !s.is_empty());
                    }
                    _ => words.push((*token).to_owned()),
                }
            } else if i == 1 && number.is_some() && rep.is_none() && REPETITIONS.contains(&&*lower)
            {
                rep = Some(lower);
            } else {
                let bare = lower.trim_end_matches('.');
                match ABBREVIATIONS.iter().find(|(short, _)| *short == bare) {
                    Some((_, long)) => words.push((*long).to_owned()),
                    None => words.push((*token).to_owned()),
                }
            }
        }
        TypedAddress {
            words: words.join(" "),
            number,
            rep,
            postcode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles";

    #[test]
    fn a_ban_line_reads_as_an_address() {
        let columns = Columns::of_header(HEADER).unwrap();
        let a = columns
            .address("35238_2205_00012_bis;35238_2205;12;bis;Rue de Paris;35000;35238;Rennes;;;353144.12;6789012.34;-1.669321;48.113925;entrée;;;RENNES;RUE DE PARIS;commune;commune;1;35238000AB0012")
            .unwrap();
        assert_eq!(a.id, "35238_2205_00012_bis");
        assert_eq!((a.number, a.rep.as_deref()), (Some(12), Some("bis")));
        assert_eq!(
            (a.street.as_str(), a.postcode.as_str(), a.citycode.as_str()),
            ("Rue de Paris", "35000", "35238")
        );
        assert_eq!((a.lon, a.lat), (-1.669321, 48.113925));
        assert_eq!(a.old_city, "");
    }

    #[test]
    fn columns_are_found_by_name_and_optional_ones_may_be_missing() {
        let columns =
            Columns::of_header("lat;lon;nom_commune;code_insee;nom_voie;numero;id;extra").unwrap();
        let a = columns
            .address("48.1;-1.6;Rennes;35238;Rue Nationale;3;35238_0001_00003;x")
            .unwrap();
        assert_eq!((a.number, a.rep, a.postcode.as_str()), (Some(3), None, ""));
        let err = Columns::of_header("id,numero,nom_voie").unwrap_err();
        assert!(
            err.contains("`lon`") && err.contains("separated by `;`"),
            "{err}"
        );
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let columns = Columns::of_header(HEADER).unwrap();
        let line = |lat: &str| {
            format!(
                "35238_2205_00012;;12;;Rue de Paris;35000;35238;Rennes;;;;;-1.66;{lat};;;;;;;;;"
            )
        };
        assert!(columns.address(&line("48.1")).is_ok());
        let err = columns.address(&line("quarante-huit")).unwrap_err();
        assert!(err.contains("`lat`"), "{err}");
        assert!(columns.address(&line("91")).is_err());
        assert!(columns.address(&line("NaN")).is_err());
        let err = columns
            .address("35238_2205_00012;12;Rue de Paris")
            .unwrap_err();
        assert!(err.contains("3 fields where the header names 23"), "{err}");
        let err = columns
            .address(
                "35238_2205_00012;;douze;;Rue de Paris;35000;35238;Rennes;;;;;-1.66;48.1;;;;;;;;;",
            )
            .unwrap_err();
        assert!(err.contains("`numero`"), "{err}");
    }

    #[test]
    fn quoted_fields_are_read_as_csv() {
        let fields = split_fields(r#"a;"b;c";"d ""e""";"#).unwrap();
        assert_eq!(fields, vec!["a", "b;c", "d \"e\"", ""]);
        assert!(split_fields(r#"a;"b"#).is_err());
    }

    #[test]
    fn labels_read_as_the_ban_writes_them() {
        let n = housenumber(Some(12), Some("bis"));
        assert_eq!(n.as_deref(), Some("12 bis"));
        assert_eq!(
            label(n.as_deref(), "Rue de Paris", "35000", "Rennes"),
            "12 bis Rue de Paris 35000 Rennes"
        );
        assert_eq!(
            label(None, "Rue de Paris", "", "Rennes"),
            "Rue de Paris Rennes"
        );
    }

    #[test]
    fn typed_addresses_are_read() {
        let t = TypedAddress::parse("12 r de Paris, 35000 Rennes");
        assert_eq!(t.words, "rue de Paris Rennes");
        assert_eq!(
            (t.number, t.rep, t.postcode.as_deref()),
            (Some(12), None, Some("35000"))
        );
        let t = TypedAddress::parse("12bis bd de la Liberté");
        assert_eq!((t.number, t.rep.as_deref()), (Some(12), Some("bis")));
        assert_eq!(t.words, "boulevard de la Liberté");
        let t = TypedAddress::parse("3 ter pl. St-Anne");
        assert_eq!((t.number, t.rep.as_deref()), (Some(3), Some("ter")));
        assert_eq!(t.words, "place saint Anne");
        let t = TypedAddress::parse("7B rue Nationale");
        assert_eq!((t.number, t.rep.as_deref()), (Some(7), Some("b")));
        // A number further on belongs to the street's name.
        let t = TypedAddress::parse("rue du 8 mai 1945");
        assert_eq!((t.number, t.words.as_str()), (None, "rue du 8 mai 1945"));
        assert_eq!(TypedAddress::parse("35000").words, "");
    }
}
