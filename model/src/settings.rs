//! The vocabulary of a run's settings: each declared once as a `Setting` (name, help, kind and
//! range, default, when it applies), and `ConfigError` for a value that fails its check. The
//! training settings are declared in `config::training`, those several models share in
//! `models::shared`, each model's own in its file; `ModelKind::settings` says which a model
//! takes. Everything that lists settings derives from these: the `harness train` flags, the
//! keys a sweep file accepts, table columns and report grouping.

use serde_json::{Map, Value};

/// A configuration key that failed its check, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{key}` {reason}")]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// What values a setting takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A whole number of at least `min`; `why` explains a minimum above 1.
    Count { min: u64, why: &'static str },
    /// A number greater than 0.
    Positive,
    /// A number of at least 0.
    NonNegative,
    /// A fraction between 0 and 1.
    Fraction,
    /// On or off.
    Flag,
    /// One of these names.
    Choice(&'static [&'static str]),
}

/// What a setting is when the user leaves it unset.
#[derive(Clone, Copy, Debug)]
pub enum DefaultValue {
    Count(u64),
    Number(f64),
    Flag(bool),
    Name(&'static str),
    /// Computed from the setting `from` by `rule`; `text` says how, for help texts.
    Derived {
        from: &'static str,
        rule: fn(f64) -> f64,
        text: &'static str,
    },
}

impl DefaultValue {
    /// The value; `None` for a derived one.
    pub fn value(&self) -> Option<Value> {
        match *self {
            Self::Count(n) => Some(Value::from(n)),
            Self::Number(x) => Some(Value::from(x)),
            Self::Flag(on) => Some(Value::from(on)),
            Self::Name(name) => Some(Value::from(name)),
            Self::Derived { .. } => None,
        }
    }

    /// As a help text shows it: `24`, `lr / 10`.
    pub fn text(&self) -> String {
        match *self {
            Self::Derived { text, .. } => text.to_string(),
            _ => self.value().map_or_else(String::new, |v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            }),
        }
    }
}

/// When a setting means something: always, or only for some values of another setting
/// (`momentum` only with `optimizer: sgd`). Model settings are scoped by the model's list.
#[derive(Clone, Copy, Debug)]
pub enum Only {
    Always,
    When {
        setting: &'static str,
        is: &'static [&'static str],
    },
}

/// One setting of a run.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    pub only: Only,
    /// Whether a run may go on with a new value part-way (population-based training
    /// changes it at an exploit): true for what the optimizer reads at each step, false for
    /// what builds the model or fixes the data.
    pub mid_run: bool,
}

impl Kind {
    /// A whole number of at least `min`, needing no explanation.
    pub const fn count(min: u64) -> Self {
        Self::Count { min, why: "" }
    }
}

impl Setting {
    /// A setting that applies to every run of the models that take it.
    pub const fn new(name: &'static str, help: &'static str, kind: Kind, default: DefaultValue) -> Self {
        Self {
            name,
            help,
            kind,
            default,
            only: Only::Always,
            mid_run: false,
        }
    }

    /// The same setting, which a run may change part-way (see `mid_run`).
    pub const fn mid_run(self) -> Self {
        Self { mid_run: true, ..self }
    }

    /// The same setting, meaningful only where `only` holds (`momentum` with `sgd`).
    pub const fn only(self, only: Only) -> Self {
        Self { only, ..self }
    }

    /// Why this setting means nothing where `value_of` gives the run's other settings (a
    /// message naming the setting that rules it out), or `None` where it applies.
    pub fn ruled_out(&self, value_of: impl Fn(&str) -> Option<String>) -> Option<String> {
        let Only::When { setting, is } = self.only else {
            return None;
        };
        let value = value_of(setting).unwrap_or_default();
        (!is.contains(&value.as_str())).then(|| {
            format!(
                "applies only with {setting} {}, not with `{value}`",
                is.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" or ")
            )
        })
    }

    /// The value it takes when unset (a model may have its own: `ModelKind::default_of`);
    /// `None` for a derived default (see `is_derived_in`).
    pub fn default_value(&self) -> Option<Value> {
        self.default.value()
    }

    /// The default as a help text shows it: `24`, `lr / 10`.
    pub fn default_text(&self) -> String {
        self.default.text()
    }

    /// Whether `lookup` (a configuration's values by name) holds, for this setting, what its
    /// derived default makes of the setting it is derived from: as when the user left it
    /// unset. Settings without a derived default never are.
    pub fn is_derived_in(&self, lookup: impl Fn(&str) -> Option<f64>) -> bool {
        match self.default {
            DefaultValue::Derived { from, rule, .. } => match (lookup(self.name), lookup(from)) {
                (Some(set), Some(from)) => set == rule(from),
                _ => false,
            },
            _ => false,
        }
    }

    /// `value`, checked against the setting's kind and range; why not, else.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let number = || value.as_f64().filter(|x| x.is_finite());
        let ok = match self.kind {
            Kind::Count { min, why } => match value.as_u64() {
                Some(n) if n >= min => true,
                Some(n) => {
                    let why = if why.is_empty() {
                        String::new()
                    } else {
                        format!(" ({why})")
                    };
                    return Err(format!("must be at least {min}{why}, got {n}"));
                }
                None => return Err(format!("{value}: expected a whole number")),
            },
            Kind::Positive => number().is_some_and(|x| x > 0.0),
            Kind::NonNegative => number().is_some_and(|x| x >= 0.0),
            Kind::Fraction => number().is_some_and(|x| (0.0..=1.0).contains(&x)),
            Kind::Flag => value.is_boolean(),
            Kind::Choice(names) => value.as_str().is_some_and(|name| names.contains(&name)),
        };
        if ok { Ok(()) } else { Err(self.expected(value)) }
    }

    fn expected(&self, got: &Value) -> String {
        match self.kind {
            Kind::Count { .. } => format!("{got}: expected a whole number"),
            Kind::Positive => format!("must be a positive number, got {got}"),
            Kind::NonNegative => format!("must be a non-negative number, got {got}"),
            Kind::Fraction => format!("must be a fraction between 0 and 1, got {got}"),
            Kind::Flag => format!("{got}: expected true or false"),
            Kind::Choice(names) => format!("unknown value {got}; expected one of: {}", names.join(", ")),
        }
    }

    /// A value written on a command line, as JSON of the setting's kind.
    pub fn parse(&self, text: &str) -> Result<Value, String> {
        let value = match self.kind {
            Kind::Count { .. } => text
                .parse::<u64>()
                .map(Value::from)
                .map_err(|_| format!("`{text}`: expected a whole number"))?,
            Kind::Positive | Kind::NonNegative | Kind::Fraction => text
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| format!("`{text}`: expected a number"))?,
            Kind::Flag => text
                .parse::<bool>()
                .map(Value::from)
                .map_err(|_| format!("`{text}`: expected true or false"))?,
            Kind::Choice(_) => Value::from(text),
        };
        self.check(&value)?;
        Ok(value)
    }
}

