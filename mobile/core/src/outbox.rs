//! The durable outbox: every report, "me too" and démarche filing is written here, photos and
//! files included, before anything goes on the network, so that killing the app or losing the
//! network loses nothing. [`crate::sync`] empties it.
//!
//! One SQLite file in WAL mode with `synchronous = FULL`: a committed enqueue survives a
//! crash or a power cut. Entries are never deleted behind the user's back: a sent entry keeps
//! its receipt (its photos are dropped, the server has them), a refused one keeps its error
//! code, and only [`Outbox::discard`] removes one.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use guichet_shared::api::{Contact, ReportReceipt, ReportSubmission};
use guichet_shared::validation::{FieldError, validate_report};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::photo;

/// Photos per report accepted by the server (`GUICHET_PHOTO_MAX_COUNT` by default).
pub const MAX_PHOTOS: usize = 5;
/// Files per démarche filing accepted by the server.
pub const MAX_FILES: usize = 10;

/// Bumped with each change of [`SCHEMA`]; kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i32 = 2;

/// The entries table of schema 2 (1 had no démarche filings, token or field errors).
const ENTRIES: &str = "
CREATE TABLE entries (
    client_id       TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('report', 'support', 'request')),
    -- What goes on the wire: the report JSON, the support JSON, or the filing JSON.
    payload         TEXT NOT NULL,
    -- For a support: the request number it joins; for a filing: the démarche's title.
    target          TEXT,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- Set while a sync round is sending the entry, so that a second round skips it.
    claimed_until   INTEGER,
    last_error      TEXT,
    error_code      TEXT,
    receipt         TEXT,
    finished_at     INTEGER,
    -- A filing of an account's démarche: the session's token, sent with it.
    auth_token      TEXT,
    -- A refused filing: the fields the server named (JSON).
    field_errors    TEXT
);
";

