//! `key generate-node-key` and `key inspect-node-key`.

use crate::{
    cli::KeyCommand,
    error::{NodeError, NodeResult},
};
use subtensor_network::NodeKey;

/// Run a `key` subcommand.
pub fn run(command: &KeyCommand) -> NodeResult<()> {
    match command {
        KeyCommand::GenerateNodeKey { file } => {
            let key = NodeKey::generate();
            match file {
                Some(path) => {
                    if path.exists() {
                        return Err(NodeError::InvalidArgument(format!(
                            "{} exists; not overwriting a node key",
                            path.display()
                        )));
                    }
                    key.save(path).map_err(|e| NodeError::InvalidArgument(e.to_string()))?;
                }
                None => println!("{}", key.to_hex()),
            }
            eprintln!("{}", key.peer_id());
        }
        KeyCommand::InspectNodeKey { file } => {
            let key = NodeKey::load(file).map_err(|e| NodeError::InvalidArgument(e.to_string()))?;
            println!("{}", key.peer_id());
        }
    }
    Ok(())
}
