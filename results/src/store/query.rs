//! A user's own SQL (`harness query`, and the filters of `harness runs`), run against a
//! read-only connection: only statements that change nothing are accepted, ATTACH is
//! refused by a zero limit on attached databases, and results come back as plain cells.

use rusqlite::types::ValueRef;
use rusqlite::{ToSql, params_from_iter};

use super::{Store, StoreError};

/// One value of a query's result.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A query's result: column names and rows of cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

impl Store {
    /// Runs one statement that reads; anything that would write is refused before it runs.
    pub fn query(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Table, StoreError> {
        let mut statement = self.conn.prepare(sql)?;
        if !statement.readonly() {
            return Err(StoreError::WriteRefused);
        }
        let columns: Vec<String> = statement.column_names().into_iter().map(String::from).collect();
        let width = columns.len();
        let mut rows = statement.query(params_from_iter(params.iter()))?;
        let mut table = Table {
            columns,
            rows: Vec::new(),
        };
        while let Some(row) = rows.next()? {
            let cells = (0..width)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(i) => Cell::Int(i),
                        ValueRef::Real(x) => Cell::Real(x),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Cell::Text(format!("<{} bytes>", b.len())),
                    })
                })
                .collect::<Result<Vec<_>, rusqlite::Error>>()?;
            table.rows.push(cells);
        }
        Ok(table)
    }
}
