//! The web apps, served as static files: the citizen app (a PWA built from `mobile/ui`) at
//! `/`, the back office (built from `server/backoffice`) at `/backoffice/`, and the API's
//! documentation page (built from `server/api-docs`) at `/api/docs/`. Pages and service
//! workers are revalidated on every visit so that an update reaches phones at once. Unknown
//! paths get the 404 problem, except in the back office, whose own router reads the path: its
//! page is served for any path that is not a file.

use std::path::Path;

use axum::http::{HeaderValue, header};
use tower::Layer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

use super::middleware;

type NotFound = axum::routing::MethodRouter;

pub fn service(
    dir: &Path,
) -> SetResponseHeader<ServeDir<tower_http::set_status::SetStatus<NotFound>>, HeaderValue> {
    let files = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .not_found_service(axum::routing::any(middleware::not_found));
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
    .layer(files)
}

pub fn backoffice(
    dir: &Path,
) -> SetResponseHeader<ServeDir<tower_http::set_status::SetStatus<ServeFile>>, HeaderValue> {
    let files = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(dir.join("index.html")));
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
    .layer(files)
}
