//! The per-block step: mint the block reward into the subnets' pending emission, retarget
//! registration prices, run the epoch of every subnet whose tempo comes due, and record each
//! subnet's blocks since its last epoch ([`BlocksSinceLastStep`], a reference-chain view).
//!
//! Split rule: each subnet gets `reward * share / sum of shares` ([`EmissionShare`], 1 each by
//! default, so equal), floored; the rounding dust goes to the lowest netuid, so exactly the
//! block reward is minted. With no subnet, nothing is minted.
//!
//! Epoch schedule: subnet `netuid`'s epoch comes due at every block where
//! `(block + netuid) % tempo == 0`, so subnets with equal tempo come due in different blocks.
//!
//! Epoch budget: a block spends at most [`Pallet::epoch_weight_budget`] (half the block's
//! weight) on epochs. Due subnets join the back of [`EpochQueue`] (in netuid order, once each);
//! every block then runs epochs from the front of the queue while the next one's predicted
//! weight ([`Pallet::epoch_weight_bound`], from the benchmarked epoch weight at the subnet's UID,
//! validator and stored weight and bond entry counts) still fits in what is left of the budget.
//! The first epoch of a block always runs, so an epoch larger than the whole budget cannot
//! stall the queue. Epochs that do not fit wait, in order, for the following blocks; their
//! emission keeps accumulating in [`PendingEmission`], so a delay loses nothing. The rule
//! depends only on chain state, so every node defers the same epochs.
//!
//! Payout at the epoch: the owner's cut ([`SubnetOwnerCut`]) goes to the owner coldkey's free
//! balance; the rest is what Yuma distributes, as stake, to miners (incentive) and validators
//! (dividends, shared with nominators). Whatever cannot be paid (rounding dust, nobody with
//! stake, an owner account that cannot receive it) stays pending for the next epoch, so no
//! emission is lost and total issuance grows by exactly the block rewards.

use crate::{staking::mul_div, *};
use alloc::vec::Vec;
use frame_support::{
    traits::{fungible::Mutate, Get},
    weights::Weight,
    BoundedVec,
};

impl<T: Config> Pallet<T> {
    /// The chain's total issuance (rao): the currency's issuance plus everything the pallet holds
    /// (stake, subnet locks, pending emission).
    pub fn total_issuance() -> u64 {
        use frame_support::traits::fungible::Inspect;
        T::Currency::total_issuance()
            .saturating_add(TotalStake::<T>::get())
            .saturating_add(TotalSubnetLocked::<T>::get())
            .saturating_add(TotalPendingEmission::<T>::get())
    }

    /// Whether `netuid` runs its epoch at block `now`.
    pub fn should_run_epoch(netuid: NetUid, now: u64) -> bool {
        let tempo = u64::from(Tempo::<T>::get(netuid));
        now.saturating_add(u64::from(netuid.0)).checked_rem(tempo) == Some(0)
    }

    /// Blocks until the next epoch of `netuid` after block `now`.
    pub fn blocks_until_next_epoch(netuid: NetUid, now: u64) -> u64 {
        let tempo = u64::from(Tempo::<T>::get(netuid));
        match now.saturating_add(u64::from(netuid.0)).checked_rem(tempo) {
            Some(phase) => tempo.saturating_sub(phase),
            None => u64::MAX,
        }
    }

    /// Existing subnets in netuid order.
    pub fn subnets() -> Vec<NetUid> {
        let mut nets: Vec<NetUid> =
            NetworksAdded::<T>::iter().filter(|(_, added)| *added).map(|(n, _)| n).collect();
        nets.sort();
        nets
    }

    /// Everything `on_initialize` does; returns its weight.
    pub(crate) fn block_step() -> Weight {
        let now = Self::current_block();
        let _ = RegistrationsThisBlock::<T>::clear(u32::MAX, None);
        let subnets = Self::subnets();
        // The benchmarked step without epochs (minting, retargeting), then the epochs run.
        let mut weight = T::WeightInfo::block_step(subnets.len() as u32);

        let reward = coinbase::block_emission::block_emission(Self::total_issuance());
        BlockEmission::<T>::put(reward);
        Self::mint_to_subnets(&subnets, reward);

        for &netuid in &subnets {
            Self::adjust_registration_terms(netuid, now);
        }
        weight = weight.saturating_add(Self::run_due_epochs(&subnets, now));
        // `BlocksSinceLastStep` (a reference-chain view) postdates the `block_step` benchmark,
        // so its read and write per subnet are added here.
        weight = weight.saturating_add(Self::update_blocks_since_last_step(&subnets, now));
        TotalIssuance::<T>::put(Self::total_issuance());
        weight
    }

    /// The most weight one block spends on epochs: half the block's maximum weight.
    pub fn epoch_weight_budget() -> Weight {
        let max = T::BlockWeights::get().max_block;
        Weight::from_parts(max.ref_time() / 2, max.proof_size() / 2)
    }

    /// An upper bound of the weight of `netuid`'s epoch as its storage stands: the benchmarked
    /// epoch weight at its UID count, validator slots and stored weight and bond entries.
    pub fn epoch_weight_bound(netuid: NetUid) -> Weight {
        let n = u32::from(SubnetworkN::<T>::get(netuid));
        let validators = u32::from(MaxAllowedValidators::<T>::get(netuid)).min(n);
        let entries = WeightEntries::<T>::get(netuid).saturating_add(BondEntries::<T>::get(netuid));
        T::WeightInfo::epoch(n, validators, entries).saturating_add(T::DbWeight::get().reads(3))
    }

