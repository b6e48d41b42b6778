//! Native runtime execution: call a runtime API entry point (`Core_version`,
//! `BlockBuilder_apply_extrinsic`, ...) through `subtensor_runtime::api::dispatch` with the
//! externalities of a state.
//!
//! Each call runs in a fresh [`Ext`] over the given backend and overlay, inside
//! `set_and_run_with_externalities`, and under `catch_unwind`: a runtime panic becomes
//! [`ChainError::Execution`] and never unwinds into the node. The overlay is marked as "in
//! runtime" for the call, so storage transactions the runtime leaves open (for instance when it
//! panics) are rolled back, while transactions opened by the caller around the call are
//! protected.
//!
//! The runtime decodes its arguments without a nesting limit (in Substrate the Wasm stack bounds
//! it); natively, a call nested thousands of times (`utility.batch([utility.batch([...])])`)
//! would overflow the node's stack and abort the process. So arguments that carry calls are
//! first decoded here with Substrate's depth limit [`MAX_EXTRINSIC_DEPTH`], and refused if
//! they nest deeper.

use crate::api::{ChainError, ChainResult};
use codec::{Decode, DecodeLimit};
use sp_runtime::traits::BlakeTwo256;
use sp_state_machine::{Backend, Ext, OverlayedChanges};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The overlay of pending changes the executor works on.
pub type Overlay = OverlayedChanges<BlakeTwo256>;

/// The text of a caught panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "runtime panicked".to_string()
    }
}

/// How deeply values (calls inside calls) may nest in an extrinsic, a block or a call given to
/// the runtime: Substrate's `sp_api::MAX_EXTRINSIC_DEPTH`.
pub const MAX_EXTRINSIC_DEPTH: u32 = 256;

/// The same limit for a whole block: the block itself is one more level around its extrinsics.
pub const MAX_BLOCK_DEPTH: u32 = MAX_EXTRINSIC_DEPTH + 1;

/// A decoding error in a few words: codec errors nest one context line per level, which for a
/// too-deep value makes a message of tens of kilobytes; keep the outermost and innermost lines.
pub fn decode_error_text(e: &codec::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.as_slice() {
        [first, .., last] if lines.len() > 3 => format!("{first} ... {last}"),
        _ => lines.join(" "),
    }
}

/// Decode `input` as the arguments of `method`, if they carry extrinsics or calls, with the
/// depth limit; an error means the runtime must not see `input`.
fn check_nesting(method: &str, input: &[u8]) -> Result<(), codec::Error> {
    use sp_runtime::transaction_validity::TransactionSource;
    use subtensor_runtime::{Block, RuntimeCall, UncheckedExtrinsic};
    fn limited<T: Decode>(limit: u32, mut input: &[u8]) -> Result<(), codec::Error> {
        T::decode_with_depth_limit(limit, &mut input).map(|_| ())
    }
    const LIMIT: u32 = MAX_EXTRINSIC_DEPTH;
    match method {
        "Core_execute_block" | "BlockBuilder_check_inherents" => {
            limited::<Block>(MAX_BLOCK_DEPTH, input)
        }
        "BlockBuilder_apply_extrinsic"
        | "TransactionPaymentApi_query_info"
        | "TransactionPaymentApi_query_fee_details" => limited::<UncheckedExtrinsic>(LIMIT, input),
        "TaggedTransactionQueue_validate_transaction" => {
            limited::<(TransactionSource, UncheckedExtrinsic)>(LIMIT, input)
        }
        "TransactionPaymentCallApi_query_call_info"
        | "TransactionPaymentCallApi_query_call_fee_details" => {
            limited::<RuntimeCall>(LIMIT, input)
        }
        _ => Ok(()),
    }
}

