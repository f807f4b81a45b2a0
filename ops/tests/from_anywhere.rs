//! The scripts work from any directory: a user with a terminal elsewhere, a cron job, a CI
//! system that calls them by path. And a build with nothing changed rewrites nothing.
//!
//! Both tests run the real scripts from a scratch folder outside the checkout: `scripts/build.sh`
//! after one of the compositions' inputs changed (so it composes and signs again, the step that
//! once read a `wasmcloud.toml` from the caller's directory), then again unchanged; and
//! `scripts/up.sh` with a relative manifest path, on a private lattice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use anyhow::{ensure, Context, Result};
use neon_ops::manifest::render;
use neon_ops::paths::{cache_dir, repo_root};
use neon_ops::{free_port, policy, Lattice, Wiring};
use tokio::process::Command;
use tokio::sync::Mutex;

/// Both tests build (`scripts/up.sh` sets up first): one at a time, or one's build would
/// compose what the other expects to find stale.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A folder outside the checkout, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("neon-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        ensure!(
            !dir.starts_with(repo_root()),
            "the scratch folder must lie outside the checkout"
        );
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a script of the checkout by its full path from `cwd`, bounded; its output, or an error
/// with it.
async fn script(cwd: &Path, name: &str, args: &[&str], env: &[(&str, String)]) -> Result<String> {
    let mut command = Command::new(repo_root().join("scripts").join(name));
    command
        .current_dir(cwd)
        .args(args)
        // As a user's shell would have it: the scripts find the checkout themselves.
        .env_remove("NEON_ROOT")
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(900), command.output())
        .await
        .with_context(|| format!("scripts/{name} did not finish in 15 min"))??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    ensure!(
        output.status.success(),
        "scripts/{name} {} from {} failed ({}):\n{text}",
        args.join(" "),
        cwd.display(),
        output.status
    );
    Ok(text)
}

/// When each file under build/ (the patched crates aside) was last written.
fn artifacts() -> Result<BTreeMap<PathBuf, SystemTime>> {
    let build = repo_root().join("build");
    let mut times = BTreeMap::new();
    for entry in std::fs::read_dir(&build)? {
        let path = entry?.path();
        if path.is_file() {
            times.insert(path.clone(), std::fs::metadata(&path)?.modified()?);
        }
    }
    ensure!(!times.is_empty(), "nothing under {}", build.display());
    Ok(times)
}

#[tokio::test(flavor = "multi_thread")]
async fn build_from_another_directory_signs_and_an_unchanged_build_rewrites_nothing() -> Result<()>
{
    let _turn = ONE_AT_A_TIME.lock().await;
    let scratch = Scratch::new("build-from-anywhere")?;
    // An input of the composed pipeline changes (its content stays): it is composed and signed
    // again, from a folder with no wasmcloud.toml.
    let wac = repo_root().join("components/pipeline.wac");
    std::fs::File::options()
        .append(true)
        .open(&wac)?
        .set_modified(SystemTime::now())?;
    let before = artifacts()?;
    let out = script(&scratch.0, "build.sh", &[], &[]).await?;
    let after = artifacts()?;
    let composed = repo_root().join("build/pipeline-composed.wasm");
    ensure!(
        before.get(&composed) != after.get(&composed),
        "pipeline-composed.wasm was not composed again after its .wac changed:\n{out}"
    );

    // Nothing changed since: nothing is rewritten, from here or from the checkout.
    for cwd in [scratch.0.as_path(), repo_root().as_path()] {
        let out = script(cwd, "build.sh", &[], &[]).await?;
        let again = artifacts()?;
        let rewritten: Vec<_> = again
            .iter()
            .filter(|(path, made)| after.get(*path) != Some(made))
            .map(|(path, _)| path.display().to_string())
            .collect();
        ensure!(
            rewritten.is_empty(),
            "an unchanged build from {} rewrote {rewritten:?}:\n{out}",
            cwd.display()
        );
    }
    Ok(())
}

/// What `neon up` leaves running beside a lattice: stopped however the test ends.
struct DetachedPolicy(u16);

impl Drop for DetachedPolicy {
    fn drop(&mut self) {
        policy::stop_detached(self.0, &cache_dir().join("lattice"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_from_another_directory_deploys_and_answers() -> Result<()> {
    let _turn = ONE_AT_A_TIME.lock().await;
    let lattice = Lattice::start("up-from-anywhere").await?;
    let _policy = DetachedPolicy(lattice.nats_port);
    let scratch = Scratch::new("up-from-anywhere")?;
    let logs = lattice.work_dir().join("logs");
    std::fs::create_dir_all(&logs)?;
    let rendered = render(Wiring::Linked, "neon-anywhere", free_port()?, &logs)?;
    std::fs::write(scratch.0.join("neon.yaml"), &rendered.yaml)?;

    let out = script(
        &scratch.0,
        "up.sh",
        &["neon.yaml"],
        &[
            ("NEON_NATS_PORT", lattice.nats_port.to_string()),
            ("NEON_LATTICE", lattice.name.clone()),
            ("NEON_LOG_DIR", logs.display().to_string()),
        ],
    )
    .await?;
    ensure!(
        out.contains("-> HELLO FROM NEON [200]") && out.contains("Sequence complete."),
        "scripts/up.sh did not show the sample request and its records:\n{out}"
    );
    Ok(())
}