    /// Queue the subnets whose epoch is due at `now`, then run queued epochs within the block's
    /// epoch budget (see the module documentation). Returns the weight spent.
    fn run_due_epochs(subnets: &[NetUid], now: u64) -> Weight {
        let db = T::DbWeight::get();
        let mut queue = EpochQueue::<T>::get().into_inner();
        for &netuid in subnets {
            if Self::should_run_epoch(netuid, now) && !queue.contains(&netuid) {
                queue.push(netuid);
            }
        }
        let mut spent = db.reads_writes(1, 1);
        if queue.is_empty() {
            return spent;
        }
        let budget = Self::epoch_weight_budget();
        let mut used = Weight::zero();
        let mut ran = 0usize;
        let mut next = 0usize;
        while let Some(&netuid) = queue.get(next) {
            if !NetworksAdded::<T>::get(netuid) {
                // Dissolved while it waited.
                next = next.saturating_add(1);
                continue;
            }
            let bound = Self::epoch_weight_bound(netuid);
            if ran > 0 && used.saturating_add(bound).any_gt(budget) {
                break;
            }
            used = used.saturating_add(Self::run_epoch_and_pay(netuid, now));
            ran = ran.saturating_add(1);
            next = next.saturating_add(1);
        }
        let waiting: Vec<NetUid> = queue.get(next..).map(<[NetUid]>::to_vec).unwrap_or_default();
        if !waiting.is_empty() {
            log::debug!(
                target: "runtime::subtensor",
                "block {now}: epoch budget spent after {ran} epochs; {} wait",
                waiting.len()
            );
        }
        if waiting.is_empty() {
            EpochQueue::<T>::kill();
        } else {
            EpochQueue::<T>::put(BoundedVec::truncate_from(waiting));
        }
        spent = spent.saturating_add(used).saturating_add(db.reads(next as u64));
        spent
    }

    /// Split `reward` among `subnets` by their emission shares into pending emission.
    fn mint_to_subnets(subnets: &[NetUid], reward: u64) {
        let shares: Vec<(NetUid, u64)> =
            subnets.iter().map(|&n| (n, EmissionShare::<T>::get(n))).collect();
        let total_share = shares.iter().fold(0u64, |acc, (_, s)| acc.saturating_add(*s));
        if reward == 0 || total_share == 0 {
            return;
        }
        let parts: Vec<u64> =
            shares.iter().map(|(_, s)| mul_div(reward, *s, total_share)).collect();
        let dust = reward.saturating_sub(parts.iter().fold(0u64, |a, p| a.saturating_add(*p)));
        let first_paid = shares.iter().position(|(_, s)| *s > 0);
        for (i, ((netuid, _), part)) in shares.iter().zip(parts).enumerate() {
            let amount = if Some(i) == first_paid { part.saturating_add(dust) } else { part };
            if amount > 0 {
                PendingEmission::<T>::mutate(netuid, |p| *p = p.saturating_add(amount));
            }
        }
        TotalPendingEmission::<T>::mutate(|t| *t = t.saturating_add(reward));
    }

    /// Run the epoch of `netuid` and pay out its pending emission.
    fn run_epoch_and_pay(netuid: NetUid, now: u64) -> Weight {
        let pending = PendingEmission::<T>::get(netuid);
        let owner_cut =
            mul_div(pending, u64::from(SubnetOwnerCut::<T>::get()), u64::from(u16::MAX));
        let owner_paid = match SubnetOwner::<T>::get(netuid) {
            Some(owner) if owner_cut > 0 => {
                T::Currency::mint_into(&owner, owner_cut).map(|_| owner_cut).unwrap_or(0)
            }
            _ => 0,
        };
        let to_distribute = pending.saturating_sub(owner_cut);
        let input = Self::epoch_input(netuid, now, to_distribute);
        let n = input.stake.len() as u32;
        // Weight and bond entries, as `epoch_weight_bound` counts them.
        let entries: u32 = input
            .weights
            .iter()
            .chain(&input.bonds)
            .fold(0u32, |acc, row| acc.saturating_add(row.len() as u32));
        let output = epoch::run_epoch(&input);
        Self::store_epoch_output(netuid, &output);

        let mut distributed = 0u64;
        for (uid, hotkey) in Self::subnet_hotkeys(netuid).into_iter().enumerate() {
            let Some(hotkey) = hotkey else { continue };
            let server = output.server_emission.get(uid).copied().unwrap_or(0);
            let validator = output.validator_emission.get(uid).copied().unwrap_or(0);
            if server > 0 || validator > 0 {
                distributed =
                    distributed.saturating_add(Self::emit_to_hotkey(&hotkey, server, validator));
            }
        }
        let paid = owner_paid.saturating_add(distributed).min(pending);
        let carried = pending.saturating_sub(paid);
        PendingEmission::<T>::insert(netuid, carried);
        TotalPendingEmission::<T>::mutate(|t| *t = t.saturating_sub(paid));
        LastStepBlock::<T>::insert(netuid, now);
        Self::deposit_event(Event::EpochCompleted {
            netuid,
            owner_cut: owner_paid,
            distributed,
            carried,
        });
        T::WeightInfo::epoch(n, u32::from(input.params.max_allowed_validators).min(n), entries)
    }
}
