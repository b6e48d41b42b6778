//! Chain specs: the built-in `dev` and `local` chains, and JSON files in Substrate's layout.
//!
//! A spec names the chain, its type and token properties, the slot duration and the genesis
//! state, either as the runtime's genesis-config patch
//! (`"genesis": {"runtimeGenesis": {"patch": {...}}}`) or as raw storage
//! (`"genesis": {"raw": {"top": {"0x..": "0x.."}}}`, what `build-spec --raw` prints). Both forms
//! of one spec give the same genesis state and hash.
//!
//! The block authorities are part of the genesis state (pallets Aura and Grandpa), and the node
//! reads them from there through the runtime APIs ([`ChainSpec::authorities`]); an older spec
//! whose genesis has none may still name a single author in `consensus.authority`.

use crate::error::{NodeError, NodeResult};
use serde::{Deserialize, Serialize};
use sp_core::{crypto::Ss58Codec, storage::Storage};
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

/// Who authors and finalizes blocks: the slot length, and for older specs the single author.
///
/// The authorities themselves are in the genesis state (`aura.authorities` and
/// `grandpa.authorities` of the runtime genesis config, i.e. `Aura.Authorities` and
/// `Grandpa.Authorities`), the one source of truth: see [`ChainSpec::authorities`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consensus {
    /// Older specs' single block authority (sr25519 SS58), read only when the genesis has no
    /// Aura authorities; such a chain has one author that finalizes its own blocks (no GRANDPA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// The slot length in milliseconds (the slot of a block is its timestamp divided by this).
    /// It governs authoring and import; the runtime's `AuraApi_slot_duration` is informational.
    pub slot_duration_ms: u64,
}

/// One authority's public keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authority {
    /// Aura key.
    pub aura: sp_core::sr25519::Public,
    /// GRANDPA key (`None` for an older spec's single authority, or a single Aura authority
    /// with no GRANDPA authorities in the genesis).
    pub grandpa: Option<sp_core::ed25519::Public>,
}

/// The authorities recorded in a genesis state, as the runtime APIs report them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisAuthorities {
    /// `AuraApi_authorities`: the Aura keys, in slot order.
    pub aura: Vec<sp_core::sr25519::Public>,
    /// `GrandpaApi_grandpa_authorities`: the GRANDPA keys and their weights.
    pub grandpa: Vec<(sp_core::ed25519::Public, u64)>,
}

impl GenesisAuthorities {
    /// Read the authorities from the genesis `storage` through the runtime APIs
    /// (`AuraApi_authorities`, `GrandpaApi_grandpa_authorities`), executed natively on an
    /// in-memory state built from it, as the chain engine executes calls (runtime panics are
    /// errors).
    pub fn read(storage: &Storage) -> NodeResult<Self> {
        use std::sync::Arc;
        use subtensor_chain::{
            db::{Database, Transaction},
            executor,
            state::StateFactory,
            MemoryDb,
        };
        let genesis = subtensor_chain::genesis::build(storage);
        let db = Arc::new(MemoryDb::new());
        let mut tx = Transaction::new();
        genesis.nodes.write_insertions(&mut tx);
        db.commit(tx)?;
        let state = StateFactory::new(db, 1024 * 1024).at(genesis.header.state_root);
        let call = |method: &str| -> NodeResult<Vec<u8>> {
            Ok(executor::call_read_only(&state, method, &[])?)
        };
        let decode_error = |method: &str, e: codec::Error| {
            NodeError::Genesis(format!("the genesis answers {method} with undecodable data: {e}"))
        };
        let aura = call("AuraApi_authorities")?;
        let aura = <Vec<sp_core::sr25519::Public> as codec::Decode>::decode(&mut &aura[..])
            .map_err(|e| decode_error("AuraApi_authorities", e))?;
        let grandpa = call("GrandpaApi_grandpa_authorities")?;
        let grandpa =
            <Vec<(sp_core::ed25519::Public, u64)> as codec::Decode>::decode(&mut &grandpa[..])
                .map_err(|e| decode_error("GrandpaApi_grandpa_authorities", e))?;
        Ok(Self { aura, grandpa })
    }
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
    account.to_ss58check_with_version(sp_core::crypto::Ss58AddressFormat::custom(
        subtensor_primitives::SS58_PREFIX,
    ))
}

/// The built-in development chain: //Alice authors (the genesis's only Aura and GRANDPA
/// authority, so it finalizes its own blocks), is sudo and owns subnet 1 (tempo 10); 1 s slots.
pub fn dev() -> NodeResult<ChainSpec> {
    Ok(ChainSpec {
        name: "Bittensor Development".into(),
        id: "bittensor_dev".into(),
        chain_type: ChainType::Development,
        boot_nodes: vec![],
        properties: properties(),
        consensus: Consensus { authority: None, slot_duration_ms: 1_000 },
        genesis: Genesis::RuntimeGenesis { patch: preset(sp_genesis_builder::DEV_RUNTIME_PRESET)? },
    })
}

