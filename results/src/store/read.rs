//! The reads: sweeps, runs, curves and samples as stored.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError};
use crate::records::{
    AttemptRecord, RunId, RunRecord, RunStatus, Split, SweepId, SweepRecord, SweepSummary, VerdictRecord,
};

/// The columns `run_record` reads, in its order.
const RUN_COLUMNS: &str = "r.id, s.name, r.status, r.config, r.backend, r.threads, r.data_path, r.data_sha256,
     r.git_commit, r.trainable_params, r.steps_done, r.train_loss, r.val_loss, r.test_loss,
     r.steps_per_sec, r.wall_seconds, r.error, r.attempts, r.run_key, r.variant, r.device, r.device_name, r.requested_device,
     r.host, r.slurm_job, r.retries
     FROM runs r JOIN sweeps s ON s.id = r.sweep_id";

impl Store {
    pub fn run(&self, id: RunId) -> Result<RunRecord, StoreError> {
        self.conn
            .query_row(&format!("SELECT {RUN_COLUMNS} WHERE r.id = ?1"), [id.0], run_record)
            .optional()?
            .ok_or(StoreError::NoSuchRun(id))
    }

    /// The sweep named `name`, if there is one.
    pub fn find_sweep(&self, name: &str) -> Result<Option<SweepRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(&format!("SELECT {SWEEP_COLUMNS} WHERE name = ?1"), [name], sweep_record)
            .optional()?)
    }

    /// Every sweep, oldest first, with its runs counted by status.
    pub fn sweep_summaries(&self) -> Result<Vec<SweepSummary>, StoreError> {
        let mut sweeps = self.conn.prepare(&format!("SELECT {SWEEP_COLUMNS} ORDER BY id"))?;
        let mut counts = self
            .conn
            .prepare("SELECT status, count(*) FROM runs WHERE sweep_id = ?1 GROUP BY status")?;
        let mut summaries = Vec::new();
        for sweep in sweeps.query_map([], sweep_record)? {
            let sweep = sweep?;
            let mut summary = SweepSummary {
                counts: [0; RunStatus::ALL.len()],
                sweep,
            };
            for row in counts.query_map([summary.sweep.id.0], |row| {
                Ok((parse_text::<RunStatus>(row, 0)?, row.get::<_, i64>(1)? as usize))
            })? {
                let (status, n) = row?;
                if let Some(i) = RunStatus::ALL.iter().position(|s| *s == status) {
                    summary.counts[i] = n;
                }
            }
            summaries.push(summary);
        }
        Ok(summaries)
    }

    /// Every run of a sweep, in the order they were planned.
    pub fn sweep_runs(&self, sweep: SweepId) -> Result<Vec<RunRecord>, StoreError> {
        let mut query = self
            .conn
            .prepare(&format!("SELECT {RUN_COLUMNS} WHERE r.sweep_id = ?1 ORDER BY r.id"))?;
        let runs = query.query_map([sweep.0], run_record)?;
        Ok(runs.collect::<Result<_, _>>()?)
    }

    /// A run's curve for one split, by step.
    pub fn curve(&self, run: RunId, split: Split) -> Result<Vec<(u64, f64)>, StoreError> {
        let mut query = self
            .conn
            .prepare("SELECT step, loss FROM curve_points WHERE run_id = ?1 AND split = ?2 ORDER BY step")?;
        let points = query.query_map(params![run.0, split.as_str()], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get(1)?))
        })?;
        Ok(points.collect::<Result<_, _>>()?)
    }

    /// The runs of a sweep that have at least one point of `split`'s curve.
    pub fn runs_with_curve(&self, sweep: SweepId, split: Split) -> Result<HashSet<RunId>, StoreError> {
        let mut query = self.conn.prepare(
            "SELECT r.id FROM runs r WHERE r.sweep_id = ?1
             AND EXISTS (SELECT 1 FROM curve_points c WHERE c.run_id = r.id AND c.split = ?2)",
        )?;
        let ids = query.query_map(params![sweep.0, split.as_str()], |row| Ok(RunId(row.get(0)?)))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// For each ended run of the sweep: seconds from the first start of any of its runs to
    /// its end, by run.
    pub fn finish_seconds(&self, sweep: SweepId) -> Result<Vec<(RunId, f64)>, StoreError> {
        let mut query = self.conn.prepare(
            "SELECT id, (julianday(finished_at) -
                         (SELECT min(julianday(started_at)) FROM runs WHERE sweep_id = ?1)) * 86400.0
             FROM runs WHERE sweep_id = ?1 AND finished_at IS NOT NULL ORDER BY id",
        )?;
        let times = query.query_map([sweep.0], |row| Ok((RunId(row.get(0)?), row.get(1)?)))?;
        Ok(times.collect::<Result<_, _>>()?)
    }

    /// The early-termination verdicts on a sweep's runs, in the order they were given or last
    /// revised.
    pub fn sweep_verdicts(&self, sweep: SweepId) -> Result<Vec<VerdictRecord>, StoreError> {
        let mut query = self.conn.prepare(
            "SELECT v.run_id, v.step, v.value, v.verdict FROM verdicts v JOIN runs r ON r.id = v.run_id
             WHERE r.sweep_id = ?1 ORDER BY COALESCE(v.seq, 0), v.run_id, v.step",
        )?;
        let verdicts = query.query_map([sweep.0], |row| {
            Ok(VerdictRecord {
                run: RunId(row.get(0)?),
                step: row.get::<_, i64>(1)? as u64,
                value: row.get(2)?,
                decision: parse_text(row, 3)?,
            })
        })?;
        Ok(verdicts.collect::<Result<_, _>>()?)
    }

    /// Each run of the sweep that was ever held at an evaluation (paused, or stopped there
    /// at once): the first step it was, and its loss there. Revisions leave a verdict's first
    /// decision.
    pub fn first_held(&self, sweep: SweepId) -> Result<Vec<(RunId, u64, f64)>, StoreError> {
        // SQLite takes `value` from the row that holds the MIN.
        let mut query = self.conn.prepare(
            "SELECT v.run_id, MIN(v.step), v.value FROM verdicts v JOIN runs r ON r.id = v.run_id
             WHERE r.sweep_id = ?1 AND COALESCE(v.first_verdict, v.verdict) IN ('pause', 'stop')
             GROUP BY v.run_id ORDER BY v.run_id",
        )?;
        let held = query.query_map([sweep.0], |row| {
            Ok((RunId(row.get(0)?), row.get::<_, i64>(1)? as u64, row.get(2)?))
        })?;
        Ok(held.collect::<Result<_, _>>()?)
    }

    /// The run's attempts, first to last (recorded since schema 10).
    pub fn attempts(&self, run: RunId) -> Result<Vec<AttemptRecord>, StoreError> {
        let mut query = self.conn.prepare(
            "SELECT attempt, started_at, ended_at, outcome, device, device_name, host, slurm_job, error
             FROM attempts WHERE run_id = ?1 ORDER BY attempt",
        )?;
        let attempts = query.query_map([run.0], |row| {
            let outcome: Option<String> = row.get(3)?;
            Ok(AttemptRecord {
                attempt: row.get(0)?,
                started_at: row.get(1)?,
                ended_at: row.get(2)?,
                outcome: match outcome {
                    Some(_) => Some(parse_text(row, 3)?),
                    None => None,
                },
                device: row.get(4)?,
                device_name: row.get(5)?,
                host: row.get(6)?,
                slurm_job: row.get(7)?,
                error: row.get(8)?,
            })
        })?;
        Ok(attempts.collect::<Result<_, _>>()?)
    }

    pub fn samples(&self, run: RunId) -> Result<Vec<String>, StoreError> {
        let mut query = self
            .conn
            .prepare("SELECT text FROM samples WHERE run_id = ?1 ORDER BY position")?;
        let texts = query.query_map([run.0], |row| row.get(0))?;
        Ok(texts.collect::<Result<_, _>>()?)
    }
}

