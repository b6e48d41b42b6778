//! The mock runtime (System, Balances, SubtensorModule), its genesis builder and the helpers
//! every test uses. Every test runs through [`build_and_execute`], which checks the pallet's
//! invariants and the conservation of TAO afterwards.

use crate::{self as pallet_subtensor, *};
use frame_support::{
    assert_ok, derive_impl, parameter_types,
    traits::{fungible::Mutate, OnInitialize},
};
use sp_core::H256;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Balances: pallet_balances,
        SubtensorModule: pallet_subtensor,
    }
);

parameter_types! {
    /// The block weights (frame-system's defaults unless a test changes them).
    pub static MockBlockWeights: frame_system::limits::BlockWeights =
        frame_system::limits::BlockWeights::default();
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type BlockWeights = MockBlockWeights;
    type AccountData = pallet_balances::AccountData<u64>;
}

parameter_types! {
    pub static ExistentialDeposit: u64 = 1;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
    type Balance = u64;
    type AccountStore = System;
    type ExistentialDeposit = ExistentialDeposit;
}

impl pallet_subtensor::Config for Test {
    type Currency = Balances;
    type WeightInfo = ();
    type SubnetLifecycle = ();
}

/// Account ids of the mock are plain integers.
pub(crate) type AccountId = u64;

/// One TAO in rao.
pub(crate) const TAO: u64 = 1_000_000_000;

/// Genesis of a test: balances, subnets, flags and the existential deposit (default 1).
#[derive(Default)]
pub(crate) struct ExtBuilder {
    balances: Vec<(AccountId, u64)>,
    genesis: pallet_subtensor::GenesisConfig<Test>,
    existential_deposit: Option<u64>,
}

impl ExtBuilder {
    /// Give `who` a genesis balance of `amount` rao.
    pub(crate) fn balance(mut self, who: AccountId, amount: u64) -> Self {
        self.balances.push((who, amount));
        self
    }

    /// A genesis subnet `netuid` (no lock) with `owner_hotkey` as UID 0.
    pub(crate) fn subnet(
        mut self,
        netuid: u16,
        owner: AccountId,
        hotkey: AccountId,
        tempo: u16,
    ) -> Self {
        let subnet = GenesisSubnet { netuid, owner, owner_hotkey: hotkey, tempo: Some(tempo) };
        self.genesis.subnets.push(subnet);
        self
    }

    /// Whether axons may use loopback addresses.
    pub(crate) fn serving_allows_loopback(mut self, allow: bool) -> Self {
        self.genesis.serving_allows_loopback = allow;
        self
    }

    /// The floor (and the first value) of the subnet lock cost.
    pub(crate) fn network_min_lock_cost(mut self, cost: u64) -> Self {
        self.genesis.network_min_lock_cost = Some(cost);
        self
    }

    /// The currency's existential deposit.
    pub(crate) fn existential_deposit(mut self, ed: u64) -> Self {
        self.existential_deposit = Some(ed);
        self
    }

    /// The externalities at block 1.
    pub(crate) fn build(self) -> sp_io::TestExternalities {
        ExistentialDeposit::set(self.existential_deposit.unwrap_or(1));
        let storage = RuntimeGenesisConfig {
            system: Default::default(),
            balances: pallet_balances::GenesisConfig {
                balances: self.balances,
                ..Default::default()
            },
            subtensor_module: self.genesis,
        }
        .build_storage()
        .expect("the mock genesis is valid; qed");
        let mut ext = sp_io::TestExternalities::new(storage);
        ext.execute_with(|| System::set_block_number(1));
        ext
    }

    /// Run `test`, then check the invariants and the conservation of TAO.
    pub(crate) fn build_and_execute(self, test: impl FnOnce()) {
        self.build().execute_with(|| {
            test();
            check_invariants();
        });
    }
}

/// The default externalities: no balances, no subnets, at block 1.
pub(crate) fn new_test_ext() -> sp_io::TestExternalities {
    ExtBuilder::default().build()
}

/// Run `test` on [`new_test_ext`], then check the invariants and the conservation of TAO.
pub(crate) fn build_and_execute(test: impl FnOnce()) {
    new_test_ext().execute_with(|| {
        test();
        check_invariants();
    });
}

