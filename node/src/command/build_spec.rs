//! `build-spec`: print the chain spec as JSON.

use super::setup;
use crate::{
    cli::{BuildSpecArgs, SharedArgs},
    error::NodeResult,
};

/// Print the spec (raw with `--raw`) on standard output.
pub fn run(args: &BuildSpecArgs, top: &SharedArgs) -> NodeResult<()> {
    let setup = setup(&args.shared, top)?;
    let spec = if args.raw { setup.spec.to_raw()? } else { setup.spec };
    println!("{}", spec.to_json()?);
    Ok(())
}