/// The built-in local test network: //Alice, //Bob, //Charlie and //Dave author in turn and
/// vote with GRANDPA (genesis authorities), 12 s slots, subnet 1 at tempo 100.
pub fn local() -> NodeResult<ChainSpec> {
    Ok(ChainSpec {
        name: "Bittensor Local Testnet".into(),
        id: "bittensor_local".into(),
        chain_type: ChainType::Local,
        boot_nodes: vec![],
        properties: properties(),
        consensus: Consensus {
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

    /// The authorities' public keys, in Aura order, read from the genesis state through the
    /// runtime APIs (see [`GenesisAuthorities::read`]): the `i`-th Aura authority is paired with
    /// the `i`-th GRANDPA authority, which must be as many, with equal weights (the node's
    /// GRANDPA voter counts every voter once). A single Aura authority with no GRANDPA
    /// authorities finalizes its own blocks. A genesis with no Aura authorities falls back to
    /// an older spec's `consensus.authority` (a single author, no GRANDPA).
    pub fn authorities(&self) -> NodeResult<Vec<Authority>> {
        let genesis = GenesisAuthorities::read(&self.genesis_storage()?)?;
        self.authorities_from(genesis)
    }

    /// [`Self::authorities`] given the genesis authorities.
    fn authorities_from(&self, genesis: GenesisAuthorities) -> NodeResult<Vec<Authority>> {
        let bad = |reason: String| NodeError::ChainSpec { path: self.id.clone().into(), reason };
        let GenesisAuthorities { aura, grandpa } = genesis;
        if aura.is_empty() {
            if !grandpa.is_empty() {
                return Err(bad(format!(
                    "the genesis has {} GRANDPA authorities but no Aura authorities",
                    grandpa.len()
                )));
            }
            let Some(single) = &self.consensus.authority else {
                return Err(bad(
                    "the genesis has no Aura authorities (`aura.authorities`) and the \
                     spec no `consensus.authority`; a spec that lists `consensus.authorities` \
                     must have them in its genesis instead (regenerate it with build-spec)"
                        .into(),
                ));
            };
            let aura = sp_core::sr25519::Public::from_ss58check(single)
                .map_err(|e| bad(format!("authority key {single:?}: {e:?}")))?;
            return Ok(vec![Authority { aura, grandpa: None }]);
        }
        if self.consensus.authority.is_some() {
            log::warn!(
                target: "node",
                "chain spec {}: `consensus.authority` is ignored, the genesis has Aura authorities",
                self.id
            );
        }
        if grandpa.is_empty() && aura.len() == 1 {
            return Ok(aura.into_iter().map(|aura| Authority { aura, grandpa: None }).collect());
        }
        if grandpa.len() != aura.len() {
            return Err(bad(format!(
                "the genesis has {} Aura and {} GRANDPA authorities; the node needs one \
                 GRANDPA key per Aura authority",
                aura.len(),
                grandpa.len()
            )));
        }
        let weight = grandpa.first().map(|(_, w)| *w);
        if grandpa.iter().any(|(_, w)| Some(*w) != weight || *w == 0) {
            return Err(bad(
                "the genesis GRANDPA authorities must have equal, non-zero weights".into()
            ));
        }
        Ok(aura
            .into_iter()
            .zip(grandpa)
            .map(|(aura, (grandpa, _))| Authority { aura, grandpa: Some(grandpa) })
            .collect())
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
    fn authorities_come_from_the_genesis() {
        use sp_keyring::{Ed25519Keyring as E, Sr25519Keyring as S};
        let dev = dev().unwrap().authorities().unwrap();
        assert_eq!(
            dev,
            vec![Authority { aura: S::Alice.public(), grandpa: Some(E::Alice.public()) }]
        );
        let local = local().unwrap();
        let keys = local.authorities().unwrap();
        let expected: Vec<Authority> =
            [(S::Alice, E::Alice), (S::Bob, E::Bob), (S::Charlie, E::Charlie), (S::Dave, E::Dave)]
                .into_iter()
                .map(|(a, g)| Authority { aura: a.public(), grandpa: Some(g.public()) })
                .collect();
        assert_eq!(keys, expected);
        assert_eq!(
            local.aura_authorities().unwrap(),
            expected.iter().map(|a| a.aura).collect::<Vec<_>>()
        );
        // The raw form of a spec gives the same authorities.
        assert_eq!(local.to_raw().unwrap().authorities().unwrap(), expected);
        // The spec's `consensus` no longer lists them; its genesis does.
        let json: serde_json::Value = serde_json::from_str(&local.to_json().unwrap()).unwrap();
        assert_eq!(json["consensus"], serde_json::json!({ "slotDurationMs": 12000 }));
        let patch = &json["genesis"]["runtimeGenesis"]["patch"];
        assert_eq!(patch["aura"]["authorities"].as_array().unwrap().len(), 4);
        assert_eq!(patch["grandpa"]["authorities"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn an_older_spec_without_genesis_authorities_names_its_single_author() {
        // A genesis without Aura and GRANDPA authorities, and the older `authority` key.
        let mut old = dev().unwrap();
        let Genesis::RuntimeGenesis { patch } = &mut old.genesis else { unreachable!() };
        let patch = patch.as_object_mut().unwrap();
        patch.remove("aura");
        patch.remove("grandpa");
        let err = old.authorities().unwrap_err().to_string();
        assert!(err.contains("no Aura authorities"), "{err}");
        old.consensus.authority = Some(ss58(&sp_keyring::Sr25519Keyring::Bob.to_account_id()));
        let json = old.to_json().unwrap();
        let parsed: ChainSpec = serde_json::from_str(&json).unwrap();
        let keys = parsed.authorities().unwrap();
        assert_eq!(
            keys,
            vec![Authority { aura: sp_keyring::Sr25519Keyring::Bob.public(), grandpa: None }]
        );
        // A spec of the previous format (authorities listed in `consensus`) still parses; its
        // list is not read.
        let previous = json.replace(
            "\"consensus\": {",
            "\"consensus\": {\"authorities\": [{\"aura\": \"x\", \"grandpa\": \"y\"}],",
        );
        let parsed: ChainSpec = serde_json::from_str(&previous).unwrap();
        assert_eq!(parsed.authorities().unwrap(), keys);
    }

    #[test]
    fn inconsistent_genesis_authorities_are_errors() {
        use sp_keyring::{Ed25519Keyring as E, Sr25519Keyring as S};
        let spec = dev().unwrap();
        let with = |aura: Vec<S>, grandpa: Vec<(E, u64)>| {
            spec.authorities_from(GenesisAuthorities {
                aura: aura.into_iter().map(|k| k.public()).collect(),
                grandpa: grandpa.into_iter().map(|(k, w)| (k.public(), w)).collect(),
            })
        };
        // One Aura authority without GRANDPA: a single self-finalizing author.
        assert_eq!(
            with(vec![S::Alice], vec![]).unwrap(),
            vec![Authority { aura: S::Alice.public(), grandpa: None }]
        );
        assert!(with(vec![S::Alice, S::Bob], vec![]).is_err());
        assert!(with(vec![S::Alice, S::Bob], vec![(E::Alice, 1)]).is_err());
        assert!(with(vec![S::Alice, S::Bob], vec![(E::Alice, 1), (E::Bob, 2)]).is_err());
        assert!(with(vec![S::Alice, S::Bob], vec![(E::Alice, 0), (E::Bob, 0)]).is_err());
        assert!(with(vec![], vec![(E::Alice, 1)]).is_err());
        assert_eq!(
            with(vec![S::Alice, S::Bob], vec![(E::Alice, 5), (E::Bob, 5)]).unwrap().len(),
            2
        );
    }

    #[test]
    fn the_engine_builds_and_imports_blocks_that_execute_aura() {
        use codec::{Decode, Encode};
        use std::sync::Arc;
        use subtensor_chain::{
            consensus, ChainApi, ChainWrite, Client, ClientConfig, ImportOutcome, MemoryDb,
        };
        let spec = dev().unwrap();
        let storage = spec.genesis_storage().unwrap();
        let open = || {
            let mut config = ClientConfig::new(spec.aura_authorities().unwrap());
            config.slot_duration_ms = spec.consensus.slot_duration_ms;
            Client::open(Arc::new(MemoryDb::new()), &storage, config).unwrap()
        };
        let (builder, importer) = (open(), open());
        let genesis = builder.info().genesis_hash;
        assert_eq!(importer.info().genesis_hash, genesis);
        let alice = sp_keyring::Sr25519Keyring::Alice.pair();
        let current_slot = |client: &Client, at| {
            use subtensor_runtime::{pallet_aura::CurrentSlot, Runtime};
            let key = CurrentSlot::<Runtime>::hashed_key();
            let raw = client.storage(at, &key).unwrap().unwrap_or_default();
            u64::decode(&mut &raw[..]).unwrap_or(0)
        };

        // Two blocks built by one engine and imported by another, which executes them (it has
        // no prepared changes) with the seal stripped; Aura records each block's slot.
        let mut parent = genesis;
        for slot in [1_700_000_000u64, 1_700_000_003] {
            let built = builder.build_block(parent, slot * 1_000 + 5, &[]).unwrap();
            let block = subtensor_runtime::Block {
                header: consensus::seal(built.block.header, &alice),
                extrinsics: built.block.extrinsics,
            };
            for client in [&builder, &importer] {
                let outcome = client.import_block(block.clone()).unwrap();
                assert!(
                    matches!(outcome, ImportOutcome::Imported { best: true, .. }),
                    "{outcome:?}"
                );
            }
            parent = block.header.hash();
            assert_eq!(current_slot(&importer, parent), slot);
        }
        let authorities = importer.call(parent, "AuraApi_authorities", &[]).unwrap();
        assert_eq!(authorities, vec![sp_core::Pair::public(&alice)].encode());

        // A block of slot 0 on genesis (Aura's stored slot is 0 there) is refused: the runtime's
        // "Slot must increase" panic is caught and the engine keeps working.
        let built = builder.build_block(genesis, 999, &[]);
        assert!(built.is_err(), "{built:?}");
        assert_eq!(importer.info().best_hash, parent);
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
