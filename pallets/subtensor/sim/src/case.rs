//! JSON case format of the Yuma test vectors (`vectors/README.md`) and its conversion to and
//! from the pallet's epoch types.
//!
//! A document is either a vector file `{"cases": [...]}`, a single case (an object with an
//! `input`), or a bare input object (with `stake`, `weights`, ...). Missing parameters take
//! the reference defaults (`DEFAULT_PARAMS` of the vectors), except `current_block`.

use crate::epoch::{run_epoch, subnet_size, topk_permits, EpochInput, EpochOutput, EpochParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use substrate_fixed::types::I32F32;

/// Hyperparameters of a case (`input.params`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseParams {
    /// Block at which the epoch runs.
    pub current_block: u64,
    /// Subnet tempo (default 360).
    #[serde(default = "defaults::tempo")]
    pub tempo: u16,
    /// Block of the previous epoch (0 = none).
    #[serde(default)]
    pub last_step_block: u64,
    /// Activity cutoff in blocks (default 5000).
    #[serde(default = "defaults::activity_cutoff")]
    pub activity_cutoff: u64,
    /// Kappa as u16 (default 32767).
    #[serde(default = "defaults::kappa")]
    pub kappa: u16,
    /// Bonds moving average per 1e6 (default 900000).
    #[serde(default = "defaults::bonds_moving_average")]
    pub bonds_moving_average: u64,
    /// Bonds penalty as u16 (default 65535).
    #[serde(default = "defaults::bonds_penalty")]
    pub bonds_penalty: u16,
    /// Number of validator permits (default 128).
    #[serde(default = "defaults::max_allowed_validators")]
    pub max_allowed_validators: u16,
    /// Stake threshold in rao (default 0).
    #[serde(default)]
    pub stake_threshold: u64,
    /// Subnet owner uid (default none).
    #[serde(default)]
    pub owner_uid: Option<u16>,
    /// Yuma-3 bonds (default false).
    #[serde(default)]
    pub yuma3: bool,
    /// Liquid alpha (default false).
    #[serde(default)]
    pub liquid_alpha: bool,
    /// Liquid alpha lower bound as u16 (default 45875).
    #[serde(default = "defaults::alpha_low")]
    pub alpha_low: u16,
    /// Liquid alpha upper bound as u16 (default 58982).
    #[serde(default = "defaults::alpha_high")]
    pub alpha_high: u16,
    /// Liquid alpha sigmoid steepness (default 1000).
    #[serde(default = "defaults::alpha_sigmoid_steepness")]
    pub alpha_sigmoid_steepness: i16,
}

mod defaults {
    pub(super) fn tempo() -> u16 {
        360
    }
    pub(super) fn activity_cutoff() -> u64 {
        5000
    }
    pub(super) fn kappa() -> u16 {
        32767
    }
    pub(super) fn bonds_moving_average() -> u64 {
        900_000
    }
    pub(super) fn bonds_penalty() -> u16 {
        65535
    }
    pub(super) fn max_allowed_validators() -> u16 {
        128
    }
    pub(super) fn alpha_low() -> u16 {
        45875
    }
    pub(super) fn alpha_high() -> u16 {
        58982
    }
    pub(super) fn alpha_sigmoid_steepness() -> i16 {
        1000
    }
}

impl From<&CaseParams> for EpochParams {
    fn from(p: &CaseParams) -> Self {
        EpochParams {
            current_block: p.current_block,
            tempo: p.tempo,
            last_step_block: p.last_step_block,
            activity_cutoff: p.activity_cutoff,
            kappa: p.kappa,
            bonds_moving_average: p.bonds_moving_average,
            bonds_penalty: p.bonds_penalty,
            max_allowed_validators: p.max_allowed_validators,
            stake_threshold: p.stake_threshold,
            owner_uid: p.owner_uid,
            yuma3: p.yuma3,
            liquid_alpha: p.liquid_alpha,
            alpha_low: p.alpha_low,
            alpha_high: p.alpha_high,
            alpha_sigmoid_steepness: p.alpha_sigmoid_steepness,
        }
    }
}

