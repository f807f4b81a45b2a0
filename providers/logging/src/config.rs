//! Configuration: provider-wide settings (HostData config) and per-link settings (the link's
//! target config, so the component that links to the provider decides where its records go).
//!
//! Parsing is pure: no file is opened and no server is contacted here, so every rule is
//! unit-tested. Opening the sinks (which can fail too) happens when a link is put.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Provider-wide settings, from the provider's own config (manifest `config:` of the provider).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSettings {
    /// Where default log files go. The host clears the provider's environment (only RUST_LOG and
    /// OTEL_* survive), so HOME is no guide; the OS temp dir is the one location that exists.
    pub state_dir: PathBuf,
    /// NATS server for the `nats` sink when a link does not name one; `None` = the lattice's.
    pub nats_url: Option<String>,
    /// Where to serve Prometheus metrics (`GET /metrics`); `None` = not served.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl ProviderSettings {
    /// Keys the provider reads from its own config. Others are ignored, not rejected: the host
    /// merges every named config attached to the provider into this one map.
    pub fn from_config(config: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let state_dir = match config.get("state_dir").map(|s| s.trim()) {
            None | Some("") => std::env::temp_dir().join("neon-logs"),
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => {
                return Err(ConfigError::new(
                    "state_dir",
                    dir,
                    "must be an absolute path",
                ))
            }
        };
        let nats_url = non_empty(config.get("nats_url"));
        let metrics_addr = match non_empty(config.get("metrics_addr")) {
            None => None,
            Some(addr) => Some(addr.parse().map_err(|_| {
                ConfigError::new("metrics_addr", &addr, "must be an IP address and port")
            })?),
        };
        Ok(Self {
            state_dir,
            nats_url,
            metrics_addr,
        })
    }
}

/// How hard the file sink pushes records to the disk before a call returns `Ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// Each call gets its own write and fsync: no group commit (slowest, for comparison).
    Always,
    /// Concurrent calls are written together and share one fsync (the default).
    Batch,
    /// No fsync: `Ok` means the kernel has the bytes (survives a provider crash, not a power cut).
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSettings {
    pub path: PathBuf,
    pub max_bytes: u64,
    pub keep: u32,
    pub fsync: Fsync,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsSettings {
    pub stream: String,
    pub subject: String,
    /// `None` = the lattice connection the provider already has.
    pub url: Option<String>,
    pub ack_timeout: Duration,
    /// Extra attempts after the first for records whose publish was not acknowledged.
    pub retries: u32,
}

/// Everything one link asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkSettings {
    /// Source stamped on `logging.log` records and used in default file names and subjects.
    pub source: String,
    pub stdout: bool,
    pub file: Option<FileSettings>,
    pub nats: Option<NatsSettings>,
}

/// Who is linking, needed for the defaults.
pub struct LinkContext<'a> {
    pub source_id: &'a str,
    pub link_name: &'a str,
    pub lattice: &'a str,
    pub provider: &'a ProviderSettings,
}

pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
pub const DEFAULT_KEEP: u32 = 5;
pub const DEFAULT_STREAM: &str = "NEON_LOGS";
/// The wasmCloud host gives a provider call 2 s by default (WASMCLOUD_RPC_TIMEOUT_MS); the
/// defaults keep the worst case of all attempts (3 x 500 ms + backoff) below that, so a caller
/// is not told "timeout" about a batch that is then written after all.
pub const DEFAULT_ACK_TIMEOUT_MS: u64 = 500;
pub const DEFAULT_RETRIES: u32 = 2;

const KNOWN_KEYS: &[&str] = &[
    "sinks",
    "source",
    "file_path",
    "max_bytes",
    "keep",
    "fsync",
    "stream",
    "subject",
    "nats_url",
    "nats_ack_timeout_ms",
    "nats_retries",
];

