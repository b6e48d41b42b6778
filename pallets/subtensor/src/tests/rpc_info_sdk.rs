//! The views the Python SDK 10 and btcli 9 read (subnet state, dynamic info, metagraphs, stake
//! info, delegates, swaps): every value equals storage, presented as the reference presents a
//! stable-mechanism subnet (alpha is TAO at price 1, stake is the classic stake).

use super::mock::*;
use crate::*;
use codec::Compact;
use frame_support::assert_ok;
use subtensor_primitives::{
    compact_bytes, SelectiveMetagraph, SimSwapResult, SubnetPrice, SELECTIVE_METAGRAPH_FIELDS,
};

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const VALIDATOR_COLD: AccountId = 3;
const MINER_COLD: AccountId = 4;
const NOMINATOR: AccountId = 5;
const OWNER2: AccountId = 7;
const OWNER2_HOTKEY: AccountId = 8;
const VALIDATOR: AccountId = 10;
const MINER: AccountId = 20;

/// Subnet 1 (tempo 10): a validator (UID 1, staked by its owner and a nominator) weighting a
/// serving miner (UID 2), after two epochs. Subnet 2 (tempo 10): the validator again (UID 1),
/// after one epoch there.
fn setup() -> (NetUid, NetUid) {
    let netuid = add_subnet(OWNER, OWNER_HOTKEY);
    set_param(netuid, Hyperparameter::Tempo(10));
    register(netuid, VALIDATOR_COLD, VALIDATOR);
    register(netuid, MINER_COLD, MINER);
    stake(VALIDATOR_COLD, VALIDATOR, 7 * TAO);
    stake(NOMINATOR, VALIDATOR, 3 * TAO);
    let netuid2 = add_subnet(OWNER2, OWNER2_HOTKEY);
    set_param(netuid2, Hyperparameter::Tempo(10));
    register(netuid2, VALIDATOR_COLD, VALIDATOR);
    run_to_block(10);
    assert_ok!(SubtensorModule::set_weights(
        RuntimeOrigin::signed(VALIDATOR),
        netuid,
        vec![2],
        vec![1],
        0
    ));
    assert_ok!(SubtensorModule::serve_axon(
        RuntimeOrigin::signed(MINER),
        netuid,
        1,
        0x0102_0304,
        8091,
        4,
        0,
        0,
        0
    ));
    run_to_block(19);
    (netuid, netuid2)
}

fn plain<V: Copy>(values: &[Compact<V>]) -> Vec<V> {
    values.iter().map(|c| c.0).collect()
}

/// The bytes of a `Vec<Compact<u8>>` string.
fn text(bytes: &[Compact<u8>]) -> String {
    String::from_utf8(plain(bytes)).unwrap()
}

#[test]
fn subnet_state_reflects_storage() {
    build_and_execute(|| {
        let (netuid, netuid2) = setup();
        let state = SubtensorModule::subnet_state(netuid).unwrap();
        assert_eq!(state.netuid, netuid);
        assert_eq!(state.hotkeys, vec![OWNER_HOTKEY, VALIDATOR, MINER]);
        assert_eq!(state.coldkeys, vec![OWNER, VALIDATOR_COLD, MINER_COLD]);
        assert_eq!(state.active, Active::<Test>::get(netuid).to_vec());
        assert_eq!(state.validator_permit, ValidatorPermit::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.pruning_score), PruningScores::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.last_update), LastUpdate::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.emission), Emission::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.dividends), Dividends::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.incentives), Incentive::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.consensus), Consensus::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.trust), Trust::<Test>::get(netuid).to_vec());
        assert_eq!(plain(&state.rank), Rank::<Test>::get(netuid).to_vec());
        let registered: Vec<u64> =
            (0..3).map(|uid| BlockAtRegistration::<Test>::get(netuid, uid)).collect();
        assert_eq!(plain(&state.block_at_registration), registered);
        // The classic stake is the alpha stake and the total; there is no root stake.
        let stakes: Vec<u64> = state.hotkeys.iter().map(TotalHotkeyStake::<Test>::get).collect();
        assert!(stakes[1] >= 10 * TAO);
        assert!(stakes[2] > 0, "the miner's emission is staked to its owner");
        assert_eq!(plain(&state.alpha_stake), stakes);
        assert_eq!(state.total_stake, state.alpha_stake);
        assert_eq!(plain(&state.tao_stake), vec![0, 0, 0]);
        // One row per subnet: this subnet's emission, then each hotkey's emission on subnet 2.
        assert_eq!(state.emission_history.len(), 2);
        assert_eq!(state.emission_history[0], state.emission);
        let uid2 = Uids::<Test>::get(netuid2, VALIDATOR).unwrap();
        let on_2 = Emission::<Test>::get(netuid2)[usize::from(uid2)];
        assert!(on_2 > 0);
        assert_eq!(plain(&state.emission_history[1]), vec![0, on_2, 0]);

        assert!(SubtensorModule::subnet_state(NetUid(9)).is_none());
        assert!(SubtensorModule::subnet_state(NetUid::ROOT).is_none());
    });
}

