//! The [`SyncService`]: its configuration, its tasks, and the main task that follows peers,
//! announcements and the range sync.

use crate::{
    announce::Announcements,
    error::{SyncError, SyncResult},
    import::{self, ImportBatch},
    range::{self, Target},
    requests, server,
    status::{PeerState, SyncStatus},
    transactions,
    wire::{BlockAnnounce, Role, Status},
    Chain, JustificationVerifier,
};
use codec::Encode;
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use subtensor_chain::Hash;
use subtensor_network_api::{Misbehaviour, NetworkService, PeerEvent, PeerId, Protocol, Topic};
use subtensor_runtime::{BlockNumber, Header};
use subtensor_txpool::Pool;
use tokio::{
    sync::{broadcast, mpsc},
    task::JoinHandle,
};

/// The settings of a [`SyncService`].
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Our role, told to peers in our [`Status`].
    pub role: Role,
    /// Milliseconds per Aura slot (to recognise blocks from the future).
    pub slot_duration_ms: u64,
    /// The Aura authorities: an announced header counts as a peer's best only when its seal is
    /// its slot's author's. Empty: announced bests are believed unchecked (tests).
    pub authorities: Vec<sp_core::sr25519::Public>,
    /// How many ranges are downloaded at once (`--max-parallel-downloads`, default 5).
    pub max_parallel_downloads: usize,
    /// Blocks per range request (`--max-blocks-per-request`, at most 128, the default).
    pub max_blocks_per_request: u32,
    /// How far (in blocks) a peer's best may be ahead of ours before we are "major syncing".
    pub major_sync_threshold: BlockNumber,
    /// How long to wait for a peer's answer.
    pub request_timeout: Duration,
    /// How many downloaded batches (of up to `max_blocks_per_request` blocks) may wait for the
    /// import worker.
    pub import_queue_batches: usize,
    /// How many blocks announced ahead of their slot wait for it (the oldest are dropped).
    pub max_deferred_blocks: usize,
    /// How many announced blocks are fetched and imported at once (further ones are ignored).
    pub max_concurrent_announces: usize,
    /// How long the sync leaves a target alone after a failed attempt on it.
    pub retry_backoff: Duration,
    /// How often the main task looks for work (deferred blocks, new targets).
    pub tick: Duration,
    /// How often every peer is asked for its status again (its best and finalized blocks move
    /// without announcements when it syncs or finalizes).
    pub status_interval: Duration,
    /// The clock: milliseconds since the Unix epoch.
    pub clock: fn() -> u64,
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn system_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl SyncConfig {
    /// Defaults for `role` with `slot_duration_ms` slots.
    pub fn new(role: Role, slot_duration_ms: u64) -> Self {
        Self {
            role,
            slot_duration_ms,
            max_parallel_downloads: 5,
            max_blocks_per_request: crate::wire::MAX_BLOCKS_PER_REQUEST,
            major_sync_threshold: 5,
            request_timeout: Duration::from_secs(20),
            import_queue_batches: 4,
            max_deferred_blocks: 32,
            max_concurrent_announces: 16,
            retry_backoff: Duration::from_secs(5),
            tick: Duration::from_millis(250),
            status_interval: Duration::from_secs(30),
            clock: system_clock,
            authorities: Vec::new(),
        }
    }
}

/// What every task of the service shares.
pub(crate) struct Ctx {
    pub network: Arc<dyn NetworkService>,
    pub chain: Chain,
    pub verifier: Arc<dyn JustificationVerifier>,
    pub status: SyncStatus,
    pub config: SyncConfig,
}

/// Block sync and propagation. Create it with [`SyncService::start`] inside a tokio runtime;
/// dropping it stops its tasks.
pub struct SyncService {
    ctx: Arc<Ctx>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService").field("status", &self.ctx.status).finish_non_exhaustive()
    }
}

