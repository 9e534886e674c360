//! Host state is read in batches: a no-op converge costs the same few round trips per
//! host whatever the number of tasks, and a change is always seen by the tasks after it.

use std::path::Path;
use std::process::Command;

/// A role-shaped playbook: directories, templated files, lineinfile, stat.
fn playbook(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut y = String::from("- hosts: localhost\n  gather_facts: yes\n  tasks:\n");
    y.push_str("    - file: {path: \"{{ root }}/d\", state: directory}\n");
    for i in 0..n {
        y.push_str(&format!("    - name: file {i}\n      copy:\n        content: \"value {i} on {{{{ inventory_hostname }}}}\\n\"\n        dest: \"{{{{ root }}}}/d/f{i}\"\n        mode: \"0640\"\n"));
        y.push_str(&format!("    - name: line {i}\n      lineinfile:\n        path: \"{{{{ root }}}}/d/l{i}\"\n        line: \"extra {i}\"\n        create: yes\n"));
    }
    y.push_str("    - name: a guarded command\n      command: touch {{ root }}/d/marker\n      args:\n        creates: \"{{ root }}/d/marker\"\n");
    let p = dir.join(format!("play{n}.yml"));
    std::fs::write(&p, y).unwrap();
    p
}

fn round_trips(play: &Path, root: &Path) -> (u64, u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(play)
        .args([
            "-e",
            &format!("root={}", root.display()),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recap: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "recap")
        .unwrap();
    (
        recap["round_trips"].as_u64().unwrap(),
        recap["hosts"]["localhost"]["changed"].as_u64().unwrap(),
    )
}

#[test]
fn no_op_round_trips_do_not_grow_with_the_task_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut no_op = Vec::new();
    let mut first_apply = Vec::new();
    for n in [5, 40] {
        let root = dir.path().join(format!("root{n}"));
        std::fs::create_dir(&root).unwrap();
        let play = playbook(dir.path(), n);
        let (first, changed) = round_trips(&play, &root);
        assert_eq!(changed as usize, 2 * n + 2);
        first_apply.push(first);
        let (trips, changed) = round_trips(&play, &root);
        assert_eq!(changed, 0);
        no_op.push(trips);
    }
    // A first apply: facts, one batch of reads, ONE batch of every write (the directory,
    // the copies, the lines), then the guarded command (carrying its `creates` test).
    assert_eq!(
        first_apply,
        vec![4, 4],
        "round trips of a first apply for 5 and 40 file pairs"
    );
    // Facts, then one batch for the whole task list.
    assert_eq!(
        no_op,
        vec![2, 2],
        "round trips of a no-op for 5 and 40 file pairs"
    );
}

#[test]
fn a_change_is_seen_by_the_tasks_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let play = dir.path().join("p.yml");
    std::fs::write(
        &play,
        r#"- hosts: localhost
  gather_facts: no
  tasks:
    - stat: {path: "{{ root }}/f"}
      register: before
    - copy: {content: "12345\n", dest: "{{ root }}/f"}
    - lineinfile: {path: "{{ root }}/f", line: "more"}
    - stat: {path: "{{ root }}/f"}
      register: after
    - assert:
        that:
          - not before.stat.exists
          - after.stat.exists
          - after.stat.size == 11
"#,
    )
    .unwrap();
    let (_, changed) = round_trips(&play, dir.path());
    assert_eq!(changed, 2);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f")).unwrap(),
        "12345\nmore\n"
    );
}

/// A command's `creates`/`removes` test travels with the command when the cache cannot
/// answer it (here: an earlier command emptied it), so a guarded command costs one round
/// trip whether it runs or not, and still reports what Ansible reports.
#[test]
fn guards_travel_with_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let play = dir.path().join("p.yml");
    std::fs::write(
        &play,
        r#"- hosts: localhost
  gather_facts: no
  tasks:
    - command: touch {{ root }}/made
    - command: touch {{ root }}/never
      args: {creates: "{{ root }}/ma*"}
      register: stopped_by_creates
    - command: touch {{ root }}/never
      args: {removes: "{{ root }}/absent"}
      register: stopped_by_removes
    - command: touch {{ root }}/ran
      args: {creates: "{{ root }}/ran"}
      register: ran
    - assert:
        that:
          - stopped_by_creates is not changed
          - stopped_by_creates.msg == "Did not run command since '" ~ root ~ "/ma*' exists"
          - stopped_by_creates.stdout == "skipped, since " ~ root ~ "/ma* exists"
          - stopped_by_removes is not changed
          - stopped_by_removes.rc == 0
          - ran is changed
          - ran.rc == 0
"#,
    )
    .unwrap();
    let (trips, changed) = round_trips(&play, dir.path());
    assert_eq!(changed, 2);
    assert_eq!(
        trips,
        1 + 4,
        "the host lock, then one round trip per command"
    );
    assert!(dir.path().join("ran").exists());
    assert!(!dir.path().join("never").exists());
}
