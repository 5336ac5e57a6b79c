//! The dashboard in a real browser: Debian's chromium, headless, driven through chromedriver
//! against real sweeps. While `launch --serve` trains, the runs table fills, a training curve
//! gains points without a reload, and a zoom outlives the redraws; a finished sweep's table
//! sorts, filters and opens a run; hyperband's stopped run shows its ×, its verdict and why;
//! brushing a parallel axis filters the table and curves; hovering a curve names its run and a
//! click opens it; picked runs are compared; a page left open over Ctrl-C, `resume` and
//! `serve` follows the sweep to its end (the pages of searches: `browser_searches.rs`). Each page is saved as a screenshot under
//! the test's scratch directory (`screenshots/`). Without chromedriver the tests say they are
//! skipped, and fail under `CI`.
mod common;

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

/// The run on the table's first row.
fn first_run(browser: &Browser) -> String {
    let cell = browser.run("const tr = document.querySelector('#runs tbody tr'); return tr ? tr.dataset.run : ''");
    cell.as_str().unwrap().to_string()
}

/// An attribute of the chart titled `chart` (`data-NAME`) as a number, 0 before it is drawn.
fn chart_number(browser: &Browser, chart: &str, name: &str) -> u64 {
    let script = format!(
        "const c = document.querySelector(\"[data-chart='{chart}']\"); return c ? Number(c.dataset.{name}) : 0"
    );
    browser.run(&script).as_u64().unwrap_or(0)
}

/// Where, in the viewport, the point of `position` (0 bottom, 1 top) on the parallel axis of
/// `key` is, scrolled into view.
fn on_axis(browser: &Browser, key: &str, position: f64) -> (f64, f64) {
    let script = format!(
        "const lane = document.querySelector(\"[data-axis='{key}']\"); lane.scrollIntoView({{block: 'center'}});
         const r = lane.getBoundingClientRect(); return [r.left + r.width / 2, r.top + (1 - {position}) * r.height]"
    );
    xy(&browser.run(&script))
}

/// Where, in the viewport, the last point of the line labelled `label` of chart `chart` is.
fn last_point(browser: &Browser, chart: &str, label: &str) -> (f64, f64) {
    let script = format!(
        "const box = document.querySelector(\"[data-chart='{chart}']\"); box.scrollIntoView({{block: 'center'}});
         const u = box.plot, s = u.series.findIndex((s) => s.label && s.label.startsWith('{label}'));
         let i = u.data[s].length - 1; while (u.data[s][i] === null || u.data[s][i] === undefined) i--;
         const r = u.over.getBoundingClientRect();
         return [r.left + u.valToPos(u.data[0][i], 'x'), r.top + u.valToPos(u.data[s][i], 'y')]"
    );
    xy(&browser.run(&script))
}

/// How many times the page has drawn its view (app.js counts them).
fn rendered(browser: &Browser) -> u64 {
    browser
        .run("return Number(document.getElementById('main').dataset.rendered)")
        .as_u64()
        .unwrap()
}

fn xy(value: &serde_json::Value) -> (f64, f64) {
    (value[0].as_f64().unwrap(), value[1].as_f64().unwrap())
}

/// Points the chart titled `chart` draws (its `data-points`), 0 before it is drawn.
fn points(browser: &Browser, chart: &str) -> u64 {
    chart_number(browser, chart, "points")
}

