//! `harness serve`: the dashboard of one database in the browser, live while sweeps write to
//! it. Opens the database read-only, binds 127.0.0.1 unless `--addr` names another interface
//! (then warns), prints the URL on stdout, and serves until Ctrl-C or SIGTERM, which end open
//! pages' streams at once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::serve;
use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to serve on (port 0: any free port); an address other than loopback lets other
    /// machines read every run
    #[arg(long, default_value = serve::DEFAULT_ADDR, value_name = "IP:PORT")]
    pub addr: SocketAddr,
    /// SQLite database to show
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = serve::open(&args.db)?;
    let listener = serve::listen(args.addr, &args.db)?;
    println!("http://{}/", listener.local_addr()?);
    eprintln!("serving {} (Ctrl-C stops)", args.db.display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        serve::serve(listener, store, stop_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}
