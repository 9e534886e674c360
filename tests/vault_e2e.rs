//! End to end: a playbook whose secrets come from a vault file in group_vars, an inline
//! `!vault` play variable and a vault-encrypted copy `src` converges with the plaintext
//! on disk, and never shows a secret on stdout or stderr (human and JSON, with --diff,
//! and when a task fails with a message quoting one).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRETS: [&str; 3] = [
    "Planted-Secret-9f3k2",
    "Inline-Secret-7q2w",
    "Copied-Secret-4h8j1",
];

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn run(root: &Path, password: Option<&Path>, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
    c.arg("apply")
        .arg(fixture("vault_play/site.yml"))
        .arg("-e")
        .arg(format!("root={}", root.display()));
    if let Some(p) = password {
        c.arg("--vault-password-file").arg(p);
    }
    c.args(extra);
    c.output().expect("run drover")
}

fn text(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_no_secret(out: &Output) {
    let all = text(out);
    for s in SECRETS {
        assert!(!all.contains(s), "secret {s} leaked:\n{all}");
    }
}

fn password() -> PathBuf {
    fixture("vault/password.txt")
}

#[test]
fn converges_with_secrets_on_disk_and_none_in_human_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), Some(&password()), &["--diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_secret(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("+password = ********"), "{stdout}");
    assert!(stdout.contains("+plain = visible"), "{stdout}");
    assert!(
        stdout.contains("the password is ******** and ********"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secret.conf")).unwrap(),
        "# managed\npassword = Planted-Secret-9f3k2\napi = Inline-Secret-7q2w\nplain = visible\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("vaulted.txt")).unwrap(),
        "token: Copied-Secret-4h8j1\n"
    );
    // Converged: a second run changes nothing.
    let again = run(dir.path(), Some(&password()), &["--diff"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("changed=0"),
        "{}",
        text(&again)
    );
    assert_no_secret(&again);
}

#[test]
fn json_output_with_diff_masks_every_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        Some(&password()),
        &["--diff", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_secret(&out);
    let mut saw_masked_diff = false;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
        if v["task"] == "render the config" {
            let diff = v["diff"][0].as_str().unwrap_or_default();
            saw_masked_diff = diff.contains("+password = ********");
        }
    }
    assert!(saw_masked_diff, "{}", text(&out));
}

#[test]
fn a_failing_task_quoting_a_secret_shows_it_masked() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["human", "json"] {
        let out = run(
            dir.path(),
            Some(&password()),
            &["--diff", "-e", "fail_now=true", "--format", format],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert_no_secret(&out);
        assert!(text(&out).contains("boom ********"), "{}", text(&out));
    }
}

#[test]
fn check_mode_diff_masks_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), Some(&password()), &["--check", "--diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_secret(&out);
    assert!(!dir.path().join("secret.conf").exists());
}

#[test]
fn no_password_is_a_clear_error_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), None, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    // Ansible's words for a vault-encrypted file without a password.
    assert!(
        err.contains("A vault password or secret must be specified to decrypt"),
        "{err}"
    );
    assert!(err.contains("--vault-password-file"), "{err}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn wrong_password_names_the_file_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong-pass");
    std::fs::write(&wrong, "Wrong-Pass-Zz81\n").unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let out = run(&root, Some(&wrong), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("cannot decrypt"), "{all}");
    assert!(
        all.contains("site.yml") || all.contains("vault.yml"),
        "{all}"
    );
    assert!(!all.contains("Wrong-Pass-Zz81"), "{all}");
    assert_no_secret(&out);
    assert!(std::fs::read_dir(&root).unwrap().next().is_none());
}

#[test]
fn validate_and_inventory_take_the_vault_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("validate")
        .arg(fixture("vault_play/site.yml"))
        .args(["-e", "root=/nonexistent"])
        .arg("--vault-id")
        .arg(format!("default@{}", password().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_secret(&out);
}
