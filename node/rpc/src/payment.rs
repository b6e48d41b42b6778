//! The `payment_*` namespace: fee estimates.

use crate::{common::call_decode, RpcError, RpcResult};
use codec::{DecodeLimit, Encode};
use jsonrpsee::{core::async_trait, proc_macros::rpc};
use pallet_transaction_payment::RuntimeDispatchInfo;
use sp_core::{Bytes, H256};
use std::sync::Arc;
use subtensor_chain::ChainApi;
use subtensor_runtime::{Balance, UncheckedExtrinsic};

/// The `payment_*` methods.
#[rpc(server)]
pub trait PaymentRpc {
    /// Weight, class and inclusion fee of the encoded extrinsic at block `at` (best if absent):
    /// `{"weight":{"ref_time":n,"proof_size":n},"class":"normal","partialFee":"123"}` (fee in
    /// rao, as a decimal string).
    #[method(name = "payment_queryInfo", blocking)]
    fn query_info(
        &self,
        extrinsic: Bytes,
        at: Option<H256>,
    ) -> RpcResult<RuntimeDispatchInfo<Balance>>;
}

/// Implementation of [`PaymentRpcServer`].
pub struct Payment {
    chain: Arc<dyn ChainApi>,
}

impl Payment {
    /// Serves `chain`.
    pub fn new(chain: Arc<dyn ChainApi>) -> Self {
        Self { chain }
    }
}

#[async_trait]
impl PaymentRpcServer for Payment {
    fn query_info(
        &self,
        extrinsic: Bytes,
        at: Option<H256>,
    ) -> RpcResult<RuntimeDispatchInfo<Balance>> {
        UncheckedExtrinsic::decode_all_with_depth_limit(
            subtensor_chain::executor::MAX_EXTRINSIC_DEPTH,
            &mut &extrinsic[..],
        )
        .map_err(|e| {
            RpcError::InvalidParams(format!(
                "Unable to query dispatch info: bad extrinsic: {}",
                subtensor_chain::executor::decode_error_text(&e)
            ))
        })?;
        let len = u32::try_from(extrinsic.len())
            .map_err(|_| RpcError::InvalidParams("extrinsic too long".into()))?;
        // `(extrinsic, len)`: the extrinsic's encoding is the submitted bytes.
        let mut args = extrinsic.0;
        len.encode_to(&mut args);
        call_decode(self.chain.as_ref(), at, "TransactionPaymentApi_query_info", &args)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::test_utils::*;
    use serde_json::json;

    #[tokio::test]
    async fn query_info_shape() {
        let h = harness();
        let tx = xt(1, 5, false);
        let fee = 100 + tx.len();
        assert_eq!(
            h.ok("payment_queryInfo", json!([hex0x(&tx)])).await,
            json!({"weight": {"ref_time": 1000, "proof_size": 64}, "class": "normal", "partialFee": fee.to_string()})
        );
        let genesis = format!("{:?}", h.chain.genesis());
        assert!(h.call("payment_queryInfo", json!([hex0x(&tx), genesis])).await.is_ok());
        assert_eq!(h.err("payment_queryInfo", json!(["0x0102"])).await.code(), -32602);
    }
}
