//! The document wallet ("porte-documents"): an account keeps its documents (identity, proof of
//! address…) and attaches them to any démarche's file field without sending them again.
//!
//! Documents are private to their account: listed, read and deleted only through it, never
//! served by `/media` (which serves photos only), and never put in a public photo field. Their
//! bytes are content-addressed in the file store like attachments (`crate::files`), so a
//! request that attached one keeps it after the wallet lets it go. The account's documents
//! together stay within a quota (`GUICHET_WALLET_QUOTA_BYTES`).

use bytes::Bytes;
use guichet_shared::forms::{self, FileMeta, FormDefinition};
use guichet_shared::validation::FieldError;
use serde::Deserialize;

use crate::db::wallet::{DocumentRow, NewDocument};
use crate::db::{self, DbError};
use crate::files::{self, FileError};
use crate::pipeline::PipelineError;
use crate::pipeline::open::AttachedFile;
use crate::state::AppState;

/// What a document is, for the citizen to find it again and for forms to suggest it.
pub const KINDS: &[&str] = &["identity", "proof-of-address", "income", "family", "other"];

/// The types a wallet keeps: those the catalogue's file fields accept, by their bytes.
pub const ACCEPTED: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
];

pub const MAX_LABEL_CHARS: usize = 120;
/// Wallet documents in one filing, as many as uploaded files may be.
pub const MAX_DOCUMENTS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the wallet holds {used} of {quota} bytes; this document needs {needed}")]
    QuotaExceeded { used: i64, quota: i64, needed: i64 },
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A document to keep: what the citizen calls it, and the file.
pub struct Upload<'a> {
    pub label: &'a str,
    pub kind: &'a str,
    pub filename: &'a str,
    pub bytes: Bytes,
}

/// Keeps a document in the account's wallet.
pub async fn add(
    state: &AppState,
    citizen_id: i64,
    upload: Upload<'_>,
) -> Result<DocumentRow, WalletError> {
    let label = upload.label.trim();
    let mut errors = Vec::new();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        errors.push(FieldError::new(
            "document.label",
            "label-length",
            format!("a label of 1 to {MAX_LABEL_CHARS} characters"),
        ));
    }
    if !KINDS.contains(&upload.kind) {
        errors.push(FieldError::new(
            "document.kind",
            "not-an-option",
            format!("`kind` is one of {}", KINDS.join(", ")),
        ));
    }
    let mime = forms::sniff_mime(&upload.bytes).filter(|m| ACCEPTED.contains(m));
    if upload.bytes.is_empty() {
        errors.push(FieldError::new("file", "required", "the document's file"));
    } else if mime.is_none() {
        errors.push(FieldError::new(
            "file",
            "file-type-not-accepted",
            "a PDF, JPEG, PNG or WebP image, or a Word or OpenDocument text",
        ));
    }
    let (Some(mime), true) = (mime, errors.is_empty()) else {
        return Err(WalletError::Invalid(errors));
    };
    let quota = i64::try_from(state.config.wallet_quota_bytes).unwrap_or(i64::MAX);
    let needed = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
    // Checked before writing so that a full wallet costs no storage; checked again, under
    // the account's lock, when the row goes in.
    let used = db::wallet::used_bytes(&state.db, citizen_id).await?;
    if used + needed > quota {
        return Err(WalletError::QuotaExceeded {
            used,
            quota,
            needed,
        });
    }
    let key = files::key_for(&upload.bytes, mime);
    files::write(state, &[(key.clone(), upload.bytes)]).await?;
    let filename = clean_filename(upload.filename, mime);
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::wallet::insert_within_quota(
        &mut tx,
        &NewDocument {
            citizen_id,
            label,
            kind: upload.kind,
            filename: &filename,
            mime,
            bytes: i32::try_from(needed).unwrap_or(i32::MAX),
            storage_key: &key,
        },
        quota,
    )
    .await?;
    let Some(row) = row else {
        // The written bytes are left to the clean-up job that the write queued.
        let used = db::wallet::used_bytes(&mut *tx, citizen_id).await?;
        return Err(WalletError::QuotaExceeded {
            used,
            quota,
            needed,
        });
    };
    tx.commit().await.map_err(DbError::from)?;
    Ok(row)
}

/// A name safe to send back in `Content-Disposition`: no path, no control or quote
/// characters, at most 120 characters; a generic one when nothing is left.
fn clean_filename(name: &str, mime: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        let ext = guichet_shared::sniff::extension_for_mime(mime).unwrap_or("bin");
        return format!("document.{ext}");
    }
    cleaned
}

/// Lets a document go from the wallet. Requests that attached it keep their copy.
/// Returns false when the account has no such document.
pub async fn remove(state: &AppState, citizen_id: i64, id: i64) -> Result<bool, WalletError> {
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let Some(key) = db::wallet::delete(&mut tx, citizen_id, id).await? else {
        return Ok(false);
    };
    files::forget(&mut tx, vec![key]).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(true)
}

