//! Helpers shared by the tests that run against the real SSH test hosts.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The test hosts' state dir (`tests/hosts/up 4` writes it); `None` only when the SSH
/// tests are explicitly skipped with DROVER_SKIP_SSH_TESTS=1.
pub fn hosts_dir() -> Option<PathBuf> {
    if std::env::var("DROVER_SKIP_SSH_TESTS").is_ok_and(|v| v == "1") {
        return None;
    }
    let dir = PathBuf::from(
        std::env::var("DROVER_TEST_HOSTS").unwrap_or_else(|_| "/tmp/drover-hosts".into()),
    );
    assert!(
        dir.join("inventory.yml").exists(),
        "no test hosts in {}: run `tests/hosts/up 4` (or DROVER_SKIP_SSH_TESTS=1)",
        dir.display()
    );
    Some(dir)
}

/// Run a command on a test host with the plain OpenSSH client (independent of drover).
pub fn ssh(dir: &Path, host: &str, cmd: &str) -> String {
    let out = Command::new("ssh")
        .arg("-F")
        .arg(dir.join("ssh_config"))
        .arg(host)
        .arg(cmd)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}
