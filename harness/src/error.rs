//! Marks errors that are the user's to fix (a bad flag value, an unusable data file), so
//! `main` can exit with 2 instead of 1. Wrap such an error with `usage(err)`.

/// `{:#}` keeps the wrapped chain on one line, as `main` prints it.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct UsageError(anyhow::Error);

/// Marks `err` as the user's mistake.
pub fn usage(err: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(UsageError(err.into()))
}

pub fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<UsageError>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::{Context, anyhow};

    #[test]
    fn a_usage_error_is_found_under_added_context_and_printed_once() {
        let err = Err::<(), _>(usage(anyhow!("`--lr` must be positive")))
            .context("cannot start the run")
            .unwrap_err();
        assert!(is_usage_error(&err));
        assert_eq!(format!("{err:#}"), "cannot start the run: `--lr` must be positive");
        assert!(!is_usage_error(&anyhow!("disk full")));
    }
}
