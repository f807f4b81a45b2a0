//! Who may connect to a Neon lattice and what each may publish and subscribe to. Every role is
//! one NATS user in Neon's account, with one creds file; the subjects hold for any lattice
//! name (`*` where the lattice goes), so one set of credentials serves every lattice of this
//! machine.
//!
//! The subjects wasmCloud 1.x uses, for reading the lists below:
//! - `wasmbus.ctl.v1.<lattice>.>`: control requests to hosts (from wash, wadm, Neon's tooling);
//! - `wasmbus.evt.<lattice>.>`: events hosts publish (wadm keeps them in a stream);
//! - `wasmbus.rpc.<lattice>.<provider>.>`: a host talking to its providers (links, health,
//!   shutdown);
//! - `<lattice>.<component or provider>.wrpc.>`: invocations between components and providers;
//! - `wadm.api.<lattice>.>` and other `wadm.` subjects: wadm's API and its own streams;
//! - `$JS.API.>` (`$JS.<domain>.API.>` across a leaf node), `$KV.>`: JetStream and its
//!   key-value buckets (host config and data, wadm state, the log stream);
//! - `_INBOX.>`: replies to requests, each client's own.

use serde_json::{json, Value};

/// The default stream of the logging provider's `nats` sink.
pub const LOG_STREAM: &str = "NEON_LOGS";

/// Where the log reader's replies come back. NATS clients take replies on `_INBOX.<random>`
/// by default, and a reader allowed `_INBOX.>` could read every reply on the lattice; this one
/// gets its own prefix (`custom_inbox_prefix` in async-nats, `--inbox-prefix` in the nats CLI).
pub const LOG_READER_INBOX: &str = "_INBOX_logs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A wasmCloud host's control connection: takes control requests, publishes events, keeps
    /// its config and data in JetStream, starts and links its providers.
    Host,
    /// Invocations: the host's wRPC connection and every provider it starts (the host hands
    /// its providers this identity), including the logging provider's JetStream sink.
    Providers,
    /// wadm: its API, its streams and buckets, control requests to hosts, hosts' events.
    Wadm,
    /// A person or Neon's own tooling with `wash`: everything.
    Operator,
    /// Reads the log stream, and nothing else.
    LogReader,
    /// Neon's policy service: takes the hosts' policy questions, answers them.
    Policy,
    /// An edge node's leaf connection to the hub: what the node's host and providers do,
    /// only over a leaf node connection.
    Leaf,
}

pub struct Permissions {
    pub publish: Vec<&'static str>,
    pub subscribe: Vec<&'static str>,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Host,
        Role::Providers,
        Role::Wadm,
        Role::Operator,
        Role::LogReader,
        Role::Policy,
        Role::Leaf,
    ];

    /// The creds file's stem and the user's name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::Providers => "providers",
            Role::Wadm => "wadm",
            Role::Operator => "operator",
            Role::LogReader => "log-reader",
            Role::Policy => "policy",
            Role::Leaf => "leaf",
        }
    }

    pub fn permissions(self) -> Permissions {
        const JETSTREAM: [&str; 5] = ["$JS.API.>", "$JS.*.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>"];
        let (publish, subscribe): (Vec<&str>, Vec<&str>) = match self {
            Role::Host => (
                [
                    "wasmbus.evt.*.>",
                    "wasmbus.rpc.*.>",
                    // Neon's host launcher re-delivers a starting provider's links (see
                    // platform/host): it reads, deletes and puts them back through the
                    // control interface.
                    "wasmbus.ctl.v1.*.link.>",
                    "wasmcloud.policy.>",
                    "_INBOX.>",
                ]
                .into_iter()
                .chain(JETSTREAM)
                .collect(),
                vec!["wasmbus.ctl.v1.*.>", "wasmbus.evt.*.>", "_INBOX.>"],
            ),
            Role::Providers => (
                ["*.*.wrpc.>", "wasmbus.rpc.*.>", "neon.logs.>", "_INBOX.>"]
                    .into_iter()
                    .chain(JETSTREAM)
                    .collect(),
                vec!["*.*.wrpc.>", "wasmbus.rpc.*.>", "_INBOX.>"],
            ),
            Role::Wadm => (
                ["wasmbus.ctl.v1.*.>", "wadm.>", "wadm_status.>", "_INBOX.>"]
                    .into_iter()
                    .chain(JETSTREAM)
                    .collect(),
                vec!["wadm.>", "wadm_status.>", "wasmbus.evt.*.>", "_INBOX.>"],
            ),
            Role::Operator | Role::Leaf => (vec![">"], vec![">"]),
            Role::Policy => (vec!["_INBOX.>"], vec!["wasmcloud.policy.>"]),
            Role::LogReader => (
                vec![
                    "$JS.API.INFO",
                    "$JS.API.STREAM.INFO.NEON_LOGS",
                    "$JS.API.STREAM.MSG.GET.NEON_LOGS",
                    "$JS.API.DIRECT.GET.NEON_LOGS",
                    "$JS.API.DIRECT.GET.NEON_LOGS.>",
                    "$JS.API.CONSUMER.CREATE.NEON_LOGS",
                    "$JS.API.CONSUMER.CREATE.NEON_LOGS.>",
                    "$JS.API.CONSUMER.INFO.NEON_LOGS.*",
                    "$JS.API.CONSUMER.DELETE.NEON_LOGS.*",
                    "$JS.API.CONSUMER.MSG.NEXT.NEON_LOGS.*",
                    "$JS.ACK.NEON_LOGS.>",
                    "$JS.FC.NEON_LOGS.>",
                ],
                vec!["_INBOX_logs.>"],
            ),
        };
        Permissions { publish, subscribe }
    }

    /// The `nats` claims of this role's user JWT.
    pub fn claims(self) -> Value {
        let Permissions { publish, subscribe } = self.permissions();
        let mut claims = json!({
            "type": "user",
            "version": 2,
            "pub": { "allow": publish },
            "sub": { "allow": subscribe },
            "subs": -1,
            "data": -1,
            "payload": -1,
        });
        if self == Role::Leaf {
            claims["allowed_connection_types"] = json!(["LEAFNODE"]);
        }
        claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_reader_can_read_its_stream_and_reach_nothing_else() {
        let Permissions { publish, subscribe } = Role::LogReader.permissions();
        assert!(publish
            .iter()
            .all(|s| s.contains(LOG_STREAM) || *s == "$JS.API.INFO"));
        assert_eq!(subscribe, vec![format!("{LOG_READER_INBOX}.>")]);
    }

    #[test]
    fn only_the_operator_and_the_leaf_may_publish_everywhere() {
        for role in Role::ALL {
            let everywhere = role.permissions().publish.contains(&">");
            assert_eq!(
                everywhere,
                matches!(role, Role::Operator | Role::Leaf),
                "{role:?}"
            );
        }
        assert_eq!(
            Role::Leaf.claims()["allowed_connection_types"],
            json!(["LEAFNODE"])
        );
    }

    #[test]
    fn no_role_but_the_host_and_wadm_reaches_control_and_no_role_but_the_providers_invokes() {
        for role in [Role::Providers, Role::LogReader, Role::Policy] {
            let p = role.permissions();
            assert!(
                !p.publish.iter().any(|s| s.starts_with("wasmbus.ctl")),
                "{role:?}"
            );
        }
        for role in [Role::Host, Role::Wadm, Role::LogReader, Role::Policy] {
            let p = role.permissions();
            assert!(!p.publish.iter().any(|s| s.contains("wrpc")), "{role:?}");
        }
    }
}
