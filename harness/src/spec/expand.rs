//! Parameters and variants → runs. A grid is the cartesian product of the parameters'
//! values (the last parameter varies fastest), crossed with each variant; a random search
//! draws `run_cap` configurations from a seeded Rng, variants taken in turn; a `bayes` search
//! draws its first `BAYES_STARTUP` alike and leaves the rest to its `Planner`. Every run's
//! configuration is checked with `TrainConfig::try_from`, and its `backend` and `device`
//! (parameters or variant keys like the training options) against each other; errors
//! point at the key.

use std::collections::{BTreeMap, HashMap, HashSet};

use model::rng::Rng;
use model::{TrainConfig, all_settings};
use serde_json::{Map, Value};
use serde_saphyr::{Location, Spanned};

use super::devices::{self, PLACEMENT_KEYS, Placement};
use super::domain::Domain;
use super::error::Source;
use super::raw::{OrderedMap, RawParameter, Scalar, VariantValue};
use results::Loss;

use super::{Method, PlannedRun, Reference, SpecError};

/// More runs than this in one sweep is almost certainly a mistake in the file.
const MAX_RUNS: u64 = 100_000;
/// Draws a random search may spend looking for configurations it has not drawn yet.
const DRAWS_PER_RUN: u64 = 100;

/// Runs a `bayes` search draws at random before its model proposes any (Optuna's default).
pub const BAYES_STARTUP: u64 = 10;

pub struct Sweep {
    pub method: Method,
    pub run_cap: Option<(u64, Location)>,
    pub sampler_seed: u64,
    pub placement: Placement,
}

#[derive(Clone)]
pub(super) struct Axis {
    pub(super) key: String,
    at: Location,
    pub(super) domain: Domain,
    /// The distribution was inferred from `min` and `max`, as W&B does.
    inferred: bool,
}

impl Axis {
    /// `lr: uniform over [0.0001, 0.1] (inferred from min and max)`.
    fn describe(&self) -> String {
        let inferred = if self.inferred {
            " (inferred from min and max)"
        } else {
            ""
        };
        format!("{}: {}{inferred}", self.key, self.domain)
    }
}

pub(super) struct Variant {
    label: String,
    at: Location,
    settings: Vec<(String, Location, Scalar)>,
    reference: Option<Reference>,
}

/// What the parameters and variants expand to.
pub struct Expanded {
    pub runs: Vec<PlannedRun>,
    /// Each parameter and the values it ranges over, as `--dry-run` shows them.
    pub described: Vec<String>,
    /// The parameters, for a `bayes` search's planner.
    pub(super) axes: Vec<Axis>,
}

/// The planned runs, each parameter described, and the axes.
pub fn runs(
    sweep: &Sweep,
    parameters: Option<Spanned<OrderedMap<Spanned<RawParameter>>>>,
    variants: Option<Vec<Spanned<OrderedMap<Spanned<VariantValue>>>>>,
    source: &Source,
    warnings: &mut Vec<String>,
) -> Result<Expanded, SpecError> {
    let keys = known_keys();
    let axes = axes(parameters, &keys, sweep.method, source)?;
    let described = axes.iter().map(Axis::describe).collect();
    let variants = variants
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, v)| variant(i, v, &keys, &axes, source))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(twice) = variants
        .iter()
        .enumerate()
        .find_map(|(i, v)| variants[..i].iter().find(|earlier| earlier.label == v.label).map(|_| v))
    {
        return Err(source.error(
            Some(twice.at),
            "label",
            format!("two variants are labelled `{}`", twice.label),
        ));
    }
    let variant_slots: Vec<Option<&Variant>> = if variants.is_empty() {
        vec![None]
    } else {
        variants.iter().map(Some).collect()
    };
    if sweep.method == Method::Bayes {
        if let Some(first) = variants.first() {
            return Err(source.error(
                Some(first.at),
                "variants",
                "a `bayes` search does not take variants yet: make the choice a parameter (`values: [...]`)",
            ));
        }
        if let Some(axis) = axes
            .iter()
            .find(|axis| PLACEMENT_KEYS.contains(&axis.key.as_str()) && !matches!(axis.domain, Domain::Fixed(_)))
        {
            return Err(source.error(
                Some(axis.at),
                &axis.key,
                "a `bayes` search varies training settings only; fix where runs go",
            ));
        }
    }
    let planned = match sweep.method {
        Method::Grid => grid(&axes, &variant_slots, sweep, source, warnings)?,
        Method::Random => random(&axes, &variant_slots, sweep, None, source, warnings)?,
        Method::Bayes => random(&axes, &variant_slots, sweep, Some(BAYES_STARTUP), source, warnings)?,
    };
    Ok(Expanded {
        runs: planned,
        described,
        axes,
    })
}

/// The keys a run may set: every declared setting, then `backend` and `device`.
fn known_keys() -> Vec<String> {
    all_settings()
        .iter()
        .map(|s| s.name)
        .chain(PLACEMENT_KEYS)
        .map(String::from)
        .collect()
}

