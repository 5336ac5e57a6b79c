//! Helpers shared by the end-to-end tests: the real `harness` binary in a temporary
//! directory, tiny datasets made on the spot, and reading back what it stored.

#![allow(dead_code)] // each test file uses its own subset

pub mod sweeps;
pub mod webdriver;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// A fresh directory under Cargo's test scratch space, removed when dropped. (Not the
/// tempfile crate: as a dev-dependency it changes shared features and forces a second
/// Burn build for `cargo build` after `cargo test`.)
pub struct Sandbox {
    dir: PathBuf,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Sandbox {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the sandbox directory");
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("harness.db")
    }

    /// Writes `count` made-up names (deterministic) and returns the file's path.
    pub fn names(&self, count: usize) -> PathBuf {
        let path = self.path("names.txt");
        std::fs::write(&path, made_up_names(count)).expect("write names");
        path
    }

    /// `harness ARGS` with the environment cleared of the harness's variables, run in the
    /// sandbox, its cache directory inside it.
    pub fn harness(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
        command
            .args(args)
            .current_dir(&self.dir)
            .env_remove("HARNESS_DATA")
            .env_remove("HARNESS_DB")
            .env_remove("HARNESS_NAMES_URL")
            .env_remove("HARNESS_NAMES_SHA256")
            .env("HARNESS_CACHE_DIR", self.path("cache"));
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.harness(args).output().expect("run harness")
    }
}

/// Pronounceable made-up names, one per line: structure a tiny model learns in seconds.
pub fn made_up_names(count: usize) -> String {
    let onsets = ["b", "d", "k", "l", "m", "n", "r", "s", "t", "v"];
    let vowels = ["a", "e", "i", "o", "u"];
    let codas = ["", "n", "l", "ra", "na"];
    let mut state: u64 = 12345;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    (0..count)
        .map(|_| {
            let syllables = 1 + next(3);
            let mut name: String = (0..syllables)
                .map(|_| format!("{}{}", onsets[next(10)], vowels[next(5)]))
                .collect();
            name.push_str(codas[next(5)]);
            name + "\n"
        })
        .collect()
}

/// The loss (nats per character, end token included) of the best model that ignores
/// context: each character's frequency in `text` (one item per line). A model that has
/// learned anything of its context is below it; an untrained one is near ln(vocabulary).
pub fn unigram_entropy(text: &str) -> f64 {
    let mut counts = std::collections::BTreeMap::<char, f64>::new();
    for item in text.lines() {
        // `.` stands for the end token here; the made-up names never contain one.
        for c in item.chars().chain(['.']) {
            *counts.entry(c).or_default() += 1.0;
        }
    }
    let total: f64 = counts.values().sum();
    -counts.values().map(|n| n / total * (n / total).ln()).sum::<f64>()
}

/// The dashboard URL without `http://` (`127.0.0.1:PORT/…`) that `harness serve` prints on
/// stdout, or `launch`/`resume --serve` on stderr (`dashboard: http://…`), from `lines`.
pub fn printed_url(lines: impl std::io::BufRead) -> String {
    for line in lines.lines() {
        let line = line.expect("read the harness's output");
        let line = line.trim();
        if let Some(url) = line.strip_prefix("dashboard: http://").or(line.strip_prefix("http://")) {
            return url.to_string();
        }
    }
    panic!("no dashboard URL printed")
}

/// `harness ARGS` (a `launch` or `resume` with `--serve`) started in `sandbox`, its stdout
/// going to `stdout`: the process, the dashboard URL it printed on stderr (as `printed_url`
/// gives it), and the thread that reads the rest of its stderr (join it once the process ended).
pub fn serving(sandbox: &Sandbox, args: &[&str], stdout: Stdio) -> (Child, String, JoinHandle<std::io::Result<u64>>) {
    let mut child = sandbox
        .harness(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut progress = std::io::BufReader::new(child.stderr.take().unwrap());
    let url = printed_url(&mut progress);
    let drain = std::thread::spawn(move || std::io::copy(&mut progress, &mut std::io::sink()));
    (child, url, drain)
}

/// `harness serve` of the sandbox's database on a free port: (the server, its address).
pub fn serve(sandbox: &Sandbox) -> (Child, String) {
    let mut serve = sandbox
        .harness(&["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = printed_url(std::io::BufReader::new(serve.stdout.take().unwrap()));
    (serve, address(&url))
}

/// `127.0.0.1:PORT` of a printed dashboard URL.
pub fn address(url: &str) -> String {
    url.split('/').next().unwrap().to_string()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn open_store(db: &Path) -> results::Store {
    results::Store::open_read_only(db).expect("open the database read-only")
}
