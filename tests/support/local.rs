//! Helpers for the tests that run the real binary on the local fixtures
//! (`tests/fixtures/`, local connection): one copy instead of one per test file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fixture's path, `p` relative to `tests/fixtures/`.
pub fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

/// The fixtures' inventories name the same local hosts in every test; parallel applies
/// would contend for the same host locks (two runs taking them in opposite orders wait
/// on each other until `--lock-timeout`). Hold this while a run uses them.
pub static FIXTURE_HOSTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One run at a time over the fixtures' hosts (see [`FIXTURE_HOSTS`]).
pub fn fixture_hosts() -> std::sync::MutexGuard<'static, ()> {
    FIXTURE_HOSTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The binary under test, without colour and without a CI step summary to write.
pub fn drover() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
    c.env("NO_COLOR", "1").env_remove("GITHUB_STEP_SUMMARY");
    c
}

/// The events of a `--format json` run (every stdout line is one).
pub fn json_events(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The recap of a `--format json` run: counts per host.
pub fn recap_hosts(out: &Output) -> serde_json::Value {
    json_events(out)
        .into_iter()
        .find(|e| e["event"] == "recap")
        .expect("a recap event")["hosts"]
        .clone()
}
