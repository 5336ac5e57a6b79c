//! A `pbt:` population in `report`: each member's validation curve with its jumps (at an
//! exploit it drops, or climbs, straight to its donor's value: the weights it goes on from),
//! each mutated setting by step for every member, and the table of exploits — all from the
//! stored curves and the `exploits` table.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use results::plot::{self, Chart, Ink, Series};
use results::summary::significant;
use results::{ExploitRecord, RunId, RunRecord, Split, Store};
use serde_json::Value;

use crate::pbt::Pbt;
use crate::space::Domain;

/// Draws the population's figures into `dir`; returns (file name, caption) of each.
pub fn draw(
    store: &Store,
    (name, pbt): (&str, &Pbt),
    runs: &[RunRecord],
    exploits: &[ExploitRecord],
    dir: &Path,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut figures = Vec::new();
    let mut curves = Vec::new();
    for (index, run) in runs.iter().enumerate() {
        let points = with_jumps(&store.curve(run.id, Split::Val)?, run.id, exploits);
        curves.push(series(format!("run {}", run.id), index, points));
    }
    if curves.iter().any(|s| s.points.len() > 1) {
        let title = format!("{name}: val loss of each member, jumping to its donor's at each exploit");
        let chart = chart(&title, "val loss", false);
        plot::lines(&dir.join("pbt-val.png"), &chart, &curves)?;
        figures.push(("pbt-val.png".to_string(), title));
    }
    for mutation in &pbt.mutations {
        let setting = &mutation.setting;
        let lines: Vec<Series> = runs
            .iter()
            .enumerate()
            .map(|(index, run)| {
                let points = settings_by_step(run, exploits, setting, pbt.steps)
                    .into_iter()
                    .filter_map(|(step, value)| Some((step as f64, value.as_f64()?)))
                    .collect();
                series(format!("run {}", run.id), index, points)
            })
            .collect();
        if lines.iter().all(|s| s.points.is_empty()) {
            continue;
        }
        let file = format!("pbt-{setting}.png");
        let title = format!("{name}: {setting} of each member by step");
        let log = matches!(mutation.domain, Domain::LogUniform { .. });
        plot::lines(&dir.join(&file), &chart(&title, setting, log), &lines)?;
        figures.push((file, title));
    }
    Ok(figures)
}

/// `curve` of `run`, with a straight drop (or climb) at each of its exploits from its own value
/// there to its donor's, where its next points go on from.
fn with_jumps(curve: &[(u64, f64)], run: RunId, exploits: &[ExploitRecord]) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(curve.len());
    for &(step, loss) in curve {
        points.push((step as f64, loss));
        if let Some(exploit) = exploits.iter().find(|e| e.run == run && e.step == step) {
            points.push((step as f64, exploit.donor_value));
        }
    }
    points
}

fn chart<'a>(title: &'a str, y_label: &'a str, log_y: bool) -> Chart<'a> {
    Chart {
        title,
        x_label: "step",
        y_label,
        log_x: false,
        log_y,
        x_names: None,
    }
}

fn series(label: String, index: usize, points: Vec<(f64, f64)>) -> Series {
    Series {
        label,
        ink: Ink::Palette(index),
        points,
        dots: false,
        band: Vec::new(),
        stops: Vec::new(),
    }
}

/// `setting` of `run` from step 0 to `steps`, as a line of steps: its first value, then the
/// value it took at each of its exploits.
fn settings_by_step(run: &RunRecord, exploits: &[ExploitRecord], setting: &str, steps: u64) -> Vec<(u64, Value)> {
    let read = |json: &str| {
        serde_json::from_str::<BTreeMap<String, Value>>(json)
            .ok()
            .and_then(|config| config.get(setting).cloned())
    };
    let Some(mut value) = read(results::starting_settings(run, exploits)) else {
        return Vec::new();
    };
    let mut points = vec![(0, value.clone())];
    for exploit in exploits.iter().filter(|e| e.run == run.id) {
        if let Some(next) = read(&exploit.config_after) {
            points.push((exploit.step, value));
            points.push((exploit.step, next.clone()));
            value = next;
        }
    }
    points.push((steps, value));
    points
}

/// The report's table of exploits: at each step, who went on from whom, at what values, with
/// which changes.
pub fn exploits_section(runs: &[RunRecord], exploits: &[ExploitRecord]) -> String {
    let mut md = String::from(
        "## Exploits\n\nAt each exploit step, each member that went on from a better member's checkpoint, \
         its val loss and its donor's there, and how its settings changed.\n\n",
    );
    if exploits.is_empty() {
        md.push_str("None yet.\n\n");
        return md;
    }
    md.push_str("| step | member | val | donor | donor's val | changes |\n|---|---|---|---|---|---|\n");
    let shown: Vec<RunId> = runs.iter().map(|run| run.id).collect();
    for e in exploits.iter().filter(|e| shown.contains(&e.run)) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            e.step,
            e.run,
            significant(e.value, 5),
            e.donor,
            significant(e.donor_value, 5),
            e.changes.join("; ")
        );
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exploit(run: i64, step: u64, before: &str, after: &str) -> ExploitRecord {
        ExploitRecord {
            run: RunId(run),
            step,
            value: 3.0,
            donor: RunId(9),
            donor_value: 2.5,
            config_before: before.into(),
            config_after: after.into(),
            changes: Vec::new(),
            copied: true,
        }
    }

    #[test]
    fn a_members_curve_jumps_to_its_donors_value_at_its_exploit() {
        let curve = [(0, 3.5), (100, 3.0), (200, 2.4)];
        let exploits = [exploit(1, 100, "{}", "{}"), exploit(2, 200, "{}", "{}")];
        assert_eq!(
            with_jumps(&curve, RunId(1), &exploits),
            [(0.0, 3.5), (100.0, 3.0), (100.0, 2.5), (200.0, 2.4)]
        );
    }

    #[test]
    fn a_setting_by_step_is_a_line_of_steps_through_each_exploit() {
        let run = crate::view::test_run(1, results::RunStatus::Completed, None, r#"{"lr":0.004}"#);
        let exploits = [
            exploit(1, 200, r#"{"lr":0.001}"#, r#"{"lr":0.002}"#),
            exploit(1, 400, r#"{"lr":0.002}"#, r#"{"lr":0.004}"#),
        ];
        let lr: Vec<(u64, f64)> = settings_by_step(&run, &exploits, "lr", 600)
            .into_iter()
            .map(|(step, value)| (step, value.as_f64().unwrap()))
            .collect();
        assert_eq!(
            lr,
            [
                (0, 0.001),
                (200, 0.001),
                (200, 0.002),
                (400, 0.002),
                (400, 0.004),
                (600, 0.004)
            ]
        );
    }
}
