//! Tests of the store on real SQLite files in scratch directories: the helpers they share,
//! and the tests by topic (the database file, runs, reading).

use super::*;
use crate::records::{CurvePoint, NewRun, NewSweep, RanOn, RunResult, VerdictRecord};
use crate::records::{Decision, RunStatus, Split, SweepKind};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

mod database;
mod exploits;
mod reading;
mod runs;

/// A fresh directory for one test's database, removed when dropped. (Not the tempfile
/// crate: as a dev-dependency it changes shared features and forces a second Burn build.)
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("results-store-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("h.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn new_run(key: &str) -> NewRun {
    NewRun {
        run_key: key.into(),
        config_json: r#"{"lr":0.1}"#.into(),
        backend: "flex".into(),
        requested_device: "cpu".into(),
        threads: 1,
        data_path: "/data/names.txt".into(),
        data_sha256: "ab".repeat(32),
        git_commit: Some("abc123".into()),
        trainable_params: 12_097,
        variant: None,
    }
}

fn sweep(name: &str) -> NewSweep {
    NewSweep {
        name: Some(name.into()),
        kind: SweepKind::Train,
        spec: None,
        spec_sha256: None,
        settings_json: None,
    }
}
