//! The citizen app's core, with no UI and no Tauri: what must work the same on Android, iOS
//! and the desktop, and be tested with `cargo test` against the real server.
//!
//! - [`photo`]: shrink a camera photo on the phone (upright, no metadata, ≤ 2048 px, WebP).
//! - [`outbox`]: store each report with its photos before sending (SQLite), so nothing is lost.
//! - [`sync`]: send what the outbox holds, retry with back-off, never twice.

pub mod outbox;
pub mod photo;
pub mod sync;

pub use outbox::{Entry, EntryKind, EntryState, Outbox, OutboxError};
pub use photo::{PreparedPhoto, prepare};
pub use sync::{RetryPolicy, SyncClient, SyncReport};