/// The `input` object of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseInput {
    /// Raw stake per uid (rao).
    pub stake: Vec<u64>,
    /// Stored weight rows `[[uid, u16], ...]`.
    #[serde(default)]
    pub weights: Vec<Vec<(u16, u16)>>,
    /// Stored bond rows `[[uid, u16], ...]`.
    #[serde(default)]
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// Block of each uid's last weight update.
    #[serde(default)]
    pub last_update: Vec<u64>,
    /// Registration block of each uid.
    #[serde(default)]
    pub block_at_registration: Vec<u64>,
    /// Permits stored by the previous epoch; `null` = top-k of the current stake.
    #[serde(default)]
    pub validator_permit: Option<Vec<bool>>,
    /// Earliest unexpired commit block per uid; `null` = commit-reveal off.
    #[serde(default)]
    pub commit_block: Option<Vec<Option<u64>>>,
    /// Emission of the epoch (rao).
    pub rao_emission: u64,
    /// Hyperparameters.
    pub params: CaseParams,
}

impl CaseInput {
    /// Converts to the pallet's epoch input; a `null` permit list becomes the top-k of the
    /// current stake (ties: the lower uid loses; the owner always holds one).
    pub fn to_epoch_input(&self) -> EpochInput {
        let params = EpochParams::from(&self.params);
        let mut input = EpochInput {
            stake: self.stake.clone(),
            weights: self.weights.clone(),
            bonds: self.bonds.clone(),
            last_update: self.last_update.clone(),
            block_at_registration: self.block_at_registration.clone(),
            validator_permit: Vec::new(),
            commit_block: self.commit_block.clone(),
            rao_emission: self.rao_emission,
            params,
        };
        input.validator_permit = match &self.validator_permit {
            Some(p) => p.clone(),
            None => topk_permits(&input.stake, subnet_size(&input), &input.params),
        };
        input
    }
}

/// Expected outputs of a case, kept as raw JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// Exact fixed-point emulation of the reference.
    #[serde(default)]
    pub fixed: Option<Value>,
    /// Float64 specification.
    #[serde(default)]
    pub float: Option<Value>,
}

/// One case of a vector file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Case name.
    #[serde(default)]
    pub name: String,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// `yuma1` or `yuma3`.
    #[serde(default)]
    pub variant: Option<String>,
    /// Epoch input.
    pub input: CaseInput,
    /// Expected outputs, if any.
    #[serde(default)]
    pub expected: Option<Expected>,
}

/// Parses a document: `{"cases": [...]}`, a single case, or a bare input.
pub fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err("expected a JSON object".into());
    };
    if obj.contains_key("cases") {
        #[derive(Deserialize)]
        struct File {
            cases: Vec<Case>,
        }
        let file: File =
            serde_json::from_value(value).map_err(|e| format!("invalid case file: {e}"))?;
        Ok(file.cases)
    } else if obj.contains_key("input") {
        let case: Case = serde_json::from_value(value).map_err(|e| format!("invalid case: {e}"))?;
        Ok(vec![case])
    } else {
        let input: CaseInput =
            serde_json::from_value(value).map_err(|e| format!("invalid input: {e}"))?;
        Ok(vec![Case {
            name: "input".into(),
            description: String::new(),
            variant: None,
            input,
            expected: None,
        }])
    }
}

/// The stored u16 forms of an epoch output (the `u16` object of the vectors).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct U16Outputs {
    /// `floor(stake * 65535)`.
    pub stake_weight: Vec<u16>,
    /// Consensus.
    pub consensus: Vec<u16>,
    /// Incentive.
    pub incentive: Vec<u16>,
    /// Rank (= incentive).
    pub rank: Vec<u16>,
    /// Legacy trust.
    pub trust: Vec<u16>,
    /// Dividends.
    pub dividends: Vec<u16>,
    /// Validator trust.
    pub validator_trust: Vec<u16>,
}

