//! End-to-end tests of `harness train`: the real binary on tiny data made by the tests,
//! checking what it prints, its exit code, and what it stored in SQLite.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use common::{Sandbox, made_up_names, open_store, stderr, stdout};
use results::{RunId, RunStatus, Split};

/// A small, fast configuration: 300 steps of a tiny wavenet.
const QUICK: &[&str] = &[
    "--n-embd",
    "4",
    "--n-hidden",
    "16",
    "--steps",
    "300",
    "--log-every",
    "50",
    "--eval-every",
    "100",
];

fn train(sandbox: &Sandbox, data: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let db = sandbox.db();
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--db", db.to_str().unwrap()];
    args.extend_from_slice(QUICK);
    args.extend_from_slice(extra);
    sandbox.run(&args)
}

#[test]
fn train_records_a_completed_run_with_curves_losses_and_samples() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let out = train(&sandbox, &data, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("run 1 (sweep train-1): completed after 300 of 300 steps"),
        "{printed}"
    );
    assert!(printed.contains("loss: train "), "{printed}");
    assert!(printed.contains("samples:"), "{printed}");
    // stderr is not a terminal here: plain progress lines instead of a bar.
    assert!(stderr(&out).contains("step 100/300"), "{}", stderr(&out));

    let store = open_store(&sandbox.db());
    let run = store.run(RunId(1)).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.steps_done, 300);
    assert_eq!(run.backend, "flex");
    assert_eq!(run.device.as_deref(), Some("cpu"));
    assert!(!run.device_name.unwrap().is_empty(), "the processor's name");
    assert_eq!(run.threads, 1);
    assert_eq!(run.data_sha256.len(), 64);
    assert!(run.data_path.ends_with("names.txt"));
    let context_free = common::unigram_entropy(&std::fs::read_to_string(&data).unwrap());
    assert!(
        run.val_loss.unwrap() < context_free,
        "val {:?} is not below the unigram entropy {context_free}: nothing learned",
        run.val_loss
    );
    assert!(run.test_loss.is_some() && run.train_loss.is_some());
    assert!(run.steps_per_sec.unwrap() > 0.0);
    let config: serde_json::Value = serde_json::from_str(&run.config_json).unwrap();
    assert_eq!(config["n_embd"], 4);
    assert_eq!(config["model"], "wavenet");
    assert_eq!(config["lr_final"], 0.01);
    let train_steps: Vec<u64> = store.curve(run.id, Split::Train).unwrap().iter().map(|p| p.0).collect();
    let val_steps: Vec<u64> = store.curve(run.id, Split::Val).unwrap().iter().map(|p| p.0).collect();
    assert_eq!(train_steps, vec![50, 100, 150, 200, 250, 300]);
    assert_eq!(val_steps, vec![0, 100, 200, 300]);
    assert_eq!(store.samples(run.id).unwrap().len(), 20);
    // The run's final checkpoint is kept for `harness sample`.
    assert!(sandbox.path("harness.db.checkpoints/sweep-1/run-1.ckpt").is_file());
    let sampled = sandbox.run(&["sample", "1", "--count", "3"]);
    assert!(sampled.status.success(), "{}", stderr(&sampled));
    assert_eq!(stdout(&sampled).lines().count(), 3);
}

#[test]
fn the_bench_command_prints_its_speed_as_one_json_line() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let out = sandbox.run(&[
        "bench",
        "--data",
        data.to_str().unwrap(),
        "--backend",
        "flex",
        "--steps",
        "40",
        "--warmup",
        "20",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["impl"], "flex");
    // The lecture's final model, on this data's 16-token vocabulary: 72,448 + 153 × 16.
    assert_eq!(line["params"], 74_896);
    assert!(line["steps_per_sec"].as_f64().unwrap() > 0.0 && line["eval_seconds"].as_f64().unwrap() > 0.0);
}

