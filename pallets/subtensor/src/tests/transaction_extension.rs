//! `SubtensorTransactionExtension`: pool-time validation of fee-free calls agrees with their
//! dispatch, call by call, in random states; tags make one pending call per (hotkey, kind,
//! subnet).

use super::mock::*;
use crate::subnets::registration::create_seal_hash;
use crate::subnets::weights::commit_hash;
use crate::transaction_extension::{fee_free_tag, FeeFreeKind, NESTED_FEE_FREE_CALL};
use crate::*;
use codec::Encode;
use frame_support::{
    dispatch::GetDispatchInfo, pallet_prelude::TransactionSource, storage::with_transaction,
    traits::UnfilteredDispatchable,
};
use proptest::prelude::*;
use sp_runtime::{
    traits::TransactionExtension,
    transaction_validity::{InvalidTransaction, TransactionValidityError},
    TransactionOutcome,
};

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const COLDKEY: AccountId = 3;
const VALIDATOR: AccountId = 10;
const VALIDATOR_2: AccountId = 11;
const MINER: AccountId = 20;
const STRANGER: AccountId = 99;
const NETUID: NetUid = NetUid(1);

/// Calls of the mock wrap nothing (the runtime's batches are tested in the runtime's tests).
impl WrapsCalls for RuntimeCall {
    fn wrapped_calls(&self) -> Vec<&Self> {
        Vec::new()
    }
}

/// Subnet 1 (tempo 10, rate limit 3 blocks, PoW at difficulty 1) with the owner (UID 0), two
/// validators (UIDs 1, 2; only the first staked enough for a permit) and a miner (UID 3), at
/// block 10.
fn setup() {
    assert_eq!(add_subnet(OWNER, OWNER_HOTKEY), NETUID);
    set_param(NETUID, Hyperparameter::Tempo(10));
    set_param(NETUID, Hyperparameter::WeightsSetRateLimit(3));
    set_param(NETUID, Hyperparameter::ServingRateLimit(2));
    set_param(NETUID, Hyperparameter::Difficulty(1));
    open_registration(NETUID);
    register(NETUID, COLDKEY, VALIDATOR);
    register(NETUID, COLDKEY, VALIDATOR_2);
    register(NETUID, COLDKEY, MINER);
    stake(COLDKEY, VALIDATOR, 10 * TAO);
    set_param(NETUID, Hyperparameter::MaxAllowedValidators(2));
    run_to_block(10);
}

/// Who signs a proof-of-work `register` of hotkey `who`.
#[derive(Debug, Clone, Copy)]
enum RegisterSigner {
    /// The hotkey itself.
    Hotkey,
    /// [`COLDKEY`], the coldkey the call names (as the Python SDK signs).
    Coldkey,
    /// Someone else ([`STRANGER`]).
    Other,
}

/// One random fee-free call and its signer. `mecid: None` is the classic call, `Some(m)` its
/// mechanism form on mechanism `m`.
#[derive(Debug, Clone)]
enum Action {
    SetWeights { who: AccountId, uids: Vec<u16>, values: Vec<u16>, version: u64, mecid: Option<u8> },
    Commit { who: AccountId, uids: Vec<u16>, values: Vec<u16>, salt: u16, mecid: Option<u8> },
    Reveal { who: AccountId, uids: Vec<u16>, values: Vec<u16>, salt: u16, mecid: Option<u8> },
    ServeAxon { who: AccountId, ip: u128, port: u16, ip_type: u8 },
    Register { who: AccountId, back: u64, nonce: u64, good_seal: bool, signer: RegisterSigner },
    ToggleCommitReveal,
    Step(u64),
}

fn who() -> impl Strategy<Value = AccountId> {
    prop_oneof![
        Just(VALIDATOR),
        Just(VALIDATOR_2),
        Just(MINER),
        Just(OWNER_HOTKEY),
        Just(STRANGER),
        Just(STRANGER + 1)
    ]
}

fn row() -> impl Strategy<Value = (Vec<u16>, Vec<u16>)> {
    (prop::collection::vec(0u16..6, 0..5), prop::collection::vec(0u16..100, 0..5))
}

/// The classic call (`None`, most often), or its mechanism form on mechanism 0 or 1.
fn mecid() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![2 => Just(None), 2 => Just(Some(0u8)), 1 => Just(Some(1u8))]
}