/// A document's bytes, for its account only.
pub async fn read(
    state: &AppState,
    citizen_id: i64,
    id: i64,
) -> Result<Option<(DocumentRow, Bytes)>, WalletError> {
    let Some(row) = db::wallet::one(&state.db, citizen_id, id).await? else {
        return Ok(None);
    };
    let bytes = state
        .photos
        .get(&row.storage_key)
        .await
        .map_err(FileError::from)?;
    Ok(bytes.map(|b| (row, b)))
}

/// A wallet document put in a file field of a filing.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRef {
    /// The form's file field.
    pub field: String,
    /// The document's id in the filer's wallet (`GET /api/v1/citizen/me/documents`).
    pub document_id: i64,
}

/// A wallet document as a filing's file: what the form checks, and what the request keeps.
pub struct WalletFile {
    pub meta: FileMeta,
    pub attached: AttachedFile,
}

/// The filer's wallet documents named by `refs`, as files of the form's fields. Only the
/// filer's own documents, and never in the public photo fields of a geolocated démarche;
/// their bytes are claimed against the clean-up so that a document let go meanwhile still
/// reaches the request.
pub async fn attachments(
    state: &AppState,
    citizen_id: Option<i64>,
    form: &FormDefinition,
    geolocated: bool,
    refs: &[DocumentRef],
) -> Result<Vec<WalletFile>, PipelineError> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let Some(citizen_id) = citizen_id else {
        return Err(PipelineError::invalid(
            "documents",
            "account-required",
            "wallet documents are attached by their account's holder, logged in",
        ));
    };
    if refs.len() > MAX_DOCUMENTS {
        return Err(PipelineError::invalid(
            "documents",
            "too-many-files",
            format!("at most {MAX_DOCUMENTS} documents"),
        ));
    }
    let ids: Vec<i64> = refs.iter().map(|r| r.document_id).collect();
    let rows = db::wallet::of_citizen(&state.db, citizen_id, &ids).await?;
    let mut errors = Vec::new();
    let mut found = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let Some(row) = rows.iter().find(|row| row.id == r.document_id) else {
            errors.push(FieldError::new(
                format!("documents[{i}].document_id"),
                "document-not-found",
                "your wallet has no such document",
            ));
            continue;
        };
        if geolocated && is_public_photo_field(form, &r.field) {
            errors.push(FieldError::new(
                format!("documents[{i}].field"),
                "document-not-for-public-field",
                "this field's photos are public: a wallet document cannot go in it",
            ));
            continue;
        }
        found.push(WalletFile {
            meta: FileMeta {
                field: r.field.clone(),
                filename: row.filename.clone(),
                mime: row.mime.clone(),
                bytes: u64::try_from(row.bytes).unwrap_or_default(),
            },
            attached: AttachedFile {
                key: row.storage_key.clone(),
                field: r.field.clone(),
                filename: row.filename.clone(),
                mime: row.mime.clone(),
                bytes: row.bytes,
            },
        });
    }
    if !errors.is_empty() {
        return Err(PipelineError::Invalid(errors));
    }
    let mut keys: Vec<String> = found.iter().map(|f| f.attached.key.clone()).collect();
    keys.sort_unstable();
    keys.dedup();
    files::keep(state, keys).await?;
    // Let go between the read and the claim: its bytes may already be gone.
    if db::wallet::of_citizen(&state.db, citizen_id, &ids)
        .await?
        .len()
        != rows.len()
    {
        return Err(PipelineError::invalid(
            "documents",
            "document-not-found",
            "a document left your wallet while you were filing",
        ));
    }
    Ok(found)
}

/// A file field of images that are not personal data: on a geolocated démarche, its files go
/// through the photo pipeline and are shown with the incident.
pub fn is_public_photo_field(form: &FormDefinition, id: &str) -> bool {
    form.fields.iter().any(|f| {
        f.id == id
            && !f.personal
            && f.file.as_ref().is_some_and(|r| {
                !r.mime.is_empty() && r.mime.iter().all(|m| m.starts_with("image/"))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_quotes_and_controls() {
        assert_eq!(
            clean_filename("C:\\docs\\carte.pdf", "application/pdf"),
            "carte.pdf"
        );
        assert_eq!(
            clean_filename("../../etc/passwd", "application/pdf"),
            "passwd"
        );
        assert_eq!(
            clean_filename("a\"b;c\r\n.pdf", "application/pdf"),
            "abc.pdf"
        );
        assert_eq!(clean_filename("..", "image/png"), "document.png");
        assert_eq!(clean_filename("", "application/pdf"), "document.pdf");
    }
}
