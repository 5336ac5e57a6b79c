//! The store in memory for the scheduler's tests: each run's status, attempts, curve, device,
//! error and result, the verdicts in the order they were given, and the exploits.

use std::collections::HashMap;

use results::{
    CurvePoint, Decision, ExploitRecord, NewRun, RanOn, RunId, RunResult, RunStatus, SweepId, VerdictRecord,
};

use super::super::RunStore;

#[derive(Debug, Default)]
pub struct FakeRun {
    pub status: Option<RunStatus>,
    pub attempts: u32,
    pub curve: Vec<CurvePoint>,
    pub device: Option<String>,
    pub error: Option<String>,
    pub result: Option<RunResult>,
}

#[derive(Default)]
pub struct FakeStore(
    pub HashMap<RunId, FakeRun>,
    pub Vec<VerdictRecord>,
    pub Vec<ExploitRecord>,
);

impl RunStore for FakeStore {
    /// Proposed runs are numbered from 101.
    fn add_run(&mut self, _: SweepId, _: &NewRun) -> anyhow::Result<RunId> {
        let id = RunId(101 + self.0.keys().filter(|id| id.0 > 100).count() as i64);
        self.0.insert(id, FakeRun::default());
        Ok(id)
    }
    fn mark_running(&mut self, run: RunId) -> anyhow::Result<()> {
        let r = self.0.entry(run).or_default();
        r.status = Some(RunStatus::Running);
        r.attempts += 1;
        Ok(())
    }
    fn replace_curve(&mut self, run: RunId, points: &[CurvePoint]) -> anyhow::Result<()> {
        self.0.entry(run).or_default().curve = points.to_vec();
        Ok(())
    }
    fn record_ran_on(&mut self, run: RunId, ran_on: &RanOn) -> anyhow::Result<()> {
        self.0.entry(run).or_default().device = Some(format!("{} ({})", ran_on.device, ran_on.device_name));
        Ok(())
    }
    fn append_curve(&mut self, run: RunId, points: &[CurvePoint]) -> anyhow::Result<()> {
        self.0.entry(run).or_default().curve.extend_from_slice(points);
        Ok(())
    }
    fn mark_failed(&mut self, run: RunId, error: &str, retry: bool) -> anyhow::Result<()> {
        let r = self.0.entry(run).or_default();
        r.status = Some(if retry { RunStatus::Pending } else { RunStatus::Failed });
        r.error = Some(error.into());
        Ok(())
    }
    fn mark_interrupted(&mut self, run: RunId) -> anyhow::Result<()> {
        self.0.entry(run).or_default().status = Some(RunStatus::Interrupted);
        Ok(())
    }
    fn finish_run(&mut self, run: RunId, result: &RunResult, last_points: &[CurvePoint]) -> anyhow::Result<()> {
        let r = self.0.entry(run).or_default();
        r.curve.extend_from_slice(last_points);
        r.status = Some(result.status);
        r.result = Some(result.clone());
        Ok(())
    }
    /// As the real store: each a new verdict, or the revision of a pause, which moves it to
    /// the end of the order they were given in.
    fn record_verdicts(&mut self, verdicts: &[VerdictRecord]) -> anyhow::Result<()> {
        for verdict in verdicts {
            let given = self
                .1
                .iter()
                .position(|v| (v.run, v.step) == (verdict.run, verdict.step));
            if let Some(at) = given {
                let given = self.1.remove(at);
                anyhow::ensure!(
                    given.decision == Decision::Pause,
                    "judged twice: {given:?}, then {verdict:?}"
                );
            }
            self.1.push(*verdict);
        }
        Ok(())
    }
    fn mark_paused(&mut self, run: RunId) -> anyhow::Result<()> {
        self.0.entry(run).or_default().status = Some(RunStatus::Paused);
        Ok(())
    }
    fn replace_curve_after(&mut self, run: RunId, step: u64, points: &[CurvePoint]) -> anyhow::Result<()> {
        let curve = &mut self.0.entry(run).or_default().curve;
        curve.retain(|p| p.step <= step);
        curve.extend(points.iter().filter(|p| p.step > step));
        Ok(())
    }
    fn record_exploits(&mut self, exploits: &[ExploitRecord], verdicts: &[VerdictRecord]) -> anyhow::Result<()> {
        self.record_verdicts(verdicts)?;
        self.2.extend_from_slice(exploits);
        Ok(())
    }
    fn mark_exploits_copied(&mut self, runs: &[RunId], step: u64) -> anyhow::Result<()> {
        let copied = self.2.iter_mut().filter(|e| e.step == step && runs.contains(&e.run));
        copied.for_each(|e| e.copied = true);
        Ok(())
    }
}
