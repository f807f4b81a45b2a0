//! nats-server's own counters, read from its monitoring endpoint: what a stretch of load cost
//! the lattice in messages and in subscription changes (each of which makes the server
//! re-check its subject cache).

use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::load::Client;

/// Totals since the server started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatsCounters {
    pub messages_in: u64,
    pub messages_out: u64,
    pub subscriptions_added: u64,
    pub subscriptions_removed: u64,
}

impl NatsCounters {
    /// The counters of the server whose monitoring endpoint is on 127.0.0.1:`port`.
    pub async fn read(port: u16) -> Result<Self> {
        #[derive(Deserialize)]
        struct Varz {
            in_msgs: u64,
            out_msgs: u64,
        }
        #[derive(Deserialize)]
        struct Subsz {
            num_inserts: u64,
            num_removes: u64,
        }
        let client = Client::with_timeout(port, Duration::from_secs(10))?;
        let varz: Varz = get(&client, "/varz").await?;
        let subsz: Subsz = get(&client, "/subsz").await?;
        Ok(Self {
            messages_in: varz.in_msgs,
            messages_out: varz.out_msgs,
            subscriptions_added: subsz.num_inserts,
            subscriptions_removed: subsz.num_removes,
        })
    }

    /// What happened between `earlier` and `self`, per one of `count` events (requests).
    pub fn per(&self, earlier: &Self, count: u64) -> NatsPerRequest {
        let count = count.max(1) as f64;
        let per = |now: u64, then: u64| now.saturating_sub(then) as f64 / count;
        NatsPerRequest {
            messages_in: per(self.messages_in, earlier.messages_in),
            messages_out: per(self.messages_out, earlier.messages_out),
            subscription_changes: per(
                self.subscriptions_added + self.subscriptions_removed,
                earlier.subscriptions_added + earlier.subscriptions_removed,
            ),
        }
    }
}

/// Averages per request: messages published to the server, delivered by it, and
/// subscriptions made or dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct NatsPerRequest {
    pub messages_in: f64,
    pub messages_out: f64,
    pub subscription_changes: f64,
}

async fn get<T: serde::de::DeserializeOwned>(client: &Client, path: &str) -> Result<T> {
    let reply = client.get(path).await?;
    reply.expect(200, None, &format!("nats-server monitoring {path}"))?;
    serde_json::from_str(&reply.body).with_context(|| format!("nats-server monitoring {path}"))
}

#[cfg(test)]
mod tests {
    use super::NatsCounters;

    #[test]
    fn per_request_is_the_difference_over_the_count() {
        let before = NatsCounters {
            messages_in: 100,
            messages_out: 200,
            subscriptions_added: 10,
            subscriptions_removed: 4,
        };
        let after = NatsCounters {
            messages_in: 300,
            messages_out: 600,
            subscriptions_added: 30,
            subscriptions_removed: 24,
        };
        let per = after.per(&before, 100);
        assert_eq!(per.messages_in, 2.0);
        assert_eq!(per.messages_out, 4.0);
        assert_eq!(per.subscription_changes, 0.4);
    }
}
