//! `throttle` on the four SSH test hosts: a task delegated to the controller takes a lock
//! directory there (`mkdir` fails when another host holds it), so a host that enters the
//! task while another is inside fails. With `throttle: 1` every host gets through; without
//! it they collide. No timing is asserted: only who was inside at the same moment.

mod support;

use std::path::Path;
use std::process::Command;

/// The tests share the four hosts, and drover runs one run per host at a time.
static HOSTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run `play` on every test host; returns (exit code, stdout and stderr).
fn apply(hosts: &Path, play: &str) -> (i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.yml");
    std::fs::write(&p, play).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&p)
        .arg("-i")
        .arg(hosts.join("inventory.yml"))
        .args(["--forks", "4"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A play whose one task holds the controller's lock directory(ies) for a moment.
/// `slots` lock directories: a host takes the first free one, or fails.
fn locking_play(lock: &Path, slots: usize, throttle: Option<&str>, sleep: &str) -> String {
    let take: Vec<String> = (1..=slots)
        .map(|i| {
            format!(
                "{{ mkdir {l}/s{i} 2>/dev/null && s={l}/s{i}; }}",
                l = lock.display()
            )
        })
        .collect();
    let throttle = throttle
        .map(|t| format!("      throttle: {t}\n"))
        .unwrap_or_default();
    format!(
        "- hosts: all\n  gather_facts: no\n  tasks:\n    - name: hold the lock\n      shell: \"{} || exit 1; sleep {sleep}; rmdir $s\"\n      delegate_to: localhost\n{throttle}",
        take.join(" || ")
    )
}

#[test]
fn throttle_keeps_hosts_out_of_the_task_while_it_is_full() {
    let Some(hosts) = support::hosts_dir() else {
        return;
    };
    let _hosts = HOSTS.lock().unwrap_or_else(|e| e.into_inner());
    let lock = tempfile::tempdir().unwrap();

    // One host at a time: nobody finds the lock taken.
    let (rc, out) = apply(&hosts, &locking_play(lock.path(), 1, Some("1"), "0.3"));
    assert_eq!(rc, 0, "with throttle 1 a host found the lock taken:\n{out}");

    // A templated limit of 2 with two lock slots: a third host inside would fail.
    let play = locking_play(lock.path(), 2, Some("\"{{ 1 + 1 }}\""), "0.3");
    let (rc, out) = apply(&hosts, &play);
    assert_eq!(rc, 0, "with throttle 2 a third host came in:\n{out}");

    // Without throttle (and with 0, no limit) the four hosts come in together.
    for throttle in [None, Some("0")] {
        let (rc, out) = apply(&hosts, &locking_play(lock.path(), 1, throttle, "2"));
        assert_ne!(
            rc, 0,
            "without a limit the hosts should have collided on the lock:\n{out}"
        );
        // Leave no lock behind for the next run (a failed host exits before rmdir).
        let _ = std::fs::remove_dir_all(lock.path().join("s1"));
    }
}

#[test]
fn a_loop_runs_under_one_hold_per_host() {
    let Some(hosts) = support::hosts_dir() else {
        return;
    };
    let _hosts = HOSTS.lock().unwrap_or_else(|e| e.into_inner());
    let lock = tempfile::tempdir().unwrap();
    let l = lock.path().join("L");
    // The first item takes the lock and the last gives it back: with one hold for the
    // whole loop, no other host can come in between.
    let play = format!(
        "- hosts: all\n  gather_facts: no\n  tasks:\n    - name: take, hold, give back\n      shell: \"{{{{ item }}}}\"\n      loop:\n        - mkdir {l}\n        - sleep 0.2\n        - rmdir {l}\n      delegate_to: localhost\n      throttle: 1\n",
        l = l.display()
    );
    let (rc, out) = apply(&hosts, &play);
    assert_eq!(rc, 0, "another host came in between two items:\n{out}");
}
