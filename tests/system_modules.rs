//! System modules over SSH on the real test hosts: user and group create, modify, stay
//! idempotent and remove; the hosts' state is read back with plain `ssh`, not drover.

use std::process::Command;

mod support;
use support::{hosts_dir, ssh};

/// Run a playbook on host3; returns (exit code, changed count, stdout and stderr).
fn apply(dir: &std::path::Path, play: &str, extra: &[&str]) -> (i32, u64, String) {
    support::apply_on(dir, "host3", play, extra)
}

#[test]
fn users_and_groups_converge_and_stay_converged() {
    let Some(dir) = hosts_dir() else { return };
    let create = r#"- hosts: all
  gather_facts: no
  tasks:
    - group: {name: drovergrp, gid: 2600}
    - user:
        name: droveruser
        uid: 2601
        groups: [drovergrp, adm]
        shell: /bin/bash
        comment: Drover Test
"#;
    let _ = ssh(
        &dir,
        "host3",
        "userdel -r droveruser 2>/dev/null; groupdel drovergrp 2>/dev/null; true",
    );
    let (code, _, text) = apply(&dir, create, &["--check"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        ssh(&dir, "host3", "getent passwd droveruser || echo none").trim(),
        "none",
        "check mode created nothing"
    );
    let (code, changed, text) = apply(&dir, create, &[]);
    assert_eq!((code, changed), (0, 2), "{text}");
    assert_eq!(
        ssh(&dir, "host3", "getent passwd droveruser").trim(),
        "droveruser:x:2601:2601:Drover Test:/home/droveruser:/bin/bash"
    );
    assert_eq!(
        ssh(&dir, "host3", "id -Gn droveruser").trim(),
        "droveruser adm drovergrp"
    );
    assert_eq!(
        ssh(&dir, "host3", "getent group drovergrp | cut -d: -f3").trim(),
        "2600"
    );
    assert_eq!(
        ssh(&dir, "host3", "test -d /home/droveruser && echo home").trim(),
        "home"
    );
    let (_, changed, text) = apply(&dir, create, &[]);
    assert_eq!(changed, 0, "second run: {text}");
    // Modify: shell, and groups replaced (not appended).
    let modify = create
        .replace("/bin/bash", "/bin/sh")
        .replace("[drovergrp, adm]", "[drovergrp]");
    let (_, changed, text) = apply(&dir, &modify, &["--diff"]);
    assert_eq!(changed, 1, "{text}");
    assert!(
        text.contains("shell: /bin/bash") && text.contains("shell: /bin/sh"),
        "the diff shows the change: {text}"
    );
    assert_eq!(
        ssh(&dir, "host3", "id -Gn droveruser").trim(),
        "droveruser drovergrp"
    );
    let remove = "- hosts: all\n  gather_facts: no\n  tasks:\n    - user: {name: droveruser, state: absent, remove: yes}\n    - group: {name: drovergrp, state: absent}\n";
    let (_, changed, _) = apply(&dir, remove, &[]);
    assert_eq!(changed, 2);
    assert_eq!(
        ssh(&dir, "host3", "getent passwd droveruser || echo none").trim(),
        "none"
    );
    let (_, changed, _) = apply(&dir, remove, &[]);
    assert_eq!(changed, 0);
}

/// Run a playbook on host2 as the `secure` user (sudo with a password), feeding stdin.
fn apply_as_secure(
    dir: &std::path::Path,
    play: &str,
    stdin: &str,
    extra: &[&str],
) -> std::process::Output {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.yml");
    std::fs::write(&p, play).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&p)
        .arg("-i")
        .arg(dir.join("inventory.yml"))
        .args([
            "--limit",
            "host2",
            "-e",
            "ansible_user=secure",
            "-K",
            "-vvv",
        ])
        .args(extra)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn become_with_a_password_fed_on_stdin() {
    let Some(dir) = hosts_dir() else { return };
    let play = "- hosts: all\n  gather_facts: no\n  become: yes\n  tasks:\n    - copy: {content: \"root-owned\\n\", dest: /srv/drover-become}\n    - command: id -un\n";
    let _ = ssh(&dir, "host2", "rm -f /srv/drover-become");
    for format in ["human", "json"] {
        let out = apply_as_secure(&dir, play, "secure-pass\n", &["--format", format]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(
            !all.contains("secure-pass"),
            "the become password leaked ({format}): {all}"
        );
    }
    assert_eq!(
        ssh(&dir, "host2", "stat -c '%U:%G %a' /srv/drover-become").trim(),
        "root:root 644"
    );
    let bad = apply_as_secure(&dir, play, "not-the-password\n", &[]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&bad.stdout),
        String::from_utf8_lossy(&bad.stderr)
    );
    assert_eq!(bad.status.code(), Some(2), "{all}");
    assert!(all.contains("sudo rejected the become password"), "{all}");
    assert!(!all.contains("not-the-password"), "{all}");
}
