//! Where a run's data comes from: `--data PATH` (or `HARNESS_DATA`), else the names
//! dataset, downloaded once into a cache directory and verified by sha256. Reads the file
//! and hands its bytes to `model::Dataset`; records its path and hash for the store.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use model::{Dataset, TrainConfig};
use sha2::{Digest, Sha256};

use crate::error::usage;

/// The makemore names dataset (32,033 names, MIT licence).
pub const NAMES_URL: &str = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt";
pub const NAMES_SHA256: &str = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d";
/// Override `NAMES_URL` and `NAMES_SHA256` together: a mirror, or a file of another version.
/// The download is still verified, against the checksum given.
const URL_VAR: &str = "HARNESS_NAMES_URL";
const SHA256_VAR: &str = "HARNESS_NAMES_SHA256";
/// Overrides the cache directory (default: `$XDG_CACHE_HOME` or `~/.cache`, then `makemore-harness`).
const CACHE_VAR: &str = "HARNESS_CACHE_DIR";
const DOWNLOAD_LIMIT_BYTES: u64 = 64 << 20;
const OFFLINE_HINT: &str =
    "pass --data PATH (or set HARNESS_DATA) to train on a local text file with one item per line";

pub struct LoadedData {
    /// Absolute path of the file read.
    pub path: PathBuf,
    pub sha256: String,
    pub dataset: Dataset,
}

/// Loads `explicit` if given, else the cached (or freshly downloaded) names dataset.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<LoadedData> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => cached_names()?,
    };
    let bytes = fs::read(&path)
        .map_err(|e| usage(anyhow!(e).context(format!("cannot read the data file {}", path.display()))))?;
    let dataset = Dataset::from_bytes(&bytes)
        .map_err(|e| usage(anyhow!(e).context(format!("{} is not a usable dataset", path.display()))))?;
    let loaded = LoadedData {
        path: fs::canonicalize(&path).unwrap_or(path),
        sha256: sha256_hex(&bytes),
        dataset,
    };
    tracing::debug!(
        path = %loaded.path.display(),
        sha256 = %loaded.sha256,
        items = loaded.dataset.items().len(),
        vocab = loaded.dataset.vocab().size(),
        "dataset loaded"
    );
    Ok(loaded)
}

/// Whether a run of `config` can read `data` (a model that reads whole items needs a
/// `block_size` that holds the longest), as an error naming the key and the file.
pub fn check_fits(config: &TrainConfig, data: &LoadedData) -> anyhow::Result<()> {
    config
        .check_data(&data.dataset)
        .map_err(|e| anyhow!("`{}` {} (data: {})", e.key, e.reason, data.path.display()))
}

/// Loads the data file a run recorded, refusing it if its content changed since
/// (`since` says since when: "run 3 was trained").
pub fn load_recorded(path: &Path, sha256: &str, since: &str) -> anyhow::Result<LoadedData> {
    let data = load(Some(path))?;
    if data.sha256 != sha256 {
        return Err(usage(anyhow!(
            "the data file {} changed since {since} (sha256 {sha256} then, {} now); put the original back",
            path.display(),
            data.sha256
        )));
    }
    Ok(data)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn cache_dir() -> anyhow::Result<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var(CACHE_VAR)
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("makemore-harness")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("makemore-harness")))
        .ok_or_else(|| {
            usage(anyhow!(
                "no cache directory for the names dataset (HOME is not set); set {CACHE_VAR} or {OFFLINE_HINT}"
            ))
        })
}

/// The names dataset in the cache, downloading and verifying it if it is not there yet.
fn cached_names() -> anyhow::Result<PathBuf> {
    let url = std::env::var(URL_VAR).unwrap_or_else(|_| NAMES_URL.to_string());
    let expected = std::env::var(SHA256_VAR).unwrap_or_else(|_| NAMES_SHA256.to_string());
    let dir = cache_dir()?;
    let path = dir.join("names.txt");
    if fs::read(&path).is_ok_and(|bytes| sha256_hex(&bytes) == expected) {
        return Ok(path);
    }
    eprintln!(
        "downloading the names dataset from {url} (once; cached in {})",
        dir.display()
    );
    let bytes =
        download(&url).with_context(|| format!("could not download the names dataset from {url}; {OFFLINE_HINT}"))?;
    let actual = sha256_hex(&bytes);
    if actual != expected {
        bail!(
            "the names dataset downloaded from {url} has sha256 {actual}, expected {expected}; it was not used; {OFFLINE_HINT}"
        );
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create the cache directory {}", dir.display()))?;
    // Write beside the target, then rename: a crash never leaves a half-written cache file.
    let partial = dir.join(format!("names.txt.{}.partial", std::process::id()));
    fs::write(&partial, &bytes).with_context(|| format!("cannot write {}", partial.display()))?;
    fs::rename(&partial, &path).with_context(|| format!("cannot move the download into {}", path.display()))?;
    Ok(path)
}

fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut response = agent.get(url).call()?;
    Ok(response
        .body_mut()
        .with_config()
        .limit(DOWNLOAD_LIMIT_BYTES)
        .read_to_vec()?)
}
