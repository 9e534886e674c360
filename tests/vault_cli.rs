//! `drover vault` on its own (no Ansible needed): edit, create, standard input, errors.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn drover(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("vault")
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run drover");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    child.wait_with_output().expect("wait for drover")
}

fn ok(out: &Output) -> Vec<u8> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

fn setup() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "Cli-Pass-1\n").unwrap();
    let pw = pw.display().to_string();
    (dir, pw)
}

/// An editor script that records where it was called and how the file was protected,
/// then appends a line (or does nothing when `change` is false).
fn editor(dir: &Path, change: bool) -> PathBuf {
    let script = dir.join("editor.sh");
    let log = dir.join("editor.log");
    let body = format!(
        "#!/bin/sh\nset -e\nf=\"$1\"\necho \"$f $(stat -c %a \"$f\") $(stat -c %a \"$(dirname \"$f\")\")\" > {log}\n{}\n",
        if change { "echo 'added: line' >> \"$f\"" } else { ":" },
        log = log.display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    script
}

#[test]
fn edit_reencrypts_only_when_changed_and_leaves_no_plaintext() {
    let (dir, pw) = setup();
    let d = dir.path();
    std::fs::write(d.join("s.yml"), "a: Edit-Secret-1\n").unwrap();
    ok(&drover(
        d,
        &["encrypt", "--vault-password-file", &pw, "s.yml"],
        &[],
        b"",
    ));
    let before = std::fs::read(d.join("s.yml")).unwrap();

    let same = editor(d, false).display().to_string();
    ok(&drover(
        d,
        &["edit", "--vault-password-file", &pw, "s.yml"],
        &[("EDITOR", &same)],
        b"",
    ));
    assert_eq!(
        std::fs::read(d.join("s.yml")).unwrap(),
        before,
        "unchanged: not rewritten"
    );

    let change = editor(d, true).display().to_string();
    ok(&drover(
        d,
        &["edit", "--vault-password-file", &pw, "s.yml"],
        &[("EDITOR", &change)],
        b"",
    ));
    let after = std::fs::read(d.join("s.yml")).unwrap();
    assert_ne!(after, before);
    assert!(after.starts_with(b"$ANSIBLE_VAULT;1.1;AES256\n"));
    let view = ok(&drover(
        d,
        &["view", "--vault-password-file", &pw, "s.yml"],
        &[],
        b"",
    ));
    assert_eq!(view, b"a: Edit-Secret-1\nadded: line\n");

    let log = std::fs::read_to_string(d.join("editor.log")).unwrap();
    let parts: Vec<&str> = log.split_whitespace().collect();
    assert_eq!(&parts[1..], ["600", "700"], "{log}");
    let tmp = Path::new(parts[0]);
    assert!(
        !tmp.exists(),
        "temporary plaintext left at {}",
        tmp.display()
    );
    assert!(!tmp.parent().unwrap().exists(), "temporary directory left");
}

#[test]
fn a_failing_editor_changes_nothing_and_cleans_up() {
    let (dir, pw) = setup();
    let d = dir.path();
    std::fs::write(d.join("s.yml"), "a: Edit-Secret-2\n").unwrap();
    ok(&drover(
        d,
        &["encrypt", "--vault-password-file", &pw, "s.yml"],
        &[],
        b"",
    ));
    let before = std::fs::read(d.join("s.yml")).unwrap();
    let script = d.join("bad-editor.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1\" > {}\necho x >> \"$1\"\nexit 3\n",
            d.join("bad.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let editor = script.display().to_string();
    let out = drover(
        d,
        &["edit", "--vault-password-file", &pw, "s.yml"],
        &[("EDITOR", &editor)],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(d.join("s.yml")).unwrap(), before);
    let tmp = std::fs::read_to_string(d.join("bad.log")).unwrap();
    assert!(!Path::new(tmp.trim()).exists());
}

#[test]
fn create_makes_a_new_vault_file() {
    let (dir, pw) = setup();
    let d = dir.path();
    let change = editor(d, true).display().to_string();
    ok(&drover(
        d,
        &["create", "--vault-password-file", &pw, "new.yml"],
        &[("EDITOR", &change)],
        b"",
    ));
    let mode = std::fs::metadata(d.join("new.yml"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let view = ok(&drover(
        d,
        &["view", "--vault-password-file", &pw, "new.yml"],
        &[],
        b"",
    ));
    assert_eq!(view, b"added: line\n");
    let again = drover(
        d,
        &["create", "--vault-password-file", &pw, "new.yml"],
        &[("EDITOR", &change)],
        b"",
    );
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn standard_input_round_trip_and_encrypt_string_from_stdin() {
    let (dir, pw) = setup();
    let d = dir.path();
    let blob = ok(&drover(
        d,
        &["encrypt", "--vault-password-file", &pw],
        &[],
        b"piped: data\n",
    ));
    assert!(blob.starts_with(b"$ANSIBLE_VAULT;1.1;AES256\n"));
    let plain = ok(&drover(
        d,
        &["decrypt", "--vault-password-file", &pw, "--output", "-"],
        &[],
        &blob,
    ));
    assert_eq!(plain, b"piped: data\n");
    let inline = ok(&drover(
        d,
        &[
            "encrypt_string",
            "--vault-password-file",
            &pw,
            "--stdin-name",
            "from_stdin",
        ],
        &[],
        b"Stdin-Secret",
    ));
    let text = String::from_utf8(inline).unwrap();
    assert!(
        text.starts_with("from_stdin: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n"),
        "{text}"
    );
    // Several strings with names, as ansible-vault prints them.
    let two = ok(&drover(
        d,
        &[
            "encrypt_string",
            "--vault-password-file",
            &pw,
            "-n",
            "a",
            "-n",
            "b",
            "one1",
            "two2",
        ],
        &[],
        b"",
    ));
    let text = String::from_utf8(two).unwrap();
    assert_eq!(text.matches(": !vault |").count(), 2);
    assert!(text.starts_with("a: !vault |\n"));
    assert!(text.contains("\nb: !vault |\n"));
}

#[test]
fn refusals() {
    let (dir, pw) = setup();
    let d = dir.path();
    std::fs::write(d.join("plain.yml"), "x: 1\n").unwrap();
    // Decrypting something that is not encrypted.
    let out = drover(
        d,
        &["decrypt", "--vault-password-file", &pw, "plain.yml"],
        &[],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not vault-encrypted"));
    // Encrypting twice.
    ok(&drover(
        d,
        &["encrypt", "--vault-password-file", &pw, "plain.yml"],
        &[],
        b"",
    ));
    let out = drover(
        d,
        &["encrypt", "--vault-password-file", &pw, "plain.yml"],
        &[],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already vault-encrypted"));
    // An empty password file.
    std::fs::write(d.join("empty"), "\n").unwrap();
    let out = drover(
        d,
        &["view", "--vault-password-file", "empty", "plain.yml"],
        &[],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    // Damaged data: a clear format error.
    std::fs::write(d.join("bad.yml"), "$ANSIBLE_VAULT;1.1;AES256\nzz\n").unwrap();
    let out = drover(
        d,
        &["view", "--vault-password-file", &pw, "bad.yml"],
        &[],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid hex"));
}

/// `drover graph` reads vault-encrypted inventory variables with the same options as
/// validate and apply (the platform's example inventory encrypts the Grafana password),
/// and does not need them.
#[test]
fn graph_takes_the_vault_password_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_drover"))
            .current_dir(root)
            .args(["graph", "playbooks/site.yml", "-i", "inventory/example/"])
            .args(["--format", "mermaid", "--collapse", "roles"])
            .args(extra)
            .output()
            .unwrap()
    };
    let with = graph(&[
        "--vault-password-file",
        "tests/platform/example-vault-password",
    ]);
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(String::from_utf8_lossy(&with.stdout).contains("role grafana"));
    // Without the password the inline `!vault` value stays encrypted (as in ansible-core
    // 2.19): the graph does not need it, and validate warns where it is written.
    let without = graph(&[]);
    assert!(
        without.status.success(),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );
    assert_eq!(without.stdout, with.stdout);
    let validate = std::process::Command::new(env!("CARGO_BIN_EXE_drover"))
        .current_dir(root)
        .args(["validate", "playbooks/site.yml", "-i", "inventory/example/"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&validate.stderr).into_owned()
        + &String::from_utf8_lossy(&validate.stdout);
    assert!(validate.status.success(), "{said}");
    assert!(
        said.contains("inventory/example/group_vars/monitoring.yml:5:11: no vault password given opens this vault-encrypted value"),
        "{said}"
    );
}
