//! The one error a bad sweep file gets: file, line, column, the key concerned, what is
//! wrong, and the offending line of the file with a caret under the spot.

use std::fmt;
use std::path::Path;

use serde_saphyr::Location;

#[derive(Debug, thiserror::Error)]
pub struct SpecError {
    file: String,
    /// 1-based line and column, when the problem has a place in the file.
    at: Option<(u64, u64)>,
    key: Option<String>,
    message: String,
    source_line: Option<String>,
}

impl SpecError {
    pub fn unreadable(path: &Path, err: &std::io::Error) -> Self {
        Self {
            file: path.display().to_string(),
            at: None,
            key: None,
            message: format!("cannot read the sweep file: {err}"),
            source_line: None,
        }
    }

    #[cfg(test)]
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    #[cfg(test)]
    pub fn line(&self) -> Option<u64> {
        self.at.map(|(line, _)| line)
    }

    #[cfg(test)]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.at {
            write!(f, ":{line}:{column}")?;
        }
        match &self.key {
            Some(key) => write!(f, ": `{key}`: {}", self.message)?,
            None => write!(f, ": {}", self.message)?,
        }
        if let (Some((line, column)), Some(text)) = (self.at, &self.source_line) {
            let gutter = " ".repeat(line.to_string().len());
            let pad = " ".repeat(column.saturating_sub(1) as usize);
            write!(f, "\n{gutter} |\n{line} | {text}\n{gutter} | {pad}^")?;
        }
        Ok(())
    }
}

/// The sweep file being checked: makes errors and warnings that point into it.
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at `at` (`Location::UNKNOWN` or `None`: the file as a whole).
    pub fn error(&self, at: Option<Location>, key: impl Into<String>, message: impl Into<String>) -> SpecError {
        let at = at.filter(|l| l.line() > 0).map(|l| (l.line(), l.column()));
        SpecError {
            file: self.file.to_string(),
            at,
            key: Some(key.into()).filter(|k: &String| !k.is_empty()),
            message: message.into(),
            source_line: at.and_then(|(line, _)| self.text.lines().nth(line as usize - 1).map(str::to_string)),
        }
    }

    /// serde-saphyr's message (bad YAML, wrong type, unknown key) at its location.
    pub fn yaml_error(&self, err: &serde_saphyr::Error) -> SpecError {
        // It reads "error: line L column C: what"; we print the place and snippet ourselves.
        let message = err.to_string();
        let first = message.lines().next().unwrap_or_default();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        let what = match first.strip_prefix("line ") {
            Some(rest) => rest.split_once(": ").map_or(first, |(_, what)| what),
            None => first,
        };
        let what = what.trim_end_matches(", set DuplicateKeyPolicy in Options if acceptable");
        self.error(err.location(), "", what)
    }

    pub fn warning(&self, at: Location, message: impl fmt::Display) -> String {
        format!("{}:{}:{}: {message}", self.file, at.line(), at.column())
    }
}