impl SyncService {
    /// Start the sync on `network` for `chain`, with transaction gossip for `pool` and
    /// `verifier` for the justifications that come with blocks.
    ///
    /// It takes over the network's [`Topic::BlockAnnounces`] and [`Topic::Transactions`]
    /// subscriptions and its [`Protocol::Status`] and [`Protocol::Blocks`] request handlers,
    /// spawns four tokio tasks (main: peers, announcements and range sync; request server;
    /// transaction gossip) plus one import thread (`sync-import`), and asks every peer already
    /// connected for its status. Must be called from within a tokio runtime.
    pub fn start(
        network: Arc<dyn NetworkService>,
        chain: Chain,
        pool: Arc<Pool>,
        verifier: Arc<dyn JustificationVerifier>,
        config: SyncConfig,
    ) -> SyncResult<Self> {
        let status = SyncStatus::new(chain.clone(), config.major_sync_threshold);
        let (import_tx, import_rx) =
            mpsc::channel::<ImportBatch>(config.import_queue_batches.max(1));
        {
            let (chain, verifier, status, network) =
                (chain.clone(), verifier.clone(), status.clone(), network.clone());
            let clock = import::SlotClock {
                now_ms: config.clock,
                slot_duration_ms: config.slot_duration_ms,
            };
            std::thread::Builder::new()
                .name("sync-import".into())
                .spawn(move || {
                    import::run_worker(chain, verifier, status, network, clock, import_rx)
                })
                .map_err(|e| SyncError::Task(format!("cannot start the import thread: {e}")))?;
        }
        let ctx = Arc::new(Ctx {
            network: network.clone(),
            chain: chain.clone(),
            verifier,
            status,
            config,
        });

        // Subscribe before anything runs, so that nothing is missed.
        let peer_events = network.peer_events();
        let announces = network.subscribe(Topic::BlockAnnounces);
        let transactions_in = network.subscribe(Topic::Transactions);
        let status_requests = network.handle_requests(Protocol::Status);
        let block_requests = network.handle_requests(Protocol::Blocks);
        let ready = pool.ready_notifications();

        let tasks = vec![
            tokio::spawn(server::serve(
                chain,
                network.clone(),
                ctx.config.role,
                status_requests,
                block_requests,
            )),
            tokio::spawn(transactions::run(network, pool, transactions_in, ready)),
            tokio::spawn(MainTask::new(ctx.clone(), import_tx).run(peer_events, announces)),
        ];
        Ok(Self { ctx, tasks })
    }

    /// Publish `header` (a block this node authored and imported) on
    /// [`Topic::BlockAnnounces`]. Blocks imported from the network are not announced again:
    /// gossip forwards their accepted announcements.
    pub fn announce(&self, header: &Header) {
        let best = self.ctx.chain.info().best_hash == header.hash();
        let message = BlockAnnounce { header: header.clone(), best };
        self.ctx.network.publish(Topic::BlockAnnounces, message.encode());
    }

    /// The sync status (RPC, metrics, block author).
    pub fn status(&self) -> SyncStatus {
        self.ctx.status.clone()
    }
}

impl Drop for SyncService {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Internal events of the main task.
enum Event {
    /// A peer's status request finished.
    PeerStatus(PeerId, SyncResult<Status>),
    /// The sync job towards a target finished.
    JobDone(Target, SyncResult<()>),
}

/// The running sync job.
struct Job {
    target: Target,
    handle: JoinHandle<()>,
}

/// The main task: peers, announcements, range sync.
struct MainTask {
    ctx: Arc<Ctx>,
    import: mpsc::Sender<ImportBatch>,
    events_tx: mpsc::Sender<Event>,
    events: mpsc::Receiver<Event>,
    sync_with_rx: mpsc::Receiver<PeerId>,
    announcements: Announcements,
    job: Option<Job>,
    /// Targets that failed recently, per peer: the target hash and until when to leave it.
    backoff: HashMap<PeerId, (Hash, Instant)>,
}

/// Bound of the internal event channels (their senders are our own tasks, each with at most a
/// few events in flight per peer).
const EVENT_CAPACITY: usize = 256;

impl MainTask {
    fn new(ctx: Arc<Ctx>, import: mpsc::Sender<ImportBatch>) -> Self {
        let (events_tx, events) = mpsc::channel(EVENT_CAPACITY);
        let (sync_with_tx, sync_with_rx) = mpsc::channel(EVENT_CAPACITY);
        let announcements = Announcements::new(ctx.clone(), sync_with_tx);
        Self {
            ctx,
            import,
            events_tx,
            events,
            sync_with_rx,
            announcements,
            job: None,
            backoff: HashMap::new(),
        }
    }

    async fn run(
        mut self,
        mut peer_events: broadcast::Receiver<PeerEvent>,
        mut announces: mpsc::Receiver<subtensor_network_api::GossipMessage>,
    ) {
        for peer in self.ctx.network.connected_peers() {
            self.ask_status(peer.peer_id);
        }
        let mut tick = tokio::time::interval(self.ctx.config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let start = tokio::time::Instant::now()
            .checked_add(self.ctx.config.status_interval)
            .unwrap_or_else(tokio::time::Instant::now);
        let mut refresh = tokio::time::interval_at(start, self.ctx.config.status_interval);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = peer_events.recv() => match event {
                    Ok(PeerEvent::Connected { peer, .. }) => self.ask_status(peer),
                    Ok(PeerEvent::Disconnected { peer }) => self.forget(&peer),
                    Err(broadcast::error::RecvError::Lagged(_)) => self.resync_peers(),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(message) = announces.recv() => {
                    if let Some(peer) = self.announcements.on_message(message) {
                        self.backoff.remove(&peer);
                    }
                }
                Some(peer) = self.sync_with_rx.recv() => {
                    self.backoff.remove(&peer);
                }
                Some(event) = self.events.recv() => self.on_event(event),
                _ = tick.tick() => self.announcements.retry_deferred(),
                _ = refresh.tick() => {
                    for (peer, _) in self.ctx.status.peer_states() {
                        self.ask_status(peer);
                    }
                }
            }
            self.maybe_start_job();
        }
        if let Some(job) = self.job.take() {
            job.handle.abort();
        }
        log::debug!(target: "sync", "sync stopped");
    }

