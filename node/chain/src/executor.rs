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

use crate::api::{ChainError, ChainResult};
use codec::Decode;
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

/// Call runtime entry point `method` with SCALE `input` on `backend` plus `overlay`; the
/// changes it makes stay in `overlay`. Returns the SCALE-encoded result.
pub fn call<B: Backend<BlakeTwo256>>(
    backend: &B,
    overlay: &mut Overlay,
    method: &str,
    input: &[u8],
) -> ChainResult<Vec<u8>> {
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
}
