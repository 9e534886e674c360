//! Writes on hosts are atomic: drover killed with SIGKILL, or a host killed outright
//! (sshd and every process on it), in the middle of writing many large files leaves every
//! destination with either its old or its new content, never a mix or a truncation; the
//! next run converges and removes the temp files a dead writer left behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod support;
use support::{base_port, hosts_dir, ssh};

const FILES: usize = 12;
/// Lines per file: ~1.7 MiB each, so a write takes long enough to be caught half-way.
const LINES: usize = 120_000;
const DIR: &str = "/srv/drover-atomic";

fn content(stage: &str, i: usize) -> String {
    format!("{stage}-{i:02}-payload\n").repeat(LINES)
}

fn sha256(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn playbook(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("big.yml");
    std::fs::write(
        &p,
        format!(
            "- hosts: host2:host4\n  gather_facts: no\n  tasks:\n\
             \x20   - file: {{path: {DIR}, state: directory}}\n\
             \x20   - name: big file\n      copy:\n\
             \x20       content: \"{{{{ ('%s-%02d-payload' | format(stage, item) ~ '\\n') * {LINES} }}}}\"\n\
             \x20       dest: \"{DIR}/f{{{{ item }}}}\"\n\
             \x20     loop: \"{{{{ range({FILES}) | list }}}}\"\n"
        ),
    )
    .unwrap();
    p
}

fn drover(play: &Path, hosts: &Path, stage: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
    c.arg("apply")
        .arg(play)
        .arg("-i")
        .arg(hosts.join("inventory.yml"))
        .args(["-e", &format!("stage={stage}"), "--format", "json"]);
    c
}

/// Start a run and call `at_third_change` once three files have been written on `host`
/// (so the next ones are being written); returns the exit code.
fn interrupted(
    mut cmd: Command,
    host: &str,
    at_third_change: impl FnOnce(&mut std::process::Child),
) -> Option<i32> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut changed = 0;
    let mut hook = Some(at_third_change);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(ev) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if ev["event"] == "task_result" && ev["host"] == host && ev["status"] == "changed" {
            changed += 1;
            if changed == 3 {
                if let Some(h) = hook.take() {
                    h(&mut child);
                }
            }
        }
    }
    assert!(
        hook.is_none(),
        "the run ended before three files were written on {host}"
    );
    child.wait().unwrap().code()
}

/// For each destination on `host`: which stage its content is, or a panic naming the
/// file when it is neither (a torn or truncated write).
fn stages_on(hosts: &Path, host: &str, stages: &[&str]) -> Vec<String> {
    let sums = ssh(hosts, host, &format!("cd {DIR} && for i in $(seq 0 {}); do sha256sum f$i 2>/dev/null || echo \"missing f$i\"; done", FILES - 1));
    sums.lines()
        .enumerate()
        .map(|(i, line)| {
            let sum = line.split_whitespace().next().unwrap_or_default();
            stages
                .iter()
                .find(|s| sha256(&content(s, i)) == sum)
                .map(|s| s.to_string())
                .unwrap_or_else(|| panic!("{host}:{DIR}/f{i} is neither old nor new: {line}"))
        })
        .collect()
}

fn leftovers(hosts: &Path, host: &str) -> String {
    ssh(hosts, host, &format!("find {DIR} -name '.drover-tmp*'"))
}

#[test]
fn killed_writers_leave_old_or_new_files_and_the_next_run_cleans_up() {
    let Some(hosts) = hosts_dir() else { return };
    for h in ["host2", "host4"] {
        ssh(&hosts, h, &format!("rm -rf {DIR}"));
    }
    let tmp = tempfile::tempdir().unwrap();
    let play = playbook(tmp.path());
    let out = drover(&play, &hosts, "old").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // 1. drover itself dies (SIGKILL) while files are being written.
    let code = interrupted(drover(&play, &hosts, "new"), "host2", |child| {
        child.kill().unwrap();
    });
    assert_eq!(code, None, "killed by a signal");
    for h in ["host2", "host4"] {
        let stages = stages_on(&hosts, h, &["old", "new"]);
        if h == "host2" {
            assert!(
                stages.contains(&"new".into()) && stages.contains(&"old".into()),
                "{h} was caught half-way: {stages:?}"
            );
        }
    }

    // 2. The host dies (sshd and every process on it, the writing shell included).
    let restart = |args: &[&str]| {
        let st = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/hosts/restart-host"
        ))
        .args(args)
        .env("DROVER_HOSTS_DIR", &hosts)
        .env("DROVER_HOSTS_BASE_PORT", base_port(&hosts).to_string())
        .status()
        .unwrap();
        assert!(st.success(), "restart-host {args:?}");
    };
    let code = interrupted(drover(&play, &hosts, "newer"), "host4", |_| {
        restart(&["4", "--stop"])
    });
    restart(&["4"]);
    assert_eq!(code, Some(4), "host4 reported unreachable");
    let after_crash = stages_on(&hosts, "host4", &["old", "new", "newer"]);
    eprintln!(
        "left by the dead writer on host4: {:?}",
        leftovers(&hosts, "host4")
    );
    assert!(after_crash.contains(&"newer".into()), "{after_crash:?}");
    // host2 was not touched by host4's death.
    assert_eq!(stages_on(&hosts, "host2", &["newer"]), vec!["newer"; FILES]);

    // 3. The next run converges both hosts and removes what dead writers left behind.
    let out = drover(&play, &hosts, "newer").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for h in ["host2", "host4"] {
        assert_eq!(
            stages_on(&hosts, h, &["newer"]),
            vec!["newer"; FILES],
            "{h}"
        );
        assert_eq!(leftovers(&hosts, h), "", "{h}: temp files left");
    }
    for h in ["host2", "host4"] {
        ssh(&hosts, h, &format!("rm -rf {DIR}"));
    }
}
