//! Grid specs (`set_grid_spec`, `clear_grid_spec`): a subnet owner declares the subnet a
//! homogeneous inference grid.
//!
//! A grid subnet names one model, by the SHA-256 of its files, one grid sampler version and the
//! request limits ([`GridSpec`]); every miner serves exactly that model and validators verify
//! sampled tokens against it. The spec is a small commitment: one [`GridSpecRecord`] per subnet
//! in [`GridSpecs`], read by clients through `GridSpecRuntimeApi`, the node's RPC, or storage.
//!
//! - Only the subnet owner or root sets or clears it.
//! - The spec must pass [`GridSpec::validate`] (a non-zero digest, a supported sampler version,
//!   `1 <= max_new_tokens < max_context <= 2^20`, a UTF-8 name of at most 64 bytes).
//! - The owner sets it at most once per [`GridSpecRateLimit`] blocks (default 100, chain-wide,
//!   set by root): miners must be able to follow a model change, so it cannot flap every block.
//!   The last set is remembered in [`GridSpecLastSet`] across a clear, so clearing and setting
//!   again does not skip the limit. Root is not limited.
//! - Dissolving the subnet removes both entries (with the rest of the subnet's storage).

use crate::*;
use frame_support::{ensure, pallet_prelude::DispatchResult};
use subtensor_primitives::GridSpecError;

impl<T: Config> From<GridSpecError> for Error<T> {
    fn from(error: GridSpecError) -> Self {
        match error {
            GridSpecError::GridModelDigestZero => Error::<T>::GridModelDigestZero,
            GridSpecError::GridSamplerVersionUnsupported => {
                Error::<T>::GridSamplerVersionUnsupported
            }
            GridSpecError::GridMaxNewTokensZero => Error::<T>::GridMaxNewTokensZero,
            GridSpecError::GridContextTooShort => Error::<T>::GridContextTooShort,
            GridSpecError::GridContextTooLong => Error::<T>::GridContextTooLong,
            GridSpecError::GridModelNameNotUtf8 => Error::<T>::GridModelNameNotUtf8,
        }
    }
}

impl<T: Config> Pallet<T> {
    /// Fail unless `netuid` exists and `who` (`None` for root) may change its grid spec.
    fn ensure_grid_spec_origin(who: Option<&T::AccountId>, netuid: NetUid) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        if let Some(who) = who {
            ensure!(
                SubnetOwner::<T>::get(netuid).as_ref() == Some(who),
                Error::<T>::NotSubnetOwner
            );
        }
        Ok(())
    }

    /// Set `netuid`'s grid spec; `who` is the signer (must own the subnet and respect the rate
    /// limit) or `None` for root.
    pub fn do_set_grid_spec(
        who: Option<&T::AccountId>,
        netuid: NetUid,
        spec: GridSpec,
    ) -> DispatchResult {
        Self::ensure_grid_spec_origin(who, netuid)?;
        spec.validate().map_err(Error::<T>::from)?;
        let now = Self::current_block();
        if who.is_some() {
            if let Some(last) = GridSpecLastSet::<T>::get(netuid) {
                ensure!(
                    now.saturating_sub(last) >= GridSpecRateLimit::<T>::get(),
                    Error::<T>::GridSpecRateLimitExceeded
                );
            }
        }
        let (model_sha256, sampler_version) = (spec.model_sha256, spec.sampler_version);
        GridSpecs::<T>::insert(netuid, GridSpecRecord { spec, set_at_block: now });
        GridSpecLastSet::<T>::insert(netuid, now);
        Self::deposit_event(Event::GridSpecSet { netuid, model_sha256, sampler_version });
        Ok(())
    }

    /// Remove `netuid`'s grid spec; `who` is the signer (must own the subnet) or `None` for
    /// root.
    pub fn do_clear_grid_spec(who: Option<&T::AccountId>, netuid: NetUid) -> DispatchResult {
        Self::ensure_grid_spec_origin(who, netuid)?;
        ensure!(GridSpecs::<T>::take(netuid).is_some(), Error::<T>::GridSpecNotSet);
        Self::deposit_event(Event::GridSpecCleared { netuid });
        Ok(())
    }

    /// The grid spec of `netuid` with the block it was set at; `None` for an ordinary subnet
    /// (or one that does not exist). What `GridSpecRuntimeApi::get_grid_spec` answers.
    pub fn grid_spec(netuid: NetUid) -> Option<GridSpecRecord> {
        GridSpecs::<T>::get(netuid)
    }

    /// Remove every grid entry of a dissolved subnet; a spec that was set is cleared with
    /// [`Event::GridSpecCleared`], so watchers of the events (miners, validators, indexers)
    /// see its end the same way as an owner's `clear_grid_spec`.
    pub(crate) fn remove_grid_spec(netuid: NetUid) {
        if GridSpecs::<T>::take(netuid).is_some() {
            Self::deposit_event(Event::GridSpecCleared { netuid });
        }
        GridSpecLastSet::<T>::remove(netuid);
    }
}