fn register_signer() -> impl Strategy<Value = RegisterSigner> {
    prop_oneof![
        2 => Just(RegisterSigner::Hotkey),
        2 => Just(RegisterSigner::Coldkey),
        1 => Just(RegisterSigner::Other)
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (who(), row(), 0u64..2, mecid()).prop_map(|(who, (uids, values), version, mecid)| {
            Action::SetWeights { who, uids, values, version, mecid }
        }),
        2 => (who(), row(), 0u16..3, mecid()).prop_map(|(who, (uids, values), salt, mecid)| {
            Action::Commit { who, uids, values, salt, mecid }
        }),
        2 => (who(), row(), 0u16..3, mecid()).prop_map(|(who, (uids, values), salt, mecid)| {
            Action::Reveal { who, uids, values, salt, mecid }
        }),
        2 => (who(), prop_oneof![Just(0u128), Just(0x7f00_0001), Just(0x0a00_0001), Just(u128::MAX)],
            0u16..3, prop_oneof![Just(4u8), Just(6u8), Just(5u8)])
            .prop_map(|(who, ip, port, ip_type)| Action::ServeAxon { who, ip, port, ip_type }),
        2 => (who(), 0u64..5, 0u64..3, any::<bool>(), register_signer()).prop_map(
            |(who, back, nonce, good_seal, signer)| {
                Action::Register { who, back, nonce, good_seal, signer }
            }
        ),
        1 => Just(Action::ToggleCommitReveal),
        2 => (1u64..6).prop_map(Action::Step),
    ]
}

/// The signer and the call of a fee-free action (`None` for the others).
fn call_of(action: &Action) -> Option<(AccountId, Call<Test>)> {
    let now = System::block_number();
    Some(match action.clone() {
        Action::SetWeights { who, uids, values, version, mecid } => (
            who,
            match mecid {
                None => Call::set_weights {
                    netuid: NETUID,
                    dests: uids,
                    weights: values,
                    version_key: version,
                },
                Some(mecid) => Call::set_mechanism_weights {
                    netuid: NETUID,
                    mecid,
                    dests: uids,
                    weights: values,
                    version_key: version,
                },
            },
        ),
        Action::Commit { who, uids, values, salt, mecid } => {
            let commit_hash = commit_hash(&who, NETUID, &uids, &values, &[salt], 0);
            (
                who,
                match mecid {
                    None => Call::commit_weights { netuid: NETUID, commit_hash },
                    Some(mecid) => {
                        Call::commit_mechanism_weights { netuid: NETUID, mecid, commit_hash }
                    }
                },
            )
        }
        Action::Reveal { who, uids, values, salt, mecid } => (
            who,
            match mecid {
                None => Call::reveal_weights {
                    netuid: NETUID,
                    uids,
                    values,
                    salt: vec![salt],
                    version_key: 0,
                },
                Some(mecid) => Call::reveal_mechanism_weights {
                    netuid: NETUID,
                    mecid,
                    uids,
                    values,
                    salt: vec![salt],
                    version_key: 0,
                },
            },
        ),
        Action::ServeAxon { who, ip, port, ip_type } => (
            who,
            Call::serve_axon {
                netuid: NETUID,
                version: 1,
                ip,
                port,
                ip_type,
                protocol: 0,
                placeholder1: 0,
                placeholder2: 0,
            },
        ),
        Action::Register { who, back, nonce, good_seal, signer } => {
            let block = now.saturating_sub(back);
            let seal = create_seal_hash(System::block_hash(block).as_ref(), &who.encode(), nonce);
            let mut work = seal.as_bytes().to_vec();
            if !good_seal {
                work[0] ^= 1;
            }
            let signer = match signer {
                RegisterSigner::Hotkey => who,
                RegisterSigner::Coldkey => COLDKEY,
                RegisterSigner::Other => STRANGER,
            };
            (
                signer,
                Call::register {
                    netuid: NETUID,
                    block_number: block,
                    nonce,
                    work,
                    hotkey: who,
                    coldkey: COLDKEY,
                },
            )
        }
        Action::ToggleCommitReveal | Action::Step(_) => return None,
    })
}

