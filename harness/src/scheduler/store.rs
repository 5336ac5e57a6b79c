//! The writes the scheduler makes, as a trait: `results::Store` (SQLite) implements it
//! here; a shared store for multi-machine sweeps would implement the same methods.

use results::{CurvePoint, ExploitRecord, NewRun, RanOn, RunId, RunResult, Store, SweepId, VerdictRecord};

pub trait RunStore {
    /// A search adds a run to its sweep (`pending`).
    fn add_run(&mut self, sweep: SweepId, run: &NewRun) -> anyhow::Result<RunId>;
    /// A worker is about to start the run (one more attempt).
    fn mark_running(&mut self, run: RunId) -> anyhow::Result<()>;
    /// The run's curve is exactly `points` (what its worker resumed with).
    fn replace_curve(&mut self, run: RunId, points: &[CurvePoint]) -> anyhow::Result<()>;
    fn append_curve(&mut self, run: RunId, points: &[CurvePoint]) -> anyhow::Result<()>;
    /// Where the run's worker computes: device, its name, host, Slurm job.
    fn record_ran_on(&mut self, run: RunId, ran_on: &RanOn) -> anyhow::Result<()>;
    /// An attempt failed: back to pending if `retry`, else failed for good.
    fn mark_failed(&mut self, run: RunId, error: &str, retry: bool) -> anyhow::Result<()>;
    /// The user stopped the run and its worker left no result.
    fn mark_interrupted(&mut self, run: RunId) -> anyhow::Result<()>;
    fn finish_run(&mut self, run: RunId, result: &RunResult, last_points: &[CurvePoint]) -> anyhow::Result<()>;
    /// Early termination judged evaluations (or revised pauses), in this order, as one write.
    fn record_verdicts(&mut self, verdicts: &[VerdictRecord]) -> anyhow::Result<()>;
    /// ASHA holds the run at a rung.
    fn mark_paused(&mut self, run: RunId) -> anyhow::Result<()>;
    /// The run's curve after `step` is exactly those of `points` after it (its checkpoint's
    /// points up to `step` are its population-based training donor's).
    fn replace_curve_after(&mut self, run: RunId, step: u64, points: &[CurvePoint]) -> anyhow::Result<()>;
    /// Population-based training's exploits at one step, the members' new settings and the
    /// step's verdicts, as one write.
    fn record_exploits(&mut self, exploits: &[ExploitRecord], verdicts: &[VerdictRecord]) -> anyhow::Result<()>;
    /// The donors' checkpoints of those members' exploits at `step` are in their places.
    fn mark_exploits_copied(&mut self, runs: &[RunId], step: u64) -> anyhow::Result<()>;
}

impl RunStore for Store {
    fn add_run(&mut self, sweep: SweepId, run: &NewRun) -> anyhow::Result<RunId> {
        Ok(Store::add_run(self, sweep, run)?)
    }

    fn mark_running(&mut self, run: RunId) -> anyhow::Result<()> {
        Ok(Store::mark_running(self, run)?)
    }

    fn replace_curve(&mut self, run: RunId, points: &[CurvePoint]) -> anyhow::Result<()> {
        Ok(Store::replace_curve(self, run, points)?)
    }

    fn record_ran_on(&mut self, run: RunId, ran_on: &RanOn) -> anyhow::Result<()> {
        Ok(Store::record_ran_on(self, run, ran_on)?)
    }

    fn append_curve(&mut self, run: RunId, points: &[CurvePoint]) -> anyhow::Result<()> {
        Ok(Store::append_curve(self, run, points)?)
    }

    fn mark_failed(&mut self, run: RunId, error: &str, retry: bool) -> anyhow::Result<()> {
        Ok(Store::mark_failed(self, run, error, retry)?)
    }

    fn mark_interrupted(&mut self, run: RunId) -> anyhow::Result<()> {
        Ok(Store::mark_interrupted(self, run)?)
    }

    fn finish_run(&mut self, run: RunId, result: &RunResult, last_points: &[CurvePoint]) -> anyhow::Result<()> {
        Ok(Store::finish_run(self, run, result, last_points)?)
    }

    fn record_verdicts(&mut self, verdicts: &[VerdictRecord]) -> anyhow::Result<()> {
        Ok(Store::record_verdicts(self, verdicts)?)
    }

    fn mark_paused(&mut self, run: RunId) -> anyhow::Result<()> {
        Ok(Store::mark_paused(self, run)?)
    }

    fn replace_curve_after(&mut self, run: RunId, step: u64, points: &[CurvePoint]) -> anyhow::Result<()> {
        Ok(Store::replace_curve_after(self, run, step, points)?)
    }

    fn record_exploits(&mut self, exploits: &[ExploitRecord], verdicts: &[VerdictRecord]) -> anyhow::Result<()> {
        Ok(Store::record_exploits(self, exploits, verdicts)?)
    }

    fn mark_exploits_copied(&mut self, runs: &[RunId], step: u64) -> anyhow::Result<()> {
        Ok(Store::mark_exploits_copied(self, runs, step)?)
    }
}
