//! The reads: runs, curves and samples as stored.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::records::{RunId, RunRecord, Split};

impl Store {
    pub fn run(&self, id: RunId) -> Result<RunRecord, StoreError> {
        self.conn
            .query_row(
                "SELECT r.id, s.name, r.status, r.config, r.backend, r.threads, r.data_path, r.data_sha256,
                        r.git_commit, r.trainable_params, r.steps_done, r.train_loss, r.val_loss,
                        r.test_loss, r.steps_per_sec, r.wall_seconds, r.error, r.attempts
                 FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = ?1",
                [id.0],
                |row| {
                    let status: String = row.get(2)?;
                    Ok(RunRecord {
                        id: RunId(row.get(0)?),
                        sweep_name: row.get(1)?,
                        status: status.parse().map_err(|e: String| {
                            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
                        })?,
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
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NoSuchRun(id))
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

    pub fn samples(&self, run: RunId) -> Result<Vec<String>, StoreError> {
        let mut query = self
            .conn
            .prepare("SELECT text FROM samples WHERE run_id = ?1 ORDER BY position")?;
        let texts = query.query_map([run.0], |row| row.get(0))?;
        Ok(texts.collect::<Result<_, _>>()?)
    }
}
