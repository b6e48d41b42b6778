//! `purge-chain`: delete the chain's database.

use super::setup;
use crate::{
    cli::{PurgeChainArgs, SharedArgs},
    error::{NodeError, NodeResult},
};
use std::io::{BufRead, Write};

/// Delete `<base-path>/chains/<id>/db`, after a confirmation unless `-y`.
pub fn run(args: &PurgeChainArgs, top: &SharedArgs) -> NodeResult<()> {
    let setup = setup(&args.shared, top)?;
    let db = setup.db_path();
    if !db.exists() {
        eprintln!("{} does not exist; nothing to purge", db.display());
        return Ok(());
    }
    if !args.yes {
        eprint!("Delete the database at {}? [y/N]: ", db.display());
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| NodeError::io("reading the confirmation", e))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("Aborted");
            return Ok(());
        }
    }
    std::fs::remove_dir_all(&db)
        .map_err(|e| NodeError::io(format!("removing {}", db.display()), e))?;
    eprintln!("{} removed", db.display());
    Ok(())
}
