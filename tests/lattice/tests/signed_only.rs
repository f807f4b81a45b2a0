//! Only Neon's code runs: on a lattice with Neon's policy service, Neon's app (signed by Neon's
//! issuer at build) deploys and serves, while the same hello component signed by another issuer,
//! or not signed at all, is refused by the host, and `wash app status` says why.

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use neon_lattice_tests::deploy::deploy_wiring;
use neon_ops::manifest::Draft;
use neon_ops::paths::{build_dir, neon_bin, repo_root};
use neon_ops::{free_port, signing, wait, Lattice, Wiring};

/// `wash inspect`'s account (issuer) line of a component, if it has claims.
fn issuer_of(component: &Path) -> Result<Option<String>> {
    let out = std::process::Command::new("wash")
        .arg("inspect")
        .arg(component)
        .output()
        .context("running wash inspect")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    Ok(text
        .lines()
        .find(|l| l.trim_start().starts_with("Account"))
        .and_then(|l| l.split_whitespace().last())
        .map(str::to_string))
}

/// hello.wasm signed by an issuer made for this test (wash makes one in an empty keys folder).
fn signed_by_another(work: &Path) -> Result<std::path::PathBuf> {
    let out = work.join("hello-foreign.wasm");
    let keys = work.join("foreign-keys");
    let status = std::process::Command::new("wash")
        .args(["claims", "sign"])
        .arg(build_dir()?.join("hello.wasm"))
        .args(["--name", "hello-foreign", "--rev", "1", "--ver", "0.1.0"])
        .arg("--destination")
        .arg(&out)
        .env("WASH_KEYS", &keys)
        .env_remove("WASH_ISSUER_KEY")
        .env_remove("WASH_SUBJECT_KEY")
        .output()
        .context("running wash claims sign")?;
    ensure!(status.status.success(), "wash claims sign: {status:?}");
    Ok(out)
}

/// hello.wasm with its custom sections, the signature among them, stripped.
fn unsigned(work: &Path) -> Result<std::path::PathBuf> {
    let out = work.join("hello-unsigned.wasm");
    let status = std::process::Command::new(neon_bin().join("wasm-tools"))
        .arg("strip")
        .arg(build_dir()?.join("hello.wasm"))
        .arg("-o")
        .arg(&out)
        .status()
        .context("running wasm-tools strip")?;
    ensure!(status.success(), "wasm-tools strip failed");
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_code_signed_by_neons_issuer_runs() -> Result<()> {
    let lattice = Lattice::start("signed").await?;
    let neon_issuer = signing::issuer()?;
    ensure!(
        issuer_of(&build_dir()?.join("pipeline-composed.wasm"))?.as_deref()
            == Some(neon_issuer.as_str()),
        "the composed pipeline is not signed by Neon's issuer {neon_issuer}"
    );
    // Neon's own app deploys and serves under the policy.
    let (_, neon) = deploy_wiring(&lattice, Wiring::Composed, "neon-signed").await?;

    let work = lattice.work_dir().to_path_buf();
    let foreign = signed_by_another(&work)?;
    let foreign_issuer = issuer_of(&foreign)?.context("the foreign copy has no issuer")?;
    ensure!(foreign_issuer != neon_issuer, "the foreign copy is Neon's");
    let stripped = unsigned(&work)?;
    ensure!(
        issuer_of(&stripped)?.is_none(),
        "the stripped copy still has claims"
    );

    for (label, image, why) in [
        ("foreign", &foreign, foreign_issuer.as_str()),
        ("unsigned", &stripped, "is not signed"),
    ] {
        let app = format!("neon-{label}");
        let rendered = Draft::load(&repo_root().join("manifests/hello.wadm.yaml"))?
            .set_app(&app)
            .set_version(&format!("v1-{label}"))
            .set_http_port(free_port()?)?
            .set_image("hello", &format!("file://{}", image.display()))?
            .absolute_images()?
            .render(None)?;
        let file = lattice.write_manifest(&rendered)?;
        lattice
            .wash(
                &["app", "deploy", &file.display().to_string()],
                Duration::from_secs(60),
            )
            .await?;
        // wadm keeps trying; what it reports is the host's refusal, with the policy's reason.
        let status = wait::until(
            &format!("{app} refused by the policy"),
            Duration::from_secs(60),
            Duration::from_millis(500),
            || async {
                let status = lattice.status(&app).await?;
                match status.message.contains("Policy denied") {
                    true => Ok(status),
                    false => anyhow::bail!("{}: {}", status.kind, status.message),
                }
            },
        )
        .await?;
        ensure!(
            status.kind != "deployed" && status.message.contains(why),
            "{app}: {} ({}), wanted a refusal naming {why:?}",
            status.kind,
            status.message
        );
        let shown = lattice
            .wash(&["app", "status", &app], Duration::from_secs(30))
            .await?;
        ensure!(
            shown.contains("Policy denied"),
            "wash app status {app}: {shown}"
        );
        let inventory = lattice.inventories().await?;
        ensure!(
            !inventory
                .iter()
                .flat_map(|host| &host.components)
                .any(|c| c.id.starts_with(&app.replace('-', "_"))),
            "{app}'s component runs"
        );
        eprintln!("signed-only: {app} refused: {}", status.message);
    }

    // Neon kept serving.
    neon.post("/process", "still here").await?.expect(
        200,
        Some("STILL HERE"),
        "Neon after the refusals",
    )?;
    let decisions = std::fs::read_to_string(work.join("policy.log"))?;
    ensure!(
        decisions.matches("refused startComponent").count() >= 2,
        "the policy service's log: {decisions}"
    );
    lattice.down()
}
