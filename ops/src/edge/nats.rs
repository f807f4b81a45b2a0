//! NATS configurations of the hub and the leaf nodes.

use super::{Mode, Settings};

/// Pings every 2 s, 3 missed = gone: a cut leaf connection is noticed in about 6 s (NATS's
/// default is 2 minutes), so calls stop going to a node that cannot answer.
const LIVENESS: &str = "ping_interval: \"2s\"\nping_max: 3\n";

pub fn hub(s: &Settings) -> String {
    let listen = match s.mode {
        Some(Mode::Netns) => format!("{}.1:{}", s.subnet, s.leaf_port),
        _ => format!("127.0.0.1:{}", s.leaf_port),
    };
    // The hub alone has JetStream, in domain "hub": wadm's state, the hosts' config and data
    // buckets, and the logging provider's NEON_LOGS stream all live here.
    format!(
        "server_name: neon-hub\nlisten: 127.0.0.1:{}\n{LIVENESS}jetstream {{ domain: hub, store_dir: \"{}\" }}\nleafnodes {{ listen: \"{listen}\" }}\n",
        s.nats_port,
        s.dir.join("nats/hub-js").display()
    )
}

pub fn leaf(s: &Settings, i: usize) -> String {
    let hub = match s.mode {
        Some(Mode::Netns) => format!("{}.1:{}", s.subnet, s.leaf_port),
        _ => format!("127.0.0.1:{}", s.leaf_port),
    };
    // No JetStream here: plain JetStream API requests (the logging provider's) are mapped to the
    // hub's domain, so a client on the edge needs no domain setting.
    format!(
        "server_name: neon-edge-{i}\nlisten: 127.0.0.1:{}\n{LIVENESS}mappings: {{ \"$JS.API.>\": \"$JS.hub.API.>\" }}\nleafnodes {{ reconnect: \"1s\", remotes: [ {{ url: \"nats-leaf://{hub}\" }} ] }}\n",
        s.leaf_client_port(i)
    )
}
