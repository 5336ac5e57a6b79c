//! Responses compressed with gzip for clients that accept it: the sweep page's data shrinks
//! about tenfold, which is what makes 10,000 runs a quick page. The event stream is left
//! alone (each event must reach the page when sent), and so is anything small.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

use super::whole_body;

/// Bodies shorter than this go as they are: compressing them gains less than a packet.
const MIN_LEN: usize = 1024;

/// The middleware: gzip when the request accepts it and the response is text worth it.
pub async fn gzip(request: Request, next: Next) -> Response {
    let accepts = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(accepts_gzip);
    let response = next.run(request).await;
    if !accepts || !compressible(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match whole_body(body).await {
        Ok(bytes) => bytes,
        Err(failed) => return failed,
    };
    if bytes.len() < MIN_LEN {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 8), Compression::fast());
    let compressed = match encoder.write_all(&bytes).and_then(|()| encoder.finish()) {
        Ok(compressed) => compressed,
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(compressed))
}

/// Whether an `Accept-Encoding` value lists gzip (without `q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        parts.next().is_some_and(|name| name.eq_ignore_ascii_case("gzip"))
            && !parts.any(|param| param.replace(' ', "") == "q=0")
    })
}

/// Text that is not the event stream, and not already encoded.
fn compressible(response: &Response) -> bool {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    !response.headers().contains_key(header::CONTENT_ENCODING)
        && (content_type.starts_with("application/json") || content_type.starts_with("text/"))
        && !content_type.starts_with("text/event-stream")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_accepted_unless_refused() {
        for yes in [
            "gzip",
            "gzip, deflate, br",
            "br;q=1.0, GZIP;q=0.8",
            "deflate, gzip ; q=0.5",
        ] {
            assert!(accepts_gzip(yes), "{yes}");
        }
        for no in ["", "identity", "br, deflate", "gzip;q=0", "x-gzip2"] {
            assert!(!accepts_gzip(no), "{no}");
        }
    }
}
