//! A sweep session: a stored sweep's unfinished runs trained by the scheduler on the worker
//! slots `launch` and `resume` resolved (`worker_slots`), the `bayes` and `halving:` proposers
//! that plan runs as results arrive (`proposer`), each run's worker job (`jobs`), and Ctrl-C
//! (`interrupt`). `sweep` locks the sweep, turns its runs into worker jobs and runs the
//! scheduler on a tokio runtime.

pub mod interrupt;
pub mod jobs;
pub mod proposer;
pub mod sweep;
pub mod worker_slots;
