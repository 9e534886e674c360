//! End-to-end tests of the real `drover` binary on fixture playbooks, local connection.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

mod support;
use support::local::{drover, fixture, json_events as events, recap_hosts};

fn apply(root: &Path, extra: &[&str]) -> Output {
    let mut c = drover();
    c.arg("apply")
        .arg(fixture("basic/site.yml"))
        .arg("-e")
        .arg(format!("root={}", root.display()))
        .arg("--format")
        .arg("json");
    c.args(extra);
    c.output().expect("run drover")
}

fn recap(out: &Output) -> serde_json::Value {
    recap_hosts(out)["localhost"].clone()
}

fn changed_tasks(out: &Output) -> Vec<String> {
    events(out)
        .into_iter()
        .filter(|e| e["status"] == "changed")
        .map(|e| e["task"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every path under `root` with its type, mode and content hash.
fn tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let p = e.path();
        let meta = std::fs::symlink_metadata(p).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let desc = if meta.file_type().is_symlink() {
            format!("link->{}", std::fs::read_link(p).unwrap().display())
        } else if meta.is_dir() {
            format!("dir {:o}", meta.permissions().mode() & 0o7777)
        } else {
            let data = std::fs::read(p).unwrap();
            format!(
                "file {:o} {}",
                meta.permissions().mode() & 0o7777,
                sha1_hex(&data)
            )
        };
        out.insert(p.strip_prefix(root).unwrap().display().to_string(), desc);
    }
    out
}

fn sha1_hex(d: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(d))
}

#[test]
fn first_apply_changes_second_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let first = apply(dir.path(), &[]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    assert_eq!(recap(&first)["changed"], 11);
    assert_eq!(recap(&first)["failed"], 0);
    let conf = std::fs::read_to_string(dir.path().join("etc/app/app.conf")).unwrap();
    assert_eq!(conf, "greeting=hello\n");
    let extra = std::fs::read_to_string(dir.path().join("etc/app/extra.conf")).unwrap();
    assert_eq!(
        extra,
        "port=8080\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=2\n# END ANSIBLE MANAGED BLOCK\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/app/seed.conf")).unwrap(),
        "listen=127.0.0.1:8080\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/app/motd")).unwrap(),
        "line one\nline two\nhost=localhost\n"
    );
    assert_eq!(
        std::fs::read_link(dir.path().join("etc/app/current.conf")).unwrap(),
        dir.path().join("etc/app/app.conf")
    );
    assert!(dir.path().join("reloaded").exists(), "the handler ran");
    let before = tree(dir.path());
    let second = apply(dir.path(), &[]);
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(
        recap(&second)["changed"],
        0,
        "second run: {:?}",
        changed_tasks(&second)
    );
    assert_eq!(
        tree(dir.path()),
        before,
        "a no-op run changed nothing on disk"
    );
}

#[test]
fn check_mode_changes_nothing_and_predicts_the_apply() {
    let dir = tempfile::tempdir().unwrap();
    let before = tree(dir.path());
    let check = apply(dir.path(), &["--check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert_eq!(tree(dir.path()), before, "check mode wrote to disk");
    let predicted = changed_tasks(&check);
    let real = apply(dir.path(), &[]);
    let mut actual = changed_tasks(&real);
    // Tasks skipped in check mode by design (`when: not ansible_check_mode`). A command
    // guarded by `creates` is predicted as a change, as Ansible's command module does.
    actual.retain(|t| t != "replace a value");
    assert_eq!(predicted, actual);
}

#[test]
fn diff_output_shows_unified_diffs() {
    let dir = tempfile::tempdir().unwrap();
    apply(dir.path(), &[]);
    std::fs::write(dir.path().join("etc/app/app.conf"), "greeting=bye\n").unwrap();
    let out = drover()
        .arg("apply")
        .arg(fixture("basic/site.yml"))
        .arg("-e")
        .arg(format!("root={}", dir.path().display()))
        .args(["--check", "--diff", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("changed: [localhost] write config from content"),
        "{text}"
    );
    assert!(text.contains("-greeting=bye"), "{text}");
    assert!(text.contains("+greeting=hello"), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/app/app.conf")).unwrap(),
        "greeting=bye\n"
    );
}

#[test]
fn detailed_exitcode_reports_drift() {
    let dir = tempfile::tempdir().unwrap();
    let pending = apply(dir.path(), &["--check", "--detailed-exitcode"]);
    assert_eq!(pending.status.code(), Some(2));
    apply(dir.path(), &[]);
    let clean = apply(dir.path(), &["--check", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0));
}

#[test]
fn touch_with_preserved_times_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let play = dir.path().join("touch.yml");
    std::fs::write(
        &play,
        r#"- hosts: localhost
  gather_facts: no
  tasks:
    - name: preserved
      file: {path: "{{ root }}/kept", state: touch, mode: "0640", access_time: preserve, modification_time: preserve}
    - name: plain
      file: {path: "{{ root }}/touched", state: touch}
"#,
    )
    .unwrap();
    let run = || {
        drover()
            .arg("apply")
            .arg(&play)
            .arg("-e")
            .arg(format!("root={}", dir.path().display()))
            .args(["--format", "json"])
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(changed_tasks(&first), ["preserved", "plain"]);
    let kept = dir.path().join("kept");
    let mtime = std::fs::metadata(&kept).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // As in Ansible: a plain touch always changes, a preserving one only creates.
    assert_eq!(changed_tasks(&run()), ["plain"]);
    assert_eq!(std::fs::metadata(&kept).unwrap().modified().unwrap(), mtime);
    // Attributes are still enforced.
    std::fs::set_permissions(&kept, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(changed_tasks(&run()), ["preserved", "plain"]);
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kept).unwrap().permissions())
            & 0o777,
        0o640
    );
}

/// Runs a playbook text with `root` set to a fresh directory; the run and the directory.
fn apply_text(playbook: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let play = dir.path().join("play.yml");
    std::fs::write(&play, playbook).unwrap();
    let out = drover()
        .arg("apply")
        .arg(&play)
        .arg("-e")
        .arg(format!("root={}", dir.path().display()))
        .args(["--format", "json"])
        .output()
        .unwrap();
    (out, dir)
}

#[test]
fn a_templated_argument_is_checked_against_its_choices_once_rendered() {
    // It used to reach the module unchecked (a templated output_encoding was written as
    // UTF-8 whatever it named).
    let (out, dir) = apply_text(
        r#"- hosts: localhost
  gather_facts: no
  vars: {wanted: bogus}
  tasks:
    - name: bad state
      file: {path: "{{ root }}/f", state: "{{ wanted }}"}
"#,
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let failed = events(&out)
        .into_iter()
        .find(|e| e["status"] == "failed")
        .expect("a failed task");
    let msg = failed["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("argument 'state' of file must be one of") && msg.contains("got 'bogus'"),
        "{msg}"
    );
    assert!(!dir.path().join("f").exists());
}

#[test]
fn the_password_lookup_makes_its_directories_private() {
    let (out, dir) = apply_text(
        r#"- hosts: localhost
  gather_facts: no
  tasks:
    - debug: {msg: "{{ lookup('password', root ~ '/pw/deeper/secret length=8') }}"}
"#,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for d in ["pw", "pw/deeper"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join(d)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o700, "{d}");
    }
}
