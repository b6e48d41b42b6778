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
//!
//! Both versions also present every `BoundedVec`/`WeakBoundedVec` as the plain sequence it
//! encodes as ([`present_bounded_vecs_as_sequences`]). The reference chain stores plain `Vec`s
//! where we store bounded ones (`LastUpdate`, `Active`, ...), and the decoder under the SDK
//! (`bt_decode`) returns a one-field composite as a tuple around the list, so the SDK's
//! `set_weights` read `LastUpdate[uid]` out of a tuple and failed. The bytes are the same either
//! way: a bound is a runtime rule, not part of the encoding.

use alloc::vec::Vec;
use frame_metadata::{
    v15::{
        CustomMetadata, ExtrinsicMetadata, OuterEnums, PalletMetadata, RuntimeApiMetadata,
        RuntimeMetadataV15,
    },
    RuntimeMetadata, RuntimeMetadataPrefixed,
};
use scale_info::{IntoPortable, PortableRegistry, Registry, TypeDef};

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
    let mut types: PortableRegistry = registry.into();
    present_bounded_vecs_as_sequences(&mut types);
    RuntimeMetadataV15 {
        types,
        pallets,
        extrinsic,
        ty,
        apis,
        outer_enums,
        custom: CustomMetadata { map: Default::default() },
    }
    .into()
}

/// The runtime's V14 metadata, as frame builds it, with bounded vectors presented as sequences.
pub fn metadata_v14() -> RuntimeMetadataPrefixed {
    let mut prefixed = crate::Runtime::metadata();
    if let RuntimeMetadata::V14(ref mut v14) = prefixed.1 {
        present_bounded_vecs_as_sequences(&mut v14.types);
    }
    prefixed
}

/// Rewrites each `BoundedVec<T, S>` / `WeakBoundedVec<T, S>` type (a composite whose one field
/// is `Vec<T>`) in place into that `Vec<T>`'s sequence type. Type ids do not move, so every
/// reference to the bounded type now names a sequence of `T`; the encoding is unchanged.
pub fn present_bounded_vecs_as_sequences(types: &mut PortableRegistry) {
    for index in 0..types.types.len() {
        let Some(sequence) = types.types.get(index).and_then(|t| bounded_vec_inner(types, &t.ty))
        else {
            continue;
        };
        if let Some(entry) = types.types.get_mut(index) {
            entry.ty = sequence;
        }
    }
}

/// The `Vec<T>` sequence type inside `ty` when `ty` is a `BoundedVec`/`WeakBoundedVec`.
fn bounded_vec_inner(
    types: &PortableRegistry,
    ty: &scale_info::Type<scale_info::form::PortableForm>,
) -> Option<scale_info::Type<scale_info::form::PortableForm>> {
    let name = ty.path.segments.last().map(|s| s.as_str());
    if !matches!(name, Some("BoundedVec") | Some("WeakBoundedVec")) {
        return None;
    }
    let TypeDef::Composite(composite) = &ty.type_def else { return None };
    let [field] = composite.fields.as_slice() else { return None };
    let sequence = types.resolve(field.ty.id)?;
    matches!(sequence.type_def, TypeDef::Sequence(_)).then(|| sequence.clone())
}
