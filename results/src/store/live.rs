//! The reads a live dashboard (`harness serve`) makes beyond `read`'s: every sweep's span of
//! time and range of final losses in one query, and SQLite's `data_version`, which tells a
//! reader whether anything was committed since it last looked without reading any table.

use std::collections::HashMap;

use super::{Store, StoreError};
use crate::records::{SweepId, SweepSpan};

impl Store {
    /// Each sweep's first start, last end and, per split, its lowest and highest final loss.
    pub fn sweep_spans(&self) -> Result<HashMap<SweepId, SweepSpan>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT sweep_id, min(started_at), max(finished_at),
                    min(train_loss), max(train_loss), min(val_loss), max(val_loss),
                    min(test_loss), max(test_loss)
             FROM runs GROUP BY sweep_id",
        )?;
        let spans = statement.query_map([], |row| {
            let range = |at: usize| -> rusqlite::Result<Option<(f64, f64)>> {
                Ok(row.get::<_, Option<f64>>(at)?.zip(row.get::<_, Option<f64>>(at + 1)?))
            };
            Ok((
                SweepId(row.get(0)?),
                SweepSpan {
                    started_at: row.get(1)?,
                    finished_at: row.get(2)?,
                    losses: [range(3)?, range(5)?, range(7)?],
                },
            ))
        })?;
        Ok(spans.collect::<Result<_, _>>()?)
    }

    /// A number that changes whenever another connection commits to the database.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
    }
}
