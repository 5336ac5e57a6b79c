//! The pages of searches in a real browser (as `browser.rs`): a halving sweep's page counts the
//! runs at each rung and its last run's page tells where it came from; a population's page
//! counts its exploits and a member's page tells at each exploit step how it ranked and whom it
//! went on from. Screenshots go to `screenshots/` in the tests' scratch folder.
mod common;

use std::time::Duration;

use common::Sandbox;
use common::webdriver::Browser;

#[test]
fn a_halving_sweep_page_counts_each_rungs_runs_and_a_run_page_tells_where_it_came_from() {
    let Some(browser) = Browser::start() else { return };
    let sandbox = Sandbox::new();
    let halving = "halving: {min_steps: 200, eta: 2}";
    let spec = common::sweeps::write_six_mlps(&sandbox, "method: grid", halving);
    let out = sandbox.run(&["launch", &spec]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (mut server, addr) = common::serve(&sandbox);
    let secs = Duration::from_secs;

    browser.goto(&format!("http://{addr}/sweep/hb"));
    browser.eventually(secs(10), "the table", |b| b.rows() == 10);
    let summary = browser.text("#summary");
    assert!(
        summary.contains("halving: 6 at 200 steps, 3 at 400 steps, 1 at 800 steps"),
        "{summary}"
    );
    browser.save_screenshot("sweep-halving");

    // The run trained to the end, run 10: the run it continues and how that one ranked.
    browser.goto(&format!("http://{addr}/run/10"));
    browser.eventually(secs(10), "the run's explanation", |b| {
        b.text("#explanation").contains("halving: rung 3 of 3")
    });
    let why = browser.text("#explanation");
    assert!(
        why.contains("sent on from run ") && why.contains("ranked 1 of 3"),
        "{why}"
    );
    browser.save_screenshot("run-halving");
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn a_population_page_counts_its_exploits_and_a_member_page_tells_whom_it_went_on_from() {
    let Some(browser) = Browser::start() else { return };
    let sandbox = Sandbox::new();
    let spec = common::sweeps::write_population(&sandbox, 6, 800);
    let out = sandbox.run(&["launch", &spec]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (mut server, addr) = common::serve(&sandbox);
    let secs = Duration::from_secs;

    browser.goto(&format!("http://{addr}/sweep/pop"));
    browser.eventually(secs(10), "the table", |b| b.rows() == 6);
    let summary = browser.text("#summary");
    assert!(
        summary.contains("population-based training: 6 exploits at 3 of 3 exploit steps"),
        "{summary}"
    );
    browser.save_screenshot("sweep-pbt");

    let store = common::open_store(&sandbox.db());
    let sweep = store.find_sweep("pop").unwrap().unwrap();
    let first = store.sweep_exploits(sweep.id).unwrap().remove(0);
    browser.goto(&format!("http://{addr}/run/{}", first.run));
    browser.eventually(secs(10), "the member's explanation", |b| {
        b.text("#explanation").contains("step 200: ranked")
    });
    let went_on = format!("went on from run {}'s checkpoint", first.donor);
    let why = browser.text("#explanation");
    assert!(why.contains(&went_on), "{why}");
    let exploits = browser.text("#exploits");
    assert!(
        exploits.contains(&went_on) && exploits.contains(&first.changes[0]),
        "{exploits}"
    );
    browser.save_screenshot("run-pbt");
    let _ = server.kill();
    let _ = server.wait();
}
