//! End-to-end: a `pbt:` population's worst members go on from a best member's checkpoint with
//! explored settings — the same exploits and losses on one worker, two, and through SIGKILLs
//! then `resume`; each member's stored curve is its own; `replay --verify` ranks every step
//! again and catches an edited value; `explain`, `report` and `runs` show each member; and an
//! exploited member trained on exactly from its donor's state (made again with `harness worker`).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use common::sweeps::{assert_continuous_curves, launch_through_kills, runs, write_population};
use common::{Sandbox, open_store, stderr, stdout};
use results::{ExploitRecord, RunRecord, RunStatus, Split};
use serde_json::{Value, json};

fn launch(sandbox: &Sandbox, spec: &str, name: &str, workers: &str) {
    let out = sandbox.run(&["launch", spec, "--name", name, "--workers", workers]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn exploits(sandbox: &Sandbox, name: &str) -> Vec<ExploitRecord> {
    let store = open_store(&sandbox.db());
    let sweep = store.find_sweep(name).unwrap().unwrap();
    store.sweep_exploits(sweep.id).unwrap()
}

/// Each member's latest settings, status and losses, and every exploit, its runs numbered
/// from 1 in the sweep.
type Outcome = (Vec<(String, RunStatus, Option<f64>, Option<f64>)>, Vec<ExploitRecord>);

fn outcome(sandbox: &Sandbox, name: &str) -> Outcome {
    let members = runs(&sandbox.db(), name);
    let first = members[0].id.0 - 1;
    let exploits = exploits(sandbox, name)
        .into_iter()
        .map(|mut e| {
            e.run.0 -= first;
            e.donor.0 -= first;
            e
        })
        .collect();
    let members = members
        .into_iter()
        .map(|run| (run.config_json, run.status, run.val_loss, run.test_loss))
        .collect();
    (members, exploits)
}

#[test]
fn a_population_exploits_the_same_on_one_worker_two_and_through_kills() {
    let sandbox = Sandbox::new();
    let spec = write_population(&sandbox, 6, 800);
    launch(&sandbox, &spec, "one", "1");
    let one = outcome(&sandbox, "one");
    let steps: Vec<u64> = one.1.iter().map(|e| e.step).collect();
    assert_eq!(
        steps,
        [200, 200, 400, 400, 600, 600],
        "the worst 2 of 6 at each interval"
    );
    assert!(one.1.iter().all(|e| e.copied && e.value > e.donor_value), "{:?}", one.1);
    assert!(one.0.iter().all(|m| m.1 == RunStatus::Completed), "{:?}", one.0);

    let store = open_store(&sandbox.db());
    let members = runs(&sandbox.db(), "one");
    for exploit in &one.1 {
        // Its stored curve is its own: its value there is the one it was ranked on.
        let curve = store.curve(exploit.run, Split::Val).unwrap();
        let own = curve.iter().find(|(step, _)| *step == exploit.step).unwrap().1;
        assert_eq!(own, exploit.value, "run {} at {}", exploit.run, exploit.step);
    }
    for member in &members {
        assert_continuous_curves(&sandbox.db(), member, 800);
    }
    let latest = |run| {
        one.1
            .iter()
            .rev()
            .find(|e| e.run == run)
            .map(|e| e.config_after.clone())
    };
    for member in &members {
        if let Some(config) = latest(member.id) {
            assert_eq!(member.config_json, config, "a member keeps its latest settings");
        }
    }

    // Members that ended with the same settings are listed one by one, not as replicates.
    let shared = one
        .0
        .iter()
        .filter(|m| one.0.iter().filter(|o| o.0 == m.0).count() > 1)
        .count();
    assert!(shared > 1, "this population has members with the same final settings");
    let listed = stdout(&sandbox.run(&["runs", "--sweep", "one"]));
    assert_eq!(listed.lines().count(), 1 + 6, "{listed}");

    launch(&sandbox, &spec, "two", "2");
    assert_eq!(outcome(&sandbox, "two"), one, "two workers");
    launch_through_kills(&sandbox, &spec, "killed");
    assert_eq!(outcome(&sandbox, "killed"), one, "killed and resumed");
    for name in ["one", "two", "killed"] {
        let out = sandbox.run(&["replay", name, "--verify"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("6 exploits made again from the stored values, all as stored"),
            "{}",
            stderr(&out)
        );
    }

    // The first exploit's member and donor, as `explain` tells them.
    let first = &one.1[0];
    let told = stdout(&sandbox.run(&["explain", &first.run.to_string()]));
    let from = format!("of 6 (val {})", results::summary::significant(first.value, 5));
    assert!(told.contains("step 200: ranked ") && told.contains(&from), "{told}");
    let from = format!("went on from run {}'s checkpoint (ranked ", first.donor);
    assert!(told.contains(&from) && told.contains(&first.changes[0]), "{told}");
    let told = stdout(&sandbox.run(&["explain", &first.donor.to_string()]));
    assert!(told.contains("gave its checkpoint to run"), "{told}");

    // `report` draws the curves with their jumps and lr by step, and lists every exploit.
    let out_dir = sandbox.path("report-one");
    let out = sandbox.run(&["report", "one", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out_dir.join("pbt-val.png").exists() && out_dir.join("pbt-lr.png").exists());
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let rows = md
        .lines()
        .filter(|line| line.contains(" → ") && line.starts_with("| "))
        .count();
    assert!(md.contains("## Exploits") && rows == 6, "{md}");
    let ranked = md
        .lines()
        .skip_while(|line| !line.starts_with("Members by their final val_loss"));
    let members = ranked.filter(|line| line.contains(" | one | ")).count();
    assert_eq!(members, 6, "each member ranked on its own: {md}");

    // The worst member at step 200 made the best there: the population ranks otherwise.
    let db = rusqlite::Connection::open(sandbox.db()).unwrap();
    let edited = db
        .execute(
            "UPDATE verdicts SET value = 0.5 WHERE run_id = ?1 AND step = 200",
            [first.run.0],
        )
        .unwrap();
    assert_eq!(edited, 1);
    let out = sandbox.run(&["replay", "one", "--verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("differ from those stored"), "{}", stderr(&out));
}

/// A worker job for `run`'s data and threads, training `config` with `checkpoint`.
fn job(run: &RunRecord, config: &str, checkpoint: &std::path::Path, judged: bool) -> Value {
    json!({
        "run_id": run.id.0,
        "config": serde_json::from_str::<Value>(config).unwrap(),
        "backend": run.backend,
        "device": "cpu",
        "threads": run.threads,
        "data_path": run.data_path,
        "data_sha256": run.data_sha256,
        "checkpoint": checkpoint,
        "checkpoint_every": 100,
        "judged": judged,
        "settings_change": true,
    })
}

/// Runs `harness worker` on `job`, answering each evaluation before `stop_at` with `continue`
/// and the one there with `interrupt`; the last event.
fn work(sandbox: &Sandbox, job: &Value, stop_at: Option<u64>) -> Value {
    let mut child = sandbox
        .harness(&["worker"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{job}").unwrap();
    let mut last = Value::Null;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if event["event"] == "awaiting_verdict" {
            let verdict = if Some(event["step"].as_u64().unwrap()) == stop_at {
                "interrupt"
            } else {
                "continue"
            };
            writeln!(stdin, "\"{verdict}\"").unwrap();
        }
        last = event;
    }
    assert!(child.wait().unwrap().success());
    last
}

#[test]
fn a_member_that_exploited_trained_on_from_its_donors_state_with_its_new_settings() {
    let sandbox = Sandbox::new();
    // 400 steps: one interval, at step 200, where the worst of 4 takes from the best.
    let spec = write_population(&sandbox, 4, 400);
    launch(&sandbox, &spec, "pop", "2");
    let [exploit] = exploits(&sandbox, "pop").try_into().unwrap();
    assert_eq!(exploit.step, 200);
    let members = runs(&sandbox.db(), "pop");
    let of = |id| members.iter().find(|run: &&RunRecord| run.id == id).unwrap();
    let (member, donor) = (of(exploit.run), of(exploit.donor));

    // The donor from scratch to step 200, its checkpoint there; then the member's new settings
    // from that checkpoint to the end.
    let checkpoint = sandbox.path("again.ckpt");
    work(&sandbox, &job(donor, &donor.config_json, &checkpoint, true), Some(200));
    assert_eq!(member.config_json, exploit.config_after);
    let end = work(&sandbox, &job(member, &exploit.config_after, &checkpoint, false), None);
    let losses = &end["outcome"]["losses"];
    let stored = [member.train_loss, member.val_loss, member.test_loss].map(Option::unwrap);
    assert_eq!(
        [&losses["train"], &losses["val"], &losses["test"]].map(|v| v.as_f64().unwrap()),
        stored,
        "run {} went on from run {}'s state at step 200 with {:?}",
        member.id,
        donor.id,
        exploit.changes
    );
}
