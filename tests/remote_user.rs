//! `remote_user:` over real SSH test hosts (`tests/hosts/up 4`): the play's keyword is
//! whom drover logs in as where the host's variables name no user, a later play with
//! another user logs in again, a variable naming the user wins over the keyword (as in
//! Ansible), and a task asking for another login than its play's fails on that task
//! with a located message.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{base_port, hosts_dir, ssh};

const USER: &str = "drover-ru";

/// host4 with the harness key and host-key checking, and `extra` (YAML lines) — no
/// `ansible_user` unless `extra` sets it. The login user may log in with the same key.
fn inventory(dir: &Path, tmp: &Path, extra: &str) -> PathBuf {
    // Once per test process: the tests run in parallel, and two `useradd`s at once
    // race (one fails, and its `chown` finds no user yet).
    static USER_READY: std::sync::Once = std::sync::Once::new();
    USER_READY.call_once(|| {
        ssh(
            dir,
            "host4",
            &format!(
                "id {USER} >/dev/null 2>&1 || useradd -m -s /bin/sh {USER}; usermod -p '*' {USER}; \
                 install -d -o {USER} -g {USER} -m 700 /home/{USER}/.ssh && \
                 install -o {USER} -g {USER} -m 600 /root/.ssh/authorized_keys /home/{USER}/.ssh/authorized_keys"
            ),
        );
    });
    let mut s = format!(
        "all:\n  hosts:\n    host4:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n      ansible_ssh_private_key_file: {}\n      ansible_ssh_common_args: \"-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\"\n",
        base_port(dir) + 4,
        dir.join("id_ed25519").display(),
        dir.join("known_hosts").display(),
    );
    for l in extra.lines() {
        s.push_str(&format!("      {l}\n"));
    }
    let p = tmp.join("inventory.yml");
    std::fs::write(&p, s).unwrap();
    p
}

fn apply(tmp: &Path, inv: &Path, play: &str) -> Output {
    let p = tmp.join("site.yml");
    std::fs::write(&p, play).unwrap();
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&p)
        .arg("-i")
        .arg(inv)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Who ran a `shell: id -un > /tmp/ru-NAME`, read as root over plain ssh.
fn who(dir: &Path, name: &str) -> String {
    ssh(dir, "host4", &format!("cat /tmp/ru-{name}"))
        .trim()
        .to_string()
}

#[test]
fn the_play_keyword_is_the_login_and_a_later_play_logs_in_again() {
    let Some(dir) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let inv = inventory(&dir, tmp.path(), "");
    ssh(
        &dir,
        "host4",
        "rm -f /tmp/ru-play /tmp/ru-task /tmp/ru-second",
    );
    let out = apply(
        tmp.path(),
        &inv,
        &format!(
            "- hosts: all\n  gather_facts: false\n  remote_user: \"{{{{ login }}}}\"\n  vars:\n    login: {USER}\n  tasks:\n    - shell: id -un > /tmp/ru-play\n    - shell: id -un > /tmp/ru-task\n      remote_user: {USER}\n\
             - hosts: all\n  gather_facts: false\n  remote_user: root\n  tasks:\n    - shell: id -un > /tmp/ru-second\n"
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(who(&dir, "play"), USER);
    assert_eq!(
        who(&dir, "task"),
        USER,
        "the task's own keyword, same login"
    );
    assert_eq!(
        who(&dir, "second"),
        "root",
        "the second play logged in again"
    );
}

#[test]
fn a_variable_naming_the_user_wins_over_the_keyword() {
    let Some(dir) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let inv = inventory(&dir, tmp.path(), "ansible_user: root");
    ssh(&dir, "host4", "rm -f /tmp/ru-var");
    let out = apply(
        tmp.path(),
        &inv,
        &format!("- hosts: all\n  gather_facts: false\n  remote_user: {USER}\n  tasks:\n    - shell: id -un > /tmp/ru-var\n      remote_user: nobody-at-all\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(who(&dir, "var"), "root");
}

#[test]
fn a_task_asking_for_another_login_fails_on_that_task() {
    let Some(dir) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let inv = inventory(&dir, tmp.path(), "");
    ssh(&dir, "host4", "rm -f /tmp/ru-before /tmp/ru-root");
    let out = apply(
        tmp.path(),
        &inv,
        &format!("- hosts: all\n  gather_facts: false\n  remote_user: {USER}\n  tasks:\n    - shell: id -un > /tmp/ru-before\n    - name: as root\n      shell: id -un > /tmp/ru-root\n      remote_user: root\n"),
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("failed: [host4] as root"), "{t}");
    assert!(
        t.contains(&format!("remote_user 'root' differs from '{USER}'")),
        "{t}"
    );
    assert_eq!(who(&dir, "before"), USER);
    assert_eq!(who(&dir, "root"), "", "the task did not run");
}