/// The validity error dispatch's `error` maps to.
fn code_of(error: sp_runtime::DispatchError) -> TransactionValidityError {
    crate::transaction_extension::invalid_for(error)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// In every reachable state, a fee-free call is valid exactly when its dispatch succeeds,
    /// and an invalid one reports dispatch's own error. Calls are then applied, so the state
    /// wanders through rate limits, permits, commitments and registrations.
    #[test]
    fn validation_agrees_with_dispatch(actions in prop::collection::vec(action(), 1..40)) {
        ExtBuilder::default().serving_allows_loopback(true).build_and_execute(|| {
            setup();
            for action in &actions {
                match action {
                    Action::Step(blocks) => {
                        step_blocks(*blocks);
                        continue;
                    }
                    Action::ToggleCommitReveal => {
                        let on = CommitRevealWeightsEnabled::<Test>::get(NETUID);
                        set_param(NETUID, Hyperparameter::CommitRevealEnabled(!on));
                        continue;
                    }
                    _ => {}
                }
                let (who, call) = call_of(action).expect("a fee-free action; qed");
                let validated = SubtensorModule::validate_fee_free_call(&who, &call);
                let dispatched = with_transaction(|| {
                    let result = call.clone().dispatch_bypass_filter(RuntimeOrigin::signed(who));
                    TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>(result))
                })
                .expect("rolled back; qed");
                match (&validated, &dispatched) {
                    (Ok(Some(_)), Ok(_)) => {}
                    (Err(v), Err(d)) => assert_eq!(*v, d.error, "{action:?}"),
                    _ => panic!("{action:?}: validation {validated:?}, dispatch {dispatched:?}"),
                }
                // Apply it for real, so that later calls meet the state it leaves.
                let _ = call.dispatch_bypass_filter(RuntimeOrigin::signed(who));
            }
        });
    }
}

fn extension() -> SubtensorTransactionExtension<Test> {
    SubtensorTransactionExtension::new()
}

/// The extension's verdict on `call` signed by `who`.
fn validate(who: AccountId, call: Call<Test>) -> Result<Vec<Vec<u8>>, TransactionValidityError> {
    let call = RuntimeCall::SubtensorModule(call);
    let info = call.get_dispatch_info();
    extension()
        .validate(
            RuntimeOrigin::signed(who),
            &call,
            &info,
            0,
            (),
            &sp_runtime::traits::TxBaseImplication(()),
            TransactionSource::External,
        )
        .map(|(validity, _, _)| validity.provides)
}

fn set_weights_call(uids: Vec<u16>) -> Call<Test> {
    let values = vec![1; uids.len()];
    Call::set_weights { netuid: NETUID, dests: uids, weights: values, version_key: 0 }
}

#[test]
fn a_valid_fee_free_call_provides_its_hotkey_kind_subnet_tag() {
    ExtBuilder::default().build_and_execute(|| {
        setup();
        assert_eq!(
            validate(VALIDATOR, set_weights_call(vec![3])),
            Ok(vec![fee_free_tag(FeeFreeKind::SetWeights, NETUID, &VALIDATOR)])
        );
        // Other calls (and unsigned origins) pass through with no tag.
        let transfer = Call::add_stake { hotkey: VALIDATOR, amount_staked: 1 };
        assert_eq!(validate(COLDKEY, transfer), Ok(vec![]));
    });
}

#[test]
fn failing_fee_free_calls_are_invalid_with_the_dispatch_error_code() {
    ExtBuilder::default().build_and_execute(|| {
        setup();
        let code = |e: Error<Test>| -> TransactionValidityError {
            code_of(sp_runtime::DispatchError::from(e))
        };
        // Unregistered hotkey.
        assert_eq!(
            validate(STRANGER, set_weights_call(vec![3])),
            Err(code(Error::<Test>::HotKeyNotRegisteredInSubNet))
        );
        // A registered hotkey without a validator permit, weighting another neuron.
        assert_eq!(
            validate(MINER, set_weights_call(vec![1])),
            Err(code(Error::<Test>::NeuronNoValidatorPermit))
        );
        // The rate limit, after a real update.
        assert_eq!(validate(VALIDATOR, set_weights_call(vec![3])).map(|_| ()), Ok(()));
        let call = set_weights_call(vec![3]);
        assert!(call.dispatch_bypass_filter(RuntimeOrigin::signed(VALIDATOR)).is_ok());
        assert_eq!(
            validate(VALIDATOR, set_weights_call(vec![3])),
            Err(code(Error::<Test>::SettingWeightsTooFast))
        );
        step_blocks(3);
        assert!(validate(VALIDATOR, set_weights_call(vec![3])).is_ok());
        // A bad proof-of-work seal.
        let bad = Call::register {
            netuid: NETUID,
            block_number: System::block_number(),
            nonce: 0,
            work: vec![0; 32],
            hotkey: STRANGER,
            coldkey: COLDKEY,
        };
        assert_eq!(validate(STRANGER, bad), Err(code(Error::<Test>::InvalidSeal)));
        // The codes are the pallet's error indices.
        assert!(matches!(
            code(Error::<Test>::InvalidSeal),
            TransactionValidityError::Invalid(InvalidTransaction::Custom(c)) if c != NESTED_FEE_FREE_CALL
        ));
    });
}

