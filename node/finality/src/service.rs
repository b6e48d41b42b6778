//! Starting the gadget: the voter (restarted after errors) and the network task.

use crate::{
    catch_up::{on_request, publish_neighbor, CatchUpTracker},
    chain::VoteTree,
    environment::{CommitOutgoing, Environment},
    gossip::on_gossip,
    handle::FinalityHandle,
    persistence::VoterPersistentState,
    router::Router,
    shared::{LocalKey, Progress, Shared},
    Error, FinalityChain, FinalityConfig, LOG_TARGET,
};
use finality_grandpa::voter::Voter;
use futures::{channel::mpsc, StreamExt};
use parking_lot::Mutex;
use sp_consensus_grandpa::AuthorityId;
use sp_core::Pair as _;
use std::{sync::Arc, time::Instant};
use subtensor_network_api::{
    GossipMessage, IncomingRequest, NetworkService, PeerEvent, Protocol, Topic,
};
use tokio::{
    sync::{broadcast, Notify},
    task::JoinHandle,
};

/// Start GRANDPA: subscribe to the GRANDPA gossip topic and catch-up protocol of `network`,
/// resume the voter from the state persisted in `chain`'s auxiliary storage, and run until the
/// returned task is aborted (or the network shuts down). Must be called within a tokio
/// runtime.
///
/// Errors: an empty authority set, or persisted voter state that does not decode.
pub fn start(
    chain: Arc<dyn FinalityChain>,
    network: Arc<dyn NetworkService>,
    config: FinalityConfig,
) -> Result<(Arc<FinalityHandle>, JoinHandle<()>), Error> {
    let voters = config.authority_set.voter_set()?;
    let local = config.local_key.as_ref().and_then(|pair| {
        let id = AuthorityId::from(pair.public());
        voters.contains(&id).then_some(LocalKey { id, pair: *pair })
    });
    let persistent = VoterPersistentState::load(&*chain, &config.authority_set)?;
    let finalized = chain.finalized().1;
    log::info!(
        target: LOG_TARGET,
        "{}starting GRANDPA as {}: set {}, {} authorities, resuming after round {}, finalized #{}",
        name_prefix(&config.name),
        match &local {
            Some(local) => format!("voter {}", local.id),
            None => "observer".to_string(),
        },
        config.authority_set.set_id,
        config.authority_set.authorities.len(),
        persistent.last_completed.number,
        finalized,
    );

    let gossip = network.subscribe(Topic::Grandpa);
    let requests = network.handle_requests(Protocol::GrandpaCatchUp);
    let peer_events = network.peer_events();
    let imported = chain.imported();
    let (justifications, _) = broadcast::channel(64);
    let mut config = config;
    config.name = name_prefix(&config.name);
    let shared = Arc::new(Shared {
        router: Mutex::new(Router::new(voters.len().get())),
        tree: VoteTree::new(chain.clone()),
        chain,
        network,
        config,
        voters,
        local,
        persistent: Mutex::new(persistent),
        justifications,
        voter_state: Mutex::new(None),
        round_changed: Notify::new(),
        progress: Mutex::new(Progress {
            finalized: (finalized, Instant::now()),
            last_warning: None,
        }),
        neighbor_nonce: Mutex::new(0),
    });
    let handle = Arc::new(FinalityHandle::new(shared.clone()));
    let task = tokio::spawn(async move {
        let network_task = run_network(shared.clone(), gossip, requests, peer_events, imported);
        let voter_task = run_voter(shared.clone());
        tokio::select! {
            () = network_task => {
                log::info!(target: LOG_TARGET, "{}network closed, GRANDPA stops", shared.name());
            }
            () = voter_task => {}
        }
    });
    Ok((handle, task))
}

fn name_prefix(name: &str) -> String {
    if name.is_empty() || name.ends_with(": ") {
        name.to_string()
    } else {
        format!("{name}: ")
    }
}

