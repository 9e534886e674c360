//! SIGINT/SIGTERM: no new task starts, the command in flight finishes, no handler that
//! was not due runs, the recap is printed, and the exit code is 130/143.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn interrupted_run(signal: i32) -> (i32, String, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let play = dir.path().join("p.yml");
    std::fs::write(
        &play,
        r#"- hosts: localhost
  gather_facts: no
  tasks:
    - name: first
      copy: {content: "1\n", dest: "{{ root }}/first"}
      notify: handler
    - name: slow
      shell: sleep 2 && touch {{ root }}/slow-done
    - name: third
      copy: {content: "3\n", dest: "{{ root }}/third"}
  handlers:
    - name: handler
      copy: {content: "h\n", dest: "{{ root }}/handler"}
"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .args([
            "-e",
            &format!("root={}", dir.path().display()),
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = String::new();
    // Wait until the slow task has started, then signal.
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("\"task_start\"") && line.contains("\"slow\"") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, signal) };
    for line in lines {
        seen.push_str(&line.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    let root = dir.path().to_path_buf();
    (status.code().unwrap_or(-1), seen, root, dir)
}

#[test]
fn sigint_finishes_the_running_command_and_starts_nothing_new() {
    let (code, out, root, _dir) = interrupted_run(libc::SIGINT);
    assert_eq!(code, 130, "{out}");
    assert!(root.join("first").exists());
    assert!(
        root.join("slow-done").exists(),
        "the command in flight finished"
    );
    assert!(!root.join("third").exists(), "no new task started");
    assert!(!root.join("handler").exists(), "no handler ran");
    assert!(
        out.contains("\"event\":\"recap\""),
        "the recap was printed: {out}"
    );
}

#[test]
fn sigterm_exits_143() {
    let (code, out, root, _dir) = interrupted_run(libc::SIGTERM);
    assert_eq!(code, 143, "{out}");
    assert!(!root.join("third").exists());
    assert!(out.contains("\"event\":\"recap\""));
}
