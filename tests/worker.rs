//! End-to-end tests of the hidden `harness worker`: the process the sweep scheduler
//! starts for each run. A job goes in on stdin; JSON events come out on stdout. A checkpoint
//! of other settings is refused, unless the job says they may change (population-based
//! training), and then only those that may change part-way.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};

use common::{Sandbox, stderr};
use model::{TrainConfig, TrainOptions};
use serde_json::{Value, json};

fn job(sandbox: &Sandbox, steps: u64) -> Value {
    let data = sandbox.names(200);
    let sha256 = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(std::fs::read(&data).unwrap()))
    };
    let mut options = TrainOptions {
        steps,
        log_every: 50,
        eval_every: 100,
        ..TrainOptions::default()
    };
    options.set("n_embd", 4).set("n_hidden", 16);
    let config = TrainConfig::try_from(options).unwrap();
    json!({
        "run_id": 7,
        "config": config,
        "backend": "flex",
        "device": "cpu",
        "threads": 1,
        "data_path": data,
        "data_sha256": sha256,
        "checkpoint": sandbox.path("run-7.ckpt"),
        "checkpoint_every": 100,
    })
}

/// `harness worker` reading `job`, with `env` set (as Slurm sets variables for a task).
fn spawn(sandbox: &Sandbox, job: &Value, env: &[(&str, &str)]) -> Child {
    let mut child = sandbox
        .harness(&["worker"])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{job}").unwrap();
    child
}

/// Runs a job to the end; returns the events and the exit status.
fn run(sandbox: &Sandbox, job: &Value) -> (Vec<Value>, std::process::Output) {
    let out = spawn(sandbox, job, &[]).wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (events, out)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

#[test]
fn a_worker_trains_its_job_and_streams_events_ending_with_the_outcome() {
    let sandbox = Sandbox::new();
    let (events, out) = run(&sandbox, &job(&sandbox, 300));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut started = events[0].clone();
    let device_name = started.as_object_mut().unwrap().remove("device_name");
    assert!(
        device_name
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty()),
        "the processor's name: {device_name:?}"
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        started.as_object_mut().unwrap().remove("host"),
        Some(json!(host.trim()))
    );
    // 16 tokens (15 letters and `.`), n_embd 4, n_hidden 16, block 8: embedding 16·4 = 64,
    // three FlattenConsecutive(2) → Linear → BatchNorm layers 4·2·16 + 32 = 160 and
    // 16·2·16 + 32 = 544 twice, head 16·16 + 16 = 272: 1,584.
    assert_eq!(
        started,
        json!({"event": "started", "device": "cpu", "slurm_job": null, "steps_done": 0,
               "trainable_params": 1584, "history": []})
    );
    let points = events.iter().filter(|e| e["event"] == "point").count();
    assert_eq!(points, 1 + 6 + 3, "val at 0, train every 50, val every 100");
    let checkpoints: Vec<u64> = events
        .iter()
        .filter(|e| e["event"] == "checkpointed")
        .map(|e| e["step"].as_u64().unwrap())
        .collect();
    assert_eq!(checkpoints, vec![100, 200, 300]);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["outcome"]["ending"], "completed");
    assert_eq!(last["outcome"]["samples"].as_array().unwrap().len(), 20);
    assert!(sandbox.path("run-7.ckpt").exists());
}

#[test]
fn a_stopped_worker_resumes_from_its_checkpoint_to_the_same_result() {
    let whole = Sandbox::new();
    // Long enough that the stop surely lands mid-run.
    let steps = 5_000;
    let (events, _) = run(&whole, &job(&whole, steps));
    let uninterrupted = events.last().unwrap()["outcome"].clone();

    let sandbox = Sandbox::new();
    let job = job(&sandbox, steps);
    let mut child = spawn(&sandbox, &job, &[]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Stop it once it has checkpointed step 100.
    for line in lines.by_ref() {
        if serde_json::from_str::<Value>(&line.unwrap()).unwrap()["event"] == "checkpointed" {
            break;
        }
    }
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let rest: Vec<Value> = lines.map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    assert!(child.wait().unwrap().success());
    let stopped = rest.last().unwrap();
    assert_eq!(stopped["outcome"]["ending"], "interrupted", "{rest:?}");
    let stopped_at = stopped["outcome"]["steps_done"].as_u64().unwrap();
    assert!(stopped_at < steps);

    let (events, out) = run(&sandbox, &job);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(events[0]["steps_done"], stopped_at, "resumes where it stopped");
    let history = events[0]["history"].as_array().unwrap();
    assert_eq!(
        history.last().unwrap()["step"],
        stopped_at,
        "the curve so far comes with it"
    );
    assert_eq!(kinds(&events).iter().filter(|k| **k == "started").count(), 1);
    assert_eq!(events.last().unwrap()["outcome"]["losses"], uninterrupted["losses"]);
    assert_eq!(events.last().unwrap()["outcome"]["samples"], uninterrupted["samples"]);
}

#[test]
fn on_a_slurm_node_a_missing_file_is_named_with_the_node() {
    let sandbox = Sandbox::new();
    let mut job = job(&sandbox, 100);
    job["data_path"] = json!("/shared/not/mounted/here/names.txt");
    let out = spawn(&sandbox, &job, &[("SLURM_JOB_ID", "4242")])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(
        stderr(&out).contains(&format!(
            "on Slurm node {}: cannot read the data file /shared/not/mounted/here/names.txt",
            host.trim()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_worker_refuses_data_that_changed_since_the_run_was_planned() {
    let sandbox = Sandbox::new();
    let mut job = job(&sandbox, 100);
    job["data_sha256"] = json!("0".repeat(64));
    let (events, out) = run(&sandbox, &job);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the user's to fix: put the original file back"
    );
    assert!(events.is_empty());
    assert!(
        stderr(&out).contains("changed since run 7 was planned"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_worker_refuses_a_malformed_job() {
    let sandbox = Sandbox::new();
    let (events, out) = run(&sandbox, &json!({"run_id": 1, "config": {"n_embd": 0}}));
    assert_eq!(out.status.code(), Some(1));
    assert!(events.is_empty());
    assert!(
        stderr(&out).contains("the worker expects one JSON job on stdin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_checkpoint_of_other_settings_is_refused_unless_the_settings_may_change() {
    let sandbox = Sandbox::new();
    let first = job(&sandbox, 200);
    assert!(run(&sandbox, &first).1.status.success());
    let mut other = first.clone();
    other["config"]["lr"] = json!(0.2);
    let (events, out) = run(&sandbox, &other);
    assert!(!out.status.success() && events.is_empty());
    assert!(
        stderr(&out).contains("belongs to another configuration than run 7"),
        "{}",
        stderr(&out)
    );
    // Population-based training's run: a new lr goes on from the checkpoint; a new width not.
    other["settings_change"] = json!(true);
    let (events, out) = run(&sandbox, &other);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(events[0]["steps_done"], 200);
    other["config"]["n_hidden"] = json!(32);
    let out = run(&sandbox, &other).1;
    assert!(
        stderr(&out).contains("`n_hidden` cannot change part-way"),
        "{}",
        stderr(&out)
    );
}