/// `None` when `value` suits key `key`, else why not.
fn type_error(key: &str, value: &Scalar) -> Option<String> {
    if PLACEMENT_KEYS.contains(&key) {
        return devices::value_error(key, value);
    }
    let setting = all_settings().iter().find(|s| s.name == key)?;
    setting.check(&value.to_json()).err()
}

fn check_key(key: &str, at: Location, keys: &[String], source: &Source) -> Result<(), SpecError> {
    if keys.iter().any(|k| k == key) {
        Ok(())
    } else {
        Err(source.error(
            Some(at),
            key,
            format!("not a run setting; the settings are: {}", keys.join(", ")),
        ))
    }
}

fn axes(
    parameters: Option<Spanned<OrderedMap<Spanned<RawParameter>>>>,
    keys: &[String],
    method: Method,
    source: &Source,
) -> Result<Vec<Axis>, SpecError> {
    let Some(parameters) = parameters else {
        return Ok(Vec::new());
    };
    let mut axes = Vec::new();
    for (key, raw) in parameters.value.0 {
        let at = raw.referenced;
        // An unknown key is pointed at where it is written, not at its value.
        check_key(&key.value, key.referenced, keys, source)?;
        let key = key.value;
        let inferred = raw.value.distribution.is_none() && raw.value.min.is_some();
        let domain = Domain::from_raw(raw.value, at).map_err(|e| source.error(e.at.or(Some(at)), &key, e.message))?;
        if let Some(problem) = domain.examples().iter().find_map(|v| type_error(&key, v)) {
            return Err(source.error(Some(at), &key, problem));
        }
        if method == Method::Grid && domain.grid().is_none() {
            return Err(source.error(
                Some(at),
                &key,
                "a grid needs a finite list of values, not a continuous distribution; use `values: [...]` or `method: random`",
            ));
        }
        axes.push(Axis {
            key,
            at,
            domain,
            inferred,
        });
    }
    Ok(axes)
}

fn variant(
    index: usize,
    raw: Spanned<OrderedMap<Spanned<VariantValue>>>,
    keys: &[String],
    axes: &[Axis],
    source: &Source,
) -> Result<Variant, SpecError> {
    let mut label = None;
    let mut reference = None;
    let mut settings = Vec::new();
    for (key, entry) in raw.value.0 {
        let key = key.value;
        let at = entry.referenced;
        let value = match (key.as_str(), entry.value) {
            ("reference", VariantValue::Table(table)) => {
                reference = Some(self::reference(table, at, source)?);
                continue;
            }
            ("reference", VariantValue::Scalar(_)) => {
                return Err(source.error(
                    Some(at),
                    "reference",
                    "give losses by name: `{train_loss: 2.06, val_loss: 2.10}`",
                ));
            }
            (_, VariantValue::Table(_)) => {
                return Err(source.error(Some(at), &key, "expected one value, not a mapping"));
            }
            (_, VariantValue::Scalar(value)) => value,
        };
        if key == "label" {
            label = Some(value.to_string());
            continue;
        }
        check_key(&key, at, keys, source)?;
        if let Some(problem) = type_error(&key, &value) {
            return Err(source.error(Some(at), &key, problem));
        }
        if axes.iter().any(|a| a.key == key) {
            return Err(source.error(
                Some(at),
                &key,
                "is set both in this variant and in `parameters`; set it in one place",
            ));
        }
        settings.push((key, at, value));
    }
    Ok(Variant {
        label: label.unwrap_or_else(|| format!("variant-{}", index + 1)),
        at: raw.referenced,
        settings,
        reference,
    })
}

fn reference(table: BTreeMap<String, f64>, at: Location, source: &Source) -> Result<Reference, SpecError> {
    let mut reference = Reference::default();
    for (name, value) in table {
        let loss: Loss = name.parse().map_err(|err| source.error(Some(at), "reference", err))?;
        reference.set(loss, value);
    }
    Ok(reference)
}

fn grid(
    axes: &[Axis],
    variants: &[Option<&Variant>],
    sweep: &Sweep,
    source: &Source,
    warnings: &mut Vec<String>,
) -> Result<Vec<PlannedRun>, SpecError> {
    let mut total = variants.len() as u64;
    for axis in axes {
        total = total.saturating_mul(axis.domain.grid_len().unwrap_or(1));
        if total > MAX_RUNS {
            return Err(source.error(Some(axis.at), &axis.key, format!("the grid has over {MAX_RUNS} runs")));
        }
    }
    let columns: Vec<Vec<Scalar>> = axes.iter().map(|a| a.domain.grid().unwrap_or_default()).collect();
    let combos: u64 = columns.iter().map(|c| c.len() as u64).product();
    let mut runs = Vec::new();
    for variant in variants {
        for mut index in 0..combos {
            let mut chosen = vec![Scalar::Int(0); axes.len()];
            for (slot, values) in chosen.iter_mut().zip(&columns).rev() {
                *slot = values[(index % values.len() as u64) as usize].clone();
                index /= values.len() as u64;
            }
            runs.push(planned(axes, *variant, chosen, &sweep.placement, source)?);
        }
    }
    reject_duplicates(&runs, variants, source)?;
    if let Some((cap, at)) = sweep.run_cap.filter(|(cap, _)| *cap < runs.len() as u64) {
        warnings.push(source.warning(
            at,
            format!("run_cap {cap} keeps the first {cap} of {} grid runs", runs.len()),
        ));
        runs.truncate(cap as usize);
    }
    Ok(runs)
}

