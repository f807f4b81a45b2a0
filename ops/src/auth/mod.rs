//! Neon's lattice credentials: an NATS operator, Neon's account (with JetStream) and the
//! system account, one user per role (roles.rs), and a CA for TLS on edge leaf connections
//! (tls.rs). Generated on first use into `<data dir>/auth` (folder 0700, files 0600, never in
//! the checkout); kept from then on, so running lattices keep accepting them.
//!
//! NATS runs in operator mode: it trusts the operator's JWT, knows the two accounts from the
//! JWTs preloaded in its config, and admits a client only with a user JWT one of them signed,
//! proven with the user's seed. A user's permissions are in its JWT, so the server config names
//! no user.

mod jwt;
pub mod roles;
pub mod tls;

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use nkeys::KeyPair;
use serde_json::{json, Value};

pub use roles::{Role, LOG_READER_INBOX, LOG_STREAM};

use crate::paths;

/// The credentials of this machine's lattices.
#[derive(Debug, Clone)]
pub struct Auth {
    dir: PathBuf,
}

impl Auth {
    /// `NEON_AUTH_DIR`, else `<data dir>/auth`.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("NEON_AUTH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| paths::data_dir().join("auth"))
    }

    /// The credentials, generating what is missing or out of date; cheap when all is there.
    pub fn ensure() -> Result<Self> {
        Self::ensure_in(&Self::default_dir())
    }

    pub fn ensure_in(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        let auth = Self {
            dir: dir.to_path_buf(),
        };
        let operator = auth.key("operator", KeyPair::new_operator)?;
        let system = auth.key("system-account", KeyPair::new_account)?;
        let neon = auth.key("neon-account", KeyPair::new_account)?;
        auth.jwt(
            "operator.jwt",
            &operator,
            &operator.public_key(),
            "neon",
            json!({ "type": "operator", "version": 2, "system_account": system.public_key() }),
        )?;
        auth.jwt(
            "system-account.jwt",
            &operator,
            &system.public_key(),
            "SYS",
            account_claims(false),
        )?;
        auth.jwt(
            "neon-account.jwt",
            &operator,
            &neon.public_key(),
            "neon",
            account_claims(true),
        )?;
        for role in Role::ALL {
            auth.user(&neon, role)?;
        }
        tls::ensure_ca(dir)?;
        auth.write_operator_env()?;
        Ok(auth)
    }

    /// `operator.env`: sourced by a shell, it makes a plain `wash` the lattice's operator
    /// (`wash get`, `wash app`, ... read `WASH_CTL_CREDS`; `wash down` reads
    /// `WASMCLOUD_CTL_CREDSFILE`; `wash call` reads `WASH_RPC_CREDS`).
    pub fn operator_env(&self) -> PathBuf {
        self.dir.join("operator.env")
    }

    fn write_operator_env(&self) -> Result<()> {
        let creds = self.creds(Role::Operator).display().to_string();
        let text = format!(
            "# wash as the operator of Neon's lattices on this machine: . {}\nexport WASH_CTL_CREDS=\"{creds}\"\nexport WASMCLOUD_CTL_CREDSFILE=\"{creds}\"\nexport WASH_RPC_CREDS=\"{creds}\"\n",
            self.operator_env().display()
        );
        if std::fs::read_to_string(self.operator_env()).ok().as_deref() != Some(text.as_str()) {
            write_secret(&self.operator_env(), &text)?;
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The creds file of a role.
    pub fn creds(&self, role: Role) -> PathBuf {
        self.dir.join(format!("{}.creds", role.name()))
    }

    /// The lines of a nats-server config that put it in operator mode with Neon's accounts.
    pub fn server_config(&self) -> Result<String> {
        let read = |name: &str| -> Result<String> {
            let path = self.dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        };
        let subject = |jwt: &str| -> Result<String> {
            jwt::claims(jwt)?["sub"]
                .as_str()
                .map(str::to_string)
                .context("a JWT without a subject")
        };
        let (system, neon) = (read("system-account.jwt")?, read("neon-account.jwt")?);
        Ok(format!(
            "operator: \"{}\"\nsystem_account: {}\nresolver: MEMORY\nresolver_preload: {{\n  {}: \"{}\"\n  {}: \"{}\"\n}}\n",
            self.dir.join("operator.jwt").display(),
            subject(&system)?,
            subject(&system)?,
            system.trim(),
            subject(&neon)?,
            neon.trim(),
        ))
    }

    /// Writes `config`, a nats-server config for one `wash up` lattice (operator mode, JetStream
    /// in `store_dir`, no websocket listener, the monitoring endpoint on loopback at
    /// `monitor_port` if given), and returns the `wash up` flags that start NATS
    /// with it and give the host and its providers their own credentials. wadm's come through
    /// the environment (`wash_up_env`): wash passes its `--nats-credsfile` to wadm only with a
    /// leaf node remote.
    pub fn wash_up_flags(
        &self,
        config: &Path,
        store_dir: &Path,
        monitor_port: Option<u16>,
    ) -> Result<Vec<String>> {
        let mut text = format!(
            "{}jetstream {{ store_dir: \"{}\" }}\n",
            self.server_config()?,
            store_dir.display()
        );
        if let Some(port) = monitor_port {
            text.push_str(&format!("http: \"127.0.0.1:{port}\"\n"));
        }
        std::fs::write(config, text).with_context(|| format!("writing {}", config.display()))?;
        let path = |p: PathBuf| p.display().to_string();
        Ok(vec![
            "--nats-host".into(),
            "127.0.0.1".into(),
            "--nats-config-file".into(),
            path(config.to_path_buf()),
            "--ctl-credsfile".into(),
            path(self.creds(Role::Host)),
            "--rpc-credsfile".into(),
            path(self.creds(Role::Providers)),
        ])
    }

    /// The environment of `wash up`, which the wadm it starts inherits.
    pub fn wash_up_env(&self) -> [(&'static str, PathBuf); 1] {
        [("WADM_NATS_CREDS_FILE", self.creds(Role::Wadm))]
    }

    /// The seed kept in `<name>.nk`, made on first use.
    fn key(&self, name: &str, new: fn() -> KeyPair) -> Result<KeyPair> {
        let path = self.dir.join(format!("{name}.nk"));
        if let Ok(seed) = std::fs::read_to_string(&path) {
            return KeyPair::from_seed(seed.trim())
                .map_err(|e| anyhow!("{} holds no valid seed: {e}", path.display()));
        }
        let key = new();
        let seed = key
            .seed()
            .map_err(|e| anyhow!("new key without seed: {e}"))?;
        write_secret(&path, &seed)?;
        Ok(key)
    }

    /// Writes a JWT unless the file already holds one with the same issuer, subject and claims.
    fn jwt(
        &self,
        file: &str,
        issuer: &KeyPair,
        subject: &str,
        name: &str,
        nats: Value,
    ) -> Result<String> {
        let path = self.dir.join(file);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            if same_claims(existing.trim(), issuer, subject, &nats) {
                return Ok(existing.trim().to_string());
            }
        }
        let token = jwt::encode(issuer, subject, name, nats)?;
        write_secret(&path, &token)?;
        Ok(token)
    }

    /// A role's creds file: a user key of its own (kept) and a JWT with the role's permissions
    /// (rewritten when they change).
    fn user(&self, account: &KeyPair, role: Role) -> Result<()> {
        let user = self.key(&format!("user-{}", role.name()), KeyPair::new_user)?;
        let path = self.creds(role);
        let claims = role.claims();
        if let Ok(text) = std::fs::read_to_string(&path) {
            let jwt = text
                .lines()
                .skip_while(|l| !l.contains("BEGIN NATS USER JWT"))
                .nth(1);
            if jwt.is_some_and(|jwt| same_claims(jwt, account, &user.public_key(), &claims)) {
                return Ok(());
            }
        }
        let token = jwt::encode(account, &user.public_key(), role.name(), claims)?;
        write_secret(&path, &jwt::creds_file(&token, &user)?)
    }
}

fn same_claims(token: &str, issuer: &KeyPair, subject: &str, nats: &Value) -> bool {
    jwt::claims(token).is_ok_and(|c| {
        c["iss"] == issuer.public_key().as_str() && c["sub"] == subject && c["nats"] == *nats
    })
}

/// An account without limits; `jetstream` gives it unlimited JetStream storage (an account of an
/// operator-mode server has no JetStream unless its JWT grants it).
fn account_claims(jetstream: bool) -> Value {
    let mut limits = json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
    });
    if jetstream {
        for key in ["mem_storage", "disk_storage", "streams", "consumer"] {
            limits[key] = json!(-1);
        }
    }
    json!({
        "type": "account",
        "version": 2,
        "limits": limits,
        "default_permissions": { "pub": {}, "sub": {} },
    })
}