/// The lines of a file written by `harness split`.
fn lines_of(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn split_writes_the_items_a_run_trains_on() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let out = train(&sandbox, &data, &["--split-seed", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = sandbox.path("split");
    let split = |seed: &str, extra: &[&str]| {
        let mut args = vec![
            "split",
            "--data",
            data.to_str().unwrap(),
            "--out-dir",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(&["--split-seed", seed]);
        args.extend_from_slice(extra);
        sandbox.run(&args)
    };
    let out = split("7", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let [train, val, test] = ["train.txt", "val.txt", "test.txt"].map(|name| lines_of(&dir.join(name)));
    assert_eq!([train.len(), val.len(), test.len()], [160, 20, 20], "cut 80/10/10");
    let mut all: Vec<String> = [train.clone(), val, test].concat();
    let mut items = lines_of(&data);
    all.sort();
    items.sort();
    assert_eq!(all, items, "the three parts hold every item once");

    // `harness sample` marks the items of the run's own training split: the file agrees on every one.
    let sampled = sandbox.run(&["sample", "1", "--count", "300"]);
    assert!(sampled.status.success(), "{}", stderr(&sampled));
    let (mut marked, mut unmarked) = (0, 0);
    for line in stdout(&sampled).lines() {
        let (item, in_training) = match line.split_once("  (in the training data)") {
            Some((item, _)) => (item.trim_end(), true),
            None => (line, false),
        };
        assert_eq!(train.iter().any(|t| t == item), in_training, "{item}");
        if in_training { marked += 1 } else { unmarked += 1 }
    }
    assert!(
        marked > 0 && unmarked > 0,
        "{marked} marked, {unmarked} not: the check saw both kinds"
    );

    // Existing files are kept unless --force; another seed cuts differently.
    let refused = split("8", &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("pass --force"), "{}", stderr(&refused));
    assert_eq!(lines_of(&dir.join("train.txt")), train);
    let replaced = split("8", &["--force"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_ne!(lines_of(&dir.join("train.txt")), train);
}

#[test]
fn the_same_seed_gives_the_same_curve_through_the_binary() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    for extra in [&["--seed", "5"][..], &["--seed", "5"], &["--seed", "6"]] {
        assert!(train(&sandbox, &data, extra).status.success());
    }
    let store = open_store(&sandbox.db());
    let curve = |id| store.curve(RunId(id), Split::Train).unwrap();
    assert_eq!(curve(1), curve(2));
    assert_ne!(curve(1), curve(3));
}

#[test]
fn both_backends_train_and_are_recorded() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let out = train(
        &sandbox,
        &data,
        &["--backend", "ndarray", "--threads", "2", "--name", "nd"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let run = open_store(&sandbox.db()).run(RunId(1)).unwrap();
    assert_eq!(
        (run.backend.as_str(), run.threads, run.sweep_name.as_str()),
        ("ndarray", 2, "nd")
    );
    assert_eq!(run.status, RunStatus::Completed);
}

#[test]
fn a_diverging_run_is_a_result_not_a_crash() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let out = train(&sandbox, &data, &["--lr", "1e30"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("diverged"), "{}", stdout(&out));
    let run = open_store(&sandbox.db()).run(RunId(1)).unwrap();
    assert_eq!(run.status, RunStatus::Diverged);
    assert!(run.val_loss.is_none());
}

#[test]
fn invalid_options_exit_2_naming_the_flag_and_write_nothing() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    for (extra, flag, reason) in [
        (&["--block-size", "6"][..], "--block-size", "must be a power of two"),
        (&["--batch-size", "1"], "--batch-size", "must be at least 2"),
        (&["--lr=-1"], "--lr", "must be a positive number"),
        (&["--lr-decay-at", "2"], "--lr-decay-at", "must be a fraction"),
        (&["--split-seed", "many"], "--split-seed", "expected a whole number"),
        (
            &["--model", "mlp", "--batchnorm-bug"],
            "--batchnorm-bug",
            "is not a setting of model `mlp` (its own settings: n_embd, n_hidden, block_size)",
        ),
        (
            &["--model", "wavenet-conv", "--n-stacks", "0"],
            "--n-stacks",
            "at least 1",
        ),
        (&["--model", "wavenet-conv", "--n-skip", "0"], "--n-skip", "at least 1"),
        (
            &["--model", "bigram"],
            "--n-embd",
            "is not a setting of model `bigram` (it has no settings of its own)",
        ),
        (
            &[
                "--model",
                "wavenet-conv",
                "--lr-schedule",
                "cosine",
                "--lr-decay-at",
                "0.5",
            ],
            "--lr-decay-at",
            "applies only with lr_schedule `step`",
        ),
    ] {
        let out = train(&sandbox, &data, extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let message = stderr(&out);
        assert!(
            message.contains(flag) && message.contains(reason),
            "{extra:?}: {message}"
        );
    }
    let out = sandbox.run(&["train", "--model", "lstm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("possible values: mlp, wavenet"),
        "{}",
        stderr(&out)
    );
    assert!(!sandbox.db().exists(), "nothing may be written for a refused command");
}

#[test]
fn a_backend_or_device_this_binary_cannot_use_exits_2_before_writing_anything() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(100);
    let mut cases = vec![
        (&["--device", "cuda"][..], "backend `flex` computes on the CPU only"),
        (
            &["--backend", "cuda", "--device", "cpu"],
            "backend `cuda` computes on a GPU",
        ),
        (&["--device", "gpu"], "expected cpu, cuda or cuda:N"),
    ];
    #[cfg(not(feature = "tch"))]
    cases.push((
        &["--backend", "tch"],
        "build with `cargo build --release --features tch`",
    ));
    #[cfg(not(feature = "cuda"))]
    cases.push((
        &["--backend", "cuda"],
        "build with `cargo build --release --features cuda`",
    ));
    for (extra, expected) in cases {
        let out = train(&sandbox, &data, extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{extra:?}: {}", stderr(&out));
    }
    assert!(!sandbox.db().exists(), "nothing may be written for a refused run");
}

#[test]
fn unusable_data_files_exit_2_with_the_reason() {
    let sandbox = Sandbox::new();
    let write = |name: &str, bytes: &[u8]| {
        let path = sandbox.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let cases = [
        (sandbox.path("missing.txt"), "cannot read the data file"),
        (write("empty.txt", b"\n\n  \n"), "no items"),
        (write("binary.bin", b"PK\x03\x04\0\0abc"), "looks binary"),
        (write("few.txt", b"ann\nbob\ncid\n"), "has 3 items; at least 10"),
    ];
    for (path, expected) in cases {
        let out = train(&sandbox, &path, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        let err = stderr(&out);
        assert!(
            err.contains(expected) && err.contains(path.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
    }
    assert!(!sandbox.db().exists());
}

#[test]
fn harness_data_env_var_selects_the_data() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let db = sandbox.db();
    let mut args = vec!["train", "--db", db.to_str().unwrap()];
    args.extend_from_slice(QUICK);
    let out = sandbox.harness(&args).env("HARNESS_DATA", &data).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(open_store(&db).run(RunId(1)).unwrap().data_path.ends_with("names.txt"));
}

/// Serves `body` over HTTP on loopback for up to `requests` requests; returns its URL.
fn serve(body: Vec<u8>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/names.txt", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
        }
    });
    url
}

/// A URL on loopback where nothing listens.
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/names.txt", listener.local_addr().unwrap());
    drop(listener);
    url
}

fn train_without_data(sandbox: &Sandbox, url: &str, sha256: &str) -> std::process::Output {
    let db = sandbox.db();
    let mut args = vec!["train", "--db", db.to_str().unwrap()];
    args.extend_from_slice(QUICK);
    sandbox
        .harness(&args)
        .env("HARNESS_NAMES_URL", url)
        .env("HARNESS_NAMES_SHA256", sha256)
        .output()
        .unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

#[test]
fn without_data_the_dataset_is_downloaded_verified_and_cached() {
    let sandbox = Sandbox::new();
    let body = made_up_names(200).into_bytes();
    let sha = sha256_hex(&body);
    let out = train_without_data(&sandbox, &serve(body.clone(), 1), &sha);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("downloading the names dataset"));
    assert_eq!(std::fs::read(sandbox.path("cache/names.txt")).unwrap(), body);
    // The second run finds it in the cache: the server is gone and it still works.
    let out = train_without_data(&sandbox, &dead_url(), &sha);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("downloading"));
    assert_eq!(open_store(&sandbox.db()).run(RunId(2)).unwrap().data_sha256, sha);
}

#[test]
fn a_download_with_the_wrong_checksum_is_refused_and_not_cached() {
    let sandbox = Sandbox::new();
    let url = serve(made_up_names(200).into_bytes(), 1);
    let out = train_without_data(&sandbox, &url, &"0".repeat(64));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("expected 0000") && err.contains("it was not used") && err.contains("--data"),
        "{err}"
    );
    assert!(!sandbox.path("cache/names.txt").exists());
    assert!(!sandbox.db().exists());
}

#[test]
fn offline_without_data_says_to_pass_data() {
    let sandbox = Sandbox::new();
    let out = train_without_data(&sandbox, &dead_url(), &"0".repeat(64));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("could not download the names dataset") && err.contains("pass --data PATH"),
        "{err}"
    );
    assert!(!sandbox.db().exists());
}

#[test]
fn ctrl_c_stops_the_run_and_records_it_as_interrupted() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let db = sandbox.db();
    let child = sandbox
        .harness(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--steps",
            "1000000",
            "--log-every",
            "10",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training has written its first points, then interrupt it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while db
        .exists()
        .then(|| results::Store::open_read_only(&db).ok())
        .flatten()
        .and_then(|s| s.curve(RunId(1), Split::Val).ok())
        .is_none_or(|c| c.is_empty())
    {
        assert!(Instant::now() < deadline, "training never started");
        thread::sleep(Duration::from_millis(100));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("interrupted"), "{}", stdout(&out));
    let run = open_store(&db).run(RunId(1)).unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    assert!(run.steps_done > 0 && run.steps_done < 1_000_000);
}

/// `harness train` for makemore.py's sequence models, small and short, on `data`.
fn train_sequence_model(
    sandbox: &Sandbox,
    data: &std::path::Path,
    model: &str,
    extra: &[&str],
) -> std::process::Output {
    let db = sandbox.db();
    let mut args = vec![
        "train",
        "--model",
        model,
        "--data",
        data.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--n-embd",
        "16",
        "--steps",
        "200",
        "--eval-every",
        "100",
        "--lr",
        "0.01",
    ];
    args.extend_from_slice(extra);
    sandbox.run(&args)
}

#[test]
fn sequence_models_train_on_whole_items_with_makemore_s_defaults_and_sample() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(300);
    let uniform = (made_up_names(300)
        .chars()
        .filter(|c| *c != '\n')
        .collect::<std::collections::BTreeSet<_>>()
        .len() as f64
        + 1.0)
        .ln();
    for (model, extra) in [
        ("rnn", &["--n-embd2", "16"][..]),
        ("gru", &["--n-embd2", "16"]),
        ("transformer", &["--n-layer", "1", "--n-head", "2"]),
    ] {
        let out = train_sequence_model(&sandbox, &data, model, extra);
        assert!(out.status.success(), "{model}: {}", stderr(&out));
    }
    let store = open_store(&sandbox.db());
    for run in 1..=3 {
        let record = store.run(RunId(run)).unwrap();
        assert_eq!(record.status, RunStatus::Completed);
        let config: serde_json::Value = serde_json::from_str(&record.config_json).unwrap();
        // makemore.py's optimizer, as the models' own defaults: AdamW, betas 0.9/0.99, constant.
        assert_eq!(
            (
                &config["optimizer"],
                &config["beta2"],
                &config["lr_schedule"],
                &config["block_size"]
            ),
            (
                &serde_json::json!("adamw"),
                &serde_json::json!(0.99),
                &serde_json::json!("constant"),
                &serde_json::json!(16)
            ),
            "run {run}"
        );
        let val = record.val_loss.unwrap();
        assert!(val < uniform - 0.4, "run {run}: val {val} vs ln(vocab) {uniform}");
        let out = sandbox.run(&["sample", &run.to_string(), "--count", "5", "--seed", "1"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stdout(&out).lines().filter(|l| !l.trim().is_empty()).count(),
            5,
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn sequence_models_refuse_shapes_and_data_they_cannot_take_and_write_nothing() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(200);
    let longest = made_up_names(200).lines().map(|l| l.chars().count()).max().unwrap();
    let too_short = format!(
        "is 4, but model `gru` reads whole items and the longest item of the data has {longest} characters: set block_size to at least {}",
        longest + 1
    );
    for (model, extra, flag, reason) in [
        (
            "transformer",
            &["--n-head", "3"][..],
            "--n-head",
            "must divide n_embd (16) into equal heads, got 3",
        ),
        ("transformer", &["--n-layer", "0"], "--n-layer", "must be at least 1"),
        (
            "rnn",
            &["--n-layer", "2"],
            "--n-layer",
            "is not a setting of model `rnn`",
        ),
        ("gru", &["--block-size", "4"], "--block-size", too_short.as_str()),
    ] {
        let out = train_sequence_model(&sandbox, &data, model, extra);
        assert_eq!(out.status.code(), Some(2), "{model} {extra:?}");
        let message = stderr(&out);
        assert!(
            message.contains(flag) && message.contains(reason),
            "{model} {extra:?}: {message}"
        );
    }
    assert!(!sandbox.db().exists(), "nothing may be written for a refused command");
}
