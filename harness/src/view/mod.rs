//! The view side: stored runs as people read them. Aligned tables and CSV/JSON on stdout
//! (`table`, `output`), what sets runs apart (`labels`), replicates folded into mean ± std
//! (`replicates`), a sweep's table and outcome (`sweep_table`), every decision about a run
//! with its reasons (`explain`), report figures (`figures`,
//! `final_losses`, `search_figures`) and live progress on stderr (`progress`,
//! `sweep_progress`). Reads; never writes the store.

pub mod explain;
pub mod figures;
pub mod final_losses;
pub mod labels;
pub mod output;
pub mod pbt_figures;
pub mod progress;
pub mod replicates;
pub mod search_figures;
pub mod sweep_progress;
pub mod sweep_table;
pub mod table;

/// `s` for every count but one: "1 run", "2 runs".
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How the user can call this binary again: `harness` when that is what their PATH finds,
/// `cargo run --release --` when Cargo started it, else its path.
pub fn invocation() -> String {
    let Ok(exe) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "harness".into();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .any(|dir| std::fs::canonicalize(dir.join("harness")).is_ok_and(|found| found == exe))
    });
    if on_path {
        "harness".into()
    } else if std::env::var_os("CARGO").is_some() {
        "cargo run --release --".into()
    } else {
        exe.display().to_string()
    }
}

/// A stored run for the view's tests: its id, status, final train and val loss, config.
#[cfg(test)]
pub fn test_run(id: i64, status: results::RunStatus, loss: Option<f64>, config_json: &str) -> results::RunRecord {
    results::RunRecord {
        id: results::RunId(id),
        run_key: format!("key-{id}"),
        sweep_name: "sweep".into(),
        variant: None,
        status,
        config_json: config_json.into(),
        backend: "flex".into(),
        requested_device: None,
        device: None,
        device_name: None,
        host: None,
        slurm_job: None,
        threads: 1,
        data_path: "names.txt".into(),
        data_sha256: String::new(),
        git_commit: None,
        trainable_params: 100,
        steps_done: 0,
        attempts: 1,
        retries: 0,
        train_loss: loss,
        val_loss: loss,
        test_loss: None,
        steps_per_sec: None,
        wall_seconds: None,
        error: None,
    }
}
