//! Chain specs: the built-in `dev` and `local` chains, and JSON files in Substrate's layout.
//!
//! A spec names the chain, its type and token properties, the block authority (an sr25519
//! SS58 address) and the genesis state, either as the runtime's genesis-config patch
//! (`"genesis": {"runtimeGenesis": {"patch": {...}}}`) or as raw storage
//! (`"genesis": {"raw": {"top": {"0x..": "0x.."}}}`, what `build-spec --raw` prints). Both forms
//! of one spec give the same genesis state and hash.

use crate::error::{NodeError, NodeResult};
use serde::{Deserialize, Serialize};
use sp_core::{
    crypto::{Ss58AddressFormat, Ss58Codec},
    storage::Storage,
};
use std::{collections::BTreeMap, path::Path};
use subtensor_runtime::genesis_config_presets;

/// The kind of chain, as `system_chainType` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainType {
    /// A throw-away development chain.
    Development,
    /// A local test network.
    Local,
    /// A live network.
    Live,
}

/// The keys of one authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorityKeys {
    /// Its Aura (block authoring) key: sr25519, SS58.
    pub aura: String,
    /// Its GRANDPA (finality voting) key: ed25519, SS58.
    pub grandpa: String,
}

/// Who authors and finalizes blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consensus {
    /// The authorities, in Aura order: the author of slot `s` is `authorities[s % n]`; GRANDPA
    /// voters with equal weights.
    #[serde(default)]
    pub authorities: Vec<AuthorityKeys>,
    /// Older specs' single block authority (sr25519 SS58), read when `authorities` is empty;
    /// such a chain has one author that finalizes its own blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// The slot length in milliseconds (the slot of a block is its timestamp divided by this).
    pub slot_duration_ms: u64,
}

/// One authority's public keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authority {
    /// Aura key.
    pub aura: sp_core::sr25519::Public,
    /// GRANDPA key (`None` for an older spec's single authority).
    pub grandpa: Option<sp_core::ed25519::Public>,
}

/// The public keys the well-known development account `name` (`Alice`, `Bob`...) has as an
/// authority (`//Name` as sr25519 and as ed25519).
pub fn dev_authority_keys(name: &str) -> NodeResult<AuthorityKeys> {
    use sp_core::Pair;
    let uri = format!("//{name}");
    let aura = sp_core::sr25519::Pair::from_string(&uri, None)
        .map_err(|e| NodeError::Genesis(format!("{uri}: {e:?}")))?
        .public();
    let grandpa = sp_core::ed25519::Pair::from_string(&uri, None)
        .map_err(|e| NodeError::Genesis(format!("{uri}: {e:?}")))?
        .public();
    let format = Ss58AddressFormat::custom(subtensor_primitives::SS58_PREFIX);
    Ok(AuthorityKeys {
        aura: aura.to_ss58check_with_version(format),
        grandpa: grandpa.to_ss58check_with_version(format),
    })
}

/// The genesis state of a spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Genesis {
    /// A patch over the runtime's default genesis config.
    RuntimeGenesis {
        /// The JSON patch.
        patch: serde_json::Value,
    },
    /// Raw storage.
    Raw {
        /// Top-level storage: hex key to hex value.
        top: BTreeMap<String, String>,
        /// Child tries (unused by this runtime; kept for Substrate's layout).
        #[serde(default, rename = "childrenDefault")]
        children_default: BTreeMap<String, serde_json::Value>,
    },
}

/// A chain spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainSpec {
    /// The chain's name (`system_chain`).
    pub name: String,
    /// Its identifier; the database lives under `chains/<id>/`.
    pub id: String,
    /// Its type.
    pub chain_type: ChainType,
    /// Bootstrap peers (unused: single-authority chains).
    #[serde(default)]
    pub boot_nodes: Vec<String>,
    /// Token properties (`system_properties`).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Block authoring.
    pub consensus: Consensus,
    /// The genesis state.
    pub genesis: Genesis,
}

fn properties() -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    map.insert("ss58Format".into(), subtensor_primitives::SS58_PREFIX.into());
    map.insert("tokenDecimals".into(), subtensor_primitives::TOKEN_DECIMALS.into());
    map.insert("tokenSymbol".into(), subtensor_primitives::TOKEN_SYMBOL.into());
    map
}

fn preset(name: &str) -> NodeResult<serde_json::Value> {
    let bytes = genesis_config_presets::get_preset(&name.into())
        .ok_or_else(|| NodeError::Genesis(format!("the runtime has no genesis preset {name:?}")))?;
    serde_json::from_slice(&bytes).map_err(|e| NodeError::Genesis(e.to_string()))
}

#[cfg(test)]
fn ss58(account: &subtensor_runtime::AccountId) -> String {
    account.to_ss58check_with_version(Ss58AddressFormat::custom(subtensor_primitives::SS58_PREFIX))
}

/// The built-in development chain: //Alice authors, is sudo and owns subnet 1 (tempo 10).
pub fn dev() -> NodeResult<ChainSpec> {
    Ok(ChainSpec {
        name: "Bittensor Development".into(),
        id: "bittensor_dev".into(),
        chain_type: ChainType::Development,
        boot_nodes: vec![],
        properties: properties(),
        consensus: Consensus {
            authorities: vec![dev_authority_keys("Alice")?],
            authority: None,
            slot_duration_ms: 1_000,
        },
        genesis: Genesis::RuntimeGenesis { patch: preset(sp_genesis_builder::DEV_RUNTIME_PRESET)? },
    })
}

