//! `SubtensorTransactionExtension`: pool-time validation of the pallet's fee-free calls.
//!
//! `set_weights`, `commit_weights`, `reveal_weights`, their mechanism forms
//! (`set_mechanism_weights`, `commit_mechanism_weights`, `reveal_mechanism_weights`),
//! `serve_axon`, `serve_prometheus` and proof-of-work `register` cost their signer nothing, and
//! hotkeys that hold no TAO may send them. Without a check before dispatch, one key could fill
//! blocks with calls bound to fail for free. This extension runs every check of those calls (the
//! same functions their dispatch runs, so the two cannot drift apart) when a transaction is
//! validated, in the pool and again when a block is built or imported, so a fee-free call that
//! would fail is invalid: it never enters the pool, and a block that carries one is itself
//! invalid.
//!
//! Rules, in addition to each call's own checks:
//! - **One pending call per (hotkey, kind, subnet).** A valid fee-free call provides the tag
//!   `("subtensor-fee-free", kind, netuid, hotkey)`, so the pool holds at most one of each
//!   (kinds: [`FeeFreeKind`]); a second one waits until the first is included or dropped. The
//!   hotkey is the signer, except for `register`, which the coldkey may sign: its tag names the
//!   hotkey being registered, whoever signs. A mechanism call shares the kind of its classic
//!   form (`set_mechanism_weights` is a `SetWeights`), so a `set_weights` and a
//!   `set_mechanism_weights` of one hotkey on one subnet are one pending call.
//! - **No fee-free call inside a batch.** A fee-free subtensor call nested in a call that wraps
//!   others (`utility.batch` and friends, as the runtime declares through [`WrapsCalls`]) is
//!   invalid ([`NESTED_FEE_FREE_CALL`]): its checks would run only at dispatch, so failing
//!   calls would reach blocks inside batches. Send them on their own.
//!
//! A failing check is reported as `InvalidTransaction::Custom(code)` where `code` is the index
//! of the pallet's [`Error`] variant that dispatch would return (the metadata names it), or
//! [`NESTED_FEE_FREE_CALL`]. The extension has no explicit or implicit data, so it changes
//! neither the encoding of extrinsics nor what is signed; clients see it in the metadata under
//! the reference chain's identifier and encode nothing for it.

use crate::*;
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::marker::PhantomData;
use frame_support::{dispatch::DispatchInfo, pallet_prelude::TransactionSource, traits::IsSubType};
use scale_info::TypeInfo;
use sp_runtime::{
    traits::{
        AsSystemOriginSigner, DispatchInfoOf, Dispatchable, TransactionExtension, ValidateResult,
    },
    transaction_validity::{InvalidTransaction, TransactionValidityError, ValidTransaction},
    DispatchError, ModuleError, Weight,
};

/// The custom validity code of a fee-free subtensor call nested in a batch.
pub const NESTED_FEE_FREE_CALL: u8 = 255;

/// Storage items the extension reads to validate one fee-free call, at most (`set_weights`).
const VALIDATION_READS: u64 = 14;

/// Calls that carry other calls (`utility.batch`, `utility.as_derivative`, ...). The runtime
/// implements it for its call type; calls that wrap nothing return nothing.
pub trait WrapsCalls: Sized {
    /// The calls `self` dispatches, if it wraps any.
    fn wrapped_calls(&self) -> alloc::vec::Vec<&Self>;
}

/// The kinds of fee-free calls; each (hotkey, kind, subnet) may have one call in the pool.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode)]
#[repr(u8)]
pub enum FeeFreeKind {
    /// `set_weights` and `set_mechanism_weights`.
    SetWeights = 0,
    /// `commit_weights` and `commit_mechanism_weights`.
    CommitWeights = 1,
    /// `reveal_weights` and `reveal_mechanism_weights`.
    RevealWeights = 2,
    /// `serve_axon`.
    ServeAxon = 3,
    /// `serve_prometheus`.
    ServePrometheus = 4,
    /// Proof-of-work `register`.
    Register = 5,
}

/// The pool tag a valid fee-free call provides.
pub fn fee_free_tag<AccountId: Encode>(
    kind: FeeFreeKind,
    netuid: NetUid,
    who: &AccountId,
) -> alloc::vec::Vec<u8> {
    (b"subtensor-fee-free", kind, netuid, who).encode()
}

