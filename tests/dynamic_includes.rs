//! Roles written for many platforms: `include_tasks` is read when a host reaches it (as
//! Ansible). A branch for another platform that uses modules drover lacks is a warning in
//! `drover validate` and never stops a run that does not reach it; a host that reaches it
//! fails there, with the location. Through the real binary, local connection.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn drover(args: &[&str], root: &Path) -> Output {
    let root_var = format!("root={}", root.display());
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(args)
        .args(["-e", &root_var])
        .env("NO_COLOR", "1")
        .output()
        .expect("run drover")
}

fn site_args(cmd: &'static str) -> Vec<String> {
    vec![
        cmd.to_string(),
        fixture("dynamic_includes/site.yml").display().to_string(),
        "-i".into(),
        fixture("dynamic_includes/inventory.ini")
            .display()
            .to_string(),
    ]
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn validate_warns_about_unreached_branches_with_their_location_and_condition() {
    let dir = tempfile::tempdir().unwrap();
    let args = site_args("validate");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = drover(&args, dir.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let warnings: Vec<&str> = all.lines().filter(|l| l.starts_with("warning:")).collect();
    // The literal include, guarded by its when:, names the include and the dnf task.
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("include_tasks 'RedHat.yml'")
                && w.contains("roles/multi/tasks/main.yml:11:")
                && w.contains("when: ansible_os_family == 'RedHat'")
                && w.contains("roles/multi/tasks/RedHat.yml:2:3")
                && w.contains("'dnf'")),
        "{all}"
    );
    // The templated include: every file its name may name is read.
    assert!(
        warnings.iter().any(
            |w| w.contains("include_tasks '{{ ansible_os_family }}.yml'")
                && w.contains("roles/multi/tasks/main.yml:9:")
                && w.contains("roles/multi/tasks/FreeBSD.yml:2:3")
                && w.contains("'pkgng'")
        ),
        "{all}"
    );
    assert!(all.contains("ok: 1 playbook(s)"), "{all}");
}

#[test]
fn a_debian_host_converges_past_branches_it_never_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let args = site_args("apply");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = drover(&args, dir.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for f in ["before", "debian", "after"] {
        assert!(
            dir.path().join("h1").join(f).is_file(),
            "{f} missing: {all}"
        );
    }
}

#[test]
fn a_host_that_reaches_the_branch_fails_there_after_the_tasks_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = site_args("apply");
    args.extend(["-e".to_string(), "ansible_os_family=RedHat".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = drover(&args, dir.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("roles/multi/tasks/RedHat.yml:2:3: unknown module 'dnf'"),
        "{all}"
    );
    assert!(all.contains("see the README"), "{all}");
    assert!(dir.path().join("h1/before").is_file(), "{all}");
    assert!(!dir.path().join("h1/after").exists(), "{all}");
    assert!(all.contains("failed=1"), "{all}");
}

#[test]
fn a_missing_include_file_is_a_warning_then_fails_the_host_that_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let play = fixture("bad/missing_include_tasks.yml");
    let play = play.to_str().unwrap();
    let out = drover(&["validate", play, "-i", "localhost,"], dir.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("warning: include_tasks 'nope.yml' at ")
            && all.contains("missing_include_tasks.yml:3:")
            && all.contains("task file 'nope.yml' not found"),
        "{all}"
    );
    let out = drover(
        &[
            "apply",
            play,
            "-i",
            "localhost,",
            "-e",
            "ansible_connection=local",
        ],
        dir.path(),
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("task file 'nope.yml' not found"), "{all}");
}

/// Static content is checked before any host is touched: what drover lacks is refused
/// there unless a `when` may skip it (a branch for another platform, as in Ansible's own
/// lineinfile tests), where it is a warning and fails only the host that reaches it.
#[test]
fn unsupported_static_content_is_refused_unless_a_condition_guards_it() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.yml");
    let run = |tasks: &str| {
        std::fs::write(
            &site,
            format!("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: marker\n      copy:\n        content: x\n        dest: \"{{{{ root }}}}/marker\"\n{tasks}"),
        )
        .unwrap();
        let _ = std::fs::remove_file(dir.path().join("marker"));
        drover(
            &[
                "apply",
                site.to_str().unwrap(),
                "-i",
                "localhost,",
                "-e",
                "ansible_connection=local",
            ],
            dir.path(),
        )
    };
    std::fs::write(dir.path().join("rh.yml"), "- dnf:\n    name: httpd\n").unwrap();
    // Unguarded: refused before the run, with the task's location.
    let out = run("    - import_tasks: rh.yml\n");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("rh.yml:1:3"), "{all}");
    assert!(!dir.path().join("marker").exists(), "{all}");
    // Guarded and skipped: the play converges; validate names the task and its guard.
    let out = run("    - import_tasks: rh.yml\n      when: false\n");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(dir.path().join("marker").exists(), "{all}");
    let out = drover(
        &["validate", site.to_str().unwrap(), "-i", "localhost,"],
        dir.path(),
    );
    let all = text(&out);
    assert!(
        all.contains("rh.yml:1:3") && all.contains("runs only when False"),
        "{all}"
    );
    // Guarded and reached: that task fails with the same located message.
    let out = run("    - import_tasks: rh.yml\n      when: true\n");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("unknown module 'dnf'") && all.contains("rh.yml:1:3"),
        "{all}"
    );
}