#[test]
fn dynamic_info_is_a_stable_pool_of_the_subnet_stake() {
    build_and_execute(|| {
        let (netuid, netuid2) = setup();
        let info = SubtensorModule::dynamic_info(netuid).unwrap();
        let total: u64 =
            [OWNER_HOTKEY, VALIDATOR, MINER].iter().map(TotalHotkeyStake::<Test>::get).sum();
        assert_eq!(info.netuid, netuid);
        assert_eq!((info.owner_hotkey, info.owner_coldkey), (OWNER_HOTKEY, OWNER));
        assert_eq!(text(&info.subnet_name), "subnet 1");
        assert_eq!(text(&info.token_symbol), "τ");
        assert_eq!(info.tempo, 10);
        assert_eq!(info.last_step, LastStepBlock::<Test>::get(netuid));
        assert_eq!(info.blocks_since_last_step, 19 - info.last_step);
        assert_eq!((info.tao_in, info.alpha_in, info.alpha_out), (total, total, total));
        assert_eq!(info.emission, SubtensorModule::expected_emission_per_block(netuid));
        assert!(info.emission > 0);
        assert_eq!(info.tao_in_emission, info.emission);
        assert_eq!((info.alpha_in_emission, info.alpha_out_emission), (0, 0));
        assert_eq!(info.pending_alpha_emission, PendingEmission::<Test>::get(netuid));
        assert_eq!((info.pending_root_emission, info.subnet_volume), (0, 0));
        assert_eq!(info.network_registered_at, BlockAtRegistration::<Test>::get(netuid, 0));
        assert_eq!(info.subnet_identity, None);
        assert_eq!(info.moving_price.to_bits(), 1 << 32);

        // A subnet whose hotkeys hold no stake still has price tao_in / alpha_in = 1.
        let empty = add_subnet(30, 31);
        let info = SubtensorModule::dynamic_info(empty).unwrap();
        assert_eq!((info.tao_in, info.alpha_in, info.alpha_out), (1, 1, 1));
        assert_eq!(info.network_registered_at, 19);

        let all = SubtensorModule::all_dynamic_info();
        let netuids: Vec<NetUid> = all.iter().map(|i| i.as_ref().unwrap().netuid).collect();
        // The empty root network first (btcli's `subnets list` needs it), then the subnets.
        assert_eq!(netuids, vec![NetUid::ROOT, netuid, netuid2, empty]);
        assert_eq!(all[1], SubtensorModule::dynamic_info(netuid));
        let root = all[0].clone().unwrap();
        assert_eq!(Some(root.clone()), SubtensorModule::dynamic_info(NetUid::ROOT));
        assert_eq!((root.emission, root.tao_in, root.alpha_in), (0, 1, 1));
        assert_eq!(root.subnet_name, compact_bytes(b"root"));
        assert!(SubtensorModule::dynamic_info(NetUid(9)).is_none());
    });
}

