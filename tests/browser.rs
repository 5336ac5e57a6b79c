//! The dashboard in a real browser: Debian's chromium, headless, driven through chromedriver
//! against a real sweep. While `launch --serve` trains it, the runs table fills and a training
//! curve gains points without a reload; once it is done, `serve` sorts and filters the table
//! and opens a run with its configuration and samples. Each page is saved as a screenshot
//! under the test's scratch directory (`screenshots/`). Without chromedriver the test says it
//! is skipped, and fails under `CI`.

mod common;

use std::io::BufReader;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::Sandbox;
use common::webdriver::Browser;

const SWEEP: &str = "name: watched
data: names.txt
parameters:
  model: {value: mlp}
  n_embd: {value: 4}
  n_hidden: {values: [8, 16, 24]}
  steps: {value: 30000}
  log_every: {value: 20}
  eval_every: {value: 1000}
";

fn screenshot(browser: &Browser, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    browser.screenshot(&dir.join(format!("{name}.png")));
}

fn rows(browser: &Browser) -> usize {
    browser
        .run("return document.querySelectorAll('#runs tbody tr').length")
        .as_u64()
        .unwrap() as usize
}

fn first_cell(browser: &Browser) -> String {
    let cell = browser.run("const td = document.querySelector('#runs tbody tr td'); return td ? td.textContent : ''");
    cell.as_str().unwrap().to_string()
}

/// Points the chart titled `chart` draws (its `data-points`), 0 before it is drawn.
fn points(browser: &Browser, chart: &str) -> u64 {
    let script = format!(
        "const c = document.querySelector(\"[data-chart='{chart}']\"); return c ? Number(c.dataset.points) : 0"
    );
    browser.run(&script).as_u64().unwrap_or(0)
}

/// `127.0.0.1:PORT` of a printed `127.0.0.1:PORT/sweep/NAME`.
fn address(url: &str) -> String {
    url.split('/').next().unwrap().to_string()
}

#[test]
fn the_dashboard_follows_a_sweep_live_and_its_table_sorts_filters_and_opens_runs() {
    let Some(browser) = Browser::start() else { return };
    let sandbox = Sandbox::new();
    sandbox.names(300);
    std::fs::write(sandbox.path("watched.yaml"), SWEEP).unwrap();
    let secs = Duration::from_secs;

    // Live, while `launch --serve` trains the sweep on one worker.
    let mut launch = sandbox
        .harness(&["launch", "watched.yaml", "--workers", "1", "--serve", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut progress = BufReader::new(launch.stderr.take().unwrap());
    let addr = address(&common::printed_url(&mut progress));
    let drain = std::thread::spawn(move || std::io::copy(&mut progress, &mut std::io::sink()));
    browser.goto(&format!("http://{addr}/sweep/watched"));
    browser.eventually(secs(20), "the runs table fills", |b| rows(b) == 3);
    let mut first = 0;
    browser.eventually(secs(20), "a training curve appears", |b| {
        first = points(b, "training loss");
        first > 0
    });
    browser.eventually(secs(20), "the training curve gains points while we watch", |b| {
        points(b, "training loss") > first
    });
    screenshot(&browser, "sweep-live");
    assert!(launch.wait().unwrap().success());
    drain.join().unwrap().unwrap();

    // The finished sweep, from `harness serve`.
    let mut serve = sandbox
        .harness(&["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = address(&common::printed_url(BufReader::new(serve.stdout.take().unwrap())));
    browser.goto(&format!("http://{addr}/sweep/watched"));
    browser.eventually(secs(10), "the finished table", |b| rows(b) == 3);
    // Sorting: by run, descending on the second click; the order goes into the URL.
    browser.click("#runs thead th:first-child");
    browser.eventually(secs(5), "sorted by run", |b| {
        b.url().contains("sort=id") && first_cell(b) == "1"
    });
    browser.click("#runs thead th:first-child");
    browser.eventually(secs(5), "sorted by run, descending", |b| first_cell(b) == "3");
    assert!(browser.url().contains("sort=id&desc=1"), "{}", browser.url());
    // Filtering by status.
    browser.click("select option[value='stopped']");
    browser.eventually(secs(5), "no stopped run", |b| rows(b) == 0);
    browser.click("select option[value='completed']");
    browser.eventually(secs(5), "three completed runs", |b| rows(b) == 3);
    screenshot(&browser, "sweep-sorted-filtered");
    // A click on a run opens its page, with its configuration and samples.
    browser.click("#runs tbody tr");
    browser.eventually(secs(5), "the run's page", |b| {
        b.run("return !!document.getElementById('config')") == true
    });
    assert!(browser.url().contains("/run/3"), "{}", browser.url());
    let config = browser.run("return document.getElementById('config').textContent");
    assert!(config.as_str().unwrap().contains("\"n_hidden\": 24"), "{config}");
    let samples = browser.run("return document.getElementById('samples').textContent.split('\\n').length");
    assert_eq!(samples, 20);
    screenshot(&browser, "run");

    let _ = serve.kill();
    let _ = serve.wait();
}