/// The columns `sweep_record` reads, in its order.
const SWEEP_COLUMNS: &str = "id, name, kind, spec, spec_sha256, created_at, settings FROM sweeps";

/// A row of `SELECT {SWEEP_COLUMNS}`.
fn sweep_record(row: &Row<'_>) -> rusqlite::Result<SweepRecord> {
    Ok(SweepRecord {
        id: SweepId(row.get(0)?),
        name: row.get(1)?,
        kind: parse_text(row, 2)?,
        spec: row.get(3)?,
        spec_sha256: row.get(4)?,
        created_at: row.get(5)?,
        settings_json: row.get(6)?,
    })
}

/// A row of `SELECT {RUN_COLUMNS}`.
fn run_record(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: RunId(row.get(0)?),
        sweep_name: row.get(1)?,
        status: parse_text(row, 2)?,
        config_json: row.get(3)?,
        backend: row.get(4)?,
        threads: row.get::<_, i64>(5)? as usize,
        data_path: row.get(6)?,
        data_sha256: row.get(7)?,
        git_commit: row.get(8)?,
        trainable_params: row.get::<_, i64>(9)? as usize,
        steps_done: row.get::<_, i64>(10)? as u64,
        train_loss: row.get(11)?,
        val_loss: row.get(12)?,
        test_loss: row.get(13)?,
        steps_per_sec: row.get(14)?,
        wall_seconds: row.get(15)?,
        error: row.get(16)?,
        attempts: row.get(17)?,
        run_key: row.get(18)?,
        variant: row.get(19)?,
        device: row.get(20)?,
        device_name: row.get(21)?,
        requested_device: row.get(22)?,
        host: row.get(23)?,
        slurm_job: row.get(24)?,
        retries: row.get(25)?,
    })
}

/// A text column parsed into one of our enums.
fn parse_text<T: std::str::FromStr<Err = String>>(row: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    text.parse()
        .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into()))
}