#[test]
fn metagraph_reflects_storage() {
    build_and_execute(|| {
        let (netuid, _) = setup();
        let meta = SubtensorModule::metagraph(netuid).unwrap();
        let state = SubtensorModule::subnet_state(netuid).unwrap();
        let dynamic = SubtensorModule::dynamic_info(netuid).unwrap();
        assert_eq!(meta.netuid, netuid);
        assert_eq!(meta.name, dynamic.subnet_name);
        assert_eq!(meta.symbol, dynamic.token_symbol);
        assert_eq!((meta.owner_hotkey, meta.owner_coldkey), (OWNER_HOTKEY, OWNER));
        assert_eq!(meta.block.0, 19);
        assert_eq!(meta.tempo.0, 10);
        assert_eq!(meta.last_step.0, dynamic.last_step);
        assert_eq!(meta.network_registered_at.0, dynamic.network_registered_at);
        assert_eq!(
            (meta.tao_in.0, meta.alpha_in.0, meta.alpha_out.0),
            (dynamic.tao_in, dynamic.tao_in, dynamic.tao_in)
        );
        assert_eq!(meta.tao_in_emission.0, dynamic.emission);
        assert_eq!(meta.pending_alpha_emission.0, dynamic.pending_alpha_emission);
        assert_eq!(meta.moving_price, dynamic.moving_price);
        assert_eq!(meta.subnet_emission.0, 0);
        // Hyperparameters as stored.
        let params = SubtensorModule::subnet_hyperparams(netuid).unwrap();
        assert_eq!(meta.rho.0, params.rho);
        assert_eq!(meta.kappa.0, params.kappa);
        assert_eq!(meta.immunity_period.0, params.immunity_period);
        assert_eq!(meta.min_allowed_weights.0, params.min_allowed_weights);
        assert_eq!(meta.max_weights_limit.0, params.max_weights_limit);
        assert_eq!(meta.weights_version.0, params.weights_version);
        assert_eq!(meta.weights_rate_limit.0, params.weights_rate_limit);
        assert_eq!(meta.activity_cutoff.0, params.activity_cutoff);
        assert_eq!(meta.max_validators.0, params.max_validators);
        assert_eq!(meta.burn.0, Burn::<Test>::get(netuid));
        assert_eq!(meta.difficulty.0, params.difficulty);
        assert_eq!((meta.min_burn.0, meta.max_burn.0), (params.min_burn, params.max_burn));
        assert_eq!(
            (meta.min_difficulty.0, meta.max_difficulty.0),
            (params.min_difficulty, params.max_difficulty)
        );
        assert_eq!(meta.adjustment_alpha.0, params.adjustment_alpha);
        assert_eq!(meta.adjustment_interval.0, params.adjustment_interval);
        assert_eq!(meta.target_regs_per_interval.0, params.target_regs_per_interval);
        assert_eq!(meta.max_regs_per_block.0, params.max_regs_per_block);
        assert_eq!(meta.serving_rate_limit.0, params.serving_rate_limit);
        assert_eq!(meta.registration_allowed, params.registration_allowed);
        assert_eq!(
            meta.pow_registration_allowed,
            NetworkPowRegistrationAllowed::<Test>::get(netuid)
        );
        assert_eq!(meta.commit_reveal_weights_enabled, params.commit_reveal_weights_enabled);
        assert_eq!(meta.commit_reveal_period.0, params.commit_reveal_period);
        assert_eq!(meta.liquid_alpha_enabled, params.liquid_alpha_enabled);
        assert_eq!((meta.alpha_low.0, meta.alpha_high.0), (params.alpha_low, params.alpha_high));
        assert_eq!(meta.bonds_moving_avg.0, params.bonds_moving_avg);
        assert_eq!((meta.num_uids.0, meta.max_uids.0), (3, 256));
        // Per-UID vectors as in the subnet state.
        assert_eq!(meta.hotkeys, state.hotkeys);
        assert_eq!(meta.coldkeys, state.coldkeys);
        assert_eq!(meta.identities, vec![None, None, None]);
        assert_eq!(meta.axons[2], Axons::<Test>::get(netuid, MINER).unwrap());
        assert_eq!(meta.axons[2].port, 8091);
        assert_eq!(meta.axons[0], Default::default());
        assert_eq!(meta.active, state.active);
        assert_eq!(meta.validator_permit, state.validator_permit);
        assert_eq!(meta.pruning_score, state.pruning_score);
        assert_eq!(meta.last_update, state.last_update);
        assert_eq!(meta.emission, state.emission);
        assert_eq!(meta.dividends, state.dividends);
        assert_eq!(meta.incentives, state.incentives);
        assert_eq!(meta.consensus, state.consensus);
        assert_eq!(meta.trust, state.trust);
        assert_eq!(meta.rank, state.rank);
        assert_eq!(meta.block_at_registration, state.block_at_registration);
        assert_eq!(meta.alpha_stake, state.alpha_stake);
        assert_eq!(meta.tao_stake, state.tao_stake);
        assert_eq!(meta.total_stake, state.total_stake);
        assert!(meta.tao_dividends_per_hotkey.is_empty());
        assert!(meta.alpha_dividends_per_hotkey.is_empty());

        // Mechanism 0 is the subnet; there is no other.
        assert_eq!(SubtensorModule::mechagraph(netuid, 0), Some(meta.clone()));
        assert_eq!(SubtensorModule::mechagraph(netuid, 1), None);
        assert_eq!(SubtensorModule::metagraph(NetUid(9)), None);
        let all = SubtensorModule::all_metagraphs();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], Some(meta));
    });
}

