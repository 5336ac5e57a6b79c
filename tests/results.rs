//! End-to-end tests of reading results back: `runs`, `query`, `report`, `sample` and
//! `compare` on a small sweep trained for the purpose.

mod common;

use common::{Sandbox, stderr, stdout};
use serde_json::Value;

/// A sandbox with sweep `grid`: n_hidden 8 and 16, two seeds each, 300 steps.
fn trained() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let spec = sandbox.path("grid.yaml");
    std::fs::write(
        &spec,
        "name: grid
data: names.txt
parameters:
  n_embd: {value: 4}
  n_hidden: {values: [8, 16]}
  seed: {values: [1, 2]}
  steps: {value: 300}
  log_every: {value: 50}
  eval_every: {value: 100}
variants:
  - {label: small, reference: {val_loss: 2.5}}
",
    )
    .unwrap();
    let out = sandbox.run(&["launch", "grid.yaml", "--workers", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    sandbox
}

fn json(out: &std::process::Output) -> Vec<Value> {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// A PNG's width and height, and whether it is drawn on: more than 0.5% of its bytes dark
/// (axes, text, curves), not a blank white canvas.
fn png_facts(path: &std::path::Path) -> (u32, u32, bool) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let dark = pixels.iter().filter(|b| **b < 200).count();
    (info.width, info.height, dark > pixels.len() / 200)
}

#[test]
fn runs_folds_a_sweeps_seeds_and_lists_each_run_on_request() {
    let sandbox = trained();
    let grouped = sandbox.run(&["runs", "--sweep", "grid"]);
    assert!(grouped.status.success(), "{}", stderr(&grouped));
    let text = stdout(&grouped);
    assert_eq!(text.lines().count(), 3, "{text}");
    let header = text.lines().next().unwrap();
    for column in ["variant", "n_hidden", "seeds", "val", "val_ref", "val_diff"] {
        assert!(header.split_whitespace().any(|c| c == column), "{column} in {header}");
    }
    assert!(text.contains(" ± "), "{text}");

    let each = sandbox.run(&["runs", "--sweep", "grid", "--each-run", "--format", "json"]);
    let rows = json(&each);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["status"], "completed");
    assert_eq!(rows[0]["variant"], "small");
    assert!(rows[0]["val_loss"].as_f64().unwrap() > 0.0);

    let filtered = sandbox.run(&[
        "runs",
        "--where",
        "n_hidden = 16",
        "--sort",
        "val_loss",
        "--format",
        "csv",
    ]);
    let csv = stdout(&filtered);
    assert!(csv.starts_with("run,sweep,variant,status,model,"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");

    let folded = json(&sandbox.run(&["runs", "--group-by-seed", "--format", "json"]));
    assert_eq!(folded.len(), 2);
    assert_eq!(
        (&folded[0]["seeds"], &folded[0]["runs"]),
        (&Value::from(2), &Value::from(2))
    );
    assert_eq!(folded[0]["val_ref"], 2.5);
    let best = folded[0]["val_mean"].as_f64().unwrap();
    assert!(best <= folded[1]["val_mean"].as_f64().unwrap(), "ranked best first");

    let bad = sandbox.run(&["runs", "--sort", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("cannot sort by `nope`"), "{}", stderr(&bad));
    let bad = sandbox.run(&["runs", "--where", "no_such_column > 1"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = sandbox.run(&["runs", "--sweep", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn query_reads_the_views_and_refuses_to_change_anything() {
    let sandbox = trained();
    let out = sandbox.run(&["query", "SELECT count(*) AS n FROM runs_wide", "--format", "json"]);
    assert_eq!(json(&out), vec![serde_json::json!({"n": 4})]);
    let out = sandbox.run(&[
        "query",
        "SELECT split, count(*) FROM curves GROUP BY split ORDER BY split",
    ]);
    assert!(stdout(&out).contains("train"), "{}", stdout(&out));
    for sql in [
        "DELETE FROM runs",
        "DROP TABLE runs",
        "INSERT INTO sweeps (name, kind) VALUES ('x', 'sweep')",
    ] {
        let out = sandbox.run(&["query", sql]);
        assert_eq!(out.status.code(), Some(2), "{sql}");
        assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    }
    let attach = sandbox.run(&["query", "ATTACH 'other.db' AS other"]);
    assert_eq!(attach.status.code(), Some(2));
    assert!(!sandbox.path("other.db").exists());
    let invalid = sandbox.run(&["query", "SELEC 1"]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(stderr(&invalid).contains("the query failed"), "{}", stderr(&invalid));
    let out = sandbox.run(&["query", "SELECT count(*) FROM runs", "--format", "csv"]);
    assert_eq!(stdout(&out), "count(*)\n4\n", "nothing changed");
}

#[test]
fn output_to_a_reader_that_goes_away_ends_quietly() {
    let sandbox = trained();
    // 200,000 rows: far more than a pipe holds, so the writer is still writing when we go.
    let many = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 200000) SELECT x FROM n";
    for format in ["table", "csv", "json"] {
        let mut child = sandbox
            .harness(&["query", many, "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 16];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
        drop(child.stdout.take()); // `| head -c 16`
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{format}: no panic, no message");
    }
}

#[test]
fn report_draws_readable_pngs_and_a_markdown_that_embeds_them() {
    let sandbox = trained();
    let out = sandbox.run(&["report", "grid", "--out", "rep", "--smooth", "100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files: Vec<String> = stdout(&out).lines().map(String::from).collect();
    for name in [
        "train.png",
        "val.png",
        "final-val.png",
        "final-val-n_hidden.png",
        "report.md",
    ] {
        assert!(files.iter().any(|f| f.ends_with(name)), "{name} in {files:?}");
    }
    for file in files.iter().filter(|f| f.ends_with(".png")) {
        let (width, height, varied) = png_facts(&sandbox.path(file));
        assert_eq!((width, height), (1200, 800));
        assert!(varied, "{file} is blank");
    }
    let md = std::fs::read_to_string(sandbox.path("rep/report.md")).unwrap();
    assert!(md.contains("![") && md.contains("(train.png)"), "{md}");
    assert!(
        md.contains("| variant | n_hidden | seeds | params | train | val | val_ref | val_diff | test |"),
        "{md}"
    );
    assert!(md.contains("```yaml\nname: grid"), "{md}");
    assert!(md.contains("## Samples from the best run"), "{md}");
    assert!(
        !std::fs::read_dir(sandbox.path("rep")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".staging"))
    );

    assert!(
        md.contains("validation loss, from the first evaluation after step 0"),
        "{md}"
    );

    let time = sandbox.run(&[
        "report", "grid", "--out", "rep2", "--x", "time", "--log-y", "--runs", "1,2",
    ]);
    assert!(time.status.success(), "{}", stderr(&time));
    let md = std::fs::read_to_string(sandbox.path("rep2/report.md")).unwrap();
    assert!(md.contains("### grid: validation loss against training time"), "{md}");
    assert!(md.contains("### grid: training loss against training time"), "{md}");
}

#[test]
fn tables_and_reports_show_what_the_user_varied_rounded_for_reading() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    // Only `lr` is set per run: `lr_final` follows it (lr / 10) without being set, and
    // each configuration has one seed.
    std::fs::write(
        sandbox.path("lrs.yaml"),
        "name: lrs\ndata: names.txt\nparameters:\n  n_embd: {value: 4}\n  n_hidden: {value: 8}\n  lr: {values: [0.1, 0.2]}\n  steps: {value: 200}\n  eval_every: {value: 100}\n",
    )
    .unwrap();
    let out = sandbox.run(&["launch", "lrs.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for table in [stdout(&out), stdout(&sandbox.run(&["runs", "--sweep", "lrs"]))] {
        let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
        assert!(header.contains(&"lr") && !header.contains(&"lr_final"), "{table}");
        assert!(!table.contains('±'), "one seed has no spread: {table}");
    }
    let runs = stdout(&sandbox.run(&["runs", "--sweep", "lrs"]));
    let header: Vec<&str> = runs.lines().next().unwrap().split_whitespace().collect();
    let column = |name: &str| header.iter().position(|c| *c == name).unwrap();
    for row in runs.lines().skip(1) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        for (name, decimals) in [("val_loss", 4), ("steps_per_sec", 1), ("wall_seconds", 1)] {
            let cell = cells[column(name)];
            assert_eq!(
                cell.split_once('.').map(|(_, d)| d.len()),
                Some(decimals),
                "{name} {cell}: {runs}"
            );
        }
    }
    let csv = stdout(&sandbox.run(&["runs", "--sweep", "lrs", "--format", "csv"]));
    assert!(csv.contains(",0.02,"), "csv keeps every parameter: {csv}");

    let report = sandbox.run(&["report", "lrs", "--out", "rep"]);
    assert!(report.status.success(), "{}", stderr(&report));
    let files = stdout(&report);
    assert!(
        files.contains("final-val-lr.png") && !files.contains("lr_final"),
        "{files}"
    );
    let md = std::fs::read_to_string(sandbox.path("rep/report.md")).unwrap();
    let ranking: Vec<&str> = md.lines().filter(|l| l.starts_with("| 0.")).collect();
    assert_eq!(ranking.len(), 2, "{md}");
    assert!(ranking.iter().all(|row| !row.contains('±')), "{md}");
}

#[test]
fn report_refuses_bad_requests_with_one_error_and_writes_nothing() {
    let sandbox = trained();
    let unknown = sandbox.run(&["report", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no sweep named `nope`"));
    let bad_run = sandbox.run(&["report", "grid", "--runs", "99", "--out", "r"]);
    assert_eq!(bad_run.status.code(), Some(2));
    assert!(
        stderr(&bad_run).contains("run 99 is not in sweep `grid`"),
        "{}",
        stderr(&bad_run)
    );
    assert!(!sandbox.path("r").exists());
    std::fs::write(sandbox.path("file"), "").unwrap();
    let unwritable = sandbox.run(&["report", "grid", "--out", "file/sub"]);
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(
        stderr(&unwritable).contains("cannot write the report into"),
        "{}",
        stderr(&unwritable)
    );
}

#[test]
fn sample_draws_seeded_items_from_a_runs_checkpoint_and_marks_known_ones() {
    let sandbox = trained();
    let out = sandbox.run(&["sample", "1", "--count", "30", "--seed", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 30);
    assert!(
        stderr(&out).contains("samples are items of its training split"),
        "{}",
        stderr(&out)
    );
    let again = sandbox.run(&["sample", "1", "--count", "30", "--seed", "3"]);
    assert_eq!(stdout(&out), stdout(&again));
    let cold = sandbox.run(&["sample", "1", "--count", "30", "--seed", "3", "--temperature", "0.05"]);
    assert!(stdout(&cold).contains("(in the training data)"), "{}", stdout(&cold));
    for (args, message) in [
        (vec!["sample", "99"], "no run with id 99"),
        (
            vec!["sample", "1", "--temperature", "0"],
            "--temperature must be a positive number",
        ),
    ] {
        let out = sandbox.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}

#[test]
fn compare_marks_what_differs_and_draws_the_curves() {
    let sandbox = trained();
    let out = sandbox.run(&["compare", "1", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let row = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("n_hidden").contains('≠'), "{text}");
    assert!(!row("n_embd").contains('≠'), "{text}");
    let (width, _, varied) = png_facts(&sandbox.path("compare-1-3.png"));
    assert!(width == 1200 && varied);
    let one = sandbox.run(&["compare", "1"]);
    assert_eq!(one.status.code(), Some(2));
}