#[test]
fn the_dashboard_follows_a_sweep_live_and_its_table_sorts_filters_and_opens_runs() {
    let Some(browser) = Browser::start() else { return };
    let sandbox = Sandbox::new();
    sandbox.names(300);
    std::fs::write(sandbox.path("watched.yaml"), SWEEP).unwrap();
    let secs = Duration::from_secs;

    // Live, while `launch --serve` trains the sweep on one worker.
    let args = ["launch", "watched.yaml", "--workers", "1", "--serve", "127.0.0.1:0"];
    let (mut launch, url, drain) = common::serving(&sandbox, &args, Stdio::null());
    let addr = common::address(&url);
    browser.goto(&format!("http://{addr}/sweep/watched"));
    browser.eventually(secs(20), "the runs table fills", |b| b.rows() == 3);
    let mut first = 0;
    browser.eventually(secs(20), "a training curve appears", |b| {
        first = points(b, "training loss");
        first > 0
    });
    browser.eventually(secs(20), "the training curve gains points while we watch", |b| {
        points(b, "training loss") > first
    });
    browser.save_screenshot("sweep-live");
    // A zoom (dragging across the chart) outlives the live redraws.
    let across = |at: f64| {
        let script = format!(
            "const box = document.querySelector(\"[data-chart='training loss']\"); box.scrollIntoView({{block: 'center'}});
             const r = box.plot.over.getBoundingClientRect(); return [r.left + {at} * r.width, r.top + r.height / 2]"
        );
        xy(&browser.run(&script))
    };
    browser.drag(across(0.2), across(0.6));
    let shown = |b: &Browser| {
        b.run("const x = document.querySelector(\"[data-chart='training loss']\").plot.scales.x; return [x.min, x.max]")
    };
    let zoomed = shown(&browser);
    let drawn = rendered(&browser);
    browser.eventually(secs(20), "a live redraw", |b| rendered(b) > drawn);
    assert_eq!(shown(&browser), zoomed, "the zoom kept");
    assert_eq!(
        browser.run("return document.querySelector(\"[data-chart='training loss']\").dataset.zoomed"),
        "1"
    );
    assert!(launch.wait().unwrap().success());
    drain.join().unwrap().unwrap();

    // The finished sweep, from `harness serve`.
    let (mut serve, addr) = common::serve(&sandbox);
    browser.goto(&format!("http://{addr}/sweep/watched"));
    browser.eventually(secs(10), "the finished table", |b| b.rows() == 3);
    // Sorting: by run, descending on the second click; the order goes into the URL.
    browser.click("#runs thead th[data-key='id']");
    browser.eventually(secs(5), "sorted by run", |b| {
        b.url().contains("sort=id") && first_run(b) == "1"
    });
    browser.click("#runs thead th[data-key='id']");
    browser.eventually(secs(5), "sorted by run, descending", |b| first_run(b) == "3");
    assert!(browser.url().contains("sort=id&desc=1"), "{}", browser.url());
    // Filtering by status.
    browser.click("#status-filter option[value='stopped']");
    browser.eventually(secs(5), "no stopped run", |b| b.rows() == 0);
    browser.click("#status-filter option[value='completed']");
    browser.eventually(secs(5), "three completed runs", |b| b.rows() == 3);
    browser.save_screenshot("sweep-sorted-filtered");
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
    browser.save_screenshot("run");

    let _ = serve.kill();
    let _ = serve.wait();
}

