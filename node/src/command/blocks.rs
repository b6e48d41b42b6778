//! `export-blocks`, `import-blocks` and `check-chain`.
//!
//! The block file is a plain concatenation of SCALE-encoded blocks (headers sealed), in
//! ascending order. Importing re-executes every block and checks its roots and seal, so a file
//! of blocks can rebuild a node's database from genesis.

use super::setup;
use crate::{
    cli::{ExportBlocksArgs, ImportBlocksArgs, SharedArgs},
    error::{NodeError, NodeResult},
    service::open_client,
};
use codec::{Decode, DecodeLimit, Encode};
use std::{
    io::{BufReader, BufWriter, Read, Write},
    path::Path,
};
use subtensor_chain::{db::meta_keys, ChainApi, ChainWrite, Database, ImportOutcome, Pruning};
use subtensor_runtime::Block;

/// The pruning mode the database at `db_path` was created with; archive for a new database.
/// Blocks are kept in every mode, so exporting and importing work on any database, which must
/// be opened in its own mode.
fn stored_pruning(db_path: &Path) -> NodeResult<Pruning> {
    if !db_path.exists() {
        return Ok(Pruning::Archive);
    }
    let db = subtensor_chain::ParityDb::open(db_path)?;
    match db.get(subtensor_chain::db::Column::Meta, meta_keys::PRUNING)? {
        Some(raw) => Pruning::decode(&mut &raw[..]).map_err(|e| {
            NodeError::Chain(subtensor_chain::ChainError::Database(format!(
                "corrupt pruning mode: {e}"
            )))
        }),
        None => Ok(Pruning::Archive),
    }
}

/// The slot duration stored in the database at `db_path`, if there is one.
fn stored_slot_duration(db_path: &Path) -> NodeResult<Option<u64>> {
    if !db_path.exists() {
        return Ok(None);
    }
    let db = subtensor_chain::ParityDb::open(db_path)?;
    match db.get(subtensor_chain::db::Column::Meta, meta_keys::SLOT_DURATION)? {
        Some(raw) => u64::decode(&mut &raw[..]).map(Some).map_err(|e| {
            NodeError::Chain(subtensor_chain::ChainError::Database(format!(
                "corrupt slot duration: {e}"
            )))
        }),
        None => Ok(None),
    }
}

/// The slot duration of the chain `block` belongs to: its timestamp divided by its slot (for
/// real timestamps the division leaves no doubt), if that is consistent.
fn slot_duration_of(block: &Block) -> Option<u64> {
    let slot = subtensor_chain::consensus::slot_of(&block.header).ok().flatten()?;
    let timestamp = block.extrinsics.iter().find_map(|xt| match &xt.function {
        subtensor_runtime::RuntimeCall::Timestamp(pallet_timestamp::Call::set { now }) => {
            Some(*now)
        }
        _ => None,
    })?;
    let duration = timestamp.checked_div(slot)?;
    (duration > 0 && subtensor_chain::consensus::slot_at(timestamp, duration) == slot)
        .then_some(duration)
}

/// Write blocks `from..=to` of the canonical chain.
pub fn export(args: &ExportBlocksArgs, top: &SharedArgs) -> NodeResult<()> {
    let setup = setup(&args.shared, top)?;
    let db_path = setup.db_path();
    let slot_ms = stored_slot_duration(&db_path)?.unwrap_or(setup.spec.consensus.slot_duration_ms);
    let client = open_client(&setup.spec, &db_path, stored_pruning(&db_path)?, slot_ms)?;
    let best = client.info().best_number;
    let to = args.to.unwrap_or(best).min(best);
    let out: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.output)
                .map_err(|e| NodeError::io(format!("creating {}", args.output.display()), e))?,
        )
    };
    let mut out = BufWriter::new(out);
    let mut count = 0u32;
    for number in args.from..=to {
        let hash = client
            .hash(number)?
            .ok_or_else(|| NodeError::InvalidArgument(format!("no block #{number}")))?;
        let block = client
            .block(hash)?
            .ok_or_else(|| NodeError::InvalidArgument(format!("no body for #{number}")))?;
        out.write_all(&block.encode()).map_err(|e| NodeError::io("writing blocks", e))?;
        count += 1;
    }
    out.flush().map_err(|e| NodeError::io("writing blocks", e))?;
    eprintln!("exported {count} blocks (#{}..=#{to})", args.from);
    Ok(())
}

/// Import every block of a file, re-executing each.
pub fn import(args: &ImportBlocksArgs, top: &SharedArgs) -> NodeResult<()> {
    let setup = setup(&args.shared, top)?;
    let db_path = setup.db_path();
    let input: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.input)
                .map_err(|e| NodeError::io(format!("opening {}", args.input.display()), e))?,
        )
    };
    let mut bytes = Vec::new();
    BufReader::new(input)
        .read_to_end(&mut bytes)
        .map_err(|e| NodeError::io("reading blocks", e))?;
    // A new database takes the slot duration of the blocks (their timestamps and slots tell
    // it); an existing one keeps its own.
    let first =
        Block::decode_with_depth_limit(subtensor_chain::executor::MAX_BLOCK_DEPTH, &mut &bytes[..])
            .ok();
    let slot_ms = match stored_slot_duration(&db_path)? {
        Some(stored) => stored,
        None => first
            .as_ref()
            .and_then(slot_duration_of)
            .unwrap_or(setup.spec.consensus.slot_duration_ms),
    };
    let client = open_client(&setup.spec, &db_path, stored_pruning(&db_path)?, slot_ms)?;
    let mut cursor = &bytes[..];
    let (mut imported, mut known) = (0u32, 0u32);
    while !cursor.is_empty() {
        let offset = bytes.len() - cursor.len();
        let block =
            Block::decode_with_depth_limit(subtensor_chain::executor::MAX_BLOCK_DEPTH, &mut cursor)
                .map_err(|e| {
                    NodeError::InvalidArgument(format!(
                        "undecodable block at byte {offset}: {}",
                        subtensor_chain::executor::decode_error_text(&e)
                    ))
                })?;
        let number = block.header.number;
        match client.import_block(block)? {
            ImportOutcome::Imported { .. } => imported += 1,
            ImportOutcome::AlreadyKnown(_) => known += 1,
        }
        if number % 100 == 0 {
            eprintln!("imported up to #{number}");
        }
        // The blocks of a file are taken as final (it is the operator's own export); finalizing
        // as we go keeps the unfinalized tree small on long imports.
        if number % 1_000 == 0 {
            let best = client.info().best_hash;
            client.finalize(best, None)?;
        }
    }
    let info = client.info();
    if info.finalized_hash != info.best_hash {
        client.finalize(info.best_hash, None)?;
    }
    eprintln!("imported {imported} blocks ({known} already known); best #{}", info.best_number);
    Ok(())
}

/// Re-execute the stored chain from genesis and compare every state root.
pub fn check(shared: &SharedArgs, top: &SharedArgs) -> NodeResult<()> {
    let setup = setup(shared, top)?;
    let db_path = setup.db_path();
    if !db_path.exists() {
        return Err(NodeError::InvalidArgument(format!("no database at {}", db_path.display())));
    }
    let db = subtensor_chain::ParityDb::open(&db_path)?;
    let genesis = setup.spec.genesis_storage()?;
    let report = subtensor_chain::verify_chain(&db, &genesis, &setup.spec.aura_authorities()?)?;
    println!(
        "ok: re-executed #{}..=#{} ({:?}); every state root matches",
        1, report.best_number, report.best_hash
    );
    Ok(())
}
