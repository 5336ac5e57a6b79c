//! Answers to the same question asked again before the database changed: every open page
//! fetches the same data after each change, so the first request after a change computes
//! (and compresses) it and the others get a copy. Entries live until the change count moves
//! (`events`), so no answer is older than what a fresh read would give once the watcher has
//! seen the commit; the event stream itself is never cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{Served, whole_body};

/// Answers kept at once: a page asks for a handful; more pages mostly ask the same.
const ENTRIES: usize = 256;

/// (change count, answers by request) for the count they were computed at.
#[derive(Default)]
pub struct Answers {
    count: u64,
    entries: HashMap<String, (StatusCode, HeaderMap, Bytes)>,
}

pub type Cache = Arc<Mutex<Answers>>;

/// The middleware: a GET of `/api/` other than the stream is answered from the cache when the
/// database has not changed since it was computed.
pub async fn cached(State(served): State<Served>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/") || path == "/api/events" {
        return next.run(request).await;
    }
    let gzip = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("gzip")));
    let key = format!("{}{}", if gzip { "gzip " } else { "" }, request.uri());
    let count = *served.changes.borrow();
    if let Some(hit) = lookup(&served.cache, count, &key) {
        return hit;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match whole_body(body).await {
        Ok(bytes) => bytes,
        Err(failed) => return failed,
    };
    if let Ok(mut answers) = served.cache.lock() {
        if answers.count != count {
            answers.entries.clear();
            answers.count = count;
        }
        if answers.entries.len() < ENTRIES {
            answers
                .entries
                .insert(key, (parts.status, parts.headers.clone(), bytes.clone()));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn lookup(cache: &Cache, count: u64, key: &str) -> Option<Response> {
    let answers = cache.lock().ok()?;
    if answers.count != count {
        return None;
    }
    let (status, headers, bytes) = answers.entries.get(key)?;
    let mut response = Response::new(Body::from(bytes.clone()));
    *response.status_mut() = *status;
    *response.headers_mut() = headers.clone();
    Some(response)
}
