//! Parsing `stcli subnet set <param> <value>` into the pallet's [`Hyperparameter`].
//!
//! Names are the snake_case of the variants (`weights_set_rate_limit`), matched ignoring case,
//! `_` and `-`, with the btcli names as aliases (`weights_rate_limit`, `max_validators`, ...).

use crate::{CliError, Result};
use std::str::FromStr;
use subtensor_client::pallet_subtensor::Hyperparameter as H;

type Parse = fn(&str) -> std::result::Result<H, String>;

fn num<T: FromStr>(value: &str) -> std::result::Result<T, String> {
    value.trim().parse().map_err(|_| format!("{value:?} is not a valid number here"))
}

fn flag(value: &str) -> std::result::Result<bool, String> {
    match value.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("{value:?} is not a boolean (true/false)")),
    }
}

fn pair(value: &str) -> std::result::Result<(u16, u16), String> {
    let (low, high) = value.split_once(',').ok_or("give \"low,high\"")?;
    Ok((num(low)?, num(high)?))
}

/// Every settable parameter: its names (the first is the canonical one) and its parser.
static PARAMS: &[(&[&str], Parse)] = &[
    (&["tempo"], |v| Ok(H::Tempo(num(v)?))),
    (&["kappa"], |v| Ok(H::Kappa(num(v)?))),
    (&["max_allowed_validators", "max_validators"], |v| Ok(H::MaxAllowedValidators(num(v)?))),
    (&["weights_set_rate_limit", "weights_rate_limit"], |v| Ok(H::WeightsSetRateLimit(num(v)?))),
    (&["adjustment_interval"], |v| Ok(H::AdjustmentInterval(num(v)?))),
    (&["target_registrations_per_interval", "target_regs_per_interval"], |v| {
        Ok(H::TargetRegistrationsPerInterval(num(v)?))
    }),
    (&["max_registrations_per_block", "max_regs_per_block"], |v| {
        Ok(H::MaxRegistrationsPerBlock(num(v)?))
    }),
    (&["difficulty"], |v| Ok(H::Difficulty(num(v)?))),
    (&["emission_share"], |v| Ok(H::EmissionShare(num(v)?))),
    (&["rho"], |v| Ok(H::Rho(num(v)?))),
    (&["immunity_period"], |v| Ok(H::ImmunityPeriod(num(v)?))),
    (&["activity_cutoff"], |v| Ok(H::ActivityCutoff(num(v)?))),
    (&["max_allowed_uids", "max_n"], |v| Ok(H::MaxAllowedUids(num(v)?))),
    (&["min_allowed_weights"], |v| Ok(H::MinAllowedWeights(num(v)?))),
    (&["max_weights_limit"], |v| Ok(H::MaxWeightsLimit(num(v)?))),
    (&["weights_version_key", "weights_version"], |v| Ok(H::WeightsVersionKey(num(v)?))),
    (&["bonds_moving_average", "bonds_moving_avg"], |v| Ok(H::BondsMovingAverage(num(v)?))),
    (&["bonds_penalty"], |v| Ok(H::BondsPenalty(num(v)?))),
    (&["yuma3_enabled", "yuma3_on"], |v| Ok(H::Yuma3Enabled(flag(v)?))),
    (&["liquid_alpha_enabled"], |v| Ok(H::LiquidAlphaEnabled(flag(v)?))),
    (&["alpha_values"], |v| pair(v).map(|(low, high)| H::AlphaValues(low, high))),
    (&["alpha_sigmoid_steepness"], |v| Ok(H::AlphaSigmoidSteepness(num(v)?))),
    (&["min_burn"], |v| Ok(H::MinBurn(num(v)?))),
    (&["max_burn"], |v| Ok(H::MaxBurn(num(v)?))),
    (&["min_difficulty"], |v| Ok(H::MinDifficulty(num(v)?))),
    (&["max_difficulty"], |v| Ok(H::MaxDifficulty(num(v)?))),
    (&["adjustment_alpha"], |v| Ok(H::AdjustmentAlpha(num(v)?))),
    (&["serving_rate_limit"], |v| Ok(H::ServingRateLimit(num(v)?))),
    (&["registration_allowed"], |v| Ok(H::RegistrationAllowed(flag(v)?))),
    (&["pow_registration_allowed"], |v| Ok(H::PowRegistrationAllowed(flag(v)?))),
    (&["commit_reveal_enabled", "commit_reveal_weights_enabled"], |v| {
        Ok(H::CommitRevealEnabled(flag(v)?))
    }),
    (&["reveal_period_epochs", "commit_reveal_period"], |v| Ok(H::RevealPeriodEpochs(num(v)?))),
    (&["scaling_law_power"], |v| Ok(H::ScalingLawPower(num(v)?))),
];

fn canonical(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

/// The [`H`] for parameter `name` set to `value`.
pub fn parse_hyperparameter(name: &str, value: &str) -> Result<H> {
    let key = canonical(name);
    let (_, parse) = PARAMS
        .iter()
        .find(|(names, _)| names.iter().any(|n| canonical(n) == key))
        .ok_or_else(|| {
            let known: Vec<&str> =
                PARAMS.iter().filter_map(|(names, _)| names.first().copied()).collect();
            CliError::Usage(format!("unknown hyperparameter {name:?}; known: {}", known.join(", ")))
        })?;
    parse(value).map_err(|why| CliError::Usage(format!("{name}: {why}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn names_and_values_parse() {
        assert_eq!(parse_hyperparameter("tempo", "5").unwrap(), H::Tempo(5));
        assert_eq!(
            parse_hyperparameter("weights_rate_limit", "0").unwrap(),
            H::WeightsSetRateLimit(0)
        );
        assert_eq!(
            parse_hyperparameter("WeightsSetRateLimit", "7").unwrap(),
            H::WeightsSetRateLimit(7)
        );
        assert_eq!(
            parse_hyperparameter("commit-reveal-enabled", "true").unwrap(),
            H::CommitRevealEnabled(true)
        );
        assert_eq!(parse_hyperparameter("alpha_values", "1,2").unwrap(), H::AlphaValues(1, 2));
        assert!(parse_hyperparameter("tempo", "-1").is_err());
        assert!(parse_hyperparameter("tempo", "70000").is_err());
        assert!(parse_hyperparameter("no_such", "1")
            .unwrap_err()
            .to_string()
            .contains("known: tempo"));
    }

    #[test]
    fn every_parameter_parses_a_value() {
        for (names, parse) in PARAMS {
            let value = if names[0].ends_with("enabled") || names[0].ends_with("allowed") {
                "true"
            } else if names[0] == "alpha_values" {
                "1,2"
            } else {
                "1"
            };
            assert!(parse(value).is_ok(), "{}", names[0]);
        }
    }
}