/// The transaction validity error for a dispatch error: the pallet error's index as a custom
/// code, `InvalidTransaction::Call` for anything else.
pub fn invalid_for(error: DispatchError) -> TransactionValidityError {
    match error {
        DispatchError::Module(ModuleError { error, .. }) => {
            InvalidTransaction::Custom(error[0]).into()
        }
        _ => InvalidTransaction::Call.into(),
    }
}

impl<T: Config> Pallet<T> {
    /// Validate `call` signed by `who`: `Ok(Some((kind, netuid, hotkey)))` for a fee-free call
    /// that would succeed now (`hotkey`: the account its pool tag names, the signer or, for
    /// `register`, the hotkey registered), `Ok(None)` for any other call, the error its dispatch
    /// would return otherwise (the checks run in dispatch's order).
    pub fn validate_fee_free_call(
        who: &T::AccountId,
        call: &Call<T>,
    ) -> Result<Option<(FeeFreeKind, NetUid, T::AccountId)>, DispatchError> {
        let checked = match call {
            Call::set_weights { netuid, dests, weights, version_key } => {
                Self::validate_set_weights(who, *netuid, dests, weights, *version_key)?;
                (FeeFreeKind::SetWeights, *netuid, who.clone())
            }
            Call::set_mechanism_weights { netuid, mecid, dests, weights, version_key } => {
                Self::ensure_main_mechanism(*mecid)?;
                Self::validate_set_weights(who, *netuid, dests, weights, *version_key)?;
                (FeeFreeKind::SetWeights, *netuid, who.clone())
            }
            Call::commit_weights { netuid, .. } => {
                Self::validate_commit_weights(who, *netuid)?;
                (FeeFreeKind::CommitWeights, *netuid, who.clone())
            }
            Call::commit_mechanism_weights { netuid, mecid, .. } => {
                Self::ensure_main_mechanism(*mecid)?;
                Self::validate_commit_weights(who, *netuid)?;
                (FeeFreeKind::CommitWeights, *netuid, who.clone())
            }
            Call::reveal_weights { netuid, uids, values, salt, version_key } => {
                Self::validate_reveal_weights(who, *netuid, uids, values, salt, *version_key)?;
                (FeeFreeKind::RevealWeights, *netuid, who.clone())
            }
            Call::reveal_mechanism_weights { netuid, mecid, uids, values, salt, version_key } => {
                Self::ensure_main_mechanism(*mecid)?;
                Self::validate_reveal_weights(who, *netuid, uids, values, salt, *version_key)?;
                (FeeFreeKind::RevealWeights, *netuid, who.clone())
            }
            Call::serve_axon { netuid, ip, port, ip_type, .. } => {
                Self::validate_serve_axon(who, *netuid, *ip_type, *ip, *port)?;
                (FeeFreeKind::ServeAxon, *netuid, who.clone())
            }
            Call::serve_prometheus { netuid, ip, port, ip_type, .. } => {
                Self::validate_serve_prometheus(who, *netuid, *ip_type, *ip, *port)?;
                (FeeFreeKind::ServePrometheus, *netuid, who.clone())
            }
            Call::register { netuid, block_number, nonce, work, hotkey, coldkey } => {
                frame_support::ensure!(
                    who == hotkey || who == coldkey,
                    Error::<T>::TransactorAccountShouldBeHotKey
                );
                Self::validate_pow_register(*netuid, *block_number, *nonce, work, hotkey, coldkey)?;
                (FeeFreeKind::Register, *netuid, hotkey.clone())
            }
            _ => return Ok(None),
        };
        Ok(Some(checked))
    }

    /// Whether `call` is one of the pallet's fee-free calls.
    pub fn is_fee_free_call(call: &Call<T>) -> bool {
        matches!(
            call,
            Call::set_weights { .. }
                | Call::set_mechanism_weights { .. }
                | Call::commit_weights { .. }
                | Call::commit_mechanism_weights { .. }
                | Call::reveal_weights { .. }
                | Call::reveal_mechanism_weights { .. }
                | Call::serve_axon { .. }
                | Call::serve_prometheus { .. }
                | Call::register { .. }
        )
    }
}