/// Writes a file readable by its owner only, replacing it whole.
pub fn write_secret(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("neon-auth-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn credentials_are_made_once_private_and_kept() {
        let dir = scratch("kept");
        let auth = Auth::ensure_in(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for role in Role::ALL {
            assert_eq!(mode(&auth.creds(role)), 0o600, "{role:?}");
        }
        let before = std::fs::read_to_string(auth.creds(Role::Host)).unwrap();
        let config = auth.server_config().unwrap();
        Auth::ensure_in(&dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(auth.creds(Role::Host)).unwrap(),
            before
        );
        assert_eq!(auth.server_config().unwrap(), config);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_user_is_issued_by_neons_account_and_the_account_by_the_operator() {
        let dir = scratch("chain");
        let auth = Auth::ensure_in(&dir).unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let operator = jwt::claims(&read("operator.jwt")).unwrap();
        let account = jwt::claims(&read("neon-account.jwt")).unwrap();
        assert_eq!(account["iss"], operator["sub"]);
        assert_eq!(account["nats"]["limits"]["disk_storage"], -1);
        let creds = read("log-reader.creds");
        let user_jwt = creds.lines().nth(1).unwrap();
        let user = jwt::claims(user_jwt).unwrap();
        assert_eq!(user["iss"], account["sub"]);
        assert_eq!(user["nats"], Role::LogReader.claims());
        assert!(auth
            .server_config()
            .unwrap()
            .contains(account["sub"].as_str().unwrap()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
