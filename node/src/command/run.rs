//! Running the node (no subcommand).

use super::setup;
use crate::{
    chain_spec::ChainType,
    cli::RunArgs,
    error::{NodeError, NodeResult},
    service::{
        self,
        network::{multiaddrs, node_key, NetworkSettings},
        AuthorityKeypair, Sealing, ServiceConfig,
    },
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use subtensor_chain::Pruning;
use subtensor_rpc::Cors;

/// The authority key chosen on the command line, if any.
fn author_key(args: &RunArgs, dev: bool) -> NodeResult<Option<AuthorityKeypair>> {
    let named = [
        (args.alice, "Alice"),
        (args.bob, "Bob"),
        (args.charlie, "Charlie"),
        (args.dave, "Dave"),
        (args.eve, "Eve"),
        (args.ferdie, "Ferdie"),
    ];
    let chosen: Vec<&str> = named.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect();
    if chosen.len() > 1 {
        return Err(NodeError::InvalidArgument(format!(
            "choose one development key, not {}",
            chosen.iter().map(|n| format!("--{}", n.to_lowercase())).collect::<Vec<_>>().join(" ")
        )));
    }
    let uri = if let Some(suri) = &args.validator_key {
        Some(suri.clone())
    } else if let Some(name) = chosen.first() {
        Some(format!("//{name}"))
    } else if dev {
        Some("//Alice".to_owned())
    } else if args.validator {
        return Err(NodeError::InvalidArgument(
            "--validator needs the authority key: pass --validator-key or set SUBTENSOR_VALIDATOR_KEY".into(),
        ));
    } else {
        None
    };
    uri.map(|uri| AuthorityKeypair::from_suri(&uri)).transpose()
}

/// The peer-to-peer settings of the command line and the chain spec.
fn network_settings(args: &RunArgs, setup: &super::Setup) -> NodeResult<NetworkSettings> {
    let net = &args.network;
    let key_file = net.node_key_file.clone().unwrap_or_else(|| {
        setup.base_path.join("chains").join(&setup.spec.id).join("network").join("secret_ed25519")
    });
    let listen = if net.listen_addr.is_empty() {
        let port = net.port.unwrap_or(subtensor_network::DEFAULT_PORT);
        vec![
            subtensor_network::tcp_listen_address(true, port),
            subtensor_network::tcp_listen_address(false, port),
        ]
    } else {
        multiaddrs(&net.listen_addr, "--listen-addr")?
    };
    let development = matches!(setup.spec.chain_type, ChainType::Development | ChainType::Local);
    let mut boot_nodes = multiaddrs(&setup.spec.boot_nodes, "the chain spec's bootNodes")?;
    boot_nodes.extend(multiaddrs(&net.bootnodes, "--bootnodes")?);
    Ok(NetworkSettings {
        node_key: node_key(net.node_key.as_deref(), &key_file)?,
        port_fallback: setup.spec.chain_type == ChainType::Development
            && net.port.is_none()
            && net.listen_addr.is_empty(),
        listen,
        public: multiaddrs(&net.public_addr, "--public-addr")?,
        boot_nodes,
        reserved: multiaddrs(&net.reserved_nodes, "--reserved-nodes")?,
        reserved_only: net.reserved_only,
        in_peers: net.in_peers,
        out_peers: net.out_peers,
        mdns: development && net.discover_local && !net.no_mdns,
    })
}

fn pruning(text: &str) -> NodeResult<Pruning> {
    match text {
        "archive" | "archive-canonical" => Ok(Pruning::Archive),
        n => match n.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Pruning::KeepLast(n)),
            _ => Err(NodeError::InvalidArgument(format!(
                "--state-pruning must be `archive` or a number of blocks > 0, not {n:?}"
            ))),
        },
    }
}

fn cors(text: Option<&str>, dev: bool) -> Cors {
    match text {
        Some("all") | Some("*") => Cors::Any,
        Some(list) => Cors::List(list.split(',').map(|s| s.trim().to_owned()).collect()),
        None if dev => Cors::Any,
        None => Cors::List(vec![
            "http://localhost:*".into(),
            "http://127.0.0.1:*".into(),
            "https://localhost:*".into(),
            "https://127.0.0.1:*".into(),
            "https://polkadot.js.org".into(),
        ]),
    }
}

/// Stack size of the node's threads. They run the runtime natively (block building, import,
/// transaction validation, `state_call`), where calls may nest up to
/// `subtensor_chain::executor::MAX_EXTRINSIC_DEPTH` (256) levels (`utility.batch` in
/// `utility.batch` ...); dispatching that takes about 3 MiB of stack in a debug build, more than
/// the 2 MiB default, which aborted the node. Only the pages actually used are committed.
const THREAD_STACK_BYTES: usize = 32 * 1024 * 1024;

/// Run the node until it is stopped.
pub fn run(args: &RunArgs) -> NodeResult<()> {
    let dev = args.shared.dev;
    let setup = setup(&args.shared, &args.shared)?;
    let sealing: Sealing = match &args.sealing {
        Some(text) => text.parse().map_err(NodeError::InvalidArgument)?,
        None => Sealing::Interval(std::time::Duration::from_millis(
            setup.spec.consensus.slot_duration_ms.max(1),
        )),
    };
    // On development and local chains `--sealing MS` sets the slot duration (every node of
    // one network must be given the same value); live chains keep their spec's.
    let slot_duration_ms = match (&sealing, setup.spec.chain_type) {
        (Sealing::Interval(d), ChainType::Development | ChainType::Local) => {
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
        }
        _ => setup.spec.consensus.slot_duration_ms.max(1),
    };
    let author = author_key(args, dev)?;
    let network = network_settings(args, &setup)?;
    let interface = if args.rpc_external {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let prometheus_interface = if args.prometheus_external {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let config = ServiceConfig {
        db_path: setup.db_path(),
        rpc_addr: SocketAddr::new(interface, args.rpc_port),
        rpc_cors: cors(args.rpc_cors.as_deref(), dev),
        rpc_max_connections: args.rpc_max_connections,
        rpc_unsafe: match args.rpc_methods.as_str() {
            "unsafe" => true,
            "safe" => false,
            "auto" => !args.rpc_external,
            other => {
                return Err(NodeError::InvalidArgument(format!(
                    "--rpc-methods must be auto, safe or unsafe, not {other:?}"
                )))
            }
        },
        sealing,
        prometheus_addr: args.prometheus_port.map(|p| SocketAddr::new(prometheus_interface, p)),
        pruning: pruning(&args.state_pruning)?,
        author,
        slot_duration_ms,
        network,
        node_name: args.name.clone().unwrap_or_else(|| "subtensor-node".into()),
        spec: setup.spec.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("subtensor-node")
        .thread_stack_size(THREAD_STACK_BYTES)
        .build()
        .map_err(|e| NodeError::io("starting the async runtime", e))?;
    let result = runtime.block_on(service::run(config));
    drop(setup);
    result
}