/// Parses a link's target config. Unknown keys are errors: a misspelt `max_byte` silently
/// ignored would be a surprise found only when the disk fills.
pub fn parse_link(
    config: &HashMap<String, String>,
    cx: &LinkContext<'_>,
) -> Result<LinkSettings, ConfigError> {
    let mut unknown: Vec<&str> = config
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN_KEYS.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(ConfigError::new(
            &unknown.join(","),
            "",
            &format!("unknown key(s); known keys: {}", KNOWN_KEYS.join(", ")),
        ));
    }

    let source = non_empty(config.get("source")).unwrap_or_else(|| cx.source_id.to_string());
    let chosen = parse_sinks(config.get("sinks").map(String::as_str))?;

    let file = if chosen.file {
        Some(FileSettings {
            path: file_path(config.get("file_path"), cx, &source)?,
            max_bytes: number(config, "max_bytes", DEFAULT_MAX_BYTES, 1, u64::MAX)?,
            keep: u32::try_from(number(config, "keep", u64::from(DEFAULT_KEEP), 0, 1000)?)
                .unwrap_or(DEFAULT_KEEP),
            fsync: parse_fsync(config.get("fsync"))?,
        })
    } else {
        None
    };

    let nats = if chosen.nats {
        let stream = non_empty(config.get("stream")).unwrap_or_else(|| DEFAULT_STREAM.into());
        check_stream_name(&stream)?;
        let subject = match non_empty(config.get("subject")) {
            Some(subject) => subject,
            None => format!(
                "neon.logs.{}.{}",
                subject_token(cx.lattice),
                subject_token(&source)
            ),
        };
        check_subject(&subject)?;
        Some(NatsSettings {
            stream,
            subject,
            url: non_empty(config.get("nats_url")).or_else(|| cx.provider.nats_url.clone()),
            ack_timeout: Duration::from_millis(number(
                config,
                "nats_ack_timeout_ms",
                DEFAULT_ACK_TIMEOUT_MS,
                1,
                600_000,
            )?),
            retries: u32::try_from(number(
                config,
                "nats_retries",
                u64::from(DEFAULT_RETRIES),
                0,
                100,
            )?)
            .unwrap_or(DEFAULT_RETRIES),
        })
    } else {
        None
    };

    Ok(LinkSettings {
        source,
        stdout: chosen.stdout,
        file,
        nats,
    })
}

/// Which sinks the `sinks` key names.
#[derive(Debug, Default, PartialEq, Eq)]
struct ChosenSinks {
    stdout: bool,
    file: bool,
    nats: bool,
}

/// `sinks` = comma list of stdout, file, nats; default `file`.
fn parse_sinks(value: Option<&str>) -> Result<ChosenSinks, ConfigError> {
    let Some(value) = value else {
        return Ok(ChosenSinks {
            file: true,
            ..ChosenSinks::default()
        });
    };
    let mut chosen = ChosenSinks::default();
    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "stdout" => chosen.stdout = true,
            "file" => chosen.file = true,
            "nats" => chosen.nats = true,
            other => {
                return Err(ConfigError::new(
                    "sinks",
                    value,
                    &format!("unknown sink `{other}` (expected stdout, file, nats)"),
                ))
            }
        }
    }
    if chosen == ChosenSinks::default() {
        return Err(ConfigError::new(
            "sinks",
            value,
            "names no sink (expected a comma list of stdout, file, nats)",
        ));
    }
    Ok(chosen)
}

fn parse_fsync(value: Option<&String>) -> Result<Fsync, ConfigError> {
    match value.map(|s| s.trim()) {
        None | Some("") | Some("batch") => Ok(Fsync::Batch),
        Some("always") => Ok(Fsync::Always),
        Some("never") => Ok(Fsync::Never),
        Some(other) => Err(ConfigError::new(
            "fsync",
            other,
            "expected always, batch or never",
        )),
    }
}

/// Relative paths are taken under `state_dir`; the default is `<state_dir>/<source>.jsonl`, with
/// the link name added for links other than `default` so two links never share a file.
fn file_path(
    value: Option<&String>,
    cx: &LinkContext<'_>,
    source: &str,
) -> Result<PathBuf, ConfigError> {
    let path = match value.map(|s| s.trim()) {
        None | Some("") => {
            let stem = file_token(source);
            let name = if cx.link_name == "default" {
                format!("{stem}.jsonl")
            } else {
                format!("{stem}.{}.jsonl", file_token(cx.link_name))
            };
            cx.provider.state_dir.join(name)
        }
        Some(p) => {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                cx.provider.state_dir.join(p)
            }
        }
    };
    if path.file_name().is_none() || path.to_string_lossy().ends_with('/') {
        return Err(ConfigError::new(
            "file_path",
            &path.display().to_string(),
            "must name a file, not a directory",
        ));
    }
    Ok(path)
}

