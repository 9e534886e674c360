//! A real terminal run under tmux: the live progress view draws on a TTY and the final
//! screen holds the results and the recap, with no stray control sequences.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> std::process::Output {
    Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux is installed (apt-get install tmux)")
}

#[test]
fn progress_view_ends_with_a_clean_recap() {
    let dir = tempfile::tempdir().unwrap();
    let session = format!("drover-test-{}", std::process::id());
    let done = dir.path().join("done");
    let cmd = format!(
        "{} apply {} -e root={} --color always; echo $? > {}",
        env!("CARGO_BIN_EXE_drover"),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/basic/site.yml")
            .display(),
        dir.path().display(),
        done.display()
    );
    let start = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "50",
        "env",
        "-u",
        "CI",
        "TERM=xterm-256color",
        "sh",
        "-c",
        &format!("sleep 1; {cmd}; sleep 30"),
    ]);
    assert!(
        start.status.success(),
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
    // Record every byte drover writes to the terminal, to see the live view itself.
    let raw = dir.path().join("raw");
    tmux(&[
        "pipe-pane",
        "-o",
        "-t",
        &session,
        &format!("cat >> {}", raw.display()),
    ]);
    let t0 = Instant::now();
    while !done.exists() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let screen = tmux(&["capture-pane", "-p", "-t", &session]);
    let escaped = tmux(&["capture-pane", "-p", "-e", "-t", &session]);
    tmux(&["kill-session", "-t", &session]);
    let text = String::from_utf8_lossy(&screen.stdout).into_owned();
    assert_eq!(
        std::fs::read_to_string(&done).unwrap_or_default().trim(),
        "0",
        "{text}"
    );
    assert!(text.contains("PLAY [basic converge]"), "{text}");
    assert!(
        text.contains("changed: [localhost] write config from content"),
        "{text}"
    );
    assert!(text.contains("PLAY RECAP"), "{text}");
    assert!(
        text.contains("localhost                 : ok=14   changed=11"),
        "{text}"
    );
    assert!(
        !text.contains("hosts done"),
        "the progress bars were cleared: {text}"
    );
    let raw = String::from_utf8_lossy(&std::fs::read(&raw).unwrap_or_default()).into_owned();
    assert!(
        raw.contains("hosts done"),
        "the live progress view was drawn: {raw:?}"
    );
    let stray = regex::Regex::new(r"\x1b|\[[0-9;]*[A-HJKSTfmsu]\b|\?25[hl]").unwrap();
    assert!(
        !stray.is_match(&text),
        "stray control sequences on screen: {text}"
    );
    // With -e tmux keeps colours: the recap line is coloured, so colour really reached the TTY.
    assert!(
        String::from_utf8_lossy(&escaped.stdout).contains("\x1b["),
        "colours reach the terminal"
    );
}
