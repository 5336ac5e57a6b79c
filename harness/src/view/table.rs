//! Plain aligned tables on stdout (numbers right-aligned), and JSON values as cells
//! (`results::summary::cell`, which the scheduler's messages share).

pub use results::summary::{cell, significant};

/// Prints `rows` under `headers`, each column as wide as its widest cell.
pub fn print(headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .all(|r| r[c].is_empty() || r[c] == "-" || r[c].parse::<f64>().is_ok())
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if numeric[c] {
                    format!("{cell:>w$}", w = widths[c])
                } else {
                    format!("{cell:<w$}", w = widths[c])
                }
            })
            .collect();
        out!("{}", padded.join("  ").trim_end())
    };
    line(headers.to_vec())?;
    for row in rows {
        line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_json_value_is_a_cell_without_quotes() {
        assert_eq!(cell(Some(&json!(68))), "68");
        assert_eq!(cell(Some(&json!("mlp"))), "mlp");
        assert_eq!(cell(Some(&json!(0.060_166_173_641_848_696))), "0.060166");
        assert_eq!(cell(Some(&json!(0.1))), "0.1");
        assert_eq!(cell(Some(&Value::Null)), "-");
        assert_eq!(cell(None), "-");
    }
}
