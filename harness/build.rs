//! Embeds the git commit the binary is built from (`HARNESS_GIT_COMMIT`, with `-dirty` when
//! tracked files differ from it), so every run records which code produced it. Outside a
//! git checkout the variable is simply unset. `HARNESS_VERSION` is what `--version` prints:
//! the package version, and the commit's first 7 digits where there is one.
//! With the `tch` feature it also embeds the directory of the libtorch the build linked as an
//! rpath of the binary and test executables, so they run without `LD_LIBRARY_PATH` (torch-sys,
//! `links = "tch"`, tells its direct dependents that directory as `DEP_TCH_LIBTORCH_LIB`).

use std::process::Command;

/// The workspace's sources: a change there may make the tree dirty, so the build script reruns.
const SOURCES: [&str; 5] = [
    "src",
    "../model/src",
    "../results/src",
    "../Cargo.toml",
    "../Cargo.lock",
];

fn main() {
    embed_git_commit();
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}

fn embed_git_commit() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|text| text.trim().to_string())
    };
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        for path in ["HEAD", "index", "refs"] {
            println!("cargo:rerun-if-changed={git_dir}/{path}");
        }
        for path in SOURCES {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    match git(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            let suffix = if dirty { "-dirty" } else { "" };
            println!("cargo:rustc-env=HARNESS_GIT_COMMIT={commit}{suffix}");
            let short = commit.get(..7).unwrap_or(&commit);
            println!("cargo:rustc-env=HARNESS_VERSION={version} (commit {short}{suffix})");
        }
        None => println!("cargo:rustc-env=HARNESS_VERSION={version}"),
    }
}
