//! What a `bayes` search needs after launch to plan each further run: its parameters'
//! domains and where runs go, read again from the stored sweep file (`stored_bayes`). TPE
//! (`tpe`) proposes a value per parameter from the runs so far; `expand::planned` checks
//! them into a run as it checks every other.

use model::rng::Rng;
use serde_json::{Map, Value};

use super::devices::Placement;
use super::error::Source;
use super::expand::{Axis, planned};
use super::halving;
use super::raw::Scalar;
use super::{PlannedRun, SpecError, tpe};

#[derive(Clone)]
pub struct Planner {
    axes: Vec<Axis>,
    placement: Placement,
    /// The steps every run it plans trains, where not the sweep file's: halving's first rung.
    first_rung: Option<u64>,
    /// The sweep file, for the messages of a run that does not check.
    file: String,
    text: String,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.axes.iter().map(|a| a.key.as_str()).collect();
        write!(f, "Planner({keys:?})")
    }
}

impl Planner {
    pub(super) fn new(axes: Vec<Axis>, placement: Placement, source: &Source) -> Self {
        Self {
            axes,
            placement,
            first_rung: None,
            file: source.file.to_string(),
            text: source.text.to_string(),
        }
    }

    /// This planner, its runs trained `first_rung` steps (halving's first rung), if given.
    pub(super) fn with_first_rung(self, first_rung: Option<u64>) -> Self {
        Self { first_rung, ..self }
    }

    /// The steps every run it plans trains under `halving:`, its first rung's.
    pub fn first_rung(&self) -> Option<u64> {
        self.first_rung
    }

    /// How many configurations the space holds, when every parameter ranges over a finite
    /// set of values.
    pub fn configurations(&self) -> Option<u64> {
        self.axes
            .iter()
            .try_fold(1u64, |n, axis| Some(n.saturating_mul(axis.domain.grid_len()?)))
    }

    /// A stored run's value of each parameter (from its configuration; a setting it does not
    /// take reads as empty text, a category no proposal matches). Where the planner sets the
    /// steps, `steps` reads as the sweep file gives it.
    pub fn values_of(&self, config: &Map<String, Value>) -> Vec<Scalar> {
        self.axes
            .iter()
            .map(|axis| match config.get(&axis.key) {
                _ if axis.key == "steps" && self.first_rung.is_some() => axis
                    .domain
                    .grid()
                    .and_then(|values| values.first().cloned())
                    .unwrap_or(Scalar::Int(0)),
                Some(Value::Bool(b)) => Scalar::Bool(*b),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .map_or_else(|| Scalar::Float(n.as_f64().unwrap_or(f64::NAN)), Scalar::Int),
                Some(Value::String(s)) => Scalar::Text(s.clone()),
                _ => Scalar::Text(String::new()),
            })
            .collect()
    }

    /// A value for each parameter, proposed by TPE from `observations`, in run order: each
    /// run's values and its loss to minimize (`None` for a run still training).
    pub fn propose(&self, observations: &[(Vec<Scalar>, Option<f64>)], rng: &mut Rng) -> Vec<tpe::Scored> {
        self.axes
            .iter()
            .enumerate()
            .map(|(i, axis)| {
                let of_axis: Vec<tpe::Observation> = observations
                    .iter()
                    .map(|(values, loss)| (values[i].clone(), *loss))
                    .collect();
                tpe::propose(&axis.domain, &of_axis, rng)
            })
            .collect()
    }

    /// A value for each parameter drawn at random, as `random` draws them.
    pub fn draw(&self, rng: &mut Rng) -> Vec<Scalar> {
        self.axes.iter().map(|axis| axis.domain.draw(rng)).collect()
    }

    /// The run these values make, checked.
    pub fn plan(&self, values: Vec<Scalar>) -> Result<PlannedRun, SpecError> {
        let source = Source {
            file: &self.file,
            text: &self.text,
        };
        let mut run = planned(&self.axes, None, values, &self.placement, &source)?;
        if let Some(steps) = self.first_rung {
            halving::first_rung(std::slice::from_mut(&mut run), steps, &source)?;
        }
        Ok(run)
    }

    /// The parameters that vary, with these values (or anything else given per parameter).
    pub fn varied<'v, T>(&self, per_parameter: &'v [T]) -> Vec<(&str, &'v T)> {
        self.axes
            .iter()
            .zip(per_parameter)
            .filter(|(axis, _)| axis.domain.grid().is_none_or(|values| values.len() > 1))
            .map(|(axis, value)| (axis.key.as_str(), value))
            .collect()
    }
}