/// `try_state`, and: the currency's issuance equals the sum of all accounts, and the pallet's
/// total issuance is that plus stake, locks and pending emission.
pub(crate) fn check_invariants() {
    assert_ok!(SubtensorModule::do_try_state());
    let accounts: u64 = frame_system::Account::<Test>::iter()
        .map(|(_, info)| info.data.free + info.data.reserved)
        .sum();
    assert_eq!(pallet_balances::TotalIssuance::<Test>::get(), accounts, "currency issuance");
    assert_eq!(
        SubtensorModule::total_issuance(),
        accounts
            + TotalStake::<Test>::get()
            + TotalSubnetLocked::<Test>::get()
            + TotalPendingEmission::<Test>::get(),
        "pallet issuance"
    );
}

/// The hash the mock gives block `n` (so that proof-of-work seals differ per block).
pub(crate) fn mock_block_hash(n: u64) -> H256 {
    H256::from_low_u64_be(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
}

/// Advance to block `n`, running every pallet's `on_initialize` in each new block.
pub(crate) fn run_to_block(n: u64) {
    while System::block_number() < n {
        let next = System::block_number() + 1;
        System::initialize(&next, &mock_block_hash(next - 1), &Default::default());
        AllPalletsWithSystem::on_initialize(next);
    }
}

/// Advance `blocks` blocks.
pub(crate) fn step_blocks(blocks: u64) {
    run_to_block(System::block_number() + blocks);
}

/// Mint `amount` rao into `who`'s free balance.
pub(crate) fn fund(who: AccountId, amount: u64) {
    assert_ok!(<Balances as Mutate<AccountId>>::mint_into(&who, amount));
}

/// The free balance of `who`.
pub(crate) fn balance(who: AccountId) -> u64 {
    Balances::free_balance(who)
}

/// Create a subnet owned by `owner` (funded with exactly the lock cost) with `owner_hotkey`.
pub(crate) fn add_subnet(owner: AccountId, owner_hotkey: AccountId) -> NetUid {
    fund(owner, SubtensorModule::network_lock_cost());
    assert_ok!(SubtensorModule::register_network(RuntimeOrigin::signed(owner), owner_hotkey));
    match last_event() {
        Event::NetworkAdded { netuid, .. } => netuid,
        other => panic!("expected NetworkAdded, got {other:?}"),
    }
}

/// Set a hyperparameter as root.
pub(crate) fn set_param(netuid: NetUid, value: Hyperparameter) {
    assert_ok!(SubtensorModule::set_hyperparameter(RuntimeOrigin::root(), netuid, value));
}

/// Lift the registration caps of `netuid` (per block and per interval).
pub(crate) fn open_registration(netuid: NetUid) {
    set_param(netuid, Hyperparameter::MaxRegistrationsPerBlock(u16::MAX));
    set_param(netuid, Hyperparameter::TargetRegistrationsPerInterval(10_000));
}

/// Register `hotkey` for `coldkey` on `netuid` by burning (funded with exactly the burn).
pub(crate) fn register(netuid: NetUid, coldkey: AccountId, hotkey: AccountId) -> u16 {
    fund(coldkey, Burn::<Test>::get(netuid).max(1));
    assert_ok!(SubtensorModule::burned_register(RuntimeOrigin::signed(coldkey), netuid, hotkey));
    Uids::<Test>::get(netuid, hotkey).expect("just registered; qed")
}

/// Fund `coldkey` and stake `amount` on `hotkey`.
pub(crate) fn stake(coldkey: AccountId, hotkey: AccountId, amount: u64) {
    fund(coldkey, amount);
    assert_ok!(SubtensorModule::add_stake(RuntimeOrigin::signed(coldkey), hotkey, amount));
}

/// The pallet's events so far, oldest first.
pub(crate) fn events() -> Vec<Event<Test>> {
    System::events()
        .into_iter()
        .filter_map(|r| match r.event {
            RuntimeEvent::SubtensorModule(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// The pallet's last event.
pub(crate) fn last_event() -> Event<Test> {
    events().pop().expect("an event was deposited; qed")
}

/// Assert that the pallet's last event is `event`.
pub(crate) fn assert_last_event(event: Event<Test>) {
    assert_eq!(last_event(), event);
}