/// `run_cap` random draws, or the first `first` of them.
fn random(
    axes: &[Axis],
    variants: &[Option<&Variant>],
    sweep: &Sweep,
    first: Option<u64>,
    source: &Source,
    warnings: &mut Vec<String>,
) -> Result<Vec<PlannedRun>, SpecError> {
    let (run_cap, at) = sweep.run_cap.expect("validate requires run_cap for a random search");
    let cap = first.map_or(run_cap, |first| first.min(run_cap));
    if cap > MAX_RUNS {
        return Err(source.error(Some(at), "run_cap", format!("must be at most {MAX_RUNS}")));
    }
    let mut rng = Rng::seed_from(sweep.sampler_seed);
    let mut runs: Vec<PlannedRun> = Vec::new();
    let mut draws = 0;
    let mut seen = HashSet::new();
    while (runs.len() as u64) < cap && draws < cap * DRAWS_PER_RUN {
        let variant = variants[runs.len() % variants.len()];
        let chosen = axes.iter().map(|axis| axis.domain.draw(&mut rng)).collect();
        let run = planned(axes, variant, chosen, &sweep.placement, source)?;
        draws += 1;
        if seen.insert(config_key(&run)) {
            runs.push(run);
        }
    }
    if (runs.len() as u64) < cap {
        let message = match first {
            // A `bayes` search's random first runs: the space holds no more at all.
            Some(_) => format!(
                "the space holds only {} configurations: the search ends after them, short of run_cap {run_cap}",
                runs.len()
            ),
            None => format!(
                "only {} distinct configurations were found for run_cap {cap}",
                runs.len()
            ),
        };
        warnings.push(source.warning(at, message));
    }
    Ok(runs)
}

/// One run from a variant and a value per axis, checked as a whole.
pub(super) fn planned(
    axes: &[Axis],
    variant: Option<&Variant>,
    chosen: Vec<Scalar>,
    placement: &Placement,
    source: &Source,
) -> Result<PlannedRun, SpecError> {
    let settings = variant.map_or(&[][..], |v| &v.settings[..]);
    let assigned: Vec<(String, Value)> = settings
        .iter()
        .map(|(key, _, value)| (key.clone(), value.to_json()))
        .chain(
            axes.iter()
                .zip(&chosen)
                .map(|(axis, value)| (axis.key.clone(), value.to_json())),
        )
        .collect();
    let located = |key: &str| location_of(key, axes, settings);
    let context = variant.map_or(String::new(), |v| format!(" (in variant `{}`)", v.label));
    let settings: Map<String, Value> = assigned
        .iter()
        .filter(|(key, _)| !PLACEMENT_KEYS.contains(&key.as_str()))
        .cloned()
        .collect();
    let config = TrainConfig::from_settings(&settings).map_err(|err| {
        let at = located(&err.key).or(variant.map(|v| v.at));
        source.error(at, &err.key, format!("{}{context}", err.reason))
    })?;
    let (backend, device) = devices::place(&assigned, &located, placement)
        .map_err(|(at, key, message)| source.error(at.or(variant.map(|v| v.at)), key, format!("{message}{context}")))?;
    Ok(PlannedRun {
        variant: variant.map(|v| v.label.clone()),
        reference: variant.and_then(|v| v.reference.clone()),
        config,
        backend,
        device,
        assigned,
    })
}

/// Where the file sets `key` for a run: its axis, else its variant's key.
fn location_of(key: &str, axes: &[Axis], settings: &[(String, Location, Scalar)]) -> Option<Location> {
    axes.iter()
        .find(|a| a.key == key)
        .map(|a| a.at)
        .or_else(|| settings.iter().find(|(k, _, _)| k == key).map(|(_, at, _)| *at))
}

/// What decides the run's result, as text, to find repeats (`TrainConfig` holds floats,
/// so no `Hash`).
fn config_key(run: &PlannedRun) -> String {
    let config = serde_json::to_string(&run.config).expect("a config always serializes");
    format!("{config}|{}|{}", run.backend, run.device)
}

fn reject_duplicates(runs: &[PlannedRun], variants: &[Option<&Variant>], source: &Source) -> Result<(), SpecError> {
    let mut first_of: HashMap<String, &PlannedRun> = HashMap::new();
    for run in runs {
        let Some(earlier) = first_of.insert(config_key(run), run) else {
            continue;
        };
        let at = variants
            .iter()
            .flatten()
            .find(|v| Some(&v.label) == run.variant.as_ref())
            .map(|v| v.at);
        let first = earlier.variant.as_deref().unwrap_or("the grid");
        return Err(source.error(
            at,
            "variants",
            format!("this variant repeats runs of `{first}` (the same configuration twice)"),
        ));
    }
    Ok(())
}
