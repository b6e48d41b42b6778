//! Logging in Substrate's conventions: `-l target=level,...` on top of `RUST_LOG`, `info` by
//! default.

use tracing_subscriber::EnvFilter;

/// Install the global logger from the `-l` directives.
pub fn init(directives: &[String]) {
    // libp2p's own crates log routine events (a duplicate publish, a dial to a peer that went
    // away) as warnings; the network crate reports what matters under target `network`.
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,libp2p_gossipsub=error,libp2p_kad=error,libp2p_swarm=error")
    });
    for directive in directives.iter().flat_map(|d| d.split(',')) {
        let directive = directive.trim();
        if directive.is_empty() {
            continue;
        }
        match directive.parse() {
            Ok(d) => filter = filter.add_directive(d),
            Err(e) => eprintln!("ignoring log directive {directive:?}: {e}"),
        }
    }
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(true).try_init();
}
