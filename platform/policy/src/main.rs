//! `neon-policy`: the policy service of Neon's lattices. wasmCloud hosts started with
//! `--policy-topic` send it a request over NATS before they start a component or provider and
//! before they first invoke each function of a component; it permits only code signed by one
//! of the issuers it is given (decide.rs). Every refusal is logged with its reason, and the
//! host passes the reason on (wadm shows it in the app's status).

mod decide;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use futures::StreamExt as _;

#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// NATS server of the lattice.
    #[arg(long, env = "NEON_POLICY_NATS", default_value = "127.0.0.1:4222")]
    nats: String,
    /// NATS credentials (the lattice's `policy` user).
    #[arg(long, env = "NEON_POLICY_CREDS")]
    creds: Option<PathBuf>,
    /// The hosts' `--policy-topic`.
    #[arg(long, default_value = "wasmcloud.policy.neon")]
    topic: String,
    /// Public key of an issuer (nkey account) whose code may run; repeatable.
    #[arg(long = "issuer", required = true)]
    issuers: Vec<String>,
    /// Also append each decision to this file.
    #[arg(long)]
    log: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let options = match &args.creds {
        Some(creds) => async_nats::ConnectOptions::with_credentials_file(creds)
            .await
            .with_context(|| format!("reading {}", creds.display()))?,
        None => async_nats::ConnectOptions::new(),
    };
    let nats = options
        .name("neon-policy")
        .connect(&args.nats)
        .await
        .with_context(|| format!("connecting to NATS at {}", args.nats))?;
    // A queue group: several instances share the questions, each answered once.
    let mut requests = nats
        .queue_subscribe(args.topic.clone(), "neon-policy".into())
        .await?;
    nats.flush().await?;
    let mut log = match &args.log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => None,
    };
    let mut note = |line: String| {
        eprintln!("{line}");
        if let Some(file) = log.as_mut() {
            let _ = writeln!(file, "{line}");
        }
    };
    note(format!(
        "neon-policy: answering on {} at {}; code signed by {} runs",
        args.topic,
        args.nats,
        args.issuers.join(", ")
    ));

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let message = tokio::select! {
            message = requests.next() => match message {
                Some(message) => message,
                None => break,
            },
            _ = sigterm.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(reply) = message.reply.clone() else {
            note(format!(
                "ignored a message on {} without a reply subject",
                message.subject
            ));
            continue;
        };
        let answer = match serde_json::from_slice::<decide::Request>(&message.payload) {
            Ok(request) => {
                let response = decide::decide(&request, &args.issuers);
                let what = decide::label(&request);
                note(match &response.message {
                    None => format!("permitted {what}"),
                    Some(why) => format!("refused {what}: {why}"),
                });
                serde_json::to_vec(&response)?
            }
            // Without a request id the host cannot match an answer: it times out and refuses.
            Err(e) => {
                note(format!("a request that is not a policy request v1: {e}"));
                continue;
            }
        };
        if let Err(e) = nats.publish(reply, answer.into()).await {
            note(format!("could not answer: {e}"));
        }
    }
    note("neon-policy: stopping".to_string());
    Ok(())
}