/// Call runtime entry point `method` with SCALE `input` on `backend` plus `overlay`; the
/// changes it makes stay in `overlay`. Returns the SCALE-encoded result.
pub fn call<B: Backend<BlakeTwo256>>(
    backend: &B,
    overlay: &mut Overlay,
    method: &str,
    input: &[u8],
) -> ChainResult<Vec<u8>> {
    check_nesting(method, input).map_err(|e| {
        ChainError::Execution(format!(
            "Bad input data provided to {method}: {}",
            decode_error_text(&e)
        ))
    })?;
    // Fails only when already in runtime mode, which a caller outside the runtime never is.
    let entered = overlay.enter_runtime().is_ok();
    let result = {
        let mut ext = Ext::new(overlay, backend, None);
        catch_unwind(AssertUnwindSafe(|| {
            sp_externalities::set_and_run_with_externalities(&mut ext, || {
                subtensor_runtime::api::dispatch(method, input)
            })
        }))
    };
    if entered {
        // Rolls back every storage transaction the runtime left open.
        let _ = overlay.exit_runtime();
    }
    match result {
        Ok(Some(output)) => Ok(output),
        Ok(None) => Err(ChainError::MethodNotFound(method.to_string())),
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            log::warn!(target: "chain", "runtime panicked in {method}: {message}");
            Err(ChainError::Execution(format!("{method} panicked: {message}")))
        }
    }
}

/// [`call`], then decode the result as `T`.
pub fn call_decode<B: Backend<BlakeTwo256>, T: Decode>(
    backend: &B,
    overlay: &mut Overlay,
    method: &str,
    input: &[u8],
) -> ChainResult<T> {
    let output = call(backend, overlay, method, input)?;
    T::decode(&mut &output[..]).map_err(|e| ChainError::Decode(format!("result of {method}: {e}")))
}

/// Call `method` on `backend` and discard every change (a read-only call, e.g. `state_call`).
pub fn call_read_only<B: Backend<BlakeTwo256>>(
    backend: &B,
    method: &str,
    input: &[u8],
) -> ChainResult<Vec<u8>> {
    let mut overlay = Overlay::default();
    call(backend, &mut overlay, method, input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_and_panics_are_errors() {
        let backend = sp_state_machine::new_in_mem::<BlakeTwo256>();
        let err = call_read_only(&backend, "No_such_method", &[]).unwrap_err();
        assert_eq!(err.to_string(), "Exported method No_such_method is not found");

        // On an empty state, executing a garbage block panics inside the runtime.
        let err = call_read_only(&backend, "Core_execute_block", &[0u8; 3]).unwrap_err();
        assert!(matches!(err, ChainError::Execution(_)), "{err:?}");

        let version = call_read_only(&backend, "Core_version", &[]).unwrap();
        let version = sp_version::RuntimeVersion::decode(&mut &version[..]).unwrap();
        assert_eq!(version.spec_name, "node-subtensor");
    }

    /// `utility.batch` (pallet 11, call 0) of one call, `depth` times around `System.remark`.
    fn nested_call(depth: usize) -> Vec<u8> {
        let mut call = [11u8, 0, 4].repeat(depth);
        call.extend_from_slice(&[0, 0, 0]);
        call
    }

    #[test]
    fn deeply_nested_calls_are_refused_before_the_runtime_decodes_them() {
        let backend = sp_state_machine::new_in_mem::<BlakeTwo256>();
        // 100,000 levels would overflow any thread's stack if decoded without a limit.
        let mut input = nested_call(100_000);
        input.extend_from_slice(&0u32.to_le_bytes());
        let err = call_read_only(&backend, "TransactionPaymentCallApi_query_call_info", &input)
            .unwrap_err();
        assert!(err.to_string().contains("Bad input data"), "{err}");
        let mut xt = vec![4u8];
        xt.extend(nested_call(100_000));
        let mut input = codec::Encode::encode(&xt);
        input.extend_from_slice(&0u32.to_le_bytes());
        let err = call_read_only(&backend, "TransactionPaymentApi_query_info", &input).unwrap_err();
        assert!(err.to_string().contains("Bad input data"), "{err}");
        assert!(err.to_string().len() < 300, "{err}");
        // Within the limit the runtime gets the call; a block holding an extrinsic at the limit
        // passes the block's limit.
        assert!(
            check_nesting("TransactionPaymentCallApi_query_call_info", &nested_call(255)).is_ok()
        );
        let mut xt = vec![4u8];
        xt.extend(nested_call(255));
        let xt = codec::Encode::encode(&xt);
        assert!(check_nesting("BlockBuilder_apply_extrinsic", &xt).is_ok());
        let mut block =
            codec::Encode::encode(&<subtensor_runtime::Header as sp_runtime::traits::Header>::new(
                1,
                Default::default(),
                Default::default(),
                Default::default(),
                Default::default(),
            ));
        block.extend(codec::Encode::encode(&codec::Compact(1u32)));
        block.extend(&xt);
        assert!(check_nesting("Core_execute_block", &block).is_ok());
    }
}
