//! A small file system of the test's own (tmpfs), to fill up: a real ENOSPC for the sink's
//! writes, and room again when the filler goes.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub struct SmallDisk {
    dir: PathBuf,
    filler: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `bytes` on `dir` (created). Needs the right to mount (root).
    pub fn mount(dir: &Path, bytes: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let output = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .context("running mount")?;
        if !output.status.success() {
            bail!(
                "cannot mount a tmpfs on {} (this test needs root): {}",
                dir.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            filler: dir.join(".filler"),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Takes every free byte but the last `room` (rounded to the file system's pages): writes
    /// until the disk is full, then gives `room` back.
    pub fn fill_leaving(&self, room: u64) -> Result<()> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.filler)
            .with_context(|| format!("opening {}", self.filler.display()))?;
        let chunk = vec![0u8; 4096];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => return Err(e).context("filling the disk"),
            }
        }
        let len = file.metadata()?.len();
        file.set_len(len.saturating_sub(room))
            .context("giving room back")?;
        file.sync_all().ok();
        Ok(())
    }

    /// Gives all of the filler's space back.
    pub fn free(&self) -> Result<()> {
        match std::fs::remove_file(&self.filler) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).context("removing the filler"),
        }
    }

    /// Bytes free now.
    pub fn free_bytes(&self) -> Result<u64> {
        let output = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.dir)
            .output()
            .context("running df")?;
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .nth(1)
            .and_then(|line| line.trim().parse().ok())
            .context("df printed no free bytes")
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: a process that still holds a file there (the provider, being stopped) must not
        // keep the mount behind.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}
