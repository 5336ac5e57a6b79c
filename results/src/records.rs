//! Values that cross the store's boundary: what callers write (new sweeps and runs, curve
//! points, results) and what they read back. No SQL here.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SweepId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A run's final loss on one split: what a sweep's metric, a reference and a ranking name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loss {
    Train,
    Val,
    Test,
}

impl Loss {
    pub const ALL: [Self; 3] = [Self::Train, Self::Val, Self::Test];

    /// As sweep files and `runs_wide` name it: `val_loss`.
    pub fn column(self) -> &'static str {
        match self {
            Self::Train => "train_loss",
            Self::Val => "val_loss",
            Self::Test => "test_loss",
        }
    }

    /// The split alone, for short table headers: `val`.
    pub fn split_name(self) -> &'static str {
        self.column().trim_end_matches("_loss")
    }

    /// This loss out of a result's `[train, val, test]`.
    pub fn pick(self, losses: [f64; 3]) -> f64 {
        losses[self as usize]
    }

    /// This loss of a settled run.
    pub fn of(self, run: &RunRecord) -> Option<f64> {
        match self {
            Self::Train => run.train_loss,
            Self::Val => run.val_loss,
            Self::Test => run.test_loss,
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

impl FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|loss| loss.column() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|l| l.column()).collect();
            format!("unknown loss `{s}`; use one of {}", names.join(", "))
        })
    }
}

/// A sweep is a set of runs launched together; a single `harness train` is a one-run sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepKind {
    Train,
    Sweep,
}

impl SweepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Sweep => "sweep",
        }
    }
}

impl FromStr for SweepKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Self::Train, Self::Sweep]
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown sweep kind `{s}`"))
    }
}

#[derive(Clone, Debug)]
pub struct NewSweep {
    /// `None`: the store names it `<kind>-<id>`.
    pub name: Option<String>,
    pub kind: SweepKind,
    /// The sweep file's text, if it came from one.
    pub spec: Option<String>,
    pub spec_sha256: Option<String>,
    /// How the sweep's runs are scheduled (retries, timeout…), as JSON the harness defines.
    pub settings_json: Option<String>,
}

/// A run as planned, before it starts.
#[derive(Clone, Debug)]
pub struct NewRun {
    /// Hash of the resolved configuration: the run's identity within its sweep.
    pub run_key: String,
    /// Every training parameter, resolved, as a JSON object.
    pub config_json: String,
    pub backend: String,
    /// Where the run asks to compute: `cpu`, `cuda` (any GPU of its sweep's) or `cuda:N`.
    pub requested_device: String,
    pub threads: usize,
    pub data_path: String,
    pub data_sha256: String,
    pub git_commit: Option<String>,
    pub trainable_params: usize,
    /// The label of the sweep-file variant the run comes from.
    pub variant: Option<String>,
}

/// What `Store::create_sweep` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedSweep {
    pub id: SweepId,
    pub name: String,
    pub runs: Vec<RunId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Diverged,
    /// Ended early by the sweep's early termination: a result, evaluated where it stopped.
    Stopped,
    /// Held at a rung by ASHA, its checkpoint kept, until it is promoted or the sweep ends.
    Paused,
    Failed,
    Interrupted,
}

impl RunStatus {
    pub const ALL: [Self; 8] = [
        Self::Pending,
        Self::Running,
        Self::Completed,
        Self::Diverged,
        Self::Stopped,
        Self::Paused,
        Self::Failed,
        Self::Interrupted,
    ];

    /// Whether the run trains no more (unless `resume --retry-failed` asks a failed one to):
    /// it has a result, or it failed for good.
    pub fn has_ended(self) -> bool {
        matches!(self, Self::Completed | Self::Diverged | Self::Stopped | Self::Failed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Diverged => "diverged",
            Self::Stopped => "stopped",
            Self::Paused => "paused",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        named(&Self::ALL, Self::as_str, s, "run status")
    }
}

/// The member of `all` that `as_str` names `text`.
fn named<T: Copy>(all: &[T], as_str: fn(T) -> &'static str, text: &str, what: &str) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|member| as_str(*member) == text)
        .ok_or_else(|| format!("unknown {what} `{text}`"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Val,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Val => "val",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub split: Split,
    pub step: u64,
    pub loss: f64,
}

/// How a run ended and what it measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    pub status: RunStatus,
    pub steps_done: u64,
    /// Final whole-split losses (train, val, test), for a completed or stopped run.
    pub losses: Option<[f64; 3]>,
    pub train_seconds: f64,
    pub eval_seconds: f64,
    pub wall_seconds: f64,
    pub steps_per_sec: f64,
    pub samples: Vec<String>,
    pub error: Option<String>,
}

/// What early termination decided at one evaluation of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Continue,
    Stop,
    /// Held there (ASHA); revised to `Continue` when promoted, to `Stop` when the sweep ends.
    Pause,
}

impl Decision {
    pub const ALL: [Self; 3] = [Self::Continue, Self::Stop, Self::Pause];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Continue => "continue",
            Self::Stop => "stop",
            Self::Pause => "pause",
        }
    }
}

