//! The edge lattice's long-running processes: each started in a session of its own (so the
//! providers a host starts can be stopped with it), logging to logs/<name>.log, its pid in
//! pids/<name>.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::wait;

/// Where processes of one edge lattice keep their pid files and logs.
pub struct Processes {
    dir: PathBuf,
}

impl Processes {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// Starts `command` (prefixed with `on`, say `ip netns exec <ns>`) as process `name`.
    pub fn spawn(
        &self,
        name: &str,
        on: &[String],
        program: &Path,
        args: &[String],
        env: &[(&str, &Path)],
    ) -> Result<()> {
        let log_path = self.dir.join("logs").join(format!("{name}.log"));
        let log =
            File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new("setsid")
            .args(on)
            .arg(program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        std::fs::write(self.pid_file(name), child.id().to_string())?;
        Ok(())
    }

    fn pid_file(&self, name: &str) -> PathBuf {
        self.dir.join("pids").join(name)
    }

    pub fn pid(&self, name: &str) -> Option<u32> {
        std::fs::read_to_string(self.pid_file(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn is_running(&self, name: &str) -> bool {
        self.pid(name).is_some_and(alive)
    }

    /// The names of the processes with pid files, `prefix` first.
    pub fn names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("pids")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Stops process `name` and everything in its session: `signal` (TERM or KILL), up to 5 s,
    /// then KILL.
    pub fn stop(&self, name: &str, signal: &str) {
        let Some(pid) = self.pid(name) else {
            return;
        };
        let session_and_leader = |signal: &str| {
            let _ = Command::new("pkill")
                .args([format!("-{signal}"), "-s".into(), pid.to_string()])
                .status();
            let _ = Command::new("kill")
                .args([format!("-{signal}"), pid.to_string()])
                .stderr(Stdio::null())
                .status();
        };
        session_and_leader(signal);
        let _ = wait::until_blocking(
            "process gone",
            Duration::from_secs(5),
            Duration::from_millis(100),
            || match alive(pid) {
                true => anyhow::bail!("running"),
                false => Ok(()),
            },
        );
        session_and_leader("KILL");
        let _ = std::fs::remove_file(self.pid_file(name));
    }
}

/// Running and not a zombie (a child this process started and killed stays one until reaped).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}
