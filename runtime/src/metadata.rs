//! Metadata V15 numbered as V14 numbers it.
//!
//! frame-metadata 23.0.1 registers V15's extrinsic types before the pallets' (so that the
//! metadata hash is stable across versions), which gives V15 a different type numbering from
//! V14: `AccountId32` becomes type 1 instead of 0, the u64 balance 10 instead of 6. The reference
//! chain's frame-metadata (23.0.0) registers pallets first, so its V14 and V15 ids agree, and
//! async-substrate-interface 1.x (under the bittensor SDK 10.2 and btcli 9.20) relies on that: it
//! takes type ids from V14 and resolves them in V15's registry, and treats `scale_info::0` as the
//! account id. With the 23.0.1 order, SS58 accounts fail to encode ("Invalid type for string
//! data") and constants, storage maps and events fail to decode.
//!
//! [`metadata_v15`] therefore builds V15 from the runtime's metadata IR in the 23.0.0 order:
//! pallets, then the extrinsic's address, call, signature, extra and extension types, the
//! runtime type, the runtime APIs and the outer enums. The content is the same as frame's
//! V15; only the numbering differs. This runtime embeds no metadata hash (`CheckMetadataHash`
//! is always disabled), so nothing depends on the other order.

use alloc::vec::Vec;
use frame_metadata::{
    v15::{
        CustomMetadata, ExtrinsicMetadata, OuterEnums, PalletMetadata, RuntimeApiMetadata,
        RuntimeMetadataV15,
    },
    RuntimeMetadataPrefixed,
};
use scale_info::{IntoPortable, Registry};

/// The runtime's V15 metadata with V14's type numbering (see the module documentation).
pub fn metadata_v15() -> RuntimeMetadataPrefixed {
    let ir = crate::Runtime::metadata_ir();
    let mut registry = Registry::new();
    let pallets: Vec<PalletMetadata> = ir.pallets.into_iter().map(Into::into).collect();
    let pallets = registry.map_into_portable(pallets);
    let extrinsic: ExtrinsicMetadata = ir.extrinsic.into();
    let extrinsic = ExtrinsicMetadata {
        version: extrinsic.version,
        address_ty: registry.register_type(&extrinsic.address_ty),
        call_ty: registry.register_type(&extrinsic.call_ty),
        signature_ty: registry.register_type(&extrinsic.signature_ty),
        extra_ty: registry.register_type(&extrinsic.extra_ty),
        signed_extensions: registry.map_into_portable(extrinsic.signed_extensions),
    };
    let ty = registry.register_type(&ir.ty);
    let apis: Vec<RuntimeApiMetadata> = ir.apis.into_iter().map(Into::into).collect();
    let apis = registry.map_into_portable(apis);
    let outer_enums = OuterEnums::from(ir.outer_enums).into_portable(&mut registry);
    RuntimeMetadataV15 {
        types: registry.into(),
        pallets,
        extrinsic,
        ty,
        apis,
        outer_enums,
        custom: CustomMetadata { map: Default::default() },
    }
    .into()
}
