//! `neon edge ...`: Neon spread across an edge lattice on this machine (scripts/edge.sh calls
//! this; the layout is described in ops/src/edge/mod.rs). Settings come from NEON_EDGE_* when
//! the lattice comes up, and from its folder afterwards.

use anyhow::Result;
use neon_ops::auth::{Auth, Role, LOG_READER_INBOX};
use neon_ops::edge::{Edge, Mode, Settings, APP};
use neon_ops::load::Client;
use neon_ops::say::{info, step};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Hub + N edge nodes, manifests/edge.wadm.yaml deployed.
    Up {
        #[arg(default_value_t = 3)]
        nodes: usize,
    },
    /// Stop everything, remove the namespaces (logs are kept).
    Down,
    /// Where everything landed, and the app's status.
    Status,
    /// Deploy v2 (logger source neon-edge-v2) in place of v1.
    Rollout,
    /// Deploy v1 again.
    Rollback,
    /// SIGKILL edge node I's wasmCloud host (and its providers).
    KillHost { node: usize },
    /// Start edge node I's host again.
    StartHost { node: usize },
    /// Take edge node I's link down (netns mode only).
    Cut { node: usize },
    /// Bring edge node I's link up again.
    Heal { node: usize },
    /// Restart edge node I's NATS leaf node.
    RestartLeaf { node: usize },
}

pub async fn run(command: Command) -> Result<()> {
    let dir = Settings::dir_from_env();
    match command {
        Command::Up { nodes } => up(Settings::from_env(nodes)?).await,
        Command::Down => {
            let Ok(edge) = Edge::load(&dir) else {
                info(&format!("no edge lattice is up (in {})", dir.display()));
                return Ok(());
            };
            step(&format!(
                "edge lattice down ({} mode, {} edge nodes)",
                edge.settings.mode.unwrap_or(Mode::Loopback),
                edge.settings.nodes
            ));
            edge.teardown();
            info(&format!(
                "stopped; logs kept in {}",
                dir.join("logs").display()
            ));
            Ok(())
        }
        Command::Status => Edge::load(&dir)?.status().await,
        Command::Rollout => Edge::load(&dir)?.deploy("v2").await,
        Command::Rollback => Edge::load(&dir)?.deploy("v1").await,
        Command::KillHost { node } => {
            Edge::load(&dir)?.kill_host(node)?;
            info(&format!("edge {node}'s host killed"));
            Ok(())
        }
        Command::StartHost { node } => {
            Edge::load(&dir)?.start_host_again(node)?;
            info(&format!("edge {node}'s host started"));
            Ok(())
        }
        Command::Cut { node } => {
            Edge::load(&dir)?.set_link(node, false)?;
            info(&format!("edge {node} cut off"));
            Ok(())
        }
        Command::Heal { node } => {
            Edge::load(&dir)?.set_link(node, true)?;
            info(&format!("edge {node} reconnected"));
            Ok(())
        }
        Command::RestartLeaf { node } => {
            Edge::load(&dir)?.restart_leaf(node)?;
            info(&format!("edge {node}'s leaf node restarted"));
            Ok(())
        }
    }
}

async fn up(settings: Settings) -> Result<()> {
    let edge = Edge::up(settings).await?;
    edge.status().await?;
    let s = &edge.settings;
    let address = format!("127.0.0.1:{}", s.http_port);
    step("sample request");
    let answer = match Client::new(s.http_port)?
        .post("/process", "hello edge")
        .await
    {
        Ok(reply) => format!("{} [{}]", reply.body, reply.status),
        Err(error) => format!("{error:#}"),
    };
    info(&format!("POST /process 'hello edge' -> {answer}"));
    let auth = Auth::ensure()?;
    eprintln!(
        "
Neon is spread over {nodes} edge nodes. Try:
  curl -X POST --data hello http://{address}/process
  scripts/edge.sh status                    # where everything landed
  scripts/edge.sh rollout | rollback        # v2 / v1 under traffic
  scripts/edge.sh kill-host 1               # lose an edge node; wadm moves its share
  . {env}; wash app status {APP} --ctl-port {port} --lattice {lattice}
Log records: JetStream stream NEON_LOGS on the hub (127.0.0.1:{port}, domain hub), readable with
  {reader} (inbox prefix {inbox}).
Process logs: {logs}. Stop: scripts/edge.sh down",
        nodes = s.nodes,
        port = s.nats_port,
        lattice = s.lattice,
        logs = s.dir.join("logs").display(),
        env = auth.operator_env().display(),
        reader = auth.creds(Role::LogReader).display(),
        inbox = LOG_READER_INBOX,
    );
    Ok(())
}
