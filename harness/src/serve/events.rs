//! Live pages: one watcher per server asks SQLite every `POLL` whether anything was committed
//! (`data_version`, which reads no table), and counts the changes; each open page holds one
//! Server-Sent Events stream that says `changed` with that count as its event id, and then
//! fetches what it shows again. A finished sweep's page costs nothing but that one question
//! per `POLL` for the whole server; a page that reconnects (a restarted server, a laptop
//! waking) fetches again on the stream's `hello`, so it misses nothing.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use results::Store;
use tokio::sync::watch;

use super::Served;

/// How often the watcher asks whether the database changed: a new point shows within it.
const POLL: Duration = Duration::from_millis(250);

/// Starts the watcher; its count of changes goes up by one each time it sees a commit, until
/// `stopping` turns true.
pub fn watch_changes(store: Arc<Mutex<Store>>, mut stopping: watch::Receiver<bool>) -> watch::Receiver<u64> {
    let (count, changes) = watch::channel(0u64);
    tokio::spawn(async move {
        let mut last = None;
        let mut ticks = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            let store = Arc::clone(&store);
            let version = tokio::task::spawn_blocking(move || store.lock().ok()?.data_version().ok()).await;
            let Ok(Some(version)) = version else { continue };
            if last.is_some_and(|last| last != version) {
                count.send_modify(|n| *n += 1);
            }
            last = Some(version);
        }
    });
    changes
}

/// `GET /api/events`: `hello` at once, then `changed` after each commit, until the client
/// leaves or the server stops.
pub async fn stream(State(served): State<Served>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut changes = served.changes.clone();
    let hello = *changes.borrow_and_update();
    let first = stream::once(async move { Ok(event("hello", hello)) });
    let rest = stream::unfold(
        (changes, served.stopping.clone()),
        |(mut changes, mut stopping)| async move {
            let changed = tokio::select! {
                changed = changes.changed() => changed.is_ok(),
                _ = stopping.wait_for(|stop| *stop) => false,
            };
            if !changed {
                return None;
            }
            let count = *changes.borrow_and_update();
            Some((Ok(event("changed", count)), (changes, stopping)))
        },
    );
    Sse::new(futures_util::StreamExt::chain(first, rest)).keep_alive(KeepAlive::default())
}

fn event(name: &str, count: u64) -> Event {
    Event::default()
        .event(name)
        .id(count.to_string())
        .data(count.to_string())
}
