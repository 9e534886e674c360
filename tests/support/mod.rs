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

/// Run a playbook (given as text) on one test host with `--format json`; returns (exit
/// code, the host's changed count from the recap, all of stdout and stderr).
pub fn apply_on(dir: &Path, host: &str, play: &str, extra: &[&str]) -> (i32, u64, String) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.yml");
    std::fs::write(&p, play).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&p)
        .arg("-i")
        .arg(dir.join("inventory.yml"))
        .args(["--limit", host, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let changed = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "recap")
        .and_then(|e| e["hosts"][host]["changed"].as_u64())
        .unwrap_or(0);
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), changed, all)
}

/// A play of these tasks (YAML, indented by 4) for all hosts, without facts.
pub fn play(tasks: &str) -> String {
    format!("- hosts: all\n  gather_facts: no\n  tasks:\n{tasks}")
}

/// Feed `data` to a command on a test host (plain OpenSSH); panics when it fails.
pub fn ssh_stdin(dir: &Path, host: &str, cmd: &str, data: &[u8]) {
    use std::io::Write;
    let mut child = Command::new("ssh")
        .arg("-F")
        .arg(dir.join("ssh_config"))
        .arg(host)
        .arg(cmd)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    assert!(child.wait().unwrap().success(), "{cmd} failed on {host}");
}