/// An epoch output in the vectors' `expected.fixed` layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputJson {
    /// Always `"fixed"`.
    pub mode: String,
    /// Activity per uid.
    pub active: Vec<bool>,
    /// Normalised stake.
    pub stake: Vec<f64>,
    /// Normalised active stake.
    pub active_stake: Vec<f64>,
    /// New validator permits.
    pub new_validator_permit: Vec<bool>,
    /// Previous permits as applied.
    pub validator_permit_used: Vec<bool>,
    /// Consensus.
    pub consensus: Vec<f64>,
    /// Validator trust.
    pub validator_trust: Vec<f64>,
    /// Incentive.
    pub incentive: Vec<f64>,
    /// Rank (= incentive).
    pub rank: Vec<f64>,
    /// Legacy trust.
    pub trust: Vec<f64>,
    /// Dividends.
    pub dividends: Vec<f64>,
    /// Server emission shares.
    pub normalized_server_emission: Vec<f64>,
    /// Validator emission shares.
    pub normalized_validator_emission: Vec<f64>,
    /// Combined emission shares.
    pub normalized_combined_emission: Vec<f64>,
    /// New bonds `[[uid, value], ...]` per uid.
    pub bonds: Vec<Vec<(u16, f64)>>,
    /// Stored u16 bond rows.
    pub bonds_stored: Vec<Vec<(u16, u16)>>,
    /// u16 forms.
    pub u16: U16Outputs,
    /// Server emission (rao).
    pub server_emission: Vec<u64>,
    /// Validator emission (rao).
    pub validator_emission: Vec<u64>,
    /// Combined emission (rao).
    pub emission: Vec<u64>,
}

fn floats(v: &[I32F32]) -> Vec<f64> {
    v.iter().map(|x| x.to_num::<f64>()).collect()
}

impl From<&EpochOutput> for OutputJson {
    fn from(o: &EpochOutput) -> Self {
        OutputJson {
            mode: "fixed".into(),
            active: o.active.clone(),
            stake: floats(&o.stake),
            active_stake: floats(&o.active_stake),
            new_validator_permit: o.new_validator_permit.clone(),
            validator_permit_used: o.validator_permit_used.clone(),
            consensus: floats(&o.consensus),
            validator_trust: floats(&o.validator_trust),
            incentive: floats(&o.incentive),
            rank: floats(&o.rank),
            trust: floats(&o.trust),
            dividends: floats(&o.dividends),
            normalized_server_emission: floats(&o.normalized_server_emission),
            normalized_validator_emission: floats(&o.normalized_validator_emission),
            normalized_combined_emission: floats(&o.normalized_combined_emission),
            bonds: o
                .bonds
                .iter()
                .map(|row| row.iter().map(|(j, v)| (*j, v.to_num::<f64>())).collect())
                .collect(),
            bonds_stored: o.bonds_stored.clone(),
            u16: U16Outputs {
                stake_weight: EpochOutput::u16_of(&o.stake),
                consensus: EpochOutput::u16_of(&o.consensus),
                incentive: EpochOutput::u16_of(&o.incentive),
                rank: EpochOutput::u16_of(&o.rank),
                trust: EpochOutput::u16_of(&o.trust),
                dividends: EpochOutput::u16_of(&o.dividends),
                validator_trust: EpochOutput::u16_of(&o.validator_trust),
            },
            server_emission: o.server_emission.clone(),
            validator_emission: o.validator_emission.clone(),
            emission: o.emission.clone(),
        }
    }
}

/// Converts an epoch output to a JSON object with the field names of `expected.fixed`.
pub fn output_to_json(o: &EpochOutput) -> Value {
    serde_json::to_value(OutputJson::from(o)).unwrap_or(Value::Null)
}

/// Runs the pallet's epoch on a case input and returns the output JSON.
pub fn run_case(input: &CaseInput) -> Value {
    output_to_json(&run_epoch(&input.to_epoch_input()))
}