#[test]
fn a_stopped_run_shows_its_verdict_and_brushing_comparing_and_clicking_a_curve_work() {
    let Some(browser) = Browser::start() else { return };
    let sandbox = Sandbox::new();
    sandbox.names(300);
    // Three learning rates; hyperband stops the run of 0.00001 (run 3) at step 100.
    std::fs::write(sandbox.path("hb.yaml"), common::sweeps::HYPERBAND_SPEC).unwrap();
    let out = sandbox.run(&["launch", "hb.yaml"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (mut server, addr) = common::serve(&sandbox);
    let secs = Duration::from_secs;

    browser.goto(&format!("http://{addr}/sweep/hb"));
    browser.eventually(secs(10), "the table", |b| b.rows() == 3);
    browser.eventually(secs(10), "a × on the stopped run's validation curve", |b| {
        chart_number(b, "validation loss", "stopped") == 1
    });
    assert!(
        browser.text("#summary").contains("1 stopped"),
        "{}",
        browser.text("#summary")
    );
    browser.save_screenshot("sweep-stopped");

    // Brushing the top half of the lr axis (0.1 and 0.05 on its log scale) keeps two runs.
    browser.drag(on_axis(&browser, "lr", 0.5), on_axis(&browser, "lr", 1.05));
    browser.eventually(secs(5), "two runs inside the brush", |b| b.rows() == 2);
    assert!(browser.url().contains("b.lr="), "{}", browser.url());
    assert_eq!(
        chart_number(&browser, "validation loss", "lines"),
        2,
        "the curves follow the brush"
    );
    browser.save_screenshot("sweep-brushed");
    // A click on the axis clears its brush.
    let at = on_axis(&browser, "lr", 0.2);
    browser.drag(at, at);
    browser.eventually(secs(5), "the brush cleared", |b| {
        b.rows() == 3 && !b.url().contains("b.lr")
    });

    // Hovering a curve names its run; a click opens it.
    let end = last_point(&browser, "validation loss", "run 3");
    browser.hover(end);
    browser.eventually(secs(5), "hover names run 3", |b| {
        b.text("[data-chart='validation loss'] .hover").contains("run 3")
    });
    browser.drag(end, end);
    browser.eventually(secs(5), "run 3's page", |b| b.url().ends_with("/run/3"));
    browser.eventually(secs(5), "its verdicts", |b| b.text("#verdicts").contains("stop"));
    // Why, as `harness explain` tells it: the threshold of the band it missed.
    let why = browser.text("#explanation");
    assert!(
        why.contains("step 100, val ") && why.contains("stop — ") && why.contains("against the threshold"),
        "{why}"
    );
    assert_eq!(chart_number(&browser, "loss", "stopped"), 1, "the × on its own curve");
    browser.save_screenshot("run-stopped");

    // Two runs picked in the table, compared.
    browser.goto(&format!("http://{addr}/sweep/hb?sort=id"));
    browser.eventually(secs(10), "the table", |b| b.rows() == 3);
    browser.click("#runs tbody tr[data-run='1'] input");
    browser.eventually(secs(5), "one pick", |b| b.text("#compare").contains("pick two"));
    browser.click("#runs tbody tr[data-run='3'] input");
    browser.eventually(secs(5), "two picks", |b| b.text("#compare") == "compare 2 runs");
    browser.click("#compare");
    browser.eventually(secs(5), "the compare page", |b| b.url().ends_with("/compare?runs=1,3"));
    let differing = |b: &Browser| {
        b.run("return [...document.querySelectorAll('#differences tbody tr')].map((tr) => tr.textContent).join(' | ')")
    };
    browser.eventually(secs(5), "the settings that differ", |b| {
        differing(b).as_str().is_some_and(|t| !t.is_empty())
    });
    let differing = differing(&browser);
    // lr, and lr_final that follows it; then the outcomes.
    assert!(
        differing
            .as_str()
            .unwrap()
            .starts_with("lr0.100001.00e-5 | lr_final0.010001.00e-6 | status"),
        "{differing}"
    );
    assert_eq!(chart_number(&browser, "validation loss", "lines"), 2);
    browser.save_screenshot("compare");

    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn a_page_left_open_over_ctrl_c_resume_and_serve_follows_the_sweep_to_its_end() {
    let Some(browser) = Browser::start() else { return };
    let sandbox = Sandbox::new();
    let spec = common::sweeps::write_spec(&sandbox, "paused", "[1, 2]", 20000);
    // One address for every server, as a user's open tab or bookmark has.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let start = |command: &[&str]| {
        let (child, _, drain) = common::serving(&sandbox, command, Stdio::null());
        (child, drain)
    };
    let live = |b: &Browser| b.run("return document.getElementById('live').classList.contains('on')") == true;
    let secs = Duration::from_secs;

    let (first, drain) = start(&["launch", spec.to_str().unwrap(), "--workers", "1", "--serve", &addr]);
    browser.goto(&format!("http://{addr}/sweep/paused"));
    browser.eventually(secs(20), "a run training", |b| b.text("#summary").contains("1 running"));
    common::sweeps::kill(first.id(), "-INT");
    let out = first.wait_with_output().unwrap();
    drain.join().unwrap().unwrap();
    assert!(!out.status.success(), "Ctrl-C ends the sweep unfinished");
    browser.eventually(secs(10), "the page knows the server went", |b| !live(b));
    browser.save_screenshot("sweep-interrupted");

    // The same page, never reloaded, reconnects to the resumed sweep and follows it.
    let before = rendered(&browser);
    let (second, drain) = start(&["resume", "paused", "--workers", "1", "--serve", &addr]);
    browser.eventually(secs(20), "the page back on the resumed sweep", |b| {
        live(b) && rendered(b) > before
    });
    assert!(second.wait_with_output().unwrap().status.success());
    drain.join().unwrap().unwrap();

    // And to `harness serve` once the sweep is done: every run completed, nothing stale.
    let mut server = sandbox
        .harness(&["serve", "--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    browser.eventually(secs(20), "every run completed on the open page", |b| {
        b.text("#summary").starts_with("4 runs · 4 completed")
    });
    assert_eq!(browser.rows(), 4);
    let table = browser.text("#runs");
    assert!(!table.contains("interrupted") && !table.contains("running"), "{table}");
    browser.save_screenshot("sweep-resumed");
    let _ = server.kill();
    let _ = server.wait();
}
