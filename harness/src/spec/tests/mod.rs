//! Sweep files in, runs or one located error out: the helpers every test here shares, and
//! the tests by topic.

use std::path::Path;

use model::{Backend, ModelKind};

use super::{Method, SpecError, SweepSpec, parse};
use crate::workers::placement::DeviceRequest;

mod errors;
mod expansion;
mod pbt;
mod placement;
mod settings;

fn parsed(yaml: &str) -> (SweepSpec, Vec<String>) {
    parse(yaml, "sweep.yaml", Path::new(".")).unwrap_or_else(|err| panic!("{err}"))
}

/// A run's value of one of its model's settings, as a number.
fn net(run: &crate::spec::PlannedRun, name: &str) -> usize {
    run.config.net[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {:?}", run.config.net)) as usize
}

fn error(yaml: &str) -> SpecError {
    match parse(yaml, "sweep.yaml", Path::new(".")) {
        Ok((spec, _)) => panic!("expected an error, got {} runs", spec.runs.len()),
        Err(err) => err,
    }
}
