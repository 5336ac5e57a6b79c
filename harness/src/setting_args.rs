//! The run settings as `harness train` flags, one per declared setting (`model::all_settings`):
//! `--n-embd 24`, `--batchnorm-bug`, and `--no-fast-path` for a flag that is on by default,
//! with the declaration's help and default. Only the flags given are collected;
//! `TrainConfig::from_settings` checks them against the chosen model and fills in the rest,
//! exactly as for a sweep file's keys.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use model::settings::{Kind, Values};
use model::{ModelKind, Setting, all_settings};
use serde_json::Value;

#[derive(Clone, Debug, Default)]
pub struct SettingArgs {
    /// The settings given on the command line, by name.
    pub values: Values,
}

/// `--n-embd` for `n_embd`; `--no-fast-path` for `fast_path`, a flag on by default.
pub fn flag(name: &str) -> String {
    let negated = all_settings().iter().any(|s| s.name == name && on_by_default(s));
    format!("--{}{}", if negated { "no-" } else { "" }, name.replace('_', "-"))
}

/// A flag that is on unless the user turns it off (`--no-…`).
fn on_by_default(setting: &Setting) -> bool {
    setting.kind == Kind::Flag && setting.default_value() == Some(Value::Bool(true))
}

/// " (wavenet only)" for a setting that only some models take; nothing for the others.
fn only_for(setting: &Setting) -> String {
    let models: Vec<String> = ModelKind::ALL
        .iter()
        .filter(|m| m.settings().iter().any(|s| s.name == setting.name))
        .map(ToString::to_string)
        .collect();
    if models.is_empty() || models.len() == ModelKind::ALL.len() {
        String::new()
    } else {
        format!(" ({} only)", models.join(", "))
    }
}

/// "0.1" for a default every model keeps; "0.1; rnn, gru, transformer: 0.0005" where some
/// models have their own.
fn default_text(setting: &Setting) -> String {
    let mut text = setting.default_text();
    let mut own: Vec<(String, Vec<String>)> = Vec::new();
    for model in ModelKind::ALL {
        let Some(value) = model.default_override(setting.name) else {
            continue;
        };
        match own.iter_mut().find(|(v, _)| *v == value.text()) {
            Some((_, models)) => models.push(model.to_string()),
            None => own.push((value.text(), vec![model.to_string()])),
        }
    }
    for (value, models) in own {
        text.push_str(&format!("; {}: {value}", models.join(", ")));
    }
    text
}

fn arg(setting: &'static Setting) -> Arg {
    let help = format!(
        "{}{} [default: {}]",
        setting.help,
        only_for(setting),
        default_text(setting)
    );
    let arg = Arg::new(setting.name)
        .long(flag(setting.name).trim_start_matches('-').to_string())
        .help(help)
        .required(false);
    if on_by_default(setting) {
        return arg.action(ArgAction::SetTrue).help(format!(
            "Turn `{}` off — {} [on by default]",
            setting.name, setting.help
        ));
    }
    match setting.kind {
        Kind::Choice(names) => arg
            .value_name("NAME")
            .value_parser(PossibleValuesParser::new(names).map(Value::from)),
        // `--batchnorm-bug` alone means true.
        Kind::Flag => arg
            .num_args(0..=1)
            .value_name("BOOL")
            .default_missing_value("true")
            .value_parser(move |text: &str| setting.parse(text)),
        Kind::Count { .. } => arg.value_name("N").value_parser(move |text: &str| setting.parse(text)),
        Kind::Positive | Kind::NonNegative | Kind::Fraction => {
            arg.value_name("X").value_parser(move |text: &str| setting.parse(text))
        }
    }
}

impl Args for SettingArgs {
    fn augment_args(command: Command) -> Command {
        all_settings()
            .iter()
            .fold(command, |command, setting| command.arg(arg(setting)))
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for SettingArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let values = all_settings()
            .iter()
            .filter_map(|s| {
                let value = if on_by_default(s) {
                    // `--no-fast-path` given: off.
                    matches.get_flag(s.name).then_some(Value::Bool(false))
                } else {
                    matches.get_one::<Value>(s.name).cloned()
                };
                Some((s.name.to_string(), value?))
            })
            .collect();
        Ok(Self { values })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        settings: SettingArgs,
    }

    fn parse(args: &[&str]) -> Result<Values, clap::Error> {
        Cli::try_parse_from(std::iter::once("train").chain(args.iter().copied())).map(|cli| cli.settings.values)
    }

    #[test]
    fn every_declared_setting_is_a_flag_and_only_the_given_ones_are_collected() {
        let values = parse(&["--model", "mlp", "--n-embd", "10", "--lr", "0.05"]).unwrap();
        assert_eq!(
            values,
            *json!({"model": "mlp", "n_embd": 10, "lr": 0.05}).as_object().unwrap()
        );
        assert_eq!(parse(&["--batchnorm-bug"]).unwrap()["batchnorm_bug"], json!(true));
        assert!(parse(&[]).unwrap().is_empty());
        let help = Cli::augment_args(Command::new("train")).render_long_help().to_string();
        for setting in all_settings() {
            assert!(help.contains(&flag(setting.name)), "{} in {help}", setting.name);
        }
        assert!(help.contains("[default: lr / 10]"), "{help}");
        assert!(help.contains("input) (wavenet only) [default: false]"), "{help}");
        assert_eq!(parse(&["--no-fast-path"]).unwrap()["fast_path"], json!(false));
        assert!(
            help.contains("--no-fast-path") && !help.contains("--fast-path"),
            "{help}"
        );
    }

    #[test]
    fn a_bad_value_is_a_usage_error_naming_the_flag() {
        let err = parse(&["--n-embd", "0"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("--n-embd") && err.to_string().contains("at least 1"),
            "{err}"
        );
        assert!(parse(&["--model", "gpt"]).unwrap_err().to_string().contains("mlp"));
    }
}
