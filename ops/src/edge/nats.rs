//! NATS configurations of the hub and the leaf nodes.
//!
//! The hub admits only Neon's credentials (operator mode, see auth), its clients and the leaf
//! nodes alike. A leaf node connects over TLS, checking the hub's certificate against Neon's CA,
//! and authenticates as the `leaf` user: a listener without that certificate, or someone on the
//! network between them, sees nothing and cannot join. A leaf node's own clients (the node's
//! host and providers) connect to it on the node's loopback without credentials.

use std::path::Path;

use anyhow::Result;

use super::Settings;
use crate::auth::{tls, Auth, Role};

/// Pings every 2 s, 3 missed = gone: a cut leaf connection is noticed in about 6 s (NATS's
/// default is 2 minutes), so calls stop going to a node that cannot answer.
const LIVENESS: &str = "ping_interval: \"2s\"\nping_max: 3\n";

pub fn hub(s: &Settings, auth: &Auth, cert: &Path, key: &Path) -> Result<String> {
    let listen = format!("{}:{}", s.hub_leaf_address(), s.leaf_port);
    // The hub alone has JetStream, in domain "hub": wadm's state, the hosts' config and data
    // buckets, and the logging provider's NEON_LOGS stream all live here.
    Ok(format!(
        "server_name: neon-hub\nlisten: 127.0.0.1:{}\n{LIVENESS}{}jetstream {{ domain: hub, store_dir: \"{}\" }}\nleafnodes {{\n  listen: \"{listen}\"\n  tls {{ cert_file: \"{}\", key_file: \"{}\", timeout: 5 }}\n}}\n",
        s.nats_port,
        auth.server_config()?,
        s.dir.join("nats/hub-js").display(),
        cert.display(),
        key.display(),
    ))
}

pub fn leaf(s: &Settings, i: usize, auth: &Auth) -> String {
    let hub = format!("{}:{}", s.hub_leaf_address(), s.leaf_port);
    // No JetStream here: plain JetStream API requests (the logging provider's) are mapped to the
    // hub's domain, so a client on the edge needs no domain setting.
    format!(
        "server_name: neon-edge-{i}\nlisten: 127.0.0.1:{}\n{LIVENESS}mappings: {{ \"$JS.API.>\": \"$JS.hub.API.>\" }}\nleafnodes {{\n  reconnect: \"1s\"\n  remotes: [ {{\n    url: \"nats-leaf://{hub}\"\n    credentials: \"{}\"\n    tls {{ ca_file: \"{}\", timeout: 5 }}\n  }} ]\n}}\n",
        s.leaf_client_port(i),
        auth.creds(Role::Leaf).display(),
        tls::ca_file(auth.dir()).display(),
    )
}
