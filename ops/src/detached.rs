//! Processes `neon up` leaves running beside a lattice (the policy service, Prometheus), each
//! known by a pid file.

use std::path::Path;
use std::process::Command;

/// The pid file names a live process whose command line contains `name`.
pub fn runs(pid_file: &Path, name: &str) -> bool {
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|pid| std::fs::read_to_string(format!("/proc/{}/cmdline", pid.trim())).ok())
        .is_some_and(|cmdline| cmdline.contains(name))
}

/// Stops the process the pid file names, if it is still `name`, and removes the file.
pub fn stop(pid_file: &Path, name: &str) {
    if runs(pid_file, name) {
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
    let _ = std::fs::remove_file(pid_file);
}
