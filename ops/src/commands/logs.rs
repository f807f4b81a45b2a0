//! `neon logs`: the records Neon's logging provider wrote, from a file sink or from the
//! JetStream stream (with the log-reader credentials), filtered by request, level and age, and
//! followed as they arrive.

use std::io::{BufRead as _, Seek as _, SeekFrom};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use futures::StreamExt as _;
use neon_ops::auth::{Auth, Role};

#[derive(clap::Args)]
pub struct Args {
    /// Only the records of this request (the `x-request-id` its answer named).
    #[arg(long)]
    request: Option<String>,
    /// Only records at this level or above: info, warn, critical.
    #[arg(long)]
    level: Option<Level>,
    /// Only records written within this long before now: 90s, 15m, 2h, 1d.
    #[arg(long, value_parser = humantime::parse_duration)]
    since: Option<Duration>,
    /// Keep printing records as they arrive (Ctrl-C ends).
    #[arg(long, short)]
    follow: bool,
    /// Print the JSON lines as stored, instead of one readable line per record.
    #[arg(long)]
    json: bool,
    /// Read this file sink (default: the one scripts/up.sh's app writes).
    #[arg(
        long,
        env = "NEON_LOG_FILE",
        default_value = "/tmp/neon-logs/neon.linked.jsonl"
    )]
    file: PathBuf,
    /// Read this JetStream stream on the lattice's NATS instead of a file (the edge's:
    /// NEON_LOGS).
    #[arg(long, num_args = 0..=1, default_missing_value = "NEON_LOGS")]
    stream: Option<String>,
    /// The lattice's NATS port, for --stream.
    #[arg(long, env = "NEON_NATS_PORT", default_value_t = 4222)]
    nats_port: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
enum Level {
    Info,
    Warn,
    Critical,
}

/// How often a followed file is looked at again.
const POLL: Duration = Duration::from_millis(250);

pub async fn run(args: Args) -> Result<()> {
    let filter = Filter {
        request: args.request.clone(),
        level: args.level,
        // Timestamps are RFC 3339 UTC with milliseconds: the same shape sorts by time as text.
        since: args
            .since
            .map(|age| humantime::format_rfc3339_millis(SystemTime::now() - age).to_string()),
        json: args.json,
    };
    match &args.stream {
        Some(stream) => from_stream(&args, stream, &filter).await,
        None => from_file(&args, &filter).await,
    }
}

struct Filter {
    request: Option<String>,
    level: Option<Level>,
    since: Option<String>,
    json: bool,
}

impl Filter {
    /// Prints `line` if it passes; a line that is not a record is shown as such, not dropped.
    fn print(&self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            eprintln!("(not a record) {line}");
            return;
        };
        let text = |key: &str| record[key].as_str().unwrap_or_default();
        if self
            .request
            .as_deref()
            .is_some_and(|id| text("request") != id)
        {
            return;
        }
        let level = match text("level") {
            "warn" => Level::Warn,
            "critical" => Level::Critical,
            _ => Level::Info,
        };
        if self.level.is_some_and(|min| level < min) {
            return;
        }
        if self
            .since
            .as_deref()
            .is_some_and(|since| text("ts") < since)
        {
            return;
        }
        if self.json {
            println!("{line}");
        } else {
            let request = record["request"]
                .as_str()
                .map(|id| format!("  [{id}]"))
                .unwrap_or_default();
            println!(
                "{} {:<8} {:<16} {}{request}",
                text("ts"),
                text("level"),
                text("source"),
                text("message")
            );
        }
    }
}

async fn from_file(args: &Args, filter: &Filter) -> Result<()> {
    let path = &args.file;
    if !path.exists() && !args.follow {
        bail!(
            "no log file {} (deployed with scripts/up.sh? another app: --file PATH; a stream: --stream)",
            path.display()
        );
    }
    let mut offset = 0u64;
    loop {
        if let Ok(mut file) = std::fs::File::open(path) {
            let len = file.metadata()?.len();
            // Rotated (the provider renames a full file away and starts a new one): start over.
            if len < offset {
                offset = 0;
            }
            file.seek(SeekFrom::Start(offset))?;
            let mut reader = std::io::BufReader::new(file);
            let mut line = String::new();
            // Only whole lines: a line still being written is read on the next round.
            while reader.read_line(&mut line)? > 0 && line.ends_with('\n') {
                offset += line.len() as u64;
                filter.print(&line);
                line.clear();
            }
        }
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn from_stream(args: &Args, stream: &str, filter: &Filter) -> Result<()> {
    use async_nats::jetstream::consumer::{pull::OrderedConfig, DeliverPolicy};

    let auth = Auth::ensure()?;
    let creds = auth.creds(Role::LogReader);
    let url = format!("nats://127.0.0.1:{}", args.nats_port);
    let nats = async_nats::ConnectOptions::with_credentials_file(&creds)
        .await
        .with_context(|| format!("reading {}", creds.display()))?
        // The log-reader may only subscribe to its own inbox prefix.
        .custom_inbox_prefix("_INBOX_logs")
        .connect(&url)
        .await
        .with_context(|| format!("connecting to {url} as the log reader"))?;
    let jetstream = async_nats::jetstream::new(nats);
    let mut source = jetstream
        .get_stream(stream)
        .await
        .with_context(|| format!("no stream {stream} on {url}"))?;
    let pending = source.info().await?.state.messages;
    if pending == 0 && !args.follow {
        return Ok(());
    }
    let deliver_policy = match args.since {
        Some(age) => DeliverPolicy::ByStartTime {
            start_time: (SystemTime::now() - age).into(),
        },
        None => DeliverPolicy::All,
    };
    let consumer = source
        .create_consumer(OrderedConfig {
            deliver_policy,
            ..OrderedConfig::default()
        })
        .await
        .context("creating a reader of the stream")?;
    let mut messages = consumer.messages().await?;
    loop {
        // Without --follow, the end is the first quiet second once nothing is pending.
        let next = if args.follow {
            messages.next().await
        } else {
            match tokio::time::timeout(Duration::from_secs(1), messages.next()).await {
                Ok(next) => next,
                Err(_) => return Ok(()),
            }
        };
        let Some(message) = next else {
            return Ok(());
        };
        let message = message.context("reading the stream")?;
        filter.print(&String::from_utf8_lossy(&message.payload));
        let caught_up = message.info().is_ok_and(|info| info.pending == 0);
        if caught_up && !args.follow {
            return Ok(());
        }
    }
}
