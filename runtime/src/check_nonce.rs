//! `CheckNonce`: frame-system's nonce check, except that an account with no balance (no
//! providers) may still send fee-free calls.
//!
//! Bittensor hotkeys are keys, not wallets: they usually hold no TAO, yet they sign
//! `set_weights`, `serve_axon`, commit-reveal and proof-of-work `register`, all of which are
//! fee-free (`Pays::No`). frame-system's own check refuses any transaction from an account
//! without providers, so, like the reference chain, this runtime ships its own. Fee-paying
//! calls from such accounts are still refused, with the same `Payment` error. The encoding
//! (compact nonce) and the identifier are frame-system's, so clients see no difference.

use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::{
    dispatch::{DispatchInfo, Pays},
    pallet_prelude::TransactionSource,
};
use scale_info::TypeInfo;
use sp_runtime::{
    traits::{
        AsSystemOriginSigner, DispatchInfoOf, Dispatchable, One, TransactionExtension,
        ValidateResult, Zero,
    },
    transaction_validity::{InvalidTransaction, TransactionValidityError, ValidTransaction},
    Saturating,
};

/// The nonce of a signed transaction (compact encoded).
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckNonce<T: frame_system::Config>(#[codec(compact)] pub T::Nonce);

impl<T: frame_system::Config> CheckNonce<T> {
    /// The extension for `nonce`.
    pub fn from(nonce: T::Nonce) -> Self {
        Self(nonce)
    }
}

impl<T: frame_system::Config> core::fmt::Debug for CheckNonce<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(f, "CheckNonce({:?})", self.0)
    }
}

impl<T: frame_system::Config> TransactionExtension<T::RuntimeCall> for CheckNonce<T>
where
    T::RuntimeCall: Dispatchable<Info = DispatchInfo>,
    <T::RuntimeCall as Dispatchable>::RuntimeOrigin: AsSystemOriginSigner<T::AccountId> + Clone,
{
    const IDENTIFIER: &'static str = "CheckNonce";
    type Implicit = ();
    /// The signer whose nonce to bump, if signed.
    type Val = Option<T::AccountId>;
    type Pre = ();

    fn weight(&self, _: &T::RuntimeCall) -> sp_runtime::Weight {
        T::DbWeight::get().reads_writes(1, 1)
    }

    fn validate(
        &self,
        origin: <T as frame_system::Config>::RuntimeOrigin,
        _call: &T::RuntimeCall,
        info: &DispatchInfoOf<T::RuntimeCall>,
        _len: usize,
        _self_implicit: Self::Implicit,
        _inherited_implication: &impl Encode,
        _source: TransactionSource,
    ) -> ValidateResult<Self::Val, T::RuntimeCall> {
        let Some(who) = origin.as_system_origin_signer() else {
            return Ok((Default::default(), None, origin));
        };
        let account = frame_system::Account::<T>::get(who);
        let keyless = account.providers.is_zero() && account.sufficients.is_zero();
        if keyless && info.pays_fee == Pays::Yes {
            return Err(InvalidTransaction::Payment.into());
        }
        if self.0 < account.nonce {
            return Err(InvalidTransaction::Stale.into());
        }
        let provides = alloc::vec![(who, self.0).encode()];
        let requires = if account.nonce < self.0 {
            alloc::vec![(who, self.0.saturating_sub(One::one())).encode()]
        } else {
            alloc::vec![]
        };
        let validity = ValidTransaction {
            priority: 0,
            requires,
            provides,
            longevity: u64::MAX,
            propagate: true,
        };
        Ok((validity, Some(who.clone()), origin))
    }

    fn prepare(
        self,
        val: Self::Val,
        _origin: &T::RuntimeOrigin,
        _call: &T::RuntimeCall,
        _info: &DispatchInfoOf<T::RuntimeCall>,
        _len: usize,
    ) -> Result<Self::Pre, TransactionValidityError> {
        let Some(who) = val else { return Ok(()) };
        let current = frame_system::Account::<T>::get(&who).nonce;
        if self.0 > current {
            return Err(InvalidTransaction::Future.into());
        }
        if self.0 < current {
            return Err(InvalidTransaction::Stale.into());
        }
        frame_system::Account::<T>::mutate(&who, |a| a.nonce = self.0.saturating_add(One::one()));
        Ok(())
    }
}

use frame_support::traits::Get;
