//! OpenSSH options in inventory variables over real SSH test hosts (`tests/hosts/up 2`,
//! state dir from DROVER_TEST_HOSTS): `StrictHostKeyChecking` and `UserKnownHostsFile` in
//! `ansible_ssh_common_args` / `ansible_ssh_extra_args` / ansible.cfg's `ssh_args`, and
//! templated connection variables rendered before connecting.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Port of host I in the harness's inventory.
fn port(dir: &Path, i: u16) -> u16 {
    let inv = std::fs::read_to_string(dir.join("inventory.yml")).unwrap();
    let mut lines = inv.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("host{i}:") {
            for l in lines.by_ref() {
                if let Some(p) = l.trim().strip_prefix("ansible_port:") {
                    return p.trim().parse().unwrap();
                }
            }
        }
    }
    panic!("host{i} not in the harness inventory");
}

/// host1 with `vars` (YAML lines), root login with the harness key.
fn inventory(dir: &Path, tmp: &Path, vars: &str) -> PathBuf {
    let mut s = format!(
        "all:\n  hosts:\n    host1:\n      ansible_user: root\n      ansible_ssh_private_key_file: {}\n",
        dir.join("id_ed25519").display()
    );
    for l in vars.lines() {
        s.push_str(&format!("      {l}\n"));
    }
    let p = tmp.join("inventory.yml");
    std::fs::write(&p, s).unwrap();
    p
}

fn drover(tmp: &Path, inv: &Path, env: &[(&str, &str)]) -> Output {
    let play = tmp.join("p.yml");
    std::fs::write(
        &play,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: hostname\n",
    )
    .unwrap();
    // No ssh_config, ~/.ssh or ansible.cfg of whoever runs the tests.
    let empty = tmp.join("ssh_config");
    std::fs::write(&empty, "").unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
    c.arg("apply")
        .arg(&play)
        .arg("-i")
        .arg(inv)
        .arg("-F")
        .arg(&empty)
        .env("HOME", tmp)
        .current_dir(tmp)
        .env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("ANSIBLE_") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// host1's known_hosts lines as the harness recorded them.
fn host1_keys(dir: &Path) -> String {
    let prefix = format!("[127.0.0.1]:{} ", port(dir, 1));
    std::fs::read_to_string(dir.join("known_hosts"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn strict_host_key_checking_no_connects_to_an_unknown_host() {
    let Some(dir) = support::hosts_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let kh = tmp.path().join("kh");
    let inv = inventory(
        &dir,
        tmp.path(),
        &format!(
            "ansible_host: 127.0.0.1\nansible_port: {}\nansible_ssh_common_args: \"-o StrictHostKeyChecking=no -o UserKnownHostsFile={}\"",
            port(&dir, 1),
            kh.display()
        ),
    );
    let out = drover(tmp.path(), &inv, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // As OpenSSH: the new key is recorded in UserKnownHostsFile.
    let recorded = std::fs::read_to_string(&kh).unwrap_or_default();
    assert!(
        recorded.starts_with(&format!("[127.0.0.1]:{} ", port(&dir, 1))),
        "{recorded}"
    );
    // Without the option the same unknown host is refused (strict by default).
    let inv = inventory(
        &dir,
        tmp.path(),
        &format!(
            "ansible_host: 127.0.0.1\nansible_port: {}\nansible_ssh_extra_args: \"-o UserKnownHostsFile={}\"",
            port(&dir, 1),
            tmp.path().join("empty_kh").display()
        ),
    );
    let out = drover(tmp.path(), &inv, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("is not known"), "{}", text(&out));
    // ansible.cfg's ssh_args (here ANSIBLE_SSH_ARGS) says the same for every host.
    let out = drover(
        tmp.path(),
        &inv,
        &[(
            "ANSIBLE_SSH_ARGS",
            "-C -o ControlMaster=auto -o StrictHostKeyChecking=no",
        )],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn user_known_hosts_file_is_read_and_written() {
    let Some(dir) = support::hosts_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Read: the key is only in this file; strict checking passes.
    let kh = tmp.path().join("kh_read");
    std::fs::write(&kh, host1_keys(&dir)).unwrap();
    let inv = inventory(
        &dir,
        tmp.path(),
        &format!(
            "ansible_host: 127.0.0.1\nansible_port: {}\nansible_ssh_common_args: \"-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\"",
            port(&dir, 1),
            kh.display()
        ),
    );
    let out = drover(tmp.path(), &inv, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Write: accept-new records the key in that file.
    let kh = tmp.path().join("kh_write");
    let inv = inventory(
        &dir,
        tmp.path(),
        &format!(
            "ansible_host: 127.0.0.1\nansible_port: {}\nansible_ssh_common_args: \"-o UserKnownHostsFile={} -o StrictHostKeyChecking=accept-new\"",
            port(&dir, 1),
            kh.display()
        ),
    );
    let out = drover(tmp.path(), &inv, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let recorded = std::fs::read_to_string(&kh).unwrap();
    assert!(
        recorded.starts_with(&format!("[127.0.0.1]:{} ", port(&dir, 1))),
        "{recorded}"
    );
}

#[test]
fn templated_ansible_host_and_port_are_rendered_before_connecting() {
    let Some(dir) = support::hosts_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let kh = tmp.path().join("kh");
    std::fs::write(&kh, host1_keys(&dir)).unwrap();
    let inv = tmp.path().join("inventory.yml");
    std::fs::write(
        &inv,
        format!(
            "all:\n  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: {key}\n    ansible_ssh_common_args: \"-o UserKnownHostsFile={kh}\"\n  hosts:\n    bastion:\n      ansible_connection: local\n      addr: 127.0.0.1\n      ssh_port: {port}\n    host1:\n      ansible_host: \"{{{{ hostvars['bastion'].addr }}}}\"\n      ansible_port: \"{{{{ hostvars['bastion'].ssh_port + 0 }}}}\"\n",
            key = dir.join("id_ed25519").display(),
            kh = kh.display(),
            port = port(&dir, 1)
        ),
    )
    .unwrap();
    let out = drover(tmp.path(), &inv, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("host1"), "{all}");
}
