//! Types and pure logic shared by the Guichet server and the citizen app.
//!
//! Nothing here performs I/O: API payloads (serde), their validation, geo math and the
//! public vocabulary (phases and status labels).

pub mod api;
pub mod channel;
pub mod city_time;
pub mod dedup;
pub mod forms;
pub mod geo;
pub mod phase;
pub mod phash;
#[cfg(feature = "imaging")]
pub mod pixels;
pub mod round;
pub mod sniff;
pub mod spatial;
pub mod synthetic;
pub mod timeline;
pub mod validation;
pub mod workflow;