#[test]
fn selective_metagraph_returns_the_requested_fields() {
    build_and_execute(|| {
        let (netuid, _) = setup();
        let full = SubtensorModule::metagraph(netuid).unwrap();
        // Everything, as the SDK's `metagraph()` asks: every field equals the full metagraph.
        let every: Vec<u16> = (0..SELECTIVE_METAGRAPH_FIELDS.len() as u16).collect();
        let all = SubtensorModule::selective_mechagraph(netuid, 0, every.clone()).unwrap();
        assert_eq!(
            SelectiveMetagraph { validators: None, commitments: None, ..all.clone() },
            SelectiveMetagraph::select(full.clone(), |_| true)
        );
        assert_eq!(all.hotkeys.as_ref(), Some(&full.hotkeys));
        assert_eq!(all.total_stake.as_ref(), Some(&full.total_stake));
        let permits = ValidatorPermit::<Test>::get(netuid);
        let validators: Vec<u16> = (0..3u16).filter(|u| permits[usize::from(*u)]).collect();
        assert!(validators.contains(&1));
        assert_eq!(all.validators.as_deref().map(plain), Some(validators.clone()));
        assert_eq!(all.commitments, Some(vec![]));
        assert_eq!(SubtensorModule::selective_metagraph(netuid, every), Some(all));

        // A few fields: only those (and netuid); unknown indexes are ignored.
        let some =
            SubtensorModule::selective_mechagraph(netuid, 0, vec![8, 52, 67, 72, 500]).unwrap();
        assert_eq!(some.netuid, netuid);
        assert_eq!(some.tempo, Some(Compact(10)));
        assert_eq!(some.hotkeys, Some(full.hotkeys.clone()));
        assert_eq!(some.alpha_stake, Some(full.alpha_stake.clone()));
        assert_eq!(some.validators.as_deref().map(plain), Some(validators));
        let cleared = SelectiveMetagraph {
            netuid,
            tempo: None,
            hotkeys: None,
            alpha_stake: None,
            validators: None,
            ..some
        };
        assert_eq!(cleared, SelectiveMetagraph::select(full.clone(), |_| false));

        // Only the pool terms: they still see the subnet's stake.
        let pool = SubtensorModule::selective_metagraph(netuid, vec![14]).unwrap();
        assert_eq!(pool.tao_in, Some(full.tao_in));
        assert!(pool.hotkeys.is_none());

        let none = SubtensorModule::selective_metagraph(netuid, vec![]).unwrap();
        assert_eq!(none, SelectiveMetagraph::select(full, |_| false));
        assert!(SubtensorModule::selective_mechagraph(netuid, 1, vec![0]).is_none());
        assert!(SubtensorModule::selective_metagraph(NetUid(9), vec![0]).is_none());
    });
}

