//! The writes: sweeps with their runs, run status changes (each start and end of an attempt
//! with it), curve points, results.
//! Each method is one `BEGIN IMMEDIATE` transaction.

use rusqlite::{Transaction, params};

use super::{Store, StoreError};
use crate::records::{
    CreatedSweep, CurvePoint, NewRun, NewSweep, RanOn, RunId, RunResult, RunStatus, SweepId, VerdictRecord,
};

impl Store {
    /// Stores a sweep and all its runs (status `pending`) in one transaction.
    pub fn create_sweep(&mut self, sweep: &NewSweep, runs: &[NewRun]) -> Result<CreatedSweep, StoreError> {
        self.create_sweep_if(sweep, runs, |_| Ok(()))
    }

    /// `create_sweep`, refused (nothing stored) when `usable` says the id the sweep would get
    /// cannot be used: the caller knows what else is named by a sweep's id.
    pub fn create_sweep_if(
        &mut self,
        sweep: &NewSweep,
        runs: &[NewRun],
        usable: impl FnOnce(SweepId) -> Result<(), String>,
    ) -> Result<CreatedSweep, StoreError> {
        let tx = self.write()?;
        let name_taken = |name: &str| -> Result<bool, StoreError> {
            Ok(
                tx.query_row("SELECT EXISTS (SELECT 1 FROM sweeps WHERE name = ?1)", [name], |r| {
                    r.get(0)
                })?,
            )
        };
        let name = match &sweep.name {
            Some(name) if name_taken(name)? => return Err(StoreError::SweepExists(name.clone())),
            Some(name) => name.clone(),
            None => {
                let next_id: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM sweeps", [], |r| r.get(0))?;
                let base = format!("{}-{next_id}", sweep.kind.as_str());
                let mut name = base.clone();
                let mut suffix = 1;
                while name_taken(&name)? {
                    suffix += 1;
                    name = format!("{base}-{suffix}");
                }
                name
            }
        };
        tx.execute(
            "INSERT INTO sweeps (name, kind, spec, spec_sha256, settings) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name,
                sweep.kind.as_str(),
                sweep.spec,
                sweep.spec_sha256,
                sweep.settings_json
            ],
        )?;
        let sweep_id = SweepId(tx.last_insert_rowid());
        usable(sweep_id).map_err(StoreError::Refused)?;
        let run_ids = insert_runs(&tx, sweep_id, runs)?;
        tx.commit()?;
        Ok(CreatedSweep {
            id: sweep_id,
            name,
            runs: run_ids,
        })
    }

    /// Adds a run (`pending`) to a sweep that exists: a search proposing as it goes.
    pub fn add_run(&mut self, sweep: SweepId, run: &NewRun) -> Result<RunId, StoreError> {
        let tx = self.write()?;
        let id = insert_runs(&tx, sweep, std::slice::from_ref(run))?[0];
        tx.commit()?;
        Ok(id)
    }

    pub fn mark_running(&mut self, run: RunId) -> Result<(), StoreError> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE runs SET status = 'running', attempts = attempts + 1,
                             started_at = coalesce(started_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             WHERE id = ?1",
            [run.0],
        )?;
        found(changed, run)?;
        end_attempt(&tx, run, RunStatus::Interrupted)?;
        tx.execute(
            "INSERT INTO attempts (run_id, attempt) SELECT id, attempts FROM runs WHERE id = ?1",
            [run.0],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a failed attempt of a run: back to `pending` when it will be retried, else
    /// `failed`; `error` (e.g. the tail of the worker's stderr) is kept either way.
    pub fn mark_failed(&mut self, run: RunId, error: &str, retry: bool) -> Result<(), StoreError> {
        let status = if retry { RunStatus::Pending } else { RunStatus::Failed };
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE runs SET status = ?2, error = ?3, retries = retries + ?4 WHERE id = ?1",
            params![run.0, status.as_str(), error, i64::from(retry)],
        )?;
        found(changed, run)?;
        end_attempt_with(&tx, run, RunStatus::Failed, Some(error))?;
        tx.commit()?;
        Ok(())
    }

    /// Appends curve points in one transaction; the run's `steps_done` follows the last one.
    pub fn append_curve(&mut self, run: RunId, points: &[CurvePoint]) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_points(&tx, run, points)?;
        if let Some(last) = points.iter().map(|p| p.step).max() {
            tx.execute(
                "UPDATE runs SET steps_done = max(steps_done, ?2) WHERE id = ?1",
                params![run.0, last as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes the run's curve exactly `points`: what a worker resumed from its checkpoint,
    /// so points a crashed session wrote past that checkpoint go, and any it had not
    /// written yet come back. `steps_done` follows.
    pub fn replace_curve(&mut self, run: RunId, points: &[CurvePoint]) -> Result<(), StoreError> {
        self.replace_curve_from(run, None, points)
    }

    /// The run's curve after `step` is exactly `points` (those after `step` of a checkpoint
    /// whose points up to `step` are another run's: population-based training's donor's).
    pub fn replace_curve_after(&mut self, run: RunId, step: u64, points: &[CurvePoint]) -> Result<(), StoreError> {
        let after: Vec<CurvePoint> = points.iter().filter(|p| p.step > step).cloned().collect();
        self.replace_curve_from(run, Some(step), &after)
    }

    fn replace_curve_from(&mut self, run: RunId, after: Option<u64>, points: &[CurvePoint]) -> Result<(), StoreError> {
        let tx = self.write()?;
        let kept = after.map_or(-1, |step| step as i64);
        tx.execute(
            "DELETE FROM curve_points WHERE run_id = ?1 AND step > ?2",
            params![run.0, kept],
        )?;
        insert_points(&tx, run, points)?;
        let last = points.iter().map(|p| p.step).max().unwrap_or(0).max(after.unwrap_or(0));
        let changed = tx.execute(
            "UPDATE runs SET steps_done = ?2 WHERE id = ?1",
            params![run.0, last as i64],
        )?;
        found(changed, run)?;
        tx.commit()?;
        Ok(())
    }

    /// Where a started run computes: `device` (`cpu`, `cuda:1`) and that processor's name.
    pub fn record_ran_on(&mut self, run: RunId, ran_on: &RanOn) -> Result<(), StoreError> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE runs SET device = ?2, device_name = ?3, host = ?4, slurm_job = ?5 WHERE id = ?1",
            params![run.0, ran_on.device, ran_on.device_name, ran_on.host, ran_on.slurm_job],
        )?;
        found(changed, run)?;
        tx.execute(
            "UPDATE attempts SET device = ?2, device_name = ?3, host = ?4, slurm_job = ?5
             WHERE run_id = ?1 AND ended_at IS NULL",
            params![run.0, ran_on.device, ran_on.device_name, ran_on.host, ran_on.slurm_job],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A run stopped before its end without a result (its worker was killed on request).
    pub fn mark_interrupted(&mut self, run: RunId) -> Result<(), StoreError> {
        self.set_status(run, RunStatus::Interrupted)
    }

    fn set_status(&mut self, run: RunId, status: RunStatus) -> Result<(), StoreError> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE runs SET status = ?2 WHERE id = ?1",
            params![run.0, status.as_str()],
        )?;
        found(changed, run)?;
        end_attempt(&tx, run, status)?;
        tx.commit()?;
        Ok(())
    }

    /// Records the verdicts of one judgement, in order and all or none: each a new one, or
    /// the revision of a `pause` (promoted, or stopped at the sweep's end). Any other second
    /// verdict on the same evaluation is refused.
    pub fn record_verdicts(&mut self, verdicts: &[VerdictRecord]) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_verdicts(&tx, verdicts)?;
        tx.commit()?;
        Ok(())
    }

    /// ASHA holds the run at a rung; its checkpoint stays for a promotion.
    pub fn mark_paused(&mut self, run: RunId) -> Result<(), StoreError> {
        self.set_status(run, RunStatus::Paused)
    }

    /// Records how a run ended, with its last curve points and samples, in one transaction.
    pub fn finish_run(&mut self, run: RunId, result: &RunResult, last_points: &[CurvePoint]) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_points(&tx, run, last_points)?;
        let [train, val, test] = result.losses.map_or([None; 3], |l| l.map(Some));
        let changed = tx.execute(
            "UPDATE runs SET status = ?2, steps_done = ?3, train_loss = ?4, val_loss = ?5, test_loss = ?6,
                             train_seconds = ?7, eval_seconds = ?8, wall_seconds = ?9, steps_per_sec = ?10,
                             error = ?11, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
            params![
                run.0,
                result.status.as_str(),
                result.steps_done as i64,
                train,
                val,
                test,
                result.train_seconds,
                result.eval_seconds,
                result.wall_seconds,
                result.steps_per_sec,
                result.error,
            ],
        )?;
        found(changed, run)?;
        end_attempt(&tx, run, result.status)?;
        {
            let mut insert = tx.prepare("INSERT INTO samples (run_id, position, text) VALUES (?1, ?2, ?3)")?;
            for (position, text) in result.samples.iter().enumerate() {
                insert.execute(params![run.0, position as i64, text])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn insert_runs(tx: &Transaction<'_>, sweep: SweepId, runs: &[NewRun]) -> Result<Vec<RunId>, StoreError> {
    let mut insert = tx.prepare(
        "INSERT INTO runs (sweep_id, run_key, status, config, backend, threads, data_path,
                           data_sha256, git_commit, trainable_params, variant, requested_device)
         VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut ids = Vec::with_capacity(runs.len());
    for run in runs {
        insert.execute(params![
            sweep.0,
            run.run_key,
            run.config_json,
            run.backend,
            run.threads as i64,
            run.data_path,
            run.data_sha256,
            run.git_commit,
            run.trainable_params as i64,
            run.variant,
            run.requested_device,
        ])?;
        ids.push(RunId(tx.last_insert_rowid()));
    }
    Ok(ids)
}

fn insert_points(tx: &Transaction<'_>, run: RunId, points: &[CurvePoint]) -> Result<(), StoreError> {
    let mut insert = tx.prepare("INSERT INTO curve_points (run_id, split, step, loss) VALUES (?1, ?2, ?3, ?4)")?;
    for point in points {
        insert.execute(params![run.0, point.split.as_str(), point.step as i64, point.loss])?;
    }
    Ok(())
}

/// Ends the run's attempt that is still open, if any, with `outcome`.
fn end_attempt(tx: &Transaction<'_>, run: RunId, outcome: RunStatus) -> Result<(), StoreError> {
    end_attempt_with(tx, run, outcome, None)
}

/// Ends the run's open attempt with `outcome`, and `error` when it failed.
fn end_attempt_with(
    tx: &Transaction<'_>,
    run: RunId,
    outcome: RunStatus,
    error: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE attempts SET ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), outcome = ?2, error = ?3
         WHERE run_id = ?1 AND ended_at IS NULL",
        params![run.0, outcome.as_str(), error],
    )?;
    Ok(())
}

/// An `UPDATE` of one run that changed no row means the run does not exist.
fn found(changed: usize, run: RunId) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NoSuchRun(run))
    } else {
        Ok(())
    }
}

/// Each verdict, or the revision of a pause; a second verdict on an evaluation is refused.
pub(super) fn insert_verdicts(tx: &Transaction<'_>, verdicts: &[VerdictRecord]) -> Result<(), StoreError> {
    for verdict in verdicts {
        let changed = tx.execute(
            "INSERT INTO verdicts (run_id, step, value, verdict, first_verdict, seq)
             VALUES (?1, ?2, ?3, ?4, ?4, (SELECT COALESCE(MAX(seq), 0) + 1 FROM verdicts))
             ON CONFLICT (run_id, step) DO UPDATE
             SET verdict = excluded.verdict, seq = excluded.seq,
                 decided_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE verdicts.verdict = 'pause'",
            params![
                verdict.run.0,
                verdict.step as i64,
                verdict.value,
                verdict.decision.as_str()
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::JudgedTwice {
                run: verdict.run,
                step: verdict.step,
            });
        }
    }
    Ok(())
}