/// Run voter instances forever, restarting after errors.
async fn run_voter(shared: Arc<Shared>) {
    loop {
        let (global_tx, global_rx) = mpsc::unbounded();
        shared.router.lock().reset(global_tx);
        let last = shared.persistent.lock().last_completed.clone();
        let finalized = shared.chain.finalized();
        let env = Arc::new(Environment { shared: shared.clone() });
        let voter = Voter::new(
            env,
            shared.voters.clone(),
            (
                Box::pin(global_rx.map(Ok)) as crate::environment::GlobalInStream,
                Box::pin(CommitOutgoing { shared: shared.clone() })
                    as crate::environment::GlobalOutSink,
            ),
            last.number,
            last.votes,
            last.base,
            finalized,
        );
        *shared.voter_state.lock() = Some(voter.voter_state());
        let result = voter.await;
        *shared.voter_state.lock() = None;
        match result {
            Ok(()) => log::warn!(target: LOG_TARGET, "{}voter stopped", shared.name()),
            Err(e) => log::warn!(
                target: LOG_TARGET,
                "{}voter failed: {e}; restarting in {:?}",
                shared.name(),
                shared.config.restart_delay
            ),
        }
        tokio::time::sleep(shared.config.restart_delay).await;
    }
}

/// Gossip validation, catch-up requests and answers, neighbour packets, block notifications
/// and the stall warning. Returns when the network's gossip channel closes.
async fn run_network(
    shared: Arc<Shared>,
    mut gossip: tokio::sync::mpsc::Receiver<GossipMessage>,
    mut requests: tokio::sync::mpsc::Receiver<IncomingRequest>,
    mut peer_events: broadcast::Receiver<PeerEvent>,
    mut imported: broadcast::Receiver<(sp_core::H256, u32)>,
) {
    let mut tracker = CatchUpTracker::new();
    let mut neighbor_tick = tokio::time::interval(shared.config.neighbor_interval);
    neighbor_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut requests_open = true;
    let mut events_open = true;
    let mut imported_open = true;
    loop {
        tokio::select! {
            message = gossip.recv() => match message {
                Some(message) => on_gossip(&shared, &mut tracker, message),
                None => return,
            },
            request = requests.recv(), if requests_open => match request {
                Some(request) => on_request(&shared, request),
                None => requests_open = false,
            },
            event = peer_events.recv(), if events_open => match event {
                Ok(PeerEvent::Connected { .. }) => publish_neighbor(&shared),
                Ok(PeerEvent::Disconnected { peer }) => tracker.forget(&peer),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => events_open = false,
            },
            block = imported.recv(), if imported_open => match block {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    shared.router.lock().on_block_imported(&shared.tree, &*shared.chain);
                }
                Err(broadcast::error::RecvError::Closed) => imported_open = false,
            },
            () = shared.round_changed.notified() => publish_neighbor(&shared),
            _ = neighbor_tick.tick() => {
                publish_neighbor(&shared);
                tracker.on_tick(&shared);
                check_stall(&shared);
            }
        }
    }
}

/// Log "finality stalled" when nothing was finalized for a while and the best block is ahead.
fn check_stall(shared: &Shared) {
    let (_, finalized) = shared.chain.finalized();
    let (_, best) = shared.chain.best();
    let now = Instant::now();
    let mut progress = shared.progress.lock();
    if finalized > progress.finalized.0 {
        *progress = Progress { finalized: (finalized, now), last_warning: None };
        return;
    }
    let after = shared.config.stall_warning_after;
    let since = now.saturating_duration_since(progress.finalized.1);
    let warned_recently =
        progress.last_warning.is_some_and(|at| now.saturating_duration_since(at) < after);
    if best > finalized && since >= after && !warned_recently {
        progress.last_warning = Some(now);
        drop(progress);
        let round = shared.router.lock().current_round();
        log::warn!(
            target: LOG_TARGET,
            "{}finality stalled: nothing finalized for {}s (finalized #{finalized}, best #{best}, \
             round {round}); fewer than 2/3 of the authorities' weight may be online",
            shared.name(),
            since.as_secs()
        );
    }
}
