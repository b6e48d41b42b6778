//! `AlphaSqrtPrice` follows the subtensor pallet's subnets: 1.0 from creation (genesis
//! included) to dissolution, on a mock runtime with System, Balances, SubtensorModule and Swap.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use crate::{self as pallet_subtensor_swap, *};
use frame_support::{
    assert_ok, derive_impl,
    traits::{fungible::Mutate, StorageInfoTrait},
};
use sp_runtime::BuildStorage;
use substrate_fixed::types::U64F64;

type Block = frame_system::mocking::MockBlock<Test>;
type AccountId = u64;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Balances: pallet_balances,
        SubtensorModule: pallet_subtensor,
        Swap: pallet_subtensor_swap,
    }
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
    type Balance = u64;
    type AccountStore = System;
}

impl pallet_subtensor::Config for Test {
    type Currency = Balances;
    type WeightInfo = ();
    type SubnetLifecycle = Swap;
}

impl Config for Test {}

/// Externalities at block 1 with a genesis subnet 3 owned by account 1 (hotkey 2).
fn new_test_ext() -> sp_io::TestExternalities {
    let subtensor = pallet_subtensor::GenesisConfig::<Test> {
        subnets: vec![pallet_subtensor::GenesisSubnet {
            netuid: 3,
            owner: 1,
            owner_hotkey: 2,
            tempo: None,
        }],
        ..Default::default()
    };
    let storage = RuntimeGenesisConfig {
        system: Default::default(),
        balances: Default::default(),
        subtensor_module: subtensor,
    }
    .build_storage()
    .expect("the mock genesis is valid; qed");
    let mut ext = sp_io::TestExternalities::new(storage);
    ext.execute_with(|| System::set_block_number(1));
    ext
}

/// The subnets that have a price, in netuid order, and their prices.
fn prices() -> Vec<(NetUid, U64F64)> {
    let mut prices: Vec<_> = AlphaSqrtPrice::<Test>::iter().collect();
    prices.sort_by_key(|(netuid, _)| *netuid);
    prices
}

/// Create a subnet owned by `owner` with `hotkey`; returns its netuid.
fn add_subnet(owner: AccountId, hotkey: AccountId) -> NetUid {
    let cost = pallet_subtensor::Pallet::<Test>::network_lock_cost();
    assert_ok!(<Balances as Mutate<AccountId>>::mint_into(&owner, cost));
    assert_ok!(SubtensorModule::register_network(RuntimeOrigin::signed(owner), hotkey));
    let subnets = pallet_subtensor::Pallet::<Test>::subnets();
    *subnets
        .iter()
        .find(|n| pallet_subtensor::SubnetOwnerHotkey::<Test>::get(**n) == Some(hotkey))
        .expect("just created; qed")
}

#[test]
fn genesis_subnets_are_priced_at_one() {
    new_test_ext().execute_with(|| {
        assert_eq!(prices(), vec![(NetUid(3), U64F64::from_num(1))]);
        assert_eq!(stable_sqrt_price(), U64F64::from_num(1));
        // 1.0 in U64F64: the integer part in the high 64 bits.
        assert_eq!(stable_sqrt_price().to_bits(), 1u128 << 64);
    });
}

#[test]
fn the_price_exists_exactly_while_the_subnet_does() {
    new_test_ext().execute_with(|| {
        let first = add_subnet(10, 11);
        let second = add_subnet(20, 21);
        let one = U64F64::from_num(1);
        assert_eq!((first, second), (NetUid(1), NetUid(2)));
        assert_eq!(prices(), vec![(first, one), (second, one), (NetUid(3), one)]);

        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::root(), first));
        assert_eq!(prices(), vec![(second, one), (NetUid(3), one)]);
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::signed(1), NetUid(3)));
        assert_eq!(prices(), vec![(second, one)]);
        // A netuid without a subnet reads 0, as on the reference chain.
        assert_eq!(AlphaSqrtPrice::<Test>::get(first), U64F64::from_num(0));

        // A netuid freed by a dissolve is priced again when reused.
        let reused = add_subnet(30, 31);
        assert_eq!(reused, first);
        assert_eq!(AlphaSqrtPrice::<Test>::get(reused), one);
        assert_eq!(
            prices().into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
            pallet_subtensor::Pallet::<Test>::subnets()
        );
    });
}

#[test]
fn the_storage_item_has_the_reference_name() {
    let items = <Swap as StorageInfoTrait>::storage_info();
    let names: Vec<_> = items.iter().map(|i| String::from_utf8_lossy(&i.storage_name)).collect();
    assert_eq!(names, vec!["AlphaSqrtPrice"]);
    assert_eq!(items[0].pallet_name, b"Swap".to_vec());
}
