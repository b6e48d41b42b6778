//! The subtensor custom methods: the reference chain's `neuronInfo_*` and `subnetInfo_*`
//! (SCALE bytes of the runtime API result as a JSON array of u8, exactly like the reference,
//! which the Python SDK decodes), `subtensor_getMetagraph`, one subnet's metagraph as typed
//! JSON, and `subtensor_getGridSpec`, a grid subnet's spec as typed JSON.

use crate::{
    common::{at_or_best, call_decode},
    metagraph::{Grid, Metagraph},
    RpcError, RpcResult,
};
use codec::Encode;
use jsonrpsee::{core::async_trait, proc_macros::rpc};
use sp_core::H256;
use std::sync::Arc;
use subtensor_chain::ChainApi;
use subtensor_primitives::{
    AccountId, GridSpecRecord, NetUid, NeuronInfo, NeuronInfoLite, SubnetInfo,
};

/// The runtime API method that reads a subnet's grid spec.
const GRID_SPEC_METHOD: &str = "GridSpecRuntimeApi_get_grid_spec";

/// The subtensor methods.
#[rpc(server)]
pub trait SubtensorRpc {
    /// SCALE `Vec<NeuronInfo>` of subnet `netuid` (`NeuronInfoRuntimeApi_get_neurons`).
    #[method(name = "neuronInfo_getNeurons", blocking)]
    fn get_neurons(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>>;

    /// SCALE `Option<NeuronInfo>` of UID `uid` on `netuid`.
    #[method(name = "neuronInfo_getNeuron", blocking)]
    fn get_neuron(&self, netuid: u16, uid: u16, at: Option<H256>) -> RpcResult<Vec<u8>>;

    /// SCALE `Vec<NeuronInfoLite>` of subnet `netuid` (no weights and bonds).
    #[method(name = "neuronInfo_getNeuronsLite", blocking)]
    fn get_neurons_lite(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>>;

    /// SCALE `Option<NeuronInfoLite>` of UID `uid` on `netuid`.
    #[method(name = "neuronInfo_getNeuronLite", blocking)]
    fn get_neuron_lite(&self, netuid: u16, uid: u16, at: Option<H256>) -> RpcResult<Vec<u8>>;

    /// SCALE `Option<SubnetInfo>` of `netuid`.
    #[method(name = "subnetInfo_getSubnetInfo", blocking)]
    fn get_subnet_info(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>>;

    /// SCALE `Vec<Option<SubnetInfo>>` of every subnet.
    #[method(name = "subnetInfo_getSubnetsInfo", blocking)]
    fn get_subnets_info(&self, at: Option<H256>) -> RpcResult<Vec<u8>>;

    /// SCALE `Option<SubnetHyperparams>` of `netuid`.
    #[method(name = "subnetInfo_getSubnetHyperparams", blocking)]
    fn get_subnet_hyperparams(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>>;

    /// The metagraph of `netuid` at block `at` (best if absent) as typed JSON (see
    /// [`Metagraph`]), with sparse weight and bond rows when `include_weights` is true;
    /// `null` if the subnet does not exist.
    #[method(name = "subtensor_getMetagraph", blocking)]
    fn get_metagraph(
        &self,
        netuid: u16,
        include_weights: Option<bool>,
        at: Option<H256>,
    ) -> RpcResult<Option<Metagraph>>;

    /// The grid spec of `netuid` at block `at` (best if absent) as typed JSON (see [`Grid`]);
    /// `null` if the subnet has none or does not exist.
    #[method(name = "subtensor_getGridSpec", blocking)]
    fn get_grid_spec(&self, netuid: u16, at: Option<H256>) -> RpcResult<Option<Grid>>;
}

/// Implementation of [`SubtensorRpcServer`].
pub struct Subtensor {
    chain: Arc<dyn ChainApi>,
}

impl Subtensor {
    /// Serves `chain`.
    pub fn new(chain: Arc<dyn ChainApi>) -> Self {
        Self { chain }
    }

    /// The runtime's raw output of `method(args)`.
    fn raw(&self, method: &str, args: &[u8], at: Option<H256>) -> RpcResult<Vec<u8>> {
        let at = at_or_best(self.chain.as_ref(), at);
        Ok(self.chain.call(at, method, args)?)
    }
}

#[async_trait]
impl SubtensorRpcServer for Subtensor {
    fn get_neurons(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>> {
        self.raw("NeuronInfoRuntimeApi_get_neurons", &NetUid(netuid).encode(), at)
    }

    fn get_neuron(&self, netuid: u16, uid: u16, at: Option<H256>) -> RpcResult<Vec<u8>> {
        self.raw("NeuronInfoRuntimeApi_get_neuron", &(NetUid(netuid), uid).encode(), at)
    }

    fn get_neurons_lite(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>> {
        self.raw("NeuronInfoRuntimeApi_get_neurons_lite", &NetUid(netuid).encode(), at)
    }

    fn get_neuron_lite(&self, netuid: u16, uid: u16, at: Option<H256>) -> RpcResult<Vec<u8>> {
        self.raw("NeuronInfoRuntimeApi_get_neuron_lite", &(NetUid(netuid), uid).encode(), at)
    }

    fn get_subnet_info(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>> {
        self.raw("SubnetInfoRuntimeApi_get_subnet_info", &NetUid(netuid).encode(), at)
    }

    fn get_subnets_info(&self, at: Option<H256>) -> RpcResult<Vec<u8>> {
        self.raw("SubnetInfoRuntimeApi_get_subnets_info", &[], at)
    }

    fn get_subnet_hyperparams(&self, netuid: u16, at: Option<H256>) -> RpcResult<Vec<u8>> {
        self.raw("SubnetInfoRuntimeApi_get_subnet_hyperparams", &NetUid(netuid).encode(), at)
    }

    fn get_metagraph(
        &self,
        netuid: u16,
        include_weights: Option<bool>,
        at: Option<H256>,
    ) -> RpcResult<Option<Metagraph>> {
        let chain = self.chain.as_ref();
        let at = at_or_best(chain, at);
        let header = chain
            .header(at)?
            .ok_or(RpcError::Chain(subtensor_chain::ChainError::UnknownBlock(at)))?;
        let args = NetUid(netuid).encode();
        let subnet: Option<SubnetInfo<AccountId>> =
            call_decode(chain, Some(at), "SubnetInfoRuntimeApi_get_subnet_info", &args)?;
        if subnet.is_none() {
            return Ok(None);
        }
        let include_weights = include_weights.unwrap_or(false);
        let neurons: Vec<NeuronInfo<AccountId>> = if include_weights {
            call_decode(chain, Some(at), "NeuronInfoRuntimeApi_get_neurons", &args)?
        } else {
            // Without weights the lite neurons are enough: no weight and bond rows to read,
            // encode and decode (262,144 weights on a full subnet with 64 validators).
            let lite: Vec<NeuronInfoLite<AccountId>> =
                call_decode(chain, Some(at), "NeuronInfoRuntimeApi_get_neurons_lite", &args)?;
            lite.into_iter().map(without_rows).collect()
        };
        let grid: Option<GridSpecRecord> = call_decode(chain, Some(at), GRID_SPEC_METHOD, &args)?;
        Ok(Some(Metagraph::build(netuid, header.number, neurons, include_weights, grid.as_ref())))
    }

    fn get_grid_spec(&self, netuid: u16, at: Option<H256>) -> RpcResult<Option<Grid>> {
        let chain = self.chain.as_ref();
        let grid: Option<GridSpecRecord> =
            call_decode(chain, at, GRID_SPEC_METHOD, &NetUid(netuid).encode())?;
        Ok(grid.as_ref().map(Grid::from))
    }
}

/// A lite neuron as a full one with empty weight and bond rows.
fn without_rows(n: NeuronInfoLite<AccountId>) -> NeuronInfo<AccountId> {
    NeuronInfo::from_lite(n, Vec::new(), Vec::new())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::{metagraph::ss58, test_utils::*};
    use codec::Encode;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn custom_methods_return_scale_as_u8_arrays() {
        let h = harness();
        let bytes = neurons().encode();
        assert_eq!(h.ok("neuronInfo_getNeurons", json!([1])).await, json!(bytes));
        let genesis = format!("{:?}", h.chain.genesis());
        assert_eq!(h.ok("neuronInfo_getNeurons", json!([1, genesis])).await, json!(bytes));
        assert_eq!(h.ok("subnetInfo_getSubnetsInfo", json!([])).await, json!([7, 8, 9]));
        assert_eq!(h.ok("subnetInfo_getSubnetInfo", json!([2])).await, json!([0]));
        // The fake runtime lacks this entry point: the runtime's error comes through.
        assert_eq!(h.err("neuronInfo_getNeuronLite", json!([1, 0])).await.code(), -32002);
        assert_eq!(h.err("neuronInfo_getNeurons", json!([70000])).await.code(), -32602);
    }

    #[tokio::test]
    async fn metagraph_is_typed_json() {
        let h = harness();
        let m = h.ok("subtensor_getMetagraph", json!([1])).await;
        assert_eq!(m["netuid"], json!(1));
        assert_eq!(m["block"], json!(0));
        assert_eq!(m["n"], json!(2));
        assert_eq!(m["uids"], json!([0, 1]));
        assert_eq!(m["hotkeys"], json!([ss58(&account(10)), ss58(&account(11))]));
        assert!(m["hotkeys"][0].as_str().unwrap().starts_with('5'));
        assert_eq!(m["coldkeys"], json!([ss58(&account(20)), ss58(&account(21))]));
        assert_eq!(m["stake"], json!([1500, 1500]));
        assert_eq!(m["rank"], json!([0, 100]));
        assert_eq!(m["emission"], json!([1_000_000, 1_000_001]));
        assert_eq!(m["validator_permit"], json!([true, false]));
        assert_eq!(m["active"], json!([true, true]));
        assert_eq!(m["last_update"], json!([9, 9]));
        assert_eq!(
            m["axons"][0],
            json!({"ip": "127.0.0.1", "port": 8091, "ip_type": 4, "version": 7, "protocol": 4})
        );
        assert!(m.get("weights").is_none());
        // Subnet 1 of the fake runtime is a grid subnet.
        assert_eq!(m["grid"], grid_json());
        let m = h.ok("subtensor_getMetagraph", json!([1, true])).await;
        assert_eq!(m["weights"], json!([[[0, 65535], [1, 10]], [[0, 65535], [1, 10]]]));
        assert_eq!(m["bonds"], json!([[[1, 7]], [[1, 7]]]));
        assert_eq!(h.ok("subtensor_getMetagraph", json!([2, false, null])).await, Value::Null);
        let unknown = format!("{:?}", sp_core::H256::repeat_byte(3));
        assert_eq!(
            h.err("subtensor_getMetagraph", json!([1, false, unknown])).await.code(),
            -32000
        );
    }

    /// The fake runtime's grid spec of subnet 1 as JSON.
    fn grid_json() -> Value {
        json!({
            "model_sha256": "ab".repeat(32),
            "sampler_version": 1,
            "max_new_tokens": 32,
            "max_context": 512,
            "model_name": "tiny-grid",
            "set_at_block": 4,
        })
    }

    #[tokio::test]
    async fn grid_spec_is_typed_json_or_null() {
        let h = harness();
        assert_eq!(h.ok("subtensor_getGridSpec", json!([1])).await, grid_json());
        let genesis = format!("{:?}", h.chain.genesis());
        assert_eq!(h.ok("subtensor_getGridSpec", json!([1, genesis])).await, grid_json());
        // An ordinary (here: missing) subnet has none.
        assert_eq!(h.ok("subtensor_getGridSpec", json!([2])).await, Value::Null);
        let unknown = format!("{:?}", sp_core::H256::repeat_byte(3));
        assert_eq!(h.err("subtensor_getGridSpec", json!([1, unknown])).await.code(), -32000);
        assert_eq!(h.err("subtensor_getGridSpec", json!([70000])).await.code(), -32602);
    }
}
