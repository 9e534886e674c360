//! Faults on real hosts: a full disk keeps the old file and leaves no temp file behind,
//! the other hosts are unaffected, and a re-run converges once there is room.

use std::process::Command;

mod support;
use support::{delaying_proxy, hosts_dir, ssh};

#[test]
fn a_full_disk_keeps_the_old_file_and_the_other_hosts_go_on() {
    let Some(dir) = hosts_dir() else { return };
    // host1 gets a 256 KiB file system at /mnt/drover-tiny; host3 a normal directory.
    ssh(&dir, "host1", "umount /mnt/drover-tiny 2>/dev/null; mkdir -p /mnt/drover-tiny && mount -t tmpfs -o size=256k tmpfs /mnt/drover-tiny && printf 'old\\n' > /mnt/drover-tiny/data");
    ssh(&dir, "host3", "rm -rf /mnt/drover-tiny; mkdir -p /mnt/drover-tiny && printf 'old\\n' > /mnt/drover-tiny/data");
    let tmp = tempfile::tempdir().unwrap();
    let play = tmp.path().join("p.yml");
    // 400 KiB of content: more than host1's file system holds.
    std::fs::write(&play, "- hosts: host1:host3\n  gather_facts: no\n  tasks:\n    - copy:\n        content: \"{{ 'x' * 409600 }}\"\n        dest: /mnt/drover-tiny/data\n").unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("apply")
            .arg(&play)
            .arg("-i")
            .arg(dir.join("inventory.yml"))
            .output()
            .unwrap()
    };
    let out = run();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("failed: [host1]"), "{text}");
    assert!(
        text.contains("changed: [host3]"),
        "the other host went on: {text}"
    );
    assert!(
        text.contains("cut short") || text.contains("No space left"),
        "the reason is named: {text}"
    );
    assert_eq!(
        ssh(&dir, "host1", "cat /mnt/drover-tiny/data"),
        "old\n",
        "the old content is intact"
    );
    assert_eq!(
        ssh(&dir, "host1", "ls -A /mnt/drover-tiny"),
        "data\n",
        "no temp file left behind"
    );
    assert_eq!(
        ssh(&dir, "host3", "wc -c < /mnt/drover-tiny/data").trim(),
        "409600"
    );
    // Room again: a re-run converges.
    ssh(&dir, "host1", "mount -o remount,size=2m /mnt/drover-tiny");
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        ssh(&dir, "host1", "wc -c < /mnt/drover-tiny/data").trim(),
        "409600"
    );
    ssh(&dir, "host1", "umount /mnt/drover-tiny");
}

/// A write that fills the disk in the middle of a batch: the items before it are
/// written, it fails with the reason, the task's later items fail (not attempted: the
/// batch's input is out of step after a short write) instead of vanishing, the next
/// task does not run, and no temp file is left.
#[test]
fn a_full_disk_in_the_middle_of_a_batch_fails_that_task_visibly() {
    let Some(dir) = hosts_dir() else { return };
    let mnt = "/mnt/drover-tiny-batch";
    ssh(
        &dir,
        "host2",
        &format!(
            "umount {mnt} 2>/dev/null; mkdir -p {mnt} && mount -t tmpfs -o size=256k tmpfs {mnt}"
        ),
    );
    let tmp = tempfile::tempdir().unwrap();
    let play = tmp.path().join("p.yml");
    std::fs::write(
        &play,
        format!(
            "- hosts: host2\n  gather_facts: no\n  tasks:\n    - name: three files\n      copy:\n        content: \"{{{{ item.size * 'x' }}}}\"\n        dest: \"{mnt}/{{{{ item.name }}}}\"\n      loop:\n        - {{name: a, size: 1000}}\n        - {{name: b, size: 409600}}\n        - {{name: c, size: 1000}}\n    - name: after\n      copy:\n        content: d\n        dest: {mnt}/d\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .arg("-i")
        .arg(dir.join("inventory.yml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("changed: [host2] three files => (item={'name': 'a'"),
        "{text}"
    );
    assert!(text.contains("No space left on device"), "{text}");
    assert!(
        text.contains("failed: [host2] three files => (item={'name': 'c'")
            && text.contains("not attempted"),
        "the later item is reported, failed: {text}"
    );
    assert!(!text.contains("after"), "the next task did not run: {text}");
    assert_eq!(
        ssh(&dir, "host2", &format!("ls -A {mnt}")),
        "a\n",
        "only a, no temp file"
    );
    ssh(&dir, "host2", &format!("umount {mnt}"));
}

#[test]
fn a_slow_host_does_not_hold_up_the_others() {
    let Some(dir) = hosts_dir() else { return };
    let inv_text = std::fs::read_to_string(dir.join("inventory.yml")).unwrap();
    let port_of = |host: &str| -> u16 {
        let i = inv_text.find(&format!("{host}:")).unwrap();
        inv_text[i..]
            .lines()
            .find_map(|l| l.trim().strip_prefix("ansible_port:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let slow_port = delaying_proxy(port_of("host2"), std::time::Duration::from_millis(60));
    let tmp = tempfile::tempdir().unwrap();
    // The proxied host keeps host2's key, under the proxy's port.
    let known: String = std::fs::read_to_string(dir.join("known_hosts"))
        .unwrap()
        .lines()
        .filter(|l| {
            l.starts_with(&format!("[127.0.0.1]:{} ", port_of("host2")))
                || l.starts_with(&format!("[127.0.0.1]:{} ", port_of("host1")))
        })
        .map(|l| {
            l.replace(
                &format!("]:{} ", port_of("host2")),
                &format!("]:{slow_port} "),
            ) + "\n"
        })
        .collect();
    std::fs::write(tmp.path().join("known_hosts"), known).unwrap();
    let key = dir.join("id_ed25519");
    std::fs::write(
        tmp.path().join("inv.yml"),
        format!(
            "all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: root\n    ansible_ssh_private_key_file: {}\n  hosts:\n    fast:\n      ansible_port: {}\n    slow:\n      ansible_port: {slow_port}\n",
            key.display(),
            port_of("host1")
        ),
    )
    .unwrap();
    let play = tmp.path().join("p.yml");
    let mut y = String::from("- hosts: all\n  gather_facts: no\n  tasks:\n");
    for i in 0..6 {
        y.push_str(&format!("    - command: echo {i}\n"));
    }
    std::fs::write(&play, y).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .arg("-i")
        .arg(tmp.path().join("inv.yml"))
        .arg("--known-hosts")
        .arg(tmp.path().join("known_hosts"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "host_done")
        .map(|e| e["host"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        done,
        ["fast", "slow"],
        "the fast host finished first, without waiting"
    );
}
