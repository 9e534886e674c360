//! The task keyword `timeout` for the modules that run a remote command (command, shell,
//! raw, script): the command runs under `timeout(1)`, which kills its whole process group
//! (what it backgrounded too) when the time is up, and the task fails as Ansible's does.

use super::result;
use crate::connection::quote::quote;
use crate::vars::Vars;
use minijinja::Value;
use std::time::Duration;

/// The modules whose `timeout` drover enforces.
pub const ENFORCED: &[&str] = &["command", "shell", "raw", "script"];

/// Actions that run on the controller at once: a `timeout:` they inherit from a block or
/// play cannot be exceeded, so it is no reason to refuse them.
pub const INSTANT: &[&str] = &[
    "debug",
    "set_fact",
    "assert",
    "fail",
    "meta",
    "include_vars",
    "add_host",
    "group_by",
    "set_stats",
];

/// `script` run under a limit of `secs` seconds (TERM to its process group, KILL a second
/// later if it lingers).
pub fn wrap(script: &str, secs: u64) -> String {
    format!("timeout -k 1 {secs} /bin/sh -c {}", quote(script))
}

/// Whether a wrapped run was stopped by its limit: `timeout(1)` exits 124 then (a command
/// that exits 124 by itself before the limit is not taken for one).
pub fn expired(rc: i32, elapsed: Duration, secs: u64) -> bool {
    rc == 124 && elapsed >= Duration::from_secs(secs)
}

/// Ansible's result for a task that ran out of time (`TaskTimeoutError`).
pub fn result_for(secs: u64) -> Vars {
    result(&[
        ("changed", Value::from(false)),
        ("failed", Value::from(true)),
        (
            "msg",
            Value::from(format!("Task failed: Timed out after {secs} second(s).")),
        ),
        (
            "timedout",
            Value::from_iter([
                (
                    "frame",
                    Value::from(
                        "Configure `DISPLAY_TRACEBACK` to see a traceback on timeout errors.",
                    ),
                ),
                ("period", Value::from(secs)),
            ]),
        ),
    ])
}
