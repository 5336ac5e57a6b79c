//! What "best" means for a sweep: a final loss and whether to minimize or maximize it, with an
//! optional target (W&B's `metric`), stored as the sweep file writes it.

use std::fmt;

use results::{Loss, RunId, RunRecord};
use serde::{Deserialize, Serialize};

/// What "best" means for this sweep: a final loss to minimize or maximize. Stored as the
/// sweep file writes it: `{"name": "val_loss", "goal": "minimize"}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WrittenMetric", into = "WrittenMetric")]
pub struct Metric {
    pub loss: Loss,
    pub goal: Goal,
    /// W&B's `target`: once a completed run reaches it, no new run starts.
    pub target: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    #[default]
    Minimize,
    Maximize,
}

impl Goal {
    /// `value` as a minimizer sees it: negated when the goal is to maximize.
    pub fn minimized(self, value: f64) -> f64 {
        match self {
            Self::Minimize => value,
            Self::Maximize => -value,
        }
    }
}

impl Metric {
    /// The settled run with the best value of this metric, and that value.
    pub fn best<'a>(&self, runs: &'a [RunRecord]) -> Option<(&'a RunRecord, f64)> {
        runs.iter()
            .filter_map(|run| self.loss.of(run).map(|v| (run, v)))
            .min_by(|a, b| self.goal.minimized(a.1).total_cmp(&self.goal.minimized(b.1)))
    }

    /// Whether `value` of this metric meets the target (at or below it when minimizing).
    pub fn reaches_target(&self, value: f64) -> bool {
        match (self.target, self.goal) {
            (None, _) => false,
            (Some(target), Goal::Minimize) => value <= target,
            (Some(target), Goal::Maximize) => value >= target,
        }
    }

    /// The best settled run, when it reaches the target.
    pub fn target_reached_by<'a>(&self, runs: &'a [RunRecord]) -> Option<(&'a RunRecord, f64)> {
        self.best(runs).filter(|(_, value)| self.reaches_target(*value))
    }

    /// "run 3 reached the target val_loss ≤ 2 (1.9876)".
    pub fn target_reached_message(&self, run: RunId, value: f64) -> String {
        let relation = if self.goal == Goal::Maximize { "≥" } else { "≤" };
        let target = self.target.unwrap_or_default();
        format!(
            "run {run} reached the target {} {relation} {target} ({value:.4})",
            self.loss
        )
    }
}

impl Default for Metric {
    fn default() -> Self {
        Self {
            loss: Loss::Val,
            goal: Goal::Minimize,
            target: None,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.loss, self.goal)
    }
}

impl Goal {
    const ALL: [Self; 2] = [Self::Minimize, Self::Maximize];

    fn name(self) -> &'static str {
        match self {
            Self::Minimize => "minimize",
            Self::Maximize => "maximize",
        }
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Goal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|goal| goal.name() == s)
            .ok_or_else(|| format!("`{s}`: use `minimize` or `maximize`"))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenMetric {
    name: String,
    goal: Goal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<f64>,
}

impl TryFrom<WrittenMetric> for Metric {
    type Error = String;
    fn try_from(written: WrittenMetric) -> Result<Self, String> {
        Ok(Self {
            loss: written.name.parse()?,
            goal: written.goal,
            target: written.target,
        })
    }
}

impl From<Metric> for WrittenMetric {
    fn from(metric: Metric) -> Self {
        Self {
            name: metric.loss.column().into(),
            goal: metric.goal,
            target: metric.target,
        }
    }
}
