//! `yuma-epoch`: runs one Yuma consensus epoch of the pallet's own epoch code on a JSON case
//! and prints the outputs as JSON (the layout of the vectors' `expected.fixed`).

use std::io::Read;
use std::process::ExitCode;
use yuma_sim::{parse_cases, Case, OutputJson};

const HELP: &str = "\
yuma-epoch - run one Yuma consensus epoch (the pallet's fixed-point epoch code) on a JSON case

USAGE:
    yuma-epoch [--case NAME] CASE.json
    yuma-epoch [--case NAME] -            (read the document from stdin)

INPUT (one JSON document, any of):
    {\"cases\": [CASE, ...]}   a vector file; pick a case with --case NAME
                             (optional when the file holds a single case)
    CASE                     an object with \"input\" (other keys such as
                             \"name\" and \"expected\" are ignored)
    INPUT                    a bare input object

    INPUT = {
      \"stake\": [rao, ...],                       raw stake per uid
      \"weights\": [[[uid, u16], ...], ...],       stored Weights rows (max-upscaled)
      \"bonds\": [[[uid, u16], ...], ...],         stored Bonds rows of the previous epoch
      \"last_update\": [block, ...],
      \"block_at_registration\": [block, ...],
      \"validator_permit\": [bool, ...] | null,    previous permits; null = top-k of stake
      \"commit_block\": [block|null, ...] | null,  earliest live commit per uid; null = off
      \"rao_emission\": rao,
      \"params\": {\"current_block\", \"tempo\", \"last_step_block\", \"activity_cutoff\",
                 \"kappa\", \"bonds_moving_average\", \"bonds_penalty\",
                 \"max_allowed_validators\", \"stake_threshold\", \"owner_uid\", \"yuma3\",
                 \"liquid_alpha\", \"alpha_low\", \"alpha_high\", \"alpha_sigmoid_steepness\"}
    }
    Missing params take the defaults (tempo 360, activity_cutoff 5000, kappa 32767,
    bonds_moving_average 900000, bonds_penalty 65535, max_allowed_validators 128,
    alpha 45875..58982, steepness 1000, everything else 0/false/null);
    current_block is required. Per-uid index i is uid i.

OUTPUT (stdout, JSON):
    mode, active, stake, active_stake, new_validator_permit, validator_permit_used,
    consensus, validator_trust, incentive, rank, trust, dividends,
    normalized_server_emission, normalized_validator_emission,
    normalized_combined_emission, bonds [[uid, float]], bonds_stored [[uid, u16]],
    u16 {stake_weight, consensus, incentive, rank, trust, dividends, validator_trust},
    server_emission, validator_emission, emission (rao)
    Floats are the exact values of the I32F32 results.

EXIT STATUS:
    0 on success, 2 on bad arguments or bad input (one-line message on stderr).
";

fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let mut path: Option<String> = None;
    let mut case_name: Option<String> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(HELP.to_string()),
            "--case" => {
                case_name = Some(args.next().ok_or("--case needs a NAME")?);
            }
            s if s.starts_with("--case=") => {
                case_name = Some(s.trim_start_matches("--case=").to_string());
            }
            s if s.starts_with('-') && s != "-" => {
                return Err(format!("unknown option {s} (see --help)"));
            }
            _ => {
                if path.is_some() {
                    return Err("more than one input file given (see --help)".into());
                }
                path = Some(arg);
            }
        }
    }
    let path = path.ok_or("no input file given (see --help)")?;
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
        s
    } else {
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?
    };
    let cases = parse_cases(&text)?;
    let case: &Case = match &case_name {
        Some(name) => cases
            .iter()
            .find(|c| &c.name == name)
            .ok_or_else(|| format!("no case named {name:?} in {path}"))?,
        None => match cases.as_slice() {
            [only] => only,
            [] => return Err(format!("{path} holds no case")),
            _ => {
                return Err(format!(
                    "{path} holds {} cases; choose one with --case NAME",
                    cases.len()
                ))
            }
        },
    };
    let output = pallet_epoch_output(case);
    serde_json::to_string_pretty(&output).map_err(|e| format!("cannot print output: {e}"))
}

fn pallet_epoch_output(case: &Case) -> OutputJson {
    let out = yuma_sim::epoch::run_epoch(&case.input.to_epoch_input());
    OutputJson::from(&out)
}

fn main() -> ExitCode {
    match run() {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("yuma-epoch: error: {}", msg.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