#[test]
fn stake_info_lists_each_position_once_under_the_home_netuid() {
    build_and_execute(|| {
        let (netuid, netuid2) = setup();
        // A hotkey registered only on subnet 2 is reported there.
        register(netuid2, 40, 41);
        stake(NOMINATOR, 41, TAO);

        let uid2 = Uids::<Test>::get(netuid2, VALIDATOR).unwrap();
        let emission_1 = Emission::<Test>::get(netuid)[1];
        let emission_2 = Emission::<Test>::get(netuid2)[usize::from(uid2)];
        let infos = SubtensorModule::stake_info_for_coldkey(NOMINATOR);
        let rows: Vec<_> = infos
            .iter()
            .map(|i| (i.hotkey, i.coldkey, i.netuid, i.stake, i.emission, i.is_registered))
            .collect();
        assert_eq!(
            rows,
            vec![
                (
                    VALIDATOR,
                    NOMINATOR,
                    netuid,
                    Stake::<Test>::get(VALIDATOR, NOMINATOR),
                    emission_1 + emission_2,
                    true
                ),
                (41, NOMINATOR, netuid2, TAO, 0, true),
            ]
        );
        assert!(infos.iter().all(|i| i.locked == 0 && i.tao_emission == 0 && i.drain == 0));
        // The list adds up to the coldkey's classic total: nothing is counted twice.
        for coldkey in [NOMINATOR, VALIDATOR_COLD, MINER_COLD, OWNER] {
            let sum: u64 =
                SubtensorModule::stake_info_for_coldkey(coldkey).iter().map(|i| i.stake).sum();
            assert_eq!(sum, TotalColdkeyStake::<Test>::get(coldkey), "{coldkey}");
        }
        let miner = SubtensorModule::stake_info_for_coldkey(MINER_COLD);
        assert_eq!(miner.len(), 1);
        assert_eq!((miner[0].hotkey, miner[0].netuid), (MINER, netuid));

        // Several coldkeys, in the order given; unknown ones have no positions.
        let many = SubtensorModule::stake_info_for_coldkeys(vec![99, NOMINATOR]);
        assert_eq!(many, vec![(99, vec![]), (NOMINATOR, infos.clone())]);

        // The per-netuid query: the classic stake on any existing subnet.
        let staked = Stake::<Test>::get(VALIDATOR, NOMINATOR);
        for (n, emission) in [(netuid, emission_1), (netuid2, emission_2)] {
            let info =
                SubtensorModule::stake_info_for_hotkey_coldkey_netuid(VALIDATOR, NOMINATOR, n)
                    .unwrap();
            assert_eq!(
                (info.netuid, info.stake, info.emission, info.is_registered),
                (n, staked, emission, true)
            );
        }
        let elsewhere =
            SubtensorModule::stake_info_for_hotkey_coldkey_netuid(41, NOMINATOR, netuid).unwrap();
        assert_eq!((elsewhere.stake, elsewhere.is_registered, elsewhere.emission), (TAO, false, 0));
        let missing =
            SubtensorModule::stake_info_for_hotkey_coldkey_netuid(VALIDATOR, NOMINATOR, NetUid(9))
                .unwrap();
        assert_eq!((missing.stake, missing.is_registered), (0, false));

        // Subnet 2 dissolved: hotkey 41 is registered nowhere, so its stake moves to the lowest
        // existing subnet; with no subnet left at all, to netuid 0.
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::root(), netuid2));
        let infos = SubtensorModule::stake_info_for_coldkey(NOMINATOR);
        assert_eq!(
            infos.iter().map(|i| (i.hotkey, i.netuid, i.is_registered)).collect::<Vec<_>>(),
            vec![(VALIDATOR, netuid, true), (41, netuid, false)]
        );
        assert_eq!(infos[0].emission, emission_1);
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::root(), netuid));
        let infos = SubtensorModule::stake_info_for_coldkey(NOMINATOR);
        assert!(infos.iter().all(|i| i.netuid == NetUid::ROOT && !i.is_registered));
        assert_eq!(infos.len(), 2);
    });
}

