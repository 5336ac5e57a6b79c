//! The dashboard's web server (`harness serve`): one read-only connection to the database,
//! the pages and their assets from the binary (`assets`), JSON for the pages (`api`, gzipped
//! by `gzip`, kept by `cache` until the database changes) and one Server-Sent Events stream
//! that tells each open page when the database changed (`events`).
//! Every request passes the `Host` check first (a page elsewhere cannot reach us by DNS
//! rebinding); nothing a request carries is pasted into SQL or a file path.

mod api;
mod assets;
mod cache;
pub mod downsample;
mod events;
mod gzip;
mod sweep_data;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::anyhow;
use clap::Args;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use results::Store;
use tokio::sync::{oneshot, watch};

use crate::error::usage;
use crate::stored;

/// Where `harness serve` and `--serve` listen unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8765";

/// `--serve [IP:PORT]` of `launch` and `resume`: the dashboard beside the running sweep.
#[derive(Debug, Args)]
pub struct ServeFlag {
    /// Serve the live dashboard while the sweep runs, at IP:PORT [default: 127.0.0.1:8765]
    #[arg(long = "serve", value_name = "IP:PORT", num_args = 0..=1, default_missing_value = DEFAULT_ADDR)]
    pub addr: Option<SocketAddr>,
}

impl ServeFlag {
    /// With `--serve`: the dashboard of `db` on its own thread until the value is dropped,
    /// its URL (at `page`, e.g. `sweep/NAME`) on stderr; the sweep's own output is unchanged.
    pub fn start(&self, db: &Path, page: &str) -> anyhow::Result<Option<Background>> {
        let Some(addr) = self.addr else { return Ok(None) };
        let listener = listen(addr, db)?;
        let store = open(db)?;
        eprintln!("dashboard: http://{}/{page}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("dashboard".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let served = runtime.map(|runtime| {
                runtime.block_on(async {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    serve(listener, store, async move {
                        let _ = stopped.await;
                    })
                    .await
                })
            });
            if let Err(err) | Ok(Err(err)) = served {
                eprintln!("dashboard: stopped: {err}");
            }
        })?;
        Ok(Some(Background {
            stop: Some(stop),
            thread: Some(thread),
        }))
    }
}

/// A dashboard served beside a sweep; dropping it stops the server and waits for it.
pub struct Background {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A listening socket at `addr` for the dashboard of `db`, or one clear error (exit 2) for
/// an address in use or not of this machine; warns when other machines can reach it.
pub fn listen(addr: SocketAddr, db: &Path) -> anyhow::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr).map_err(|err| match err.kind() {
        ErrorKind::AddrInUse => usage(anyhow!(
            "{addr} is in use (another `harness serve`?); choose another port with --addr 127.0.0.1:PORT"
        )),
        ErrorKind::AddrNotAvailable => usage(anyhow!("{addr} is not an address of this machine")),
        _ => anyhow!(err).context(format!("cannot listen on {addr}")),
    })?;
    listener.set_nonblocking(true)?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: serving on {addr}: anyone who can reach this machine can read every run of {}",
            db.display()
        );
    }
    Ok(listener)
}

/// Opens `db` for the dashboard: read-only, refusing a missing file or a newer schema.
pub fn open(db: &Path) -> anyhow::Result<Store> {
    stored::open_existing(db, Store::open_read_only)
}

/// What every handler shares.
#[derive(Clone)]
pub struct Served {
    store: Arc<Mutex<Store>>,
    /// The `Host` values a request may carry.
    hosts: Arc<Hosts>,
    /// The database's change count as the watcher last saw it (`events`).
    changes: watch::Receiver<u64>,
    /// Becomes true when the server is asked to stop: open streams end at once.
    stopping: watch::Receiver<bool>,
    /// Answers computed since the last change, for the next page that asks the same.
    cache: cache::Cache,
}

impl Served {
    /// Runs `read` on the store on a blocking thread (SQLite is synchronous).
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Store) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let store = store
                .lock()
                .map_err(|_| anyhow::anyhow!("the database connection is poisoned"))?;
            read(&store)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
    }
}

