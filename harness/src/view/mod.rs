//! The view side: stored runs as people read them. Aligned tables and CSV/JSON on stdout
//! (`table`, `output`), what sets runs apart (`labels`), replicates folded into mean ± std
//! (`replicates`), a sweep's table and outcome (`sweep_table`), report figures (`figures`)
//! and live progress on stderr (`progress`, `sweep_progress`). Reads; never writes the store.

pub mod figures;
pub mod labels;
pub mod output;
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