#[test]
fn delegates_reflect_stake_and_take() {
    build_and_execute(|| {
        let (netuid, netuid2) = setup();
        assert_ok!(SubtensorModule::decrease_take(
            RuntimeOrigin::signed(VALIDATOR_COLD),
            VALIDATOR,
            1000
        ));
        let info = SubtensorModule::delegate(VALIDATOR).unwrap();
        assert_eq!(info.delegate_ss58, VALIDATOR);
        assert_eq!(info.owner_ss58, VALIDATOR_COLD);
        assert_eq!(info.take, 1000);
        assert_eq!(info.registrations, vec![Compact(netuid), Compact(netuid2)]);
        let permitted: Vec<Compact<NetUid>> = [netuid, netuid2]
            .into_iter()
            .filter(|n| {
                let uid = Uids::<Test>::get(n, VALIDATOR).unwrap();
                ValidatorPermit::<Test>::get(n)[usize::from(uid)]
            })
            .map(Compact)
            .collect();
        assert!(!permitted.is_empty());
        assert_eq!(info.validator_permits, permitted);
        // One entry per nominator, under the home netuid.
        let nominators: Vec<(AccountId, Vec<(NetUid, u64)>)> = info
            .nominators
            .iter()
            .map(|(c, s)| (*c, s.iter().map(|(n, v)| (n.0, v.0)).collect()))
            .collect();
        assert_eq!(
            nominators,
            vec![
                (VALIDATOR_COLD, vec![(netuid, Stake::<Test>::get(VALIDATOR, VALIDATOR_COLD))]),
                (NOMINATOR, vec![(netuid, Stake::<Test>::get(VALIDATOR, NOMINATOR))]),
            ]
        );
        // Daily return: each subnet's last-epoch emission at 7200 blocks a day (tempo 10).
        let uid2 = Uids::<Test>::get(netuid2, VALIDATOR).unwrap();
        let per_epoch =
            Emission::<Test>::get(netuid)[1] + Emission::<Test>::get(netuid2)[usize::from(uid2)];
        let daily = u128::from(per_epoch) * 720;
        assert_eq!(u128::from(info.total_daily_return), daily);
        let stake = u128::from(TotalHotkeyStake::<Test>::get(VALIDATOR));
        let expected = daily * u128::from(u16::MAX - 1000) * 1000 * u128::from(TAO)
            / (u128::from(u16::MAX) * stake);
        assert_eq!(u128::from(info.return_per_1000), expected);
        assert!(info.return_per_1000 > 0);

        // Every owned hotkey is a delegate, ordered by hotkey.
        let all: Vec<AccountId> =
            SubtensorModule::delegates().iter().map(|d| d.delegate_ss58).collect();
        assert_eq!(all, vec![OWNER_HOTKEY, OWNER2_HOTKEY, VALIDATOR, MINER]);
        assert_eq!(SubtensorModule::delegates()[2], info);
        assert!(SubtensorModule::delegate(99).is_none());

        // What a coldkey is delegated to, without nominators, with the position.
        let delegated = SubtensorModule::delegated(NOMINATOR);
        assert_eq!(delegated.len(), 1);
        let (d, (n, s)) = &delegated[0];
        assert_eq!(
            (d.delegate_ss58, n.0, s.0),
            (VALIDATOR, netuid, Stake::<Test>::get(VALIDATOR, NOMINATOR))
        );
        assert!(d.nominators.is_empty());
        assert_eq!(d.take, 1000);
        assert!(SubtensorModule::delegated(99).is_empty());
    });
}

#[test]
fn swaps_are_one_to_one_at_price_one() {
    build_and_execute(|| {
        let (netuid, netuid2) = setup();
        assert_eq!(SubtensorModule::current_alpha_price(netuid), 1_000_000_000);
        assert_eq!(
            SubtensorModule::current_alpha_price_all(),
            vec![
                SubnetPrice { netuid, price: 1_000_000_000 },
                SubnetPrice { netuid: netuid2, price: 1_000_000_000 },
            ]
        );
        let sim = SubtensorModule::sim_swap_tao_for_alpha(netuid, 5 * TAO);
        assert_eq!(
            sim,
            SimSwapResult {
                tao_amount: 5 * TAO,
                alpha_amount: 5 * TAO,
                tao_fee: 0,
                alpha_fee: 0,
                tao_slippage: 0,
                alpha_slippage: 0
            }
        );
        assert_eq!(
            SubtensorModule::sim_swap_alpha_for_tao(netuid2, 7),
            SimSwapResult::one_to_one(7)
        );
        // As the reference's failed simulation: all zero on a missing subnet.
        assert_eq!(SubtensorModule::sim_swap_tao_for_alpha(NetUid(9), 5), SimSwapResult::default());

        // The simulation is exact: staking x adds x to the stake.
        let before = Stake::<Test>::get(VALIDATOR, NOMINATOR);
        stake(NOMINATOR, VALIDATOR, sim.tao_amount);
        assert_eq!(Stake::<Test>::get(VALIDATOR, NOMINATOR), before + sim.alpha_amount);
        let info =
            SubtensorModule::stake_info_for_hotkey_coldkey_netuid(VALIDATOR, NOMINATOR, netuid)
                .unwrap();
        assert_eq!(info.stake, before + sim.alpha_amount);
    });
}

#[test]
fn subnet_info_v2_is_v1_with_identity() {
    build_and_execute(|| {
        let (netuid, _) = setup();
        let v1 = SubtensorModule::subnet_info(netuid).unwrap();
        let v2 = SubtensorModule::subnet_info_v2(netuid).unwrap();
        assert_eq!(
            (v2.netuid, v2.owner, v2.burn, v2.tempo),
            (v1.netuid, v1.owner, v1.burn, v1.tempo)
        );
        assert_eq!(v2.emission_value, v1.emission_values);
        assert_eq!(v2.identity, None);
        assert_eq!(SubtensorModule::subnets_info_v2().len(), 2);
        assert!(SubtensorModule::subnet_info_v2(NetUid(9)).is_none());
    });
}