/// The built-in local test network: as `dev`, with 12 s slots and subnet 1 at tempo 100.
pub fn local() -> NodeResult<ChainSpec> {
    Ok(ChainSpec {
        name: "Bittensor Local Testnet".into(),
        id: "bittensor_local".into(),
        chain_type: ChainType::Local,
        boot_nodes: vec![],
        properties: properties(),
        consensus: Consensus {
            authorities: ["Alice", "Bob", "Charlie", "Dave"]
                .into_iter()
                .map(dev_authority_keys)
                .collect::<NodeResult<_>>()?,
            authority: None,
            slot_duration_ms: subtensor_runtime::MILLISECS_PER_BLOCK,
        },
        genesis: Genesis::RuntimeGenesis {
            patch: preset(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)?,
        },
    })
}

/// The spec named `chain` (`dev`, `local`) or stored in the file at that path.
pub fn load(chain: &str) -> NodeResult<ChainSpec> {
    match chain {
        "dev" => dev(),
        "local" => local(),
        path => {
            let path = Path::new(path);
            let text = std::fs::read_to_string(path)
                .map_err(|e| NodeError::ChainSpec { path: path.into(), reason: e.to_string() })?;
            serde_json::from_str(&text)
                .map_err(|e| NodeError::ChainSpec { path: path.into(), reason: e.to_string() })
        }
    }
}

fn hex_bytes(text: &str) -> NodeResult<Vec<u8>> {
    hex::decode(text.trim_start_matches("0x"))
        .map_err(|e| NodeError::Genesis(format!("bad hex {text:?}: {e}")))
}

impl ChainSpec {
    /// The genesis storage of this spec.
    pub fn genesis_storage(&self) -> NodeResult<Storage> {
        match &self.genesis {
            Genesis::RuntimeGenesis { patch } => {
                genesis_config_presets::storage_from_patch(patch.clone())
                    .map_err(NodeError::Genesis)
            }
            Genesis::Raw { top, .. } => {
                let mut storage = Storage::default();
                for (key, value) in top {
                    storage.top.insert(hex_bytes(key)?, hex_bytes(value)?);
                }
                Ok(storage)
            }
        }
    }

    /// This spec with its genesis as raw storage.
    pub fn to_raw(&self) -> NodeResult<ChainSpec> {
        let storage = self.genesis_storage()?;
        let top = storage
            .top
            .iter()
            .map(|(k, v)| (format!("0x{}", hex::encode(k)), format!("0x{}", hex::encode(v))))
            .collect();
        Ok(ChainSpec {
            genesis: Genesis::Raw { top, children_default: BTreeMap::new() },
            ..self.clone()
        })
    }

    /// The authorities' public keys, in Aura order.
    pub fn authorities(&self) -> NodeResult<Vec<Authority>> {
        let bad = |what: &str, key: &str, e: String| NodeError::ChainSpec {
            path: self.id.clone().into(),
            reason: format!("{what} key {key:?}: {e}"),
        };
        if self.consensus.authorities.is_empty() {
            let Some(single) = &self.consensus.authority else {
                return Err(NodeError::ChainSpec {
                    path: self.id.clone().into(),
                    reason: "consensus.authorities is empty".into(),
                });
            };
            let aura = sp_core::sr25519::Public::from_ss58check(single)
                .map_err(|e| bad("authority", single, format!("{e:?}")))?;
            return Ok(vec![Authority { aura, grandpa: None }]);
        }
        self.consensus
            .authorities
            .iter()
            .map(|keys| {
                Ok(Authority {
                    aura: sp_core::sr25519::Public::from_ss58check(&keys.aura)
                        .map_err(|e| bad("aura", &keys.aura, format!("{e:?}")))?,
                    grandpa: Some(
                        sp_core::ed25519::Public::from_ss58check(&keys.grandpa)
                            .map_err(|e| bad("grandpa", &keys.grandpa, format!("{e:?}")))?,
                    ),
                })
            })
            .collect()
    }

    /// The Aura keys of the authorities, in order.
    pub fn aura_authorities(&self) -> NodeResult<Vec<sp_core::sr25519::Public>> {
        Ok(self.authorities()?.into_iter().map(|a| a.aura).collect())
    }

    /// The spec as pretty JSON, as `build-spec` prints it.
    pub fn to_json(&self) -> NodeResult<String> {
        serde_json::to_string_pretty(self).map_err(|e| NodeError::Genesis(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_raw_specs_give_the_same_genesis() {
        let spec = dev().unwrap();
        let raw = spec.to_raw().unwrap();
        let json = raw.to_json().unwrap();
        let reparsed: ChainSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(reparsed.genesis_storage().unwrap().top, spec.genesis_storage().unwrap().top);
    }

    #[test]
    fn authorities_parse() {
        let dev = dev().unwrap().authorities().unwrap();
        assert_eq!(dev.len(), 1);
        assert_eq!(dev[0].aura, sp_keyring::Sr25519Keyring::Alice.public());
        assert_eq!(dev[0].grandpa, Some(sp_keyring::Ed25519Keyring::Alice.public()));
        let local = local().unwrap().authorities().unwrap();
        assert_eq!(local.len(), 4);
        assert_eq!(local[3].aura, sp_keyring::Sr25519Keyring::Dave.public());
        // An older spec with one `authority`.
        let mut old = crate::chain_spec::dev().unwrap();
        old.consensus.authorities.clear();
        old.consensus.authority = Some(ss58(&sp_keyring::Sr25519Keyring::Bob.to_account_id()));
        let json = old.to_json().unwrap();
        let parsed: ChainSpec = serde_json::from_str(&json).unwrap();
        let keys = parsed.authorities().unwrap();
        assert_eq!(keys, vec![Authority { aura: sp_keyring::Sr25519Keyring::Bob.public(), grandpa: None }]);
    }

    #[test]
    fn a_malformed_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = load(path.to_str().unwrap()).unwrap_err().to_string();
        assert!(err.contains("bad.json"), "{err}");
    }
}