#[test]
fn mechanism_calls_share_the_tags_of_their_classic_forms() {
    ExtBuilder::default().build_and_execute(|| {
        setup();
        let tag = |kind| Ok(vec![fee_free_tag(kind, NETUID, &VALIDATOR)]);
        let mechanism_weights = |mecid| Call::set_mechanism_weights {
            netuid: NETUID,
            mecid,
            dests: vec![3],
            weights: vec![1],
            version_key: 0,
        };
        // A `set_weights` and a `set_mechanism_weights` of one hotkey on one subnet are one
        // pending call.
        assert_eq!(validate(VALIDATOR, set_weights_call(vec![3])), tag(FeeFreeKind::SetWeights));
        assert_eq!(validate(VALIDATOR, mechanism_weights(0)), tag(FeeFreeKind::SetWeights));
        set_param(NETUID, Hyperparameter::CommitRevealEnabled(true));
        let hash = commit_hash(&VALIDATOR, NETUID, &[3], &[1], &[0], 0);
        let commit = Call::commit_mechanism_weights { netuid: NETUID, mecid: 0, commit_hash: hash };
        assert_eq!(validate(VALIDATOR, commit.clone()), tag(FeeFreeKind::CommitWeights));
        assert!(commit.dispatch_bypass_filter(RuntimeOrigin::signed(VALIDATOR)).is_ok());
        step_blocks(10);
        let reveal = |mecid| Call::reveal_mechanism_weights {
            netuid: NETUID,
            mecid,
            uids: vec![3],
            values: vec![1],
            salt: vec![0],
            version_key: 0,
        };
        assert_eq!(validate(VALIDATOR, reveal(0)), tag(FeeFreeKind::RevealWeights));
        assert!(SubtensorModule::is_fee_free_call(&reveal(0)));
        assert!(SubtensorModule::is_fee_free_call(&mechanism_weights(0)));
    });
}

#[test]
fn other_mechanisms_are_invalid_with_the_dispatch_error_code() {
    ExtBuilder::default().build_and_execute(|| {
        setup();
        let refused = Err(code_of(Error::<Test>::MechanismDoesNotExist.into()));
        let call = Call::set_mechanism_weights {
            netuid: NETUID,
            mecid: 1,
            dests: vec![3],
            weights: vec![1],
            version_key: 0,
        };
        assert_eq!(validate(VALIDATOR, call), refused);
        let call = Call::commit_mechanism_weights {
            netuid: NETUID,
            mecid: 2,
            commit_hash: Default::default(),
        };
        assert_eq!(validate(VALIDATOR, call), refused);
        let call = Call::reveal_mechanism_weights {
            netuid: NETUID,
            mecid: 3,
            uids: vec![],
            values: vec![],
            salt: vec![],
            version_key: 0,
        };
        assert_eq!(validate(VALIDATOR, call), refused);
    });
}

#[test]
fn a_coldkey_signed_registration_is_tagged_with_its_hotkey() {
    ExtBuilder::default().build_and_execute(|| {
        setup();
        let now = System::block_number();
        let seal = create_seal_hash(System::block_hash(now).as_ref(), &STRANGER.encode(), 0);
        let call = Call::register {
            netuid: NETUID,
            block_number: now,
            nonce: 0,
            work: seal.as_bytes().to_vec(),
            hotkey: STRANGER,
            coldkey: COLDKEY,
        };
        let tag = vec![fee_free_tag(FeeFreeKind::Register, NETUID, &STRANGER)];
        // Signed by the hotkey or by the coldkey: one pending registration of the hotkey.
        assert_eq!(validate(STRANGER, call.clone()), Ok(tag.clone()));
        assert_eq!(validate(COLDKEY, call.clone()), Ok(tag));
        // Anyone else may not send it.
        assert_eq!(
            validate(VALIDATOR, call.clone()),
            Err(code_of(Error::<Test>::TransactorAccountShouldBeHotKey.into()))
        );
        assert!(call.dispatch_bypass_filter(RuntimeOrigin::signed(COLDKEY)).is_ok());
        assert_eq!(Owner::<Test>::get(STRANGER), Some(COLDKEY));
    });
}