fn number(
    config: &HashMap<String, String>,
    key: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = config.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => Err(ConfigError::new(
            key,
            raw,
            &format!("must be between {min} and {max}"),
        )),
        Err(_) => Err(ConfigError::new(key, raw, "is not a whole number")),
    }
}

/// JetStream stream names may not contain whitespace, `.`, `*`, `>` or path separators.
fn check_stream_name(name: &str) -> Result<(), ConfigError> {
    let bad = name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '.' | '*' | '>' | '/' | '\\'));
    if bad || name.len() > 255 {
        return Err(ConfigError::new(
            "stream",
            name,
            "a stream name may not contain whitespace, '.', '*', '>', '/' or '\\'",
        ));
    }
    Ok(())
}

/// A publish subject: dot-separated non-empty tokens, no wildcards, no whitespace.
fn check_subject(subject: &str) -> Result<(), ConfigError> {
    let ok = subject.split('.').all(|t| {
        !t.is_empty()
            && t != "*"
            && t != ">"
            && !t.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    if !ok {
        return Err(ConfigError::new(
            "subject",
            subject,
            "must be dot-separated non-empty tokens without wildcards or whitespace",
        ));
    }
    Ok(())
}

/// Makes a component id or lattice name usable as one subject token.
pub fn subject_token(raw: &str) -> String {
    let token: String = raw
        .chars()
        .map(|c| {
            if c == '.' || c == '*' || c == '>' || c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if token.is_empty() {
        "_".into()
    } else {
        token
    }
}

/// Makes a component id usable as a file name (no separators, no leading dot).
fn file_token(raw: &str) -> String {
    let token: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match token.trim_start_matches('.') {
        "" => "_".into(),
        t => t.to_string(),
    }
}

fn non_empty(value: Option<&String>) -> Option<String> {
    value
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A config value the provider cannot use: which key, what value, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub value: String,
    pub reason: String,
}

impl ConfigError {
    fn new(key: &str, value: &str, reason: &str) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "invalid config `{}`: {}", self.key, self.reason)
        } else {
            write!(
                f,
                "invalid config `{}` = `{}`: {}",
                self.key, self.value, self.reason
            )
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> ProviderSettings {
        ProviderSettings {
            state_dir: PathBuf::from("/var/neon"),
            nats_url: None,
            metrics_addr: None,
        }
    }

    #[test]
    fn metrics_addr_is_an_ip_and_port() {
        let settings = |addr: &str| {
            ProviderSettings::from_config(&HashMap::from([(
                "metrics_addr".to_string(),
                addr.to_string(),
            )]))
        };
        assert_eq!(
            settings("127.0.0.1:9465").unwrap().metrics_addr,
            Some("127.0.0.1:9465".parse().unwrap())
        );
        assert_eq!(settings("").unwrap().metrics_addr, None);
        let error = settings("localhost").unwrap_err().to_string();
        assert!(error.contains("metrics_addr"), "{error}");
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<LinkSettings, ConfigError> {
        parse_as(pairs, "default")
    }

    fn parse_as(pairs: &[(&str, &str)], link_name: &str) -> Result<LinkSettings, ConfigError> {
        let config = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let provider = provider();
        parse_link(
            &config,
            &LinkContext {
                source_id: "app-processor",
                link_name,
                lattice: "default",
                provider: &provider,
            },
        )
    }

    #[test]
    fn empty_config_means_one_file_under_state_dir() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.source, "app-processor");
        assert!(!s.stdout);
        assert!(s.nats.is_none());
        let file = s.file.unwrap();
        assert_eq!(file.path, PathBuf::from("/var/neon/app-processor.jsonl"));
        assert_eq!(file.max_bytes, DEFAULT_MAX_BYTES);
        assert_eq!(file.keep, DEFAULT_KEEP);
        assert_eq!(file.fsync, Fsync::Batch);
    }

    #[test]
    fn named_links_get_their_own_default_file() {
        let s = parse_as(&[], "audit").unwrap();
        assert_eq!(
            s.file.unwrap().path,
            PathBuf::from("/var/neon/app-processor.audit.jsonl")
        );
    }

    #[test]
    fn all_keys_parse() {
        let s = parse(&[
            ("sinks", " stdout , file,nats "),
            ("source", "edge-1"),
            ("file_path", "logs/edge.jsonl"),
            ("max_bytes", "1048576"),
            ("keep", "0"),
            ("fsync", "never"),
            ("stream", "AUDIT"),
            ("subject", "audit.edge-1"),
            ("nats_url", "nats://127.0.0.1:4223"),
            ("nats_ack_timeout_ms", "250"),
            ("nats_retries", "0"),
        ])
        .unwrap();
        assert_eq!(s.source, "edge-1");
        assert!(s.stdout);
        let file = s.file.unwrap();
        assert_eq!(file.path, PathBuf::from("/var/neon/logs/edge.jsonl"));
        assert_eq!(
            (file.max_bytes, file.keep, file.fsync),
            (1_048_576, 0, Fsync::Never)
        );
        let nats = s.nats.unwrap();
        assert_eq!(nats.stream, "AUDIT");
        assert_eq!(nats.subject, "audit.edge-1");
        assert_eq!(nats.url.as_deref(), Some("nats://127.0.0.1:4223"));
        assert_eq!(nats.ack_timeout, Duration::from_millis(250));
        assert_eq!(nats.retries, 0);
    }

    #[test]
    fn nats_defaults_follow_lattice_and_source() {
        let s = parse(&[("sinks", "nats"), ("source", "edge.1 west")]).unwrap();
        assert!(s.file.is_none());
        let nats = s.nats.unwrap();
        assert_eq!(nats.stream, DEFAULT_STREAM);
        assert_eq!(nats.subject, "neon.logs.default.edge_1_west");
        assert_eq!(nats.url, None);
        assert_eq!(
            nats.ack_timeout,
            Duration::from_millis(DEFAULT_ACK_TIMEOUT_MS)
        );
        assert_eq!(nats.retries, DEFAULT_RETRIES);
    }

    #[test]
    fn provider_nats_url_is_the_fallback() {
        let mut provider = provider();
        provider.nats_url = Some("nats://10.0.0.1:4222".into());
        let config = HashMap::from([("sinks".to_string(), "nats".to_string())]);
        let cx = LinkContext {
            source_id: "c",
            link_name: "default",
            lattice: "l",
            provider: &provider,
        };
        let s = parse_link(&config, &cx).unwrap();
        assert_eq!(s.nats.unwrap().url.as_deref(), Some("nats://10.0.0.1:4222"));
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("sinks", "file,syslog")], "unknown sink `syslog`"),
            (&[("sinks", " , ")], "names no sink"),
            (&[("max_bytes", "64MiB")], "not a whole number"),
            (&[("max_bytes", "0")], "between 1"),
            (&[("keep", "-1")], "not a whole number"),
            (&[("keep", "5000")], "between 0 and 1000"),
            (&[("fsync", "sometimes")], "always, batch or never"),
            (&[("sinks", "nats"), ("stream", "NEON.LOGS")], "stream name"),
            (
                &[("sinks", "nats"), ("subject", "neon.>")],
                "without wildcards",
            ),
            (
                &[("sinks", "nats"), ("subject", "neon..logs")],
                "non-empty tokens",
            ),
            (
                &[("sinks", "nats"), ("nats_retries", "many")],
                "not a whole number",
            ),
            (&[("file_path", "/var/log/")], "must name a file"),
            (&[("max_byte", "10")], "unknown key(s)"),
        ];
        for (pairs, expected) in cases {
            let err = parse(pairs).expect_err(&format!("{pairs:?} should be rejected"));
            let text = err.to_string();
            assert!(text.contains(expected), "{pairs:?}: {text}");
            assert!(text.starts_with("invalid config `"), "{text}");
        }
    }

    #[test]
    fn provider_settings_default_to_temp_dir() {
        let s = ProviderSettings::from_config(&HashMap::new()).unwrap();
        assert_eq!(s.state_dir, std::env::temp_dir().join("neon-logs"));
        assert_eq!(s.nats_url, None);
        let bad = HashMap::from([("state_dir".to_string(), "relative/dir".to_string())]);
        assert!(ProviderSettings::from_config(&bad).is_err());
        let other = HashMap::from([("OTEL_TRACES_SAMPLER".to_string(), "x".to_string())]);
        assert!(ProviderSettings::from_config(&other).is_ok());
    }

    #[test]
    fn tokens_are_sanitized() {
        assert_eq!(subject_token("a.b*c>d e"), "a_b_c_d_e");
        assert_eq!(subject_token(""), "_");
        assert_eq!(file_token("../etc/passwd"), "_etc_passwd");
        assert_eq!(file_token("app-processor"), "app-processor");
    }
}
