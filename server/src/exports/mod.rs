//! Exports of a filtered queue for spreadsheets, in open formats (RGI): CSV (RFC 4180, UTF-8)
//! and OpenDocument spreadsheet (ODS). Rows are read page by page and written out as they
//! come, so an export of any size holds one page in memory. Text that a spreadsheet would run
//! as a formula is neutralised in CSV; in ODS every text is a string cell, never evaluated.

mod csv;
mod ods;
mod zip;

use bytes::Bytes;
use guichet_shared::phase::Lang;
use guichet_shared::workflow::template;
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use crate::db::{self, queue::QueueFilter, queue::QueueRow};

/// Rows read from the database at once.
const PAGE: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ods,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "ods" => Some(Self::Ods),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8; header=present",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ods => "ods",
        }
    }
}

/// One cell, typed so that each format writes it its own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Integer(i64),
    Bool(bool),
    Time(OffsetDateTime),
    Empty,
}

impl Cell {
    fn text(s: Option<String>) -> Self {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

const HEADERS_FR: [&str; 17] = [
    "Numéro",
    "Démarche",
    "Code démarche",
    "Statut",
    "Phase",
    "Canal",
    "Équipe",
    "Agent assigné (id)",
    "Secteur",
    "Adresse",
    "Latitude",
    "Longitude",
    "Signalements",
    "Doublon possible de",
    "Échéance",
    "En retard",
    "Créée le",
];
const HEADERS_EN: [&str; 17] = [
    "Number",
    "Démarche",
    "Démarche code",
    "Status",
    "Phase",
    "Channel",
    "Team",
    "Assignee (id)",
    "Zone",
    "Address",
    "Latitude",
    "Longitude",
    "Reports",
    "Possible duplicate of",
    "Due",
    "Overdue",
    "Filed",
];

pub fn headers(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Fr => &HEADERS_FR,
        Lang::En => &HEADERS_EN,
    }
}

pub fn cells(r: QueueRow, lang: Lang) -> Vec<Cell> {
    let status = template(&r.workflow)
        .and_then(|t| t.status(&r.status))
        .map_or(r.status.clone(), |s| s.label(lang).to_owned());
    vec![
        Cell::Text(r.number),
        Cell::Text(r.demarche_title),
        Cell::Text(r.demarche_code),
        Cell::Text(status),
        Cell::Text(r.phase),
        Cell::Text(r.channel),
        Cell::text(r.team_code),
        r.assignee_id.map_or(Cell::Empty, Cell::Integer),
        Cell::text(r.zone_name),
        Cell::text(r.address),
        r.lat.map_or(Cell::Empty, Cell::Number),
        r.lon.map_or(Cell::Empty, Cell::Number),
        Cell::Integer(r.report_count.into()),
        Cell::text(r.possible_duplicate_of),
        r.due_at.map_or(Cell::Empty, Cell::Time),
        Cell::Bool(r.overdue),
        Cell::Time(r.created_at),
    ]
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// What writes one format: the header, the rows page by page, the end; each returns the
/// bytes ready to go out.
trait Writer: Send {
    fn start(&mut self, headers: &[&str]) -> Vec<u8>;
    fn rows(&mut self, rows: &[Vec<Cell>]) -> std::io::Result<Vec<u8>>;
    fn finish(&mut self) -> std::io::Result<Vec<u8>>;
}

/// A paged read of rows: each call gives the next page, `None` at the end.
pub trait Pages: Send + 'static {
    fn next(
        &mut self,
    ) -> impl std::future::Future<Output = Result<Option<Vec<Vec<Cell>>>, db::DbError>> + Send;
}

/// The queue, page by page in its own keyset order (newest first).
struct QueuePages {
    pool: PgPool,
    filter: QueueFilter,
    lang: Lang,
    done: bool,
}

impl Pages for QueuePages {
    async fn next(&mut self) -> Result<Option<Vec<Vec<Cell>>>, db::DbError> {
        if self.done {
            return Ok(None);
        }
        let page = db::queue::queue(&self.pool, &self.filter).await?;
        self.done = (page.len() as i64) < PAGE;
        self.filter.after = page.last().map(|r| (self.filter.sort.key_of(r), r.id));
        Ok(Some(
            page.into_iter().map(|r| cells(r, self.lang)).collect(),
        ))
    }
}

/// The export of a filtered queue as a stream of bytes.
pub fn export(
    pool: PgPool,
    mut filter: QueueFilter,
    format: Format,
    lang: Lang,
) -> mpsc::Receiver<std::io::Result<Bytes>> {
    filter.limit = PAGE;
    filter.after = None;
    let pages = QueuePages {
        pool,
        filter,
        lang,
        done: false,
    };
    sheet(format, headers(lang), pages)
}

/// Any paged read as a spreadsheet, a stream of bytes written as pages come; it ends early with
/// an error if the database fails halfway, which the client sees as a cut download rather
/// than a short file that looks whole.
pub fn sheet(
    format: Format,
    headers: &'static [&'static str],
    mut pages: impl Pages,
) -> mpsc::Receiver<std::io::Result<Bytes>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let mut writer: Box<dyn Writer> = match format {
            Format::Csv => Box::new(csv::Csv),
            Format::Ods => Box::new(ods::Ods::new()),
        };
        let first = writer.start(headers);
        if tx.send(Ok(Bytes::from(first))).await.is_err() {
            return;
        }
        loop {
            let rows = match pages.next().await {
                Ok(Some(rows)) => rows,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "export: reading a page failed");
                    let _ = tx.send(Err(std::io::Error::other("database"))).await;
                    return;
                }
            };
            let bytes = writer.rows(&rows);
            // The client left: stop reading.
            if tx.send(bytes.map(Bytes::from)).await.is_err() {
                return;
            }
        }
        let _ = tx.send(writer.finish().map(Bytes::from)).await;
    });
    rx
}