/// The transaction extension; see the [module documentation](self).
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct SubtensorTransactionExtension<T: Config + Send + Sync>(PhantomData<T>);

impl<T: Config + Send + Sync> SubtensorTransactionExtension<T> {
    /// The extension (it carries no data).
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: Config + Send + Sync> Default for SubtensorTransactionExtension<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Config + Send + Sync> core::fmt::Debug for SubtensorTransactionExtension<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(f, "SubtensorTransactionExtension")
    }
}

/// Whether any call that `call` wraps, at any depth, is a fee-free call of this pallet (`call`
/// itself is not looked at: it is validated on its own). Iterative, so the depth of nesting
/// (bounded only by the extrinsic decoder's limit) costs no stack.
fn wraps_fee_free<T: Config>(call: &T::RuntimeCall) -> bool
where
    T::RuntimeCall: IsSubType<Call<T>> + WrapsCalls,
{
    let mut pending = call.wrapped_calls();
    while let Some(inner) = pending.pop() {
        if inner.is_sub_type().is_some_and(Pallet::<T>::is_fee_free_call) {
            return true;
        }
        pending.extend(inner.wrapped_calls());
    }
    false
}

impl<T: Config + Send + Sync> TransactionExtension<T::RuntimeCall>
    for SubtensorTransactionExtension<T>
where
    T::RuntimeCall: Dispatchable<Info = DispatchInfo> + IsSubType<Call<T>> + WrapsCalls,
    <T::RuntimeCall as Dispatchable>::RuntimeOrigin: AsSystemOriginSigner<T::AccountId> + Clone,
{
    const IDENTIFIER: &'static str = "SubtensorTransactionExtension";
    type Implicit = ();
    type Val = ();
    type Pre = ();

    fn weight(&self, call: &T::RuntimeCall) -> Weight {
        match call.is_sub_type() {
            Some(inner) if Pallet::<T>::is_fee_free_call(inner) => {
                // The checks' reads plus sorting a weight row (about 50 ns per entry).
                let entries = match inner {
                    Call::set_weights { dests, .. } | Call::set_mechanism_weights { dests, .. } => {
                        dests.len() as u64
                    }
                    Call::reveal_weights { uids, .. }
                    | Call::reveal_mechanism_weights { uids, .. } => uids.len() as u64,
                    _ => 0,
                };
                T::DbWeight::get()
                    .reads(VALIDATION_READS)
                    .saturating_add(Weight::from_parts(entries.saturating_mul(50_000), 0))
            }
            _ => Weight::zero(),
        }
    }

    fn validate(
        &self,
        origin: <T::RuntimeCall as Dispatchable>::RuntimeOrigin,
        call: &T::RuntimeCall,
        _info: &DispatchInfoOf<T::RuntimeCall>,
        _len: usize,
        _self_implicit: Self::Implicit,
        _inherited_implication: &impl Encode,
        _source: TransactionSource,
    ) -> ValidateResult<Self::Val, T::RuntimeCall> {
        if wraps_fee_free::<T>(call) {
            return Err(InvalidTransaction::Custom(NESTED_FEE_FREE_CALL).into());
        }
        let Some(who) = origin.as_system_origin_signer() else {
            return Ok((ValidTransaction::default(), (), origin));
        };
        let Some(inner) = call.is_sub_type() else {
            return Ok((ValidTransaction::default(), (), origin));
        };
        let validity = match Pallet::<T>::validate_fee_free_call(who, inner).map_err(invalid_for)? {
            Some((kind, netuid, hotkey)) => ValidTransaction {
                provides: alloc::vec![fee_free_tag(kind, netuid, &hotkey)],
                ..ValidTransaction::default()
            },
            None => ValidTransaction::default(),
        };
        Ok((validity, (), origin))
    }

    fn prepare(
        self,
        _val: Self::Val,
        _origin: &<T::RuntimeCall as Dispatchable>::RuntimeOrigin,
        _call: &T::RuntimeCall,
        _info: &DispatchInfoOf<T::RuntimeCall>,
        _len: usize,
    ) -> Result<Self::Pre, TransactionValidityError> {
        Ok(())
    }
}

use frame_support::traits::Get;