    /// Ask `peer` for its status in a task; the answer comes back as an event.
    fn ask_status(&self, peer: PeerId) {
        let ctx = self.ctx.clone();
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            let result =
                requests::status(ctx.network.as_ref(), &peer, ctx.config.request_timeout).await;
            let _ = events.send(Event::PeerStatus(peer, result)).await;
        });
    }

    /// After missing peer events: ask the status of connected peers we do not know, forget
    /// those gone.
    fn resync_peers(&mut self) {
        let connected: Vec<PeerId> =
            self.ctx.network.connected_peers().into_iter().map(|p| p.peer_id).collect();
        for (peer, _) in self.ctx.status.peer_states() {
            if !connected.contains(&peer) {
                self.forget(&peer);
            }
        }
        for peer in connected {
            if self.ctx.status.peer(&peer).is_none() {
                self.ask_status(peer);
            }
        }
    }

    fn forget(&mut self, peer: &PeerId) {
        self.ctx.status.remove_peer(peer);
        self.backoff.remove(peer);
        if self.job.as_ref().is_some_and(|job| job.target.peer == *peer) {
            if let Some(job) = self.job.take() {
                log::debug!(target: "sync", "sync target {peer} disconnected");
                job.handle.abort();
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::PeerStatus(peer, Ok(status)) => {
                let ours = self.ctx.chain.info().genesis_hash;
                if status.genesis_hash != ours {
                    log::info!(
                        target: "sync",
                        "{peer} is on another chain (genesis {:?})",
                        status.genesis_hash
                    );
                    self.ctx.network.report(peer, Misbehaviour::WrongChain);
                    return;
                }
                log::debug!(
                    target: "sync",
                    "{peer}: best #{} {:?}, finalized #{}",
                    status.best_number,
                    status.best_hash,
                    status.finalized_number
                );
                let previous = self.ctx.status.peer(&peer);
                let mut state = PeerState {
                    roles: status.roles,
                    best_hash: status.best_hash,
                    best_number: status.best_number,
                    finalized_hash: status.finalized_hash,
                    finalized_number: status.finalized_number,
                };
                // An announcement may have told us of a higher block meanwhile.
                if let Some(previous) = previous {
                    if previous.best_number > state.best_number {
                        state.best_hash = previous.best_hash;
                        state.best_number = previous.best_number;
                    }
                }
                self.ctx.status.set_peer(peer, state);
            }
            Event::PeerStatus(peer, Err(e)) => {
                log::debug!(target: "sync", "no status from {peer}: {e}");
                if let SyncError::Decode(why) = e {
                    self.ctx.network.report(peer, Misbehaviour::BadMessage(why));
                }
            }
            Event::JobDone(target, result) => {
                if self.job.as_ref().is_some_and(|job| job.target == target) {
                    self.job = None;
                }
                if let Err(e) = result {
                    log::debug!(target: "sync", "sync with {} failed: {e}", target.peer);
                    let until = Instant::now().checked_add(self.ctx.config.retry_backoff);
                    if let Some(until) = until {
                        self.backoff.insert(target.peer, (target.hash, until));
                    }
                }
            }
        }
    }

    /// Start a sync job towards the highest peer whose best block we lack, if none runs.
    fn maybe_start_job(&mut self) {
        if self.job.is_some() {
            return;
        }
        let info = self.ctx.chain.info();
        let now = Instant::now();
        self.backoff.retain(|_, (_, until)| *until > now);
        let mut candidates: Vec<(PeerId, PeerState)> = self
            .ctx
            .status
            .peer_states()
            .into_iter()
            .filter(|(peer, state)| {
                state.best_number > info.best_number
                    && !self.announcements.is_in_flight(&state.best_hash)
                    && self.backoff.get(peer).is_none_or(|(hash, _)| *hash != state.best_hash)
            })
            .collect();
        // Highest first; ties by peer id for determinism.
        candidates.sort_by(|(pa, a), (pb, b)| b.best_number.cmp(&a.best_number).then(pa.cmp(pb)));
        let Some((peer, state)) = candidates
            .into_iter()
            .find(|(_, state)| !matches!(self.ctx.chain.header(state.best_hash), Ok(Some(_))))
        else {
            return;
        };
        let target = Target { peer, hash: state.best_hash, number: state.best_number };
        log::debug!(
            target: "sync",
            "sync target: #{} {:?} of {}",
            target.number,
            target.hash,
            target.peer
        );
        let ctx = self.ctx.clone();
        let import = self.import.clone();
        let events = self.events_tx.clone();
        let job_target = target.clone();
        let handle = tokio::spawn(async move {
            let result = range::run(ctx, import, job_target.clone()).await;
            let _ = events.send(Event::JobDone(job_target, result)).await;
        });
        self.job = Some(Job { target, handle });
    }
}
