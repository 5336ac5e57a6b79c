//! Data goes to stdout through `out!`, which returns the write's `io::Result` instead of
//! panicking as `println!` does. A reader that goes away (`harness runs | head`) turns into
//! an error that `main` recognises with `is_closed_pipe` and ends on quietly, as ripgrep does.

/// `println!` that returns `io::Result<()>`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// Whether `err` comes from writing to a pipe whose reader has gone.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_closed_pipe_is_found_under_context_and_other_io_errors_are_not() {
        let closed = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("cannot print the table")
            .unwrap_err();
        assert!(is_closed_pipe(&closed));
        let full = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(!is_closed_pipe(&full));
    }
}
