//! Scripts longer than an SSH channel request can carry (OpenSSH takes about 32 KiB per
//! packet) travel on stdin ahead of the command's own input, over real SSH test hosts:
//! the batched reads of a long task list, and one long shell command.

mod support;

use support::{apply_on, hosts_dir, play};

#[test]
fn a_read_batch_longer_than_a_channel_request_runs() {
    let Some(dir) = hosts_dir() else { return };
    // 300 stat tasks with 150-character paths: the batched read of their state is
    // well over 64 KiB of script.
    let long = "d".repeat(150);
    let tasks: String = (0..300)
        .map(|i| format!("    - stat: {{path: /tmp/{long}/{i}}}\n      register: s{i}\n"))
        .collect::<String>()
        + "    - assert: {that: [\"not s299.stat.exists\", \"not s0.stat.exists\"]}\n";
    let (rc, _, out) = apply_on(&dir, "host1", &play(&tasks), &[]);
    assert_eq!(rc, 0, "{out}");
    let trips = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "recap")
        .and_then(|e| e["round_trips"].as_u64())
        .unwrap();
    assert!(trips <= 3, "the reads stay batched: {trips} round trips");
}

#[test]
fn a_shell_command_longer_than_a_channel_request_runs() {
    let Some(dir) = hosts_dir() else { return };
    // 4,000 `: N` no-ops (about 40 KiB), then the output the task checks.
    let body: String = (0..4000).map(|i| format!(": {i}; ")).collect();
    let tasks = format!(
        "    - shell: \"{body} echo done-$((20 + 22))\"\n      register: r\n      changed_when: false\n    - assert: {{that: [\"r.stdout == 'done-42'\"]}}\n"
    );
    let (rc, _, out) = apply_on(&dir, "host1", &play(&tasks), &[]);
    assert_eq!(rc, 0, "{out}");
}