/// `NAMES`, `Display` and `FromStr` for an enum of named choices (models, optimizers,
/// schedules): `named!(OptimizerKind, NAMES: Sgd = "sgd", Adamw = "adamw")`.
macro_rules! named {
    ($kind:ty, $names:ident: $($variant:ident = $name:literal),+) => {
        impl $kind {
            pub const $names: &'static [&'static str] = &[$($name),+];
        }

        impl std::fmt::Display for $kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self {
                    $(Self::$variant => $name),+
                })
            }
        }

        impl std::str::FromStr for $kind {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    other => Err(format!("unknown `{other}`; expected one of: {}", Self::$names.join(", "))),
                }
            }
        }
    };
}
pub(crate) use named;

/// The values a user set, by setting name.
pub type Values = Map<String, Value>;

/// The settings in `lists`, each once, in first-seen order.
pub fn union<'a>(lists: impl IntoIterator<Item = &'a [Setting]>) -> Vec<&'a Setting> {
    let mut all: Vec<&Setting> = Vec::new();
    for setting in lists.into_iter().flatten() {
        if !all.iter().any(|s| s.name == setting.name) {
            all.push(setting);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COUNT: Setting = Setting {
        name: "batch_size",
        help: "",
        kind: Kind::Count { min: 2, why: "a batch" },
        default: DefaultValue::Count(32),
        only: Only::Always,
        mid_run: false,
    };

    #[test]
    fn a_scoped_setting_is_ruled_out_by_the_setting_it_depends_on() {
        let momentum = Setting {
            name: "momentum",
            only: Only::When {
                setting: "optimizer",
                is: &["sgd"],
            },
            ..COUNT
        };
        let with = |optimizer: &'static str| move |key: &str| (key == "optimizer").then(|| optimizer.to_string());
        assert_eq!(momentum.ruled_out(with("sgd")), None);
        assert_eq!(
            momentum.ruled_out(with("adamw")).unwrap(),
            "applies only with optimizer `sgd`, not with `adamw`"
        );
        assert_eq!(COUNT.ruled_out(with("adamw")), None);
    }

    #[test]
    fn values_are_checked_against_kind_and_range() {
        assert_eq!(COUNT.check(&json!(32)), Ok(()));
        assert_eq!(
            COUNT.check(&json!(1)).unwrap_err(),
            "must be at least 2 (a batch), got 1"
        );
        assert!(COUNT.check(&json!(2.5)).unwrap_err().contains("whole number"));
        let rate = Setting {
            kind: Kind::Positive,
            ..COUNT
        };
        assert!(rate.check(&json!(0.1)).is_ok());
        assert!(rate.check(&json!(0)).is_err() && rate.check(&json!("fast")).is_err());
        let choice = Setting {
            kind: Kind::Choice(&["mlp", "wavenet"]),
            ..COUNT
        };
        assert!(
            choice
                .check(&json!("gpt"))
                .unwrap_err()
                .contains("expected one of: mlp, wavenet")
        );
    }

    #[test]
    fn command_line_text_becomes_a_checked_value() {
        assert_eq!(COUNT.parse("64"), Ok(json!(64)));
        assert!(COUNT.parse("x").unwrap_err().contains("whole number"));
        assert!(COUNT.parse("1").unwrap_err().contains("at least 2"));
        let flag = Setting {
            kind: Kind::Flag,
            ..COUNT
        };
        assert_eq!(flag.parse("true"), Ok(json!(true)));
    }

    #[test]
    fn a_derived_default_holds_only_where_the_value_follows_its_rule() {
        let derived = Setting {
            name: "lr_final",
            kind: Kind::NonNegative,
            default: DefaultValue::Derived {
                from: "lr",
                rule: |lr| lr / 10.0,
                text: "lr / 10",
            },
            ..COUNT
        };
        let config = |lr: f64, lr_final: f64| {
            move |key: &str| (key == "lr").then_some(lr).or((key == "lr_final").then_some(lr_final))
        };
        assert!(derived.is_derived_in(config(0.3, 0.03)));
        assert!(!derived.is_derived_in(config(0.3, 0.05)));
        assert!(!COUNT.is_derived_in(config(0.3, 0.03)), "not a derived setting");
        assert_eq!(derived.default_value(), None);
        assert_eq!(derived.default_text(), "lr / 10");
    }
}