impl FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        named(&Self::ALL, Self::as_str, s, "verdict")
    }
}

/// One start of a run: when, how it ended (`None` while it runs), and where it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// 1 for the first start.
    pub attempt: u32,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// The run's status when the attempt ended; `Failed` also for a failure that was retried.
    pub outcome: Option<RunStatus>,
    pub device: Option<String>,
    pub device_name: Option<String>,
    pub host: Option<String>,
    pub slurm_job: Option<String>,
    /// Why it failed (recorded since schema 12).
    pub error: Option<String>,
}

/// The scheduler's verdict on one evaluation of a run, under early termination.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VerdictRecord {
    pub run: RunId,
    pub step: u64,
    /// The run's validation loss at that evaluation.
    pub value: f64,
    pub decision: Decision,
}

/// A sweep as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepRecord {
    pub id: SweepId,
    pub name: String,
    pub kind: SweepKind,
    pub spec: Option<String>,
    pub spec_sha256: Option<String>,
    pub settings_json: Option<String>,
    pub created_at: String,
}

/// A sweep with how many of its runs are in each status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepSummary {
    pub sweep: SweepRecord,
    /// One count per `RunStatus::ALL`, in that order.
    pub counts: [usize; RunStatus::ALL.len()],
}

impl SweepSummary {
    pub fn count(&self, status: RunStatus) -> usize {
        RunStatus::ALL
            .iter()
            .position(|s| *s == status)
            .map_or(0, |i| self.counts[i])
    }

    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// When a sweep's runs trained, and the range of their final losses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSpan {
    /// The first run's start and the last run's end, as stored (ISO 8601, UTC).
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Per split (train, val, test, as `Loss::ALL`): the lowest and highest final loss.
    pub losses: [Option<(f64, f64)>; 3],
}

impl SweepSpan {
    /// The lowest and highest final `loss` of the sweep's runs, once one has it.
    pub fn range(&self, loss: Loss) -> Option<(f64, f64)> {
        self.losses[Loss::ALL
            .iter()
            .position(|l| *l == loss)
            .expect("every loss is in Loss::ALL")]
    }
}

/// Where a run's worker computes, as it reports when it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RanOn {
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// The processor's or GPU's name.
    pub device_name: String,
    /// The machine's host name.
    pub host: String,
    /// The Slurm job (`1234`, or `1234.5` for a step of an allocation), when Slurm placed it.
    pub slurm_job: Option<String>,
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub id: RunId,
    pub run_key: String,
    pub sweep_name: String,
    pub variant: Option<String>,
    pub status: RunStatus,
    pub config_json: String,
    pub backend: String,
    /// Where it asks to compute (`cpu`, `cuda`, `cuda:1`); `None` in databases older than
    /// schema 6: the backend's default.
    pub requested_device: Option<String>,
    /// Where it computed (`cpu`, `cuda:0`) and that processor's name, once it has started.
    pub device: Option<String>,
    pub device_name: Option<String>,
    /// The machine its worker ran on, and its Slurm job when Slurm placed it.
    pub host: Option<String>,
    pub slurm_job: Option<String>,
    pub threads: usize,
    pub data_path: String,
    pub data_sha256: String,
    pub git_commit: Option<String>,
    pub trainable_params: usize,
    pub steps_done: u64,
    /// How many times the run was started.
    pub attempts: u32,
    /// How many of those starts followed a failure (a crash or a timeout).
    pub retries: u32,
    pub train_loss: Option<f64>,
    pub val_loss: Option<f64>,
    pub test_loss: Option<f64>,
    pub steps_per_sec: Option<f64>,
    pub wall_seconds: Option<f64>,
    pub error: Option<String>,
}
