//! The dashboard's files, compiled into the binary: one page (`index.html`, whose scripts
//! draw the sweeps, sweep, run and compare views from the URL it is opened at), its script
//! modules and style, and the vendored uPlot (harness/assets/vendor, with its licence). A request names a file
//! from this list or gets 404: no path reaches the file system.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A file of the dashboard: (name under `/assets/`, content type, contents).
macro_rules! asset {
    (script $name:literal) => {
        (
            $name,
            JAVASCRIPT,
            include_str!(concat!("../../assets/dashboard/", $name)),
        )
    };
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

const ASSETS: [(&str, &str, &str); 10] = [
    asset!(script "app.js"),
    asset!(script "dom.js"),
    asset!(script "sweep.js"),
    asset!(script "table.js"),
    asset!(script "parallel.js"),
    asset!(script "charts.js"),
    asset!(script "run.js"),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/dashboard/style.css"),
    ),
    (
        "uPlot.iife.min.js",
        JAVASCRIPT,
        include_str!("../../assets/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/vendor/uplot/uPlot.min.css"),
    ),
];

const PAGE: &str = include_str!("../../assets/dashboard/index.html");

/// `GET /`, `/sweep/{name}`, `/run/{id}`, `/compare`: the page; its script reads the URL.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => ([(header::CONTENT_TYPE, *content_type)], *body).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no asset `{file}`\n")).into_response(),
    }
}
