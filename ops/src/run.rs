//! Running the tools set-up and builds drive (cargo, wash, wac, pip): every failure names the
//! step and how to rerun it by hand, and no version probe can hang.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Runs `command` with the caller's terminal; fails naming `what`.
pub fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("{what}: could not start {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Runs `command` with its output kept in `log`, shown only when it fails: wash and cargo are
/// chatty where nothing is wrong.
pub fn run_logged(command: &mut Command, log: &Path, what: &str) -> Result<()> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let status = command
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("{what}: could not start {:?}", command.get_program()))?;
    if !status.success() {
        eprintln!("{}", std::fs::read_to_string(log).unwrap_or_default());
        bail!(
            "{what} failed ({status}; output above, kept in {})",
            log.display()
        );
    }
    Ok(())
}

/// True when `program args` runs within 20 s and prints `expected` as whole words (so 1.9.1
/// does not match 1.9.10): how set-up tells a tool is present in the pinned version.
pub fn reports(expected: &str, program: &Path, args: &[&str]) -> bool {
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = spawned else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
    match child.wait_with_output() {
        Ok(output) if output.status.success() => {
            let text =
                String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
            contains_word(&text, expected)
        }
        _ => false,
    }
}

/// `needle` in `haystack` with no word character right before or after it (grep -w).
fn contains_word(haystack: &str, needle: &str) -> bool {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    haystack.match_indices(needle).any(|(at, _)| {
        !is_word(haystack[..at].chars().next_back())
            && !is_word(haystack[at + needle.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::contains_word;

    #[test]
    fn a_version_matches_only_as_a_whole_word() {
        assert!(contains_word("wasmcloud 1.9.1\n", "wasmcloud 1.9.1"));
        assert!(contains_word("wash          v0.43.0", "v0.43.0"));
        assert!(!contains_word("wasmcloud 1.9.10", "wasmcloud 1.9.1"));
        assert!(!contains_word(
            "nats-server: v2.11.30",
            "nats-server: v2.11.3"
        ));
        assert!(contains_word(
            "nats-server: v2.11.3",
            "nats-server: v2.11.3"
        ));
    }
}
