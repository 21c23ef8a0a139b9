//! The citizen web app (a PWA built from `mobile/ui`) served as static files at `/`. Pages and
//! the service worker are revalidated on every visit so that an update reaches phones at once;
//! unknown paths get the 404 problem.

use std::path::Path;

use axum::http::{HeaderValue, header};
use tower::Layer;
use tower_http::services::ServeDir;
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