/// Serves `store` on `listener` until `stop` resolves; then open streams end and it returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let store = Arc::new(Mutex::new(store));
    let (stopping_tx, stopping) = watch::channel(false);
    let changes = events::watch_changes(Arc::clone(&store), stopping.clone());
    let served = Served {
        store,
        hosts: Arc::new(Hosts { addr }),
        changes,
        stopping: stopping.clone(),
        cache: cache::Cache::default(),
    };
    let app = router(served);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.await;
            // Streams watch this and end, so the shutdown does not wait for their clients.
            let _ = stopping_tx.send(true);
        })
        .await
}

fn router(served: Served) -> Router {
    Router::new()
        .route("/", get(assets::page))
        .route("/sweep/{name}", get(assets::page))
        .route("/run/{id}", get(assets::page))
        .route("/compare", get(assets::page))
        .route("/assets/{file}", get(assets::asset))
        .route("/api/sweeps", get(api::sweeps))
        .route("/api/sweeps/{name}", get(api::sweep))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/runs/{id}/explanation", get(api::explanation))
        .route("/api/curves", get(api::curves))
        .route("/api/events", get(events::stream))
        .layer(middleware::from_fn(gzip::gzip))
        .layer(middleware::from_fn_with_state(served.clone(), cache::cached))
        .layer(middleware::from_fn_with_state(served.clone(), check_host))
        .with_state(served)
}

/// The `Host` values a request to `addr` may carry: the address itself, `localhost:PORT` for a
/// loopback one; bound to every interface (`0.0.0.0`, `::`), also any IP literal with the port.
struct Hosts {
    addr: SocketAddr,
}

impl Hosts {
    fn allows(&self, host: &str) -> bool {
        let port = self.addr.port();
        let loopback = self.addr.ip().is_loopback() || self.addr.ip().is_unspecified();
        if host == self.addr.to_string() || (loopback && host == format!("localhost:{port}")) {
            return true;
        }
        // A name other than localhost is how DNS rebinding reaches a local server: only
        // addresses are let through, and only when every interface is served.
        self.addr.ip().is_unspecified() && host.parse::<SocketAddr>().is_ok_and(|given| given.port() == port)
    }

    fn describe(&self) -> String {
        match self.addr.ip().is_unspecified() {
            true => format!("an address of this machine with port {}", self.addr.port()),
            false => self.addr.to_string(),
        }
    }
}

/// Refuses a request whose `Host` is not the served address: a page served by another name
/// that resolves here (DNS rebinding) must not read the database.
async fn check_host(State(served): State<Served>, headers: HeaderMap, request: Request, next: Next) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if served.hosts.allows(host) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        format!(
            "refused: Host `{host}` is not the address this dashboard serves ({})\n",
            served.hosts.describe()
        ),
    )
        .into_response()
}

/// The largest response body the layers read whole (to compress or keep it): the biggest page
/// data is a few MB.
const MAX_BODY: usize = 256 << 20;

/// A response's body read whole, or the 500 to send instead.
async fn whole_body(body: axum::body::Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|err| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read the response: {err}\n"),
        )
            .into_response()
    })
}

/// What a request can get wrong, or what can go wrong reading for it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed request: 400 with the reason.
    #[error("{0}")]
    BadRequest(String),
    /// No such sweep or run: 404.
    #[error("{0}")]
    NotFound(String),
    /// The database could not be read: 500.
    #[error("{0}")]
    Internal(String),
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        match error.downcast::<ApiError>() {
            Ok(api) => api,
            Err(other) => Self::Internal(format!("{other:#}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, axum::Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(addr: &str) -> Hosts {
        Hosts {
            addr: addr.parse().unwrap(),
        }
    }

    #[test]
    fn only_the_served_address_may_be_the_host() {
        let local = hosts("127.0.0.1:8765");
        assert!(local.allows("127.0.0.1:8765") && local.allows("localhost:8765"));
        for refused in [
            "evil.example:8765",
            "127.0.0.1:9999",
            "localhost",
            "",
            "192.168.1.5:8765",
        ] {
            assert!(!local.allows(refused), "{refused}");
        }
        let lan = hosts("192.168.1.5:8765");
        assert!(lan.allows("192.168.1.5:8765") && !lan.allows("localhost:8765"));
        let every = hosts("0.0.0.0:8765");
        assert!(every.allows("10.0.0.7:8765") && every.allows("[::1]:8765") && every.allows("localhost:8765"));
        assert!(!every.allows("evil.example:8765") && !every.allows("10.0.0.7:80"));
    }
}
