//! `harness serve`: the dashboard of one database in the browser, live while sweeps write to
//! it. Opens the database read-only, binds 127.0.0.1 unless `--addr` names another interface
//! (then warns), prints the URL on stdout, and serves until Ctrl-C or SIGTERM, which end open
//! pages' streams at once.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use results::Store;

use crate::error::usage;
use crate::serve;
use crate::stored;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to serve on (port 0: any free port); an address other than loopback lets other
    /// machines read every run
    #[arg(long, default_value = "127.0.0.1:8765", value_name = "IP:PORT")]
    pub addr: SocketAddr,
    /// SQLite database to show
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let listener = std::net::TcpListener::bind(args.addr).map_err(|err| match err.kind() {
        ErrorKind::AddrInUse => usage(anyhow!(
            "{} is in use (another `harness serve`?); choose another port with --addr 127.0.0.1:PORT",
            args.addr
        )),
        ErrorKind::AddrNotAvailable => usage(anyhow!("{} is not an address of this machine", args.addr)),
        _ => anyhow!(err).context(format!("cannot listen on {}", args.addr)),
    })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: serving on {addr}: anyone who can reach this machine can read every run of {}",
            args.db.display()
        );
    }
    println!("http://{addr}/");
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
