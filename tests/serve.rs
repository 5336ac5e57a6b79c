//! End-to-end tests of `harness serve` over plain HTTP: the JSON each page reads, training
//! curves cut down with their extremes kept, the refusals (another `Host`, a malformed id, a
//! path outside the assets), the live stream announcing a commit (and no answer kept from
//! before it), Ctrl-C with a stream open, gzip for the data but not the stream, and the clear
//! errors of a missing database or a port in use. The database is only read.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, stderr};
use serde_json::Value;

/// A sandbox whose database holds sweep `train-1`: one run of 400 steps, a training point
/// every 2 steps (200 points), evaluated every 100.
fn trained() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let out = sandbox.run(&[
        "train",
        "--data",
        "names.txt",
        "--model",
        "mlp",
        "--n-embd",
        "4",
        "--n-hidden",
        "8",
        "--steps",
        "400",
        "--log-every",
        "2",
        "--eval-every",
        "100",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    sandbox
}

/// `harness serve` on a free port, and the address it printed.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(sandbox: &Sandbox) -> Self {
        let mut child = sandbox
            .harness(&["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        assert!(addr.starts_with("127.0.0.1:"), "printed `{line}`");
        Self { child, addr }
    }

    /// A GET with `host` as its Host header: (status, body).
    fn get_as(&self, path: &str, host: &str) -> (u16, String) {
        get_as(&self.addr, path, host)
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.get_as(path, &self.addr.clone())
    }

    fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }
}

/// A GET of `path` from `addr` with `host` as its Host header: (status, body).
fn get_as(addr: &str, path: &str, host: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_pages_json_shows_sweeps_runs_and_curves() {
    let sandbox = trained();
    let server = Server::start(&sandbox);
    let sweeps = server.json("/api/sweeps");
    let sweep = &sweeps["sweeps"][0];
    assert_eq!(sweep["name"], "train-1");
    assert_eq!(sweep["counts"]["completed"], 1);
    assert_eq!(sweep["metric"], "val_loss");
    let page = server.json("/api/sweeps/train-1");
    // One column per field, one value per run.
    let runs = &page["columns"];
    assert_eq!(page["runs"], 1);
    assert_eq!(runs["status"][0], "completed");
    assert_eq!(runs["steps_done"][0], 400);
    assert_eq!(
        (runs["attempts"][0].as_u64(), runs["retries"][0].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(sweep["best"], runs["val_loss"][0], "the best of one run is its own");
    assert_eq!(
        page["verdicts"]["run"],
        serde_json::json!([]),
        "no early termination, no verdict"
    );
    let id = runs["id"][0].as_i64().unwrap();
    let detail = server.json(&format!("/api/runs/{id}"));
    assert_eq!(detail["config"]["n_hidden"], 8);
    let attempt = &detail["attempts"][0];
    assert_eq!(
        (attempt["attempt"].as_u64(), attempt["outcome"].as_str()),
        (Some(1), Some("completed"))
    );
    assert!(attempt["host"].is_string() && attempt["device"] == "cpu", "{attempt}");
    assert_eq!(detail["samples"].as_array().unwrap().len(), 20);
    for page in [
        "/",
        "/sweep/train-1",
        &format!("/run/{id}"),
        &format!("/compare?runs={id},{id}"),
        "/assets/app.js",
        "/assets/sweep.js",
        "/assets/uPlot.iife.min.js",
    ] {
        assert_eq!(server.get(page).0, 200, "{page}");
    }
}

#[test]
fn training_curves_are_cut_down_keeping_each_buckets_lowest_highest_and_last() {
    let sandbox = trained();
    let server = Server::start(&sandbox);
    let whole = server.json("/api/curves?runs=1&split=train&buckets=1000");
    let cut = server.json("/api/curves?runs=1&split=train&buckets=10");
    let points = |v: &Value| -> Vec<(u64, f64)> {
        let curve = &v["curves"]["1"];
        let steps = curve["steps"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap());
        steps
            .zip(curve["losses"].as_array().unwrap().iter().map(|l| l.as_f64().unwrap()))
            .collect()
    };
    let (whole, cut) = (points(&whole), points(&cut));
    assert_eq!(whole.len(), 200, "400 steps, a point every 2");
    assert!(cut.len() <= 30 && cut.len() >= 10, "{} points", cut.len());
    let extreme = |points: &[(u64, f64)], pick: fn(f64, f64) -> f64| points.iter().map(|p| p.1).fold(points[0].1, pick);
    assert_eq!(
        extreme(&cut, f64::min),
        extreme(&whole, f64::min),
        "the lowest point survives"
    );
    assert_eq!(
        extreme(&cut, f64::max),
        extreme(&whole, f64::max),
        "the highest point survives"
    );
    assert_eq!(cut.last(), whole.last(), "the curve's end survives");
    let val = server.json("/api/curves?runs=1&split=val&buckets=1");
    assert_eq!(
        val["curves"]["1"]["steps"].as_array().unwrap().len(),
        5,
        "every val point: 0, 100, …, 400"
    );
}

#[test]
fn requests_from_another_host_bad_ids_and_unknown_paths_are_refused() {
    let sandbox = trained();
    let before = std::fs::read(sandbox.db()).unwrap();
    let server = Server::start(&sandbox);
    let (status, body) = server.get_as("/api/sweeps", "attacker.example:8765");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("attacker.example"));
    assert_eq!(
        server
            .get_as("/api/sweeps", &server.addr.replace("127.0.0.1", "localhost"))
            .0,
        200
    );
    assert_eq!(server.get("/api/runs/1;DROP%20TABLE%20runs").0, 400);
    assert_eq!(server.get("/api/curves?runs=1,x&split=train").0, 400);
    assert_eq!(server.get("/api/curves?runs=1&split=test").0, 400);
    assert_eq!(server.get("/api/runs/99").0, 404);
    assert_eq!(server.get("/api/runs/x/explanation").0, 400);
    assert_eq!(server.get("/api/runs/99/explanation").0, 404);
    assert_eq!(server.get("/api/sweeps/nope").0, 404);
    assert_eq!(server.get("/assets/..%2F..%2FCargo.toml").0, 404);
    assert_eq!(server.get("/assets/../../Cargo.toml").0, 404);
    drop(server);
    assert!(
        std::fs::read(sandbox.db()).unwrap() == before,
        "serving changed the database"
    );
}

/// A GET of `path` that accepts gzip: (the head, lowercased; the body's bytes).
fn get_gzip(server: &Server, path: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n",
        server.addr
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..end]).to_lowercase();
    (head, response[end + 4..].to_vec())
}