const SCHEMA: &str = "
CREATE INDEX entries_due ON entries (state, next_attempt_at);
CREATE TABLE photos (
    client_id TEXT NOT NULL REFERENCES entries (client_id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    bytes     BLOB NOT NULL,
    PRIMARY KEY (client_id, position)
);
";

/// A filing's files, each under its form field (new in schema 2).
const FILES: &str = "
CREATE TABLE files (
    client_id TEXT NOT NULL REFERENCES entries (client_id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    field     TEXT NOT NULL,
    name      TEXT NOT NULL,
    bytes     BLOB NOT NULL,
    PRIMARY KEY (client_id, position)
);
";

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("the report is invalid: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("photo {index}: {source}")]
    Photo {
        index: usize,
        source: photo::PhotoError,
    },
    #[error("{count} photos; at most {MAX_PHOTOS} can be sent with one report")]
    TooManyPhotos { count: usize },
    #[error("{count} files; at most {MAX_FILES} can be sent with one filing")]
    TooManyFiles { count: usize },
    #[error("the outbox file was written by a newer version of the app (schema {0})")]
    NewerSchema(i32),
    #[error("stored entry {0} is unreadable: {1}")]
    Corrupt(Uuid, String),
    #[error("no entry {0} in the outbox")]
    NotFound(Uuid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// `POST /api/v1/reports`.
    Report,
    /// `POST /api/v1/requests/{number}/support` ("me too").
    Support,
    /// `POST /api/v1/requests`: a démarche's form, with its files.
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Waiting to be sent, or to be retried.
    Pending,
    /// The server has it; `receipt` holds its answer.
    Sent,
    /// The server refused it for good; `error_code` says why. Not retried.
    Failed,
}

/// One entry of the outbox as the app shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub client_id: Uuid,
    pub kind: EntryKind,
    pub state: EntryState,
    /// The report as queued (for a report).
    pub report: Option<ReportSubmission>,
    /// The request number joined (for a "me too").
    pub support_of: Option<String>,
    /// The filing as queued (for a démarche): `{client_id, demarche, channel, data, …}`.
    pub request: Option<serde_json::Value>,
    /// The démarche's title, as the citizen saw it (for a démarche).
    pub title: Option<String>,
    /// Photos of a report, or files of a filing.
    pub photo_count: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Sending attempts so far.
    pub attempts: u32,
    /// When the next attempt is due; `None` once sent or failed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The last error, in words (network error, server status, problem detail).
    pub last_error: Option<String>,
    /// The problem `code` of a refusal (e.g. `unknown-category`).
    pub error_code: Option<String>,
    /// The fields a refused filing got wrong, as the server named them.
    pub field_errors: Vec<ServerFieldError>,
    /// A report's or a "me too"'s receipt.
    pub receipt: Option<ReportReceipt>,
    /// A filing's acknowledgement (`POST /requests`' answer), as the server wrote it.
    pub request_receipt: Option<serde_json::Value>,
    /// When it was sent or refused.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

/// The body of a "me too" (`{"client_id", "contact"?}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SupportPayload {
    pub client_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// A field the server found wrong in a refused filing (problem+json `errors[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFieldError {
    pub field: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// A file of a démarche filing: its form field, its name, its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QueuedFile {
    pub field: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What a sync round needs to send one entry.
#[derive(Debug)]
pub(crate) struct Job {
    pub client_id: Uuid,
    pub kind: EntryKind,
    pub payload: String,
    pub target: Option<String>,
    pub photos: Vec<Vec<u8>>,
    pub files: Vec<QueuedFile>,
    pub auth_token: Option<String>,
    /// Attempts including the one being made.
    pub attempts: u32,
}

/// The outbox file. Cheap calls, safe to share between threads (`Send + Sync`); no lock is
/// held across network I/O.
pub struct Outbox {
    conn: Mutex<Connection>,
}

impl Outbox {
    /// Opens (or creates) the outbox at `path`.
    ///
    /// One process owns the file at a time: claims left by a process that died mid-send are
    /// released here, so its entries are retried at once (the server's idempotency by client id
    /// makes a repeat harmless).
    pub fn open(path: impl AsRef<Path>) -> Result<Outbox, OutboxError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL: readers (the UI listing) never block the writer; FULL: a commit is on disk
        // before enqueue returns, which is the whole promise of the outbox.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&conn)?;
        conn.execute("UPDATE entries SET claimed_until = NULL", [])?;
        Ok(Outbox {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave a half-done write: SQLite rolls back any transaction
        // that was not committed, so the connection is still good.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a report and its prepared photos (see [`crate::photo::prepare`]) for sending,
    /// in one transaction. Returns its client id (a new one if the report had the nil id).
    /// Enqueuing the same client id again changes nothing and returns it: a double tap does
    /// not make two reports.
    pub fn enqueue(
        &self,
        mut report: ReportSubmission,
        photos: Vec<Vec<u8>>,
    ) -> Result<Uuid, OutboxError> {
        let now = OffsetDateTime::now_utc();
        // Refuse now what the server would refuse for sure, while the citizen is still there
        // to fix it.
        let errors = validate_report(&report, now);
        if !errors.is_empty() {
            return Err(OutboxError::Invalid(errors));
        }
        if photos.len() > MAX_PHOTOS {
            return Err(OutboxError::TooManyPhotos {
                count: photos.len(),
            });
        }
        for (index, bytes) in photos.iter().enumerate() {
            photo::sniff(bytes).map_err(|source| OutboxError::Photo { index, source })?;
        }
        if report.client_id.is_nil() {
            report.client_id = Uuid::new_v4();
        }
        let payload = serde_json::to_string(&report)
            .map_err(|e| OutboxError::Corrupt(report.client_id, e.to_string()))?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO entries (client_id, kind, payload, created_at, state, next_attempt_at)
             VALUES (?1, 'report', ?2, ?3, 'pending', ?3)
             ON CONFLICT (client_id) DO NOTHING",
            params![report.client_id.to_string(), payload, millis(now)],
        )?;
        if inserted == 1 {
            for (position, bytes) in photos.iter().enumerate() {
                tx.execute(
                    "INSERT INTO photos (client_id, position, bytes) VALUES (?1, ?2, ?3)",
                    params![report.client_id.to_string(), position as i64, bytes],
                )?;
            }
        }
        tx.commit()?;
        Ok(report.client_id)
    }

    /// Queues a "me too" on request `number`, idempotent by `client_id` like [`Self::enqueue`].
    pub fn enqueue_support(
        &self,
        number: &str,
        client_id: Uuid,
        contact: Option<Contact>,
    ) -> Result<Uuid, OutboxError> {
        let number = number.trim();
        // Request numbers look like `2026-SIG-000123`; anything else could rewrite the URL
        // path it is sent to.
        if number.is_empty()
            || !number
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(OutboxError::Invalid(vec![FieldError::new(
                "number",
                "invalid-type",
                "a request number is letters, digits and dashes",
            )]));
        }
        let client_id = if client_id.is_nil() {
            Uuid::new_v4()
        } else {
            client_id
        };
        let payload = serde_json::to_string(&SupportPayload { client_id, contact })
            .map_err(|e| OutboxError::Corrupt(client_id, e.to_string()))?;
        let now = millis(OffsetDateTime::now_utc());
        self.conn().execute(
            "INSERT INTO entries (client_id, kind, payload, target, created_at, state, next_attempt_at)
             VALUES (?1, 'support', ?2, ?3, ?4, 'pending', ?4)
             ON CONFLICT (client_id) DO NOTHING",
            params![client_id.to_string(), payload, number, now],
        )?;
        Ok(client_id)
    }

    /// Queues a démarche filing (`request`: the JSON of `POST /api/v1/requests`, whose
    /// `client_id` keys it) with its files, under the démarche's `title` for the lists.
    /// `auth_token` goes with it when the démarche needs an account. Idempotent by client id
    /// like [`Self::enqueue`]. The form was checked by the app; the server checks it again.
    pub fn enqueue_request(
        &self,
        request: serde_json::Value,
        files: Vec<QueuedFile>,
        title: &str,
        auth_token: Option<String>,
    ) -> Result<Uuid, OutboxError> {
        let invalid = |field: &str, message: &str| {
            OutboxError::Invalid(vec![FieldError::new(field, "invalid-type", message)])
        };
        let client_id = request
            .get("client_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .filter(|id| !id.is_nil())
            .ok_or_else(|| invalid("client_id", "a filing needs its client id (a UUID)"))?;
        let demarche = request.get("demarche").and_then(|v| v.as_str());
        if demarche.is_none_or(|d| d.trim().is_empty()) {
            return Err(invalid("demarche", "a filing names its démarche"));
        }
        if files.len() > MAX_FILES {
            return Err(OutboxError::TooManyFiles { count: files.len() });
        }
        if let Some(i) = files.iter().position(|f| f.field.trim().is_empty()) {
            return Err(invalid(
                &format!("files[{i}].field"),
                "each file names its form field",
            ));
        }
        let payload = serde_json::to_string(&request)
            .map_err(|e| OutboxError::Corrupt(client_id, e.to_string()))?;
        let now = millis(OffsetDateTime::now_utc());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO entries (client_id, kind, payload, target, created_at, state, next_attempt_at, auth_token)
             VALUES (?1, 'request', ?2, ?3, ?4, 'pending', ?4, ?5)
             ON CONFLICT (client_id) DO NOTHING",
            params![client_id.to_string(), payload, title, now, auth_token],
        )?;
        if inserted == 1 {
            for (position, f) in files.iter().enumerate() {
                tx.execute(
                    "INSERT INTO files (client_id, position, field, name, bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![client_id.to_string(), position as i64, f.field, f.name, f.bytes],
                )?;
            }
        }
        tx.commit()?;
        Ok(client_id)
    }

    /// What is waiting to be sent, oldest first.
    pub fn pending(&self) -> Result<Vec<Entry>, OutboxError> {
        self.list(Some(EntryState::Pending))
    }

    /// What the server refused, oldest first.
    pub fn failed(&self) -> Result<Vec<Entry>, OutboxError> {
        self.list(Some(EntryState::Failed))
    }

    /// Every entry (pending, sent, failed), oldest first: the app's "my reports".
    pub fn entries(&self) -> Result<Vec<Entry>, OutboxError> {
        self.list(None)
    }

    pub fn get(&self, client_id: Uuid) -> Result<Option<Entry>, OutboxError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{ENTRY_SELECT} WHERE e.client_id = ?1"))?;
        let row = stmt
            .query_row([client_id.to_string()], RawEntry::from_row)
            .optional()?;
        row.map(RawEntry::into_entry).transpose()
    }

    fn list(&self, state: Option<EntryState>) -> Result<Vec<Entry>, OutboxError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{ENTRY_SELECT} WHERE ?1 IS NULL OR e.state = ?1 ORDER BY e.created_at, e.rowid"
        ))?;
        let rows = stmt
            .query_map([state.map(state_str)], RawEntry::from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        drop(conn);
        rows.into_iter().map(RawEntry::into_entry).collect()
    }

    /// The earliest time an entry is due, if any is pending: when the app should sync next.
    pub fn next_due(&self) -> Result<Option<OffsetDateTime>, OutboxError> {
        let at: Option<i64> = self.conn().query_row(
            "SELECT min(next_attempt_at) FROM entries WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(at.map(from_millis))
    }

    /// Makes every pending entry due now. Call it when the network comes back or the app
    /// starts: waiting out a back-off then would only delay the report.
    pub fn retry_now(&self) -> Result<usize, OutboxError> {
        let now = millis(OffsetDateTime::now_utc());
        Ok(self.conn().execute(
            "UPDATE entries SET next_attempt_at = ?1 WHERE state = 'pending' AND next_attempt_at > ?1",
            [now],
        )?)
    }

    /// Puts a refused entry back in the queue, on the citizen's request (for instance after
    /// the city fixed a category). Returns false if it was not in the failed state.
    pub fn retry_failed(&self, client_id: Uuid) -> Result<bool, OutboxError> {
        let now = millis(OffsetDateTime::now_utc());
        let changed = self.conn().execute(
            "UPDATE entries SET state = 'pending', next_attempt_at = ?2, finished_at = NULL
             WHERE client_id = ?1 AND state = 'failed'",
            params![client_id.to_string(), now],
        )?;
        Ok(changed == 1)
    }

    /// Removes an entry and its photos, on the citizen's explicit request only.
    pub fn discard(&self, client_id: Uuid) -> Result<(), OutboxError> {
        let removed = self.conn().execute(
            "DELETE FROM entries WHERE client_id = ?1",
            [client_id.to_string()],
        )?;
        if removed == 0 {
            return Err(OutboxError::NotFound(client_id));
        }
        Ok(())
    }

    /// Takes the oldest due entry for sending: counts the attempt and claims it until
    /// `claim_until`, both committed before any byte is sent, so that a crash mid-send still
    /// leaves a pending entry and a parallel round does not send it twice.
    pub(crate) fn claim_next(
        &self,
        now: OffsetDateTime,
        claim_until: OffsetDateTime,
    ) -> Result<Option<Job>, OutboxError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now_ms = millis(now);
        let row = tx
            .query_row(
                "SELECT client_id, kind, payload, target, attempts, auth_token FROM entries
                 WHERE state = 'pending' AND next_attempt_at <= ?1
                   AND (claimed_until IS NULL OR claimed_until <= ?1)
                 ORDER BY created_at, rowid LIMIT 1",
                [now_ms],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, u32>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, kind, payload, target, attempts, auth_token)) = row else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE entries SET attempts = attempts + 1, claimed_until = ?2 WHERE client_id = ?1",
            params![id, millis(claim_until)],
        )?;
        let photos = {
            let mut stmt =
                tx.prepare("SELECT bytes FROM photos WHERE client_id = ?1 ORDER BY position")?;
            stmt.query_map([&id], |r| r.get::<_, Vec<u8>>(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        let files = {
            let mut stmt = tx.prepare(
                "SELECT field, name, bytes FROM files WHERE client_id = ?1 ORDER BY position",
            )?;
            stmt.query_map([&id], |r| {
                Ok(QueuedFile {
                    field: r.get(0)?,
                    name: r.get(1)?,
                    bytes: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?
        };
        tx.commit()?;
        let client_id = parse_uuid(&id)?;
        Ok(Some(Job {
            client_id,
            kind: parse_kind(client_id, &kind)?,
            payload,
            target,
            photos,
            files,
            auth_token,
            attempts: attempts + 1,
        }))
    }

    /// Records the server's receipt (its JSON). The photos and files are dropped, with the
    /// token: the server has them, and a phone's storage is better spent elsewhere.
    pub(crate) fn mark_sent(&self, client_id: Uuid, receipt: &str) -> Result<(), OutboxError> {
        let now = millis(OffsetDateTime::now_utc());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE entries SET state = 'sent', receipt = ?2, finished_at = ?3, claimed_until = NULL,
                 last_error = NULL, error_code = NULL, field_errors = NULL, auth_token = NULL
             WHERE client_id = ?1",
            params![client_id.to_string(), receipt, now],
        )?;
        tx.execute(
            "DELETE FROM photos WHERE client_id = ?1",
            [client_id.to_string()],
        )?;
        tx.execute(
            "DELETE FROM files WHERE client_id = ?1",
            [client_id.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn mark_failed(
        &self,
        client_id: Uuid,
        code: &str,
        detail: &str,
        field_errors: &[ServerFieldError],
    ) -> Result<(), OutboxError> {
        let now = millis(OffsetDateTime::now_utc());
        let errors = (!field_errors.is_empty())
            .then(|| serde_json::to_string(field_errors))
            .transpose()
            .map_err(|e| OutboxError::Corrupt(client_id, e.to_string()))?;
        self.conn().execute(
            "UPDATE entries SET state = 'failed', error_code = ?2, last_error = ?3, finished_at = ?4,
                 claimed_until = NULL, field_errors = ?5
             WHERE client_id = ?1",
            params![client_id.to_string(), code, detail, now, errors],
        )?;
        Ok(())
    }

    pub(crate) fn schedule_retry(
        &self,
        client_id: Uuid,
        error: &str,
        at: OffsetDateTime,
    ) -> Result<(), OutboxError> {
        self.conn().execute(
            "UPDATE entries SET next_attempt_at = ?2, last_error = ?3, claimed_until = NULL
             WHERE client_id = ?1 AND state = 'pending'",
            params![client_id.to_string(), millis(at), error],
        )?;
        Ok(())
    }
}

fn migrate(conn: &Connection) -> Result<(), OutboxError> {
    let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        // Refusing beats guessing: an older app must not rewrite a newer file.
        return Err(OutboxError::NewerSchema(version));
    }
    if version < 1 {
        conn.execute_batch(&format!(
            "BEGIN; {ENTRIES} {SCHEMA} {FILES} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))?;
        return Ok(());
    }
    if version < 2 {
        // SQLite cannot widen a CHECK: the entries move to a table of the new shape, which then
        // takes the old one's name (SQLite's own recipe: renaming the old table instead would
        // point the photos' foreign key at it). Foreign keys are off meanwhile, so that
        // dropping the old table deletes no photo.
        conn.pragma_update(None, "foreign_keys", false)?;
        let new_table = ENTRIES.replace("CREATE TABLE entries (", "CREATE TABLE entries_v2 (");
        let moved = conn.execute_batch(&format!(
            "BEGIN;
             {new_table}
             INSERT INTO entries_v2 (client_id, kind, payload, target, created_at, state, attempts,
                     next_attempt_at, claimed_until, last_error, error_code, receipt, finished_at)
                 SELECT client_id, kind, payload, target, created_at, state, attempts,
                        next_attempt_at, claimed_until, last_error, error_code, receipt, finished_at
                   FROM entries;
             DROP TABLE entries;
             ALTER TABLE entries_v2 RENAME TO entries;
             CREATE INDEX entries_due ON entries (state, next_attempt_at);
             {FILES}
             PRAGMA user_version = 2;
             COMMIT;"
        ));
        conn.pragma_update(None, "foreign_keys", true)?;
        moved?;
    }
    Ok(())
}

const ENTRY_SELECT: &str = "SELECT e.client_id, e.kind, e.state, e.payload, e.target,
        (SELECT count(*) FROM photos p WHERE p.client_id = e.client_id)
          + (SELECT count(*) FROM files f WHERE f.client_id = e.client_id),
        e.created_at, e.attempts, e.next_attempt_at, e.last_error, e.error_code, e.receipt,
        e.finished_at, e.field_errors
    FROM entries e";

/// A row of [`ENTRY_SELECT`], parsed outside the SQLite callback so that errors keep their
/// context.
struct RawEntry {
    client_id: String,
    kind: String,
    state: String,
    payload: String,
    target: Option<String>,
    photo_count: i64,
    created_at: i64,
    attempts: u32,
    next_attempt_at: i64,
    last_error: Option<String>,
    error_code: Option<String>,
    receipt: Option<String>,
    finished_at: Option<i64>,
    field_errors: Option<String>,
}

impl RawEntry {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
        Ok(RawEntry {
            client_id: r.get(0)?,
            kind: r.get(1)?,
            state: r.get(2)?,
            payload: r.get(3)?,
            target: r.get(4)?,
            photo_count: r.get(5)?,
            created_at: r.get(6)?,
            attempts: r.get(7)?,
            next_attempt_at: r.get(8)?,
            last_error: r.get(9)?,
            error_code: r.get(10)?,
            receipt: r.get(11)?,
            finished_at: r.get(12)?,
            field_errors: r.get(13)?,
        })
    }

    fn into_entry(self) -> Result<Entry, OutboxError> {
        let client_id = parse_uuid(&self.client_id)?;
        let bad = |e: serde_json::Error| OutboxError::Corrupt(client_id, e.to_string());
        let kind = parse_kind(client_id, &self.kind)?;
        let state = match self.state.as_str() {
            "pending" => EntryState::Pending,
            "sent" => EntryState::Sent,
            "failed" => EntryState::Failed,
            other => {
                return Err(OutboxError::Corrupt(
                    client_id,
                    format!("unknown state {other}"),
                ));
            }
        };
        let report = match kind {
            EntryKind::Report => Some(serde_json::from_str(&self.payload).map_err(bad)?),
            EntryKind::Support | EntryKind::Request => None,
        };
        let is_request = kind == EntryKind::Request;
        let request = is_request
            .then(|| serde_json::from_str(&self.payload))
            .transpose()
            .map_err(bad)?;
        let (receipt, request_receipt) = match self.receipt.as_deref() {
            None => (None, None),
            Some(r) if is_request => (None, Some(serde_json::from_str(r).map_err(bad)?)),
            Some(r) => (Some(serde_json::from_str(r).map_err(bad)?), None),
        };
        let field_errors = self
            .field_errors
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(bad)?
            .unwrap_or_default();
        let (support_of, title) = if is_request {
            (None, self.target)
        } else {
            (self.target, None)
        };
        Ok(Entry {
            client_id,
            kind,
            state,
            report,
            support_of,
            request,
            title,
            photo_count: usize::try_from(self.photo_count).unwrap_or(0),
            created_at: from_millis(self.created_at),
            attempts: self.attempts,
            next_attempt_at: (state == EntryState::Pending)
                .then(|| from_millis(self.next_attempt_at)),
            last_error: self.last_error,
            error_code: self.error_code,
            field_errors,
            receipt,
            request_receipt,
            finished_at: self.finished_at.map(from_millis),
        })
    }
}

fn state_str(state: EntryState) -> &'static str {
    match state {
        EntryState::Pending => "pending",
        EntryState::Sent => "sent",
        EntryState::Failed => "failed",
    }
}

fn parse_uuid(s: &str) -> Result<Uuid, OutboxError> {
    Uuid::parse_str(s).map_err(|e| OutboxError::Corrupt(Uuid::nil(), format!("client id {s}: {e}")))
}

fn parse_kind(client_id: Uuid, s: &str) -> Result<EntryKind, OutboxError> {
    match s {
        "report" => Ok(EntryKind::Report),
        "support" => Ok(EntryKind::Support),
        "request" => Ok(EntryKind::Request),
        other => Err(OutboxError::Corrupt(
            client_id,
            format!("unknown kind {other}"),
        )),
    }
}

/// Times are stored as Unix milliseconds: sortable, and no time-zone text to parse.
fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An outbox file removed with its WAL files when the test ends.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new() -> TempFile {
            TempFile(std::env::temp_dir().join(format!("guichet-outbox-{}.sqlite", Uuid::new_v4())))
        }

        fn open(&self) -> Outbox {
            Outbox::open(&self.0).unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = self.0.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    fn report() -> ReportSubmission {
        ReportSubmission {
            client_id: Uuid::new_v4(),
            category: "voirie".into(),
            lat: 48.11,
            lon: -1.68,
            accuracy_m: Some(5.0),
            description: "Nid-de-poule".into(),
            address: None,
            observed_at: None,
            contact: None,
        }
    }

    #[test]
    fn invalid_reports_and_non_images_are_refused_before_storing() {
        let file = TempFile::new();
        let outbox = file.open();
        let mut bad = report();
        bad.lat = 123.0;
        assert!(matches!(
            outbox.enqueue(bad, vec![]),
            Err(OutboxError::Invalid(e)) if e[0].field == "lat"
        ));
        assert!(matches!(
            outbox.enqueue(report(), vec![b"hello".to_vec()]),
            Err(OutboxError::Photo { index: 0, .. })
        ));
        assert!(matches!(
            outbox.enqueue(report(), vec![vec![0xFF, 0xD8, 0xFF]; 6]),
            Err(OutboxError::TooManyPhotos { count: 6 })
        ));
        assert!(outbox.entries().unwrap().is_empty());
    }

    #[test]
    fn enqueuing_the_same_client_id_twice_stores_it_once() {
        let file = TempFile::new();
        let outbox = file.open();
        let r = report();
        let a = outbox.enqueue(r.clone(), vec![]).unwrap();
        let b = outbox.enqueue(r, vec![]).unwrap();
        assert_eq!(a, b);
        assert_eq!(outbox.pending().unwrap().len(), 1);
    }

    #[test]
    fn a_claimed_entry_is_not_claimed_again_until_released() {
        let file = TempFile::new();
        let outbox = file.open();
        let id = outbox
            .enqueue(report(), vec![vec![0xFF, 0xD8, 0xFF, 1]])
            .unwrap();
        let now = OffsetDateTime::now_utc();
        let later = now + time::Duration::minutes(3);
        let job = outbox.claim_next(now, later).unwrap().unwrap();
        assert_eq!((job.client_id, job.attempts), (id, 1));
        assert_eq!(job.photos, vec![vec![0xFF, 0xD8, 0xFF, 1]]);
        assert!(outbox.claim_next(now, later).unwrap().is_none());
        outbox.schedule_retry(id, "offline", now).unwrap();
        let again = outbox.claim_next(now, later).unwrap().unwrap();
        assert_eq!(again.attempts, 2);
        assert_eq!(
            outbox.pending().unwrap()[0].last_error.as_deref(),
            Some("offline")
        );
    }

    #[test]
    fn an_entry_claimed_by_a_process_that_died_is_due_again_after_reopening() {
        let file = TempFile::new();
        let outbox = file.open();
        let id = outbox.enqueue(report(), vec![]).unwrap();
        let now = OffsetDateTime::now_utc();
        outbox
            .claim_next(now, now + time::Duration::minutes(3))
            .unwrap()
            .unwrap();
        drop(outbox); // killed mid-send
        let outbox = file.open();
        let pending = outbox.pending().unwrap();
        assert_eq!((pending[0].client_id, pending[0].attempts), (id, 1));
        let job = outbox
            .claim_next(OffsetDateTime::now_utc(), now + time::Duration::minutes(3))
            .unwrap()
            .unwrap();
        assert_eq!((job.client_id, job.attempts), (id, 2));
    }

    #[test]
    fn a_file_from_a_newer_app_is_refused_rather_than_rewritten() {
        let file = TempFile::new();
        drop(file.open());
        let conn = Connection::open(&file.0).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            Outbox::open(&file.0),
            Err(OutboxError::NewerSchema(v)) if v == SCHEMA_VERSION + 1
        ));
    }

    #[test]
    fn failed_entries_stay_visible_until_discarded_or_retried() {
        let file = TempFile::new();
        let outbox = file.open();
        let id = outbox.enqueue(report(), vec![]).unwrap();
        outbox
            .mark_failed(id, "unknown-category", "no such category", &[])
            .unwrap();
        assert!(outbox.pending().unwrap().is_empty());
        let failed = outbox.failed().unwrap();
        assert_eq!(failed[0].error_code.as_deref(), Some("unknown-category"));
        assert!(failed[0].next_attempt_at.is_none());
        assert!(outbox.retry_failed(id).unwrap());
        assert_eq!(outbox.pending().unwrap().len(), 1);
        outbox.discard(id).unwrap();
        assert!(outbox.entries().unwrap().is_empty());
        assert!(matches!(outbox.discard(id), Err(OutboxError::NotFound(_))));
    }

    #[test]
    fn a_support_is_queued_with_its_request_number() {
        let file = TempFile::new();
        let outbox = file.open();
        let id = outbox
            .enqueue_support("2026-SIG-000001", Uuid::nil(), None)
            .unwrap();
        assert!(!id.is_nil());
        let entry = outbox.get(id).unwrap().unwrap();
        assert_eq!(entry.kind, EntryKind::Support);
        assert_eq!(entry.support_of.as_deref(), Some("2026-SIG-000001"));
        assert!(matches!(
            outbox.enqueue_support("../admin", Uuid::new_v4(), None),
            Err(OutboxError::Invalid(_))
        ));
    }

    fn filing(client_id: Uuid) -> serde_json::Value {
        serde_json::json!({
            "client_id": client_id, "demarche": "candidature-spontanee", "channel": "app",
            "data": {"contract_type": "permanent"},
        })
    }

    #[test]
    fn a_filing_is_queued_with_its_files_its_title_and_its_token() {
        let file = TempFile::new();
        let outbox = file.open();
        let id = Uuid::new_v4();
        let files = vec![
            QueuedFile {
                field: "cv".into(),
                name: "cv.pdf".into(),
                bytes: b"%PDF-1.4".to_vec(),
            },
            QueuedFile {
                field: "cover_letter".into(),
                name: "lettre.pdf".into(),
                bytes: b"%PDF-1.4 l".to_vec(),
            },
        ];
        let queued = outbox
            .enqueue_request(
                filing(id),
                files.clone(),
                "Candidature spontanée",
                Some("t0k3n".into()),
            )
            .unwrap();
        assert_eq!(queued, id);
        // Again (a double tap): nothing more.
        outbox
            .enqueue_request(filing(id), files.clone(), "Candidature spontanée", None)
            .unwrap();
        let entry = outbox.get(id).unwrap().unwrap();
        assert_eq!(entry.kind, EntryKind::Request);
        assert_eq!(entry.title.as_deref(), Some("Candidature spontanée"));
        assert_eq!(
            entry.request.as_ref().unwrap()["demarche"],
            "candidature-spontanee"
        );
        assert_eq!(entry.photo_count, 2);
        let now = OffsetDateTime::now_utc();
        let job = outbox
            .claim_next(now, now + time::Duration::minutes(3))
            .unwrap()
            .unwrap();
        assert_eq!(job.files, files);
        assert_eq!(job.auth_token.as_deref(), Some("t0k3n"));

        // Refused with the fields named; kept for the citizen to see.
        let errors = [ServerFieldError {
            field: "files.cv".into(),
            code: "file-type-not-allowed".into(),
            message: "PDF".into(),
        }];
        outbox
            .mark_failed(id, "validation-failed", "invalid", &errors)
            .unwrap();
        assert_eq!(outbox.get(id).unwrap().unwrap().field_errors, errors);
        // Sent: the acknowledgement kept, files and token gone.
        outbox.retry_failed(id).unwrap();
        outbox
            .mark_sent(id, r#"{"request_number":"2026-REL-000001"}"#)
            .unwrap();
        let sent = outbox.get(id).unwrap().unwrap();
        assert_eq!(
            sent.request_receipt.unwrap()["request_number"],
            "2026-REL-000001"
        );
        assert!(sent.receipt.is_none() && sent.field_errors.is_empty());
        assert_eq!(sent.photo_count, 0);

        assert!(matches!(
            outbox.enqueue_request(serde_json::json!({"demarche": "x"}), vec![], "X", None),
            Err(OutboxError::Invalid(e)) if e[0].field == "client_id"
        ));
        let eleven = vec![files[0].clone(); MAX_FILES + 1];
        assert!(matches!(
            outbox.enqueue_request(filing(Uuid::new_v4()), eleven, "X", None),
            Err(OutboxError::TooManyFiles { count: 11 })
        ));
    }

    #[test]
    fn a_file_of_the_first_schema_keeps_its_entries_and_photos() {
        let file = TempFile::new();
        let conn = Connection::open(&file.0).unwrap();
        conn.execute_batch(
            "CREATE TABLE entries (
                client_id TEXT PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('report', 'support')),
                payload TEXT NOT NULL, target TEXT, created_at INTEGER NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
                claimed_until INTEGER, last_error TEXT, error_code TEXT, receipt TEXT,
                finished_at INTEGER);
             CREATE INDEX entries_due ON entries (state, next_attempt_at);
             CREATE TABLE photos (
                client_id TEXT NOT NULL REFERENCES entries (client_id) ON DELETE CASCADE,
                position INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (client_id, position));
             PRAGMA user_version = 1;",
        )
        .unwrap();
        let r = report();
        conn.execute(
            "INSERT INTO entries (client_id, kind, payload, created_at, state, next_attempt_at)
             VALUES (?1, 'report', ?2, 0, 'pending', 0)",
            params![r.client_id.to_string(), serde_json::to_string(&r).unwrap()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO photos (client_id, position, bytes) VALUES (?1, 0, x'FFD8FF01')",
            [r.client_id.to_string()],
        )
        .unwrap();
        drop(conn);

        let outbox = file.open();
        let pending = outbox.pending().unwrap();
        assert_eq!(
            (pending[0].client_id, pending[0].photo_count),
            (r.client_id, 1)
        );
        let now = OffsetDateTime::now_utc();
        let job = outbox
            .claim_next(now, now + time::Duration::minutes(3))
            .unwrap()
            .unwrap();
        assert_eq!(job.photos, vec![vec![0xFF, 0xD8, 0xFF, 0x01]]);
        outbox
            .enqueue_request(filing(Uuid::new_v4()), vec![], "X", None)
            .unwrap();
        // Deleting an entry still takes its photos (the foreign key survived the move).
        outbox.discard(r.client_id).unwrap();
        let left: i64 = outbox
            .conn()
            .query_row("SELECT count(*) FROM photos", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        drop(outbox);
        let version: i32 = Connection::open(&file.0)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
