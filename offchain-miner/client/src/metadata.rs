//! Names and documentation of pallet errors, read from the runtime's own metadata (V15), so a
//! failed call is reported as `SubtensorModule.SettingWeightsTooFast: Weights were set again
//! before the rate limit passed.` rather than as an index pair.

use crate::ClientError;
use codec::Decode;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use frame_support::traits::PalletInfoAccess;
use scale_info::TypeDef;
use sp_runtime::{DispatchError, ModuleError};
use std::{collections::HashMap, sync::OnceLock};
use subtensor_runtime::{Runtime, RuntimeCall};

/// `(pallet index, error index)` → (pallet name, error name, first doc line).
type ErrorTable = HashMap<(u8, u8), (String, String, String)>;

fn table() -> &'static ErrorTable {
    static TABLE: OnceLock<ErrorTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = ErrorTable::new();
        let Some(bytes) = Runtime::metadata_at_version(15) else { return table };
        let Ok(prefixed) = RuntimeMetadataPrefixed::decode(&mut &bytes[..]) else { return table };
        let RuntimeMetadata::V15(meta) = prefixed.1 else { return table };
        for pallet in &meta.pallets {
            let Some(error) = &pallet.error else { continue };
            let Some(ty) = meta.types.resolve(error.ty.id) else { continue };
            let TypeDef::Variant(variants) = &ty.type_def else { continue };
            for v in &variants.variants {
                let docs = v.docs.first().map(|d| d.trim().to_owned()).unwrap_or_default();
                table.insert((pallet.index, v.index), (pallet.name.clone(), v.name.clone(), docs));
            }
        }
        table
    })
}

/// The [`ClientError`] of a failed dispatch: [`ClientError::Module`] with the error's name and
/// docs for pallet errors, [`ClientError::Dispatch`] for the others.
pub fn dispatch_error(error: DispatchError) -> ClientError {
    match error {
        DispatchError::Module(ModuleError { index, error, .. }) => {
            match table().get(&(index, error[0])) {
                Some((pallet, name, docs)) => ClientError::Module {
                    pallet: pallet.clone(),
                    name: name.clone(),
                    docs: docs.clone(),
                },
                None => ClientError::Dispatch(format!("module error {index}/{}", error[0])),
            }
        }
        other => ClientError::Dispatch(format!("{other:?}")),
    }
}

/// The error of a subtensor call that the node refused before including it: the runtime's
/// `SubtensorTransactionExtension` reports a fee-free call that would fail as
/// `Invalid Transaction: Custom error: N`, `N` being the index of the `SubtensorModule` error its
/// dispatch would return. Such a refusal becomes that [`ClientError::Module`], exactly as if the
/// call had failed in a block; every other refusal stays as it was.
pub fn refused_call_error(call: &RuntimeCall, refusal: ClientError) -> ClientError {
    let ClientError::Rejected(message) = &refusal else { return refusal };
    if !matches!(call, RuntimeCall::SubtensorModule(_)) {
        return refusal;
    }
    let code = message
        .strip_prefix("Invalid Transaction: Custom error: ")
        .and_then(|code| code.trim().parse::<u8>().ok());
    let Some(code) = code else { return refusal };
    let index = <pallet_subtensor::Pallet<Runtime> as PalletInfoAccess>::index();
    let Ok(index) = u8::try_from(index) else { return refusal };
    match table().get(&(index, code)) {
        Some(_) => dispatch_error(DispatchError::Module(ModuleError {
            index,
            error: [code, 0, 0, 0],
            message: None,
        })),
        None => refusal,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pallet_errors_get_their_names_and_docs() {
        let index =
            <pallet_subtensor::Pallet<Runtime> as frame_support::traits::PalletInfoAccess>::index();
        let error: DispatchError = pallet_subtensor::Error::<Runtime>::SettingWeightsTooFast.into();
        let DispatchError::Module(module) = error else { panic!("a module error") };
        assert_eq!(usize::from(module.index), index);
        let e = dispatch_error(error);
        assert_eq!(e.module_error(), Some("SettingWeightsTooFast"));
        assert_eq!(
            e.to_string(),
            "SubtensorModule.SettingWeightsTooFast: Weights were set again before the rate limit passed."
        );
        let e = dispatch_error(DispatchError::BadOrigin);
        assert_eq!(e.to_string(), "transaction failed: BadOrigin");
    }

    #[test]
    fn a_refused_fee_free_call_reports_its_pallet_error() {
        let call = RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_weights {
            netuid: subtensor_runtime::NetUid(1),
            dests: vec![],
            weights: vec![],
            version_key: 0,
        });
        let error: DispatchError = pallet_subtensor::Error::<Runtime>::SettingWeightsTooFast.into();
        let DispatchError::Module(module) = error else { panic!("a module error") };
        let refusal = ClientError::Rejected(format!(
            "Invalid Transaction: Custom error: {}",
            module.error[0]
        ));
        assert_eq!(
            refused_call_error(&call, refusal).module_error(),
            Some("SettingWeightsTooFast")
        );
        // The nested-batch code has no pallet error, and other refusals stay as they are.
        let nested = ClientError::Rejected("Invalid Transaction: Custom error: 255".into());
        assert!(matches!(refused_call_error(&call, nested), ClientError::Rejected(_)));
        let stale = ClientError::Rejected("Invalid Transaction: Transaction is outdated".into());
        assert!(matches!(refused_call_error(&call, stale), ClientError::Rejected(_)));
    }
}
