//! The run side: stored runs become trained runs. Where the data comes from (`data_file`), what
//! the store keeps of a run (`record`, `recorder`), where runs compute (`placement`,
//! `worker_slots`, `host`, `cluster`), the scheduler–worker protocol (`protocol`), Ctrl-C (`interrupt`) and a
//! sweep session that runs the scheduler over a stored sweep (`session`).

pub mod cluster;
pub mod data_file;
pub mod host;
pub mod interrupt;
pub mod placement;
pub mod proposer;
pub mod protocol;
pub mod record;
pub mod recorder;
pub mod session;
pub mod worker_slots;
