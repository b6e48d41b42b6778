//! The libp2p behaviours of a node, composed into one.

use crate::{codec::LengthPrefixed, config::NetworkConfig, error::Error, gate::Gate};
use libp2p::{
    gossipsub, identify,
    identity::Keypair,
    kad, mdns, ping, request_response,
    swarm::{behaviour::toggle::Toggle, NetworkBehaviour},
    StreamProtocol,
};
use std::time::Duration;
use subtensor_network_api::Protocol;

/// The largest gossip message.
pub(crate) const MAX_GOSSIP_BYTES: usize = 4 * 1024 * 1024;
/// How long an outgoing request may wait for its answer (and an incoming one for ours).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The most request streams open at once on one connection, per protocol.
const MAX_CONCURRENT_STREAMS: usize = 64;

/// Every behaviour of the node.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Bans, reserved peers and limits; first, so refused connections reach nothing else.
    pub(crate) gate: Gate,
    /// Exchange of protocol versions and listen addresses.
    pub(crate) identify: identify::Behaviour,
    /// Liveness checks.
    pub(crate) ping: ping::Behaviour,
    /// Peer discovery.
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Local-network discovery, when enabled.
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
    /// Gossip topics.
    pub(crate) gossipsub: gossipsub::Behaviour,
    /// [`Protocol::Blocks`].
    pub(crate) blocks: request_response::Behaviour<LengthPrefixed>,
    /// [`Protocol::Status`].
    pub(crate) status: request_response::Behaviour<LengthPrefixed>,
    /// [`Protocol::GrandpaCatchUp`].
    pub(crate) catch_up: request_response::Behaviour<LengthPrefixed>,
}

impl Behaviour {
    /// The behaviours for `config`, with identity `key`.
    pub(crate) fn new(config: &NetworkConfig, key: &Keypair) -> Result<Self, Error> {
        let local = key.public().to_peer_id();
        let id = &config.protocol_id;

        let identify = identify::Behaviour::new(
            identify::Config::new(identify_protocol_version(id), key.public())
                .with_agent_version(config.client_version.clone())
                .with_push_listen_addr_updates(true),
        );

        let mut kad_config = kad::Config::new(stream_protocol(format!("/{id}/kad"))?);
        kad_config
            .set_periodic_bootstrap_interval(Some(Duration::from_secs(60)))
            .set_record_filtering(kad::StoreInserts::FilterBoth);
        let mut kad =
            kad::Behaviour::with_config(local, kad::store::MemoryStore::new(local), kad_config);
        // Answer queries even before an external address is confirmed (private networks).
        kad.set_mode(Some(kad::Mode::Server));

        let mdns = if config.mdns {
            let behaviour = mdns::tokio::Behaviour::new(mdns::Config::default(), local)
                .map_err(|e| Error::Transport(format!("mDNS: {e}")))?;
            Some(behaviour)
        } else {
            None
        };

        let gossip_config = gossipsub::ConfigBuilder::default()
            .validate_messages()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .message_id_fn(message_id)
            .max_transmit_size(MAX_GOSSIP_BYTES)
            .flood_publish(true)
            .heartbeat_interval(Duration::from_secs(1))
            .build()
            .map_err(|e| Error::InvalidConfig(format!("gossipsub: {e}")))?;
        let gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossip_config,
        )
        .map_err(|e| Error::InvalidConfig(format!("gossipsub: {e}")))?;

        Ok(Behaviour {
            gate: Gate::new(local, config.reserved_only, config.in_peers, config.out_peers),
            identify,
            ping: ping::Behaviour::new(ping::Config::new()),
            kad,
            mdns: Toggle::from(mdns),
            gossipsub,
            blocks: request_response_behaviour(id, Protocol::Blocks)?,
            status: request_response_behaviour(id, Protocol::Status)?,
            catch_up: request_response_behaviour(id, Protocol::GrandpaCatchUp)?,
        })
    }

    /// The request-response behaviour of `protocol`.
    pub(crate) fn requests(
        &mut self,
        protocol: Protocol,
    ) -> &mut request_response::Behaviour<LengthPrefixed> {
        match protocol {
            Protocol::Blocks => &mut self.blocks,
            Protocol::Status => &mut self.status,
            Protocol::GrandpaCatchUp => &mut self.catch_up,
        }
    }
}

/// The identify protocol version of the chain `protocol_id`; peers announcing another one
/// belong to another chain.
pub(crate) fn identify_protocol_version(protocol_id: &str) -> String {
    format!("/subtensor/{protocol_id}/1")
}

/// A gossip message's id: a hash of its topic and data, so equal payloads dedupe whoever
/// published them.
fn message_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    let mut preimage = Vec::with_capacity(
        message.topic.as_str().len().saturating_add(message.data.len()).saturating_add(1),
    );
    preimage.extend_from_slice(message.topic.as_str().as_bytes());
    preimage.push(0);
    preimage.extend_from_slice(&message.data);
    gossipsub::MessageId::from(sp_crypto_hashing::blake2_256(&preimage).to_vec())
}

fn stream_protocol(name: String) -> Result<StreamProtocol, Error> {
    StreamProtocol::try_from_owned(name.clone())
        .map_err(|e| Error::InvalidConfig(format!("protocol name {name:?}: {e}")))
}

fn request_response_behaviour(
    protocol_id: &str,
    protocol: Protocol,
) -> Result<request_response::Behaviour<LengthPrefixed>, Error> {
    let codec = LengthPrefixed {
        max_request: protocol.max_request_bytes(),
        max_response: protocol.max_response_bytes(),
    };
    Ok(request_response::Behaviour::with_codec(
        codec,
        [(stream_protocol(protocol.name(protocol_id))?, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(MAX_CONCURRENT_STREAMS),
    ))
}