#[test]
fn data_goes_gzipped_to_a_client_that_accepts_it_and_the_event_stream_does_not() {
    let sandbox = trained();
    let server = Server::start(&sandbox);
    let path = "/api/curves?runs=1&split=train";
    let (head, body) = get_gzip(&server, path);
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, server.get(path).1, "the same JSON");
    assert!(
        body.len() * 2 < unzipped.len(),
        "{} bytes of {}",
        body.len(),
        unzipped.len()
    );
    // A browser's EventSource accepts gzip too: its events must still arrive one by one.
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    write!(
        stream,
        "GET /api/events HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: gzip\r\n\r\n",
        server.addr
    )
    .unwrap();
    wait_for_event(&mut BufReader::new(stream), "hello", Duration::from_secs(5));
}

/// Reads the stream's lines until one starts with `event: NAME`, or fails after `within`.
fn wait_for_event(reader: &mut BufReader<TcpStream>, name: &str, within: Duration) {
    let started = Instant::now();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => panic!("the stream ended before `{name}`"),
            Ok(_) if line.trim() == format!("event: {name}") => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("{e}"),
        }
        assert!(started.elapsed() < within, "no `{name}` event within {within:?}");
    }
}

fn open_stream(server: &Server) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    write!(stream, "GET /api/events HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).unwrap();
    BufReader::new(stream)
}

#[test]
fn an_open_page_hears_of_a_commit_within_a_second_and_then_reads_it() {
    let sandbox = trained();
    let server = Server::start(&sandbox);
    let mut events = open_stream(&server);
    wait_for_event(&mut events, "hello", Duration::from_secs(5));
    // Asked twice before the commit: the second answer is the first one kept.
    for _ in 0..2 {
        assert_eq!(server.json("/api/sweeps")["sweeps"].as_array().unwrap().len(), 1);
    }
    let out = sandbox.run(&["train", "--data", "names.txt", "--model", "bigram", "--steps", "20"]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_for_event(&mut events, "changed", Duration::from_secs(2));
    assert_eq!(
        server.json("/api/sweeps")["sweeps"].as_array().unwrap().len(),
        2,
        "nothing kept from before the commit"
    );
}

#[test]
fn ctrl_c_stops_the_server_at_once_with_a_stream_open() {
    let sandbox = trained();
    let mut server = Server::start(&sandbox);
    let mut events = open_stream(&server);
    wait_for_event(&mut events, "hello", Duration::from_secs(5));
    common::sweeps::kill(server.child.id(), "-INT");
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "still serving 3 s after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_missing_database_or_a_port_in_use_is_one_clear_error() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["serve", "--db", "nothing.db", "--addr", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no database at nothing.db"), "{}", stderr(&out));
    let trained = trained();
    let server = Server::start(&trained);
    let out = trained.run(&["serve", "--addr", &server.addr]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is in use"), "{}", stderr(&out));
}

#[test]
fn launch_with_serve_shows_the_sweep_while_it_runs_and_ends_with_it() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    std::fs::write(
        sandbox.path("live.yaml"),
        "name: live
data: names.txt
parameters:
  model: {value: mlp}
  n_embd: {value: 4}
  n_hidden: {values: [8, 16]}
  steps: {value: 3000}
  eval_every: {value: 500}
",
    )
    .unwrap();
    let args = ["launch", "live.yaml", "--workers", "1", "--serve", "127.0.0.1:0"];
    let (launch, url, drain) = common::serving(&sandbox, &args, Stdio::piped());
    assert!(url.ends_with("/sweep/live"), "{url}");
    let addr = url.trim_end_matches("/sweep/live").to_string();
    let started = Instant::now();
    loop {
        let (status, body) = get_as(&addr, "/api/sweeps/live", &addr);
        if status == 200 {
            let page: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(page["runs"], 2);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{status}: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = launch.wait_with_output().unwrap();
    drain.join().unwrap().unwrap();
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.lines().next().is_some_and(|head| head.starts_with("run")),
        "the sweep's table on stdout: {table}"
    );
}
