//! Write batching on real hosts: the writes of consecutive file tasks travel in one
//! command, yet every task reports exactly what it reports alone (`--no-batch-writes`),
//! a failing write fails its own task only, check mode predicts the apply, a run
//! killed in the middle of a batch leaves no partial file, and a batched write keeps the
//! ACLs and xattrs of the file it replaces and makes missing parents when asked.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;
use support::{delaying_proxy, hosts_dir, ssh};

fn write_play(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("p.yml");
    std::fs::write(&p, text).unwrap();
    p
}

struct Run {
    code: i32,
    /// task_result events without their timing.
    results: Vec<serde_json::Value>,
    round_trips: u64,
    text: String,
}

fn apply(hosts: &Path, play: &Path, host: &str, root: &str, extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(play)
        .arg("-i")
        .arg(hosts.join("inventory.yml"))
        .args(["--limit", host, "--format", "json", "-e"])
        .arg(format!("root={root}"))
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let events: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let results = events
        .iter()
        .filter(|e| e["event"] == "task_result")
        .cloned()
        .map(|mut e| {
            e.as_object_mut().unwrap().remove("duration_ms");
            e
        })
        .collect();
    let round_trips = events
        .iter()
        .find(|e| e["event"] == "recap")
        .and_then(|e| e["round_trips"].as_u64())
        .unwrap_or(0);
    Run {
        code: out.status.code().unwrap_or(-1),
        results,
        round_trips,
        text: format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// `(task, item, status)` of every result, in order.
fn outline(run: &Run) -> Vec<(String, String, String)> {
    run.results
        .iter()
        .map(|e| {
            (
                e["task"].as_str().unwrap_or_default().to_string(),
                e["item"].as_str().unwrap_or_default().to_string(),
                e["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every file under `root` on the host with its checksum (and modes), sorted.
fn tree(hosts: &Path, host: &str, root: &str) -> String {
    ssh(
        hosts,
        host,
        &format!("cd {root} && find . -printf '%p %y %m\\n' | sort && find . -type f -exec sha1sum {{}} + | sort"),
    )
}

fn fresh(hosts: &Path, host: &str, root: &str) {
    ssh(hosts, host, &format!("rm -rf {root} && mkdir -p {root}"));
}

const FAILING: &str = r#"- hosts: all
  gather_facts: no
  tasks:
    - name: first
      copy: {content: "one\n", dest: "{{ root }}/one", mode: "0600"}
    - name: a loop with a bad item
      copy: {content: "{{ item }}\n", dest: "{{ root }}/{{ item }}"}
      loop: [a, missing/b, c]
    - name: after the failure
      copy: {content: "two\n", dest: "{{ root }}/two"}
    - name: a command after it
      command: touch {{ root }}/ran
"#;

#[test]
fn a_failing_write_in_a_batch_fails_its_own_task_only() {
    let Some(hosts) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let play = write_play(tmp.path(), FAILING);
    let root = "/srv/drover-batch-fail";
    fresh(&hosts, "host1", root);
    let batched = apply(&hosts, &play, "host1", root, &[]);
    assert_eq!(batched.code, 2, "{}", batched.text);
    let s = |t: &str, i: &str, st: &str| (t.to_string(), i.to_string(), st.to_string());
    assert_eq!(
        outline(&batched),
        vec![
            s("first", "", "changed"),
            s("a loop with a bad item", "a", "changed"),
            s("a loop with a bad item", "missing/b", "failed"),
            // A loop goes on past a failed item, as Ansible's does.
            s("a loop with a bad item", "c", "changed"),
        ],
        "the later tasks did not run: {}",
        batched.text
    );
    let failed = &batched.results[2];
    assert!(
        failed["result"]["msg"]
            .as_str()
            .unwrap()
            .contains(&format!("directory {root}/missing does not exist")),
        "the failure is the item's own: {failed}"
    );
    let state = tree(&hosts, "host1", root);
    assert!(
        !state.contains("./two") && !state.contains("./ran"),
        "{state}"
    );
    assert!(
        state.contains("./one f 600") && state.contains("./c f"),
        "{state}"
    );
    // The lock with the reads, then one batch with every write.
    assert_eq!(batched.round_trips, 2, "{}", batched.text);

    // The same run without batching reports the same, to the byte, and leaves the same.
    fresh(&hosts, "host1", root);
    let alone = apply(&hosts, &play, "host1", root, &["--no-batch-writes"]);
    assert_eq!(alone.code, 2);
    assert_eq!(alone.results, batched.results);
    assert_eq!(tree(&hosts, "host1", root), state);
    assert!(alone.round_trips > batched.round_trips);
    ssh(&hosts, "host1", &format!("rm -rf {root}"));
}

const CONVERGE: &str = r#"- hosts: all
  gather_facts: no
  tasks:
    - name: directories
      file: {path: "{{ root }}/{{ item }}", state: directory, mode: "0750"}
      loop: [etc, etc/conf.d, var]
    - name: files
      copy:
        content: "{{ item }} on {{ inventory_hostname }}, {{ stage }}\n"
        dest: "{{ root }}/etc/conf.d/{{ item }}.conf"
        mode: "0640"
      loop: [a, b, c]
      notify: reload
    - name: lines in one file (each sees the one before)
      lineinfile: {path: "{{ root }}/etc/settings", regexp: "^{{ item.k }}=", line: "{{ item.k }}={{ item.v }}", create: yes}
      loop: [{k: port, v: "{{ stage }}"}, {k: host, v: "{{ stage }}"}]
    - name: a block in the same file
      blockinfile: {path: "{{ root }}/etc/block", block: "managed {{ stage }}", create: yes}
    - name: a mode change
      file: {path: "{{ root }}/etc/settings", mode: "{{ '0600' if stage == 'old' else '0644' }}"}
    - name: a command reads what the batch wrote
      command: cat {{ root }}/etc/settings
      register: settings
      changed_when: false
    - name: the command saw every write before it
      assert:
        that: settings.stdout_lines == ['port=' ~ stage, 'host=' ~ stage]
      when: not ansible_check_mode
    - name: a file after the command
      copy: {content: "last {{ stage }}\n", dest: "{{ root }}/var/last"}
  handlers:
    - name: reload
      file: {path: "{{ root }}/var/reloaded", state: touch}
"#;

#[test]
fn check_mode_predicts_the_batched_apply_and_batching_changes_no_result() {
    let Some(hosts) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let play = write_play(tmp.path(), CONVERGE);
    let root = "/srv/drover-batch-converge";
    let run = |extra: &[&str]| apply(&hosts, &play, "host2", root, extra);
    fresh(&hosts, "host2", root);
    let first = run(&["-e", "stage=old", "--diff"]);
    assert_eq!(first.code, 0, "{}", first.text);
    // Facts are off: the read batch (with the run lock); the writes up to the second
    // line of the same file (which reads what the first wrote), then the rest before
    // the command; the command; a read batch and the last file; the handler (its own
    // reads, as before).
    assert_eq!(first.round_trips, 9, "{}", first.text);
    let check = run(&["-e", "stage=new", "--check", "--diff"]);
    assert_eq!(check.code, 0, "{}", check.text);
    let applied = run(&["-e", "stage=new", "--diff"]);
    assert_eq!(applied.code, 0, "{}", applied.text);
    // Every task and item the check says changes, changes (and nothing else does); the
    // diffs are the same, but for the second line of a file the first line's item
    // edits (check mode does not make the first edit, so its "before" differs).
    let predicted = |r: &Run| -> Vec<(String, String, bool, serde_json::Value)> {
        r.results
            .iter()
            .filter(|e| e["module"] != "command" && e["module"] != "assert")
            .map(|e| {
                let same_file = e["task"].as_str().unwrap_or("").starts_with("lines");
                (
                    e["task"].as_str().unwrap_or_default().to_string(),
                    e["item"].to_string(),
                    e["changed"].as_bool().unwrap_or(false),
                    if same_file {
                        serde_json::Value::Null
                    } else {
                        e["diff"].clone()
                    },
                )
            })
            .collect()
    };
    assert_eq!(predicted(&check), predicted(&applied));
    assert!(applied.results.iter().any(|e| e["changed"] == true));
    let state = tree(&hosts, "host2", root);
    assert!(state.contains("./var/reloaded"), "the handler ran: {state}");

    // Without batching: the same results, to the byte, and the same files.
    fresh(&hosts, "host2", root);
    let alone_first = run(&["-e", "stage=old", "--diff", "--no-batch-writes"]);
    let alone = run(&["-e", "stage=new", "--diff", "--no-batch-writes"]);
    assert_eq!(alone.code, 0, "{}", alone.text);
    // Times differ between any two runs: a command's, and a touched file's (the
    // handler's result aside).
    let comparable = |r: &Run| -> Vec<serde_json::Value> {
        r.results
            .iter()
            .filter(|e| e["task"] != "reload")
            .cloned()
            .map(|mut e| {
                if let Some(r) = e["result"].as_object_mut() {
                    for k in ["start", "end", "delta"] {
                        r.remove(k);
                    }
                }
                e
            })
            .collect()
    };
    let same = |a: Vec<serde_json::Value>, b: Vec<serde_json::Value>| {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "\n{x}\n{y}");
        }
    };
    same(comparable(&alone_first), comparable(&first));
    same(comparable(&alone), comparable(&applied));
    assert_eq!(tree(&hosts, "host2", root), state);
    assert!(alone_first.round_trips > first.round_trips);

    // And the re-apply changes nothing.
    let again = run(&["-e", "stage=new"]);
    assert!(
        again.results.iter().all(|e| e["changed"] == false),
        "{}",
        again.text
    );
    ssh(&hosts, "host2", &format!("rm -rf {root}"));
}

/// An inventory with `host` behind a proxy that slows its traffic down.
fn slow_inventory(hosts: &Path, host: &str, dir: &Path) -> PathBuf {
    let inv = std::fs::read_to_string(hosts.join("inventory.yml")).unwrap();
    let at = inv.find(&format!("{host}:")).unwrap();
    let port: u16 = inv[at..]
        .lines()
        .find_map(|l| l.trim().strip_prefix("ansible_port:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let slow = delaying_proxy(port, std::time::Duration::from_millis(5));
    let known: String = std::fs::read_to_string(hosts.join("known_hosts"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(&format!("[127.0.0.1]:{port} ")))
        .map(|l| l.replace(&format!("]:{port} "), &format!("]:{slow} ")) + "\n")
        .collect();
    std::fs::write(dir.join("known_hosts"), known).unwrap();
    let p = dir.join("inv.yml");
    std::fs::write(
        &p,
        format!(
            "all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: root\n    ansible_ssh_private_key_file: {}\n    ansible_ssh_common_args: \"-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\"\n  hosts:\n    {host}:\n      ansible_port: {slow}\n",
            hosts.join("id_ed25519").display(),
            dir.join("known_hosts").display()
        ),
    )
    .unwrap();
    p
}

const FILES: usize = 24;
const SIZE: usize = 300 * 1024;

fn content(stage: &str, i: usize) -> String {
    let line = format!("{stage}-{i:02}\n");
    line.repeat(SIZE / line.len())
}

#[test]
fn a_run_killed_in_the_middle_of_a_batch_leaves_no_partial_file() {
    let Some(hosts) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = "/srv/drover-batch-kill";
    fresh(&hosts, "host3", root);
    // 24 files of 300 KiB: 7.2 MiB in batches of up to 1 MiB each, sent through a
    // slow link.
    let play = write_play(
        tmp.path(),
        &format!(
            "- hosts: all\n  gather_facts: no\n  tasks:\n\
             \x20   - copy:\n        content: \"{{{{ ('%s-%02d\\n' | format(stage, item)) * {} }}}}\"\n        dest: \"{root}/f{{{{ item }}}}\"\n\
             \x20     loop: \"{{{{ range({FILES}) | list }}}}\"\n\
             \x20   - command: touch {root}/after\n",
            SIZE / "new-00\n".len()
        ),
    );
    let inv = slow_inventory(&hosts, "host3", tmp.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .arg("-i")
        .arg(&inv)
        .args(["-e", "stage=new", "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the batch has written its first file, then kill drover outright.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let n: usize = ssh(
            &hosts,
            "host3",
            &format!("ls {root} | grep -c '^f' || true"),
        )
        .trim()
        .parse()
        .unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no file was ever written"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The host's shell reads the end of its stdin and stops; give it a moment.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let sums = ssh(
        &hosts,
        "host3",
        &format!(
            "cd {root} && for i in $(seq 0 {}); do [ -e f$i ] && sha1sum f$i || echo missing; done",
            FILES - 1
        ),
    );
    let mut written = 0;
    for (i, line) in sums.lines().enumerate() {
        if line == "missing" {
            continue;
        }
        use sha1::{Digest, Sha1};
        let want = hex::encode(Sha1::digest(content("new", i).as_bytes()));
        assert!(line.starts_with(&want), "f{i} is partial: {line}");
        written += 1;
    }
    assert!(
        (1..FILES).contains(&written),
        "caught in the middle of the batch: {written} of {FILES} files"
    );
    let left = ssh(&hosts, "host3", &format!("ls -A {root}"));
    assert!(!left.contains("after"), "nothing after the batch ran");
    eprintln!(
        "temp files left by the dead writer: {:?}",
        left.lines()
            .filter(|l| l.starts_with(".drover-tmp"))
            .count()
    );

    // The next run converges and removes any temp file the dead writer left.
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .arg("-i")
        .arg(hosts.join("inventory.yml"))
        .args(["--limit", "host3", "-e", "stage=new"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let left = ssh(&hosts, "host3", &format!("ls -A {root}"));
    assert_eq!(
        left.lines()
            .filter(|l| l.starts_with(".drover-tmp"))
            .count(),
        0,
        "{left}"
    );
    assert_eq!(
        left.lines().filter(|l| l.starts_with('f')).count(),
        FILES,
        "{left}"
    );
    ssh(&hosts, "host3", &format!("rm -rf {root}"));
}

#[test]
fn an_edit_after_a_refused_validation_starts_from_the_file_as_it_is() {
    let Some(hosts) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let play = write_play(
        tmp.path(),
        r#"- hosts: all
  gather_facts: no
  tasks:
    - name: edits of one existing file, the first refused by its validation
      lineinfile:
        path: "{{ root }}/conf"
        line: "{{ item }}"
        validate: "sh -c '! grep -q BAD %s'"
      loop: [BAD, good, also good]
    - name: after
      copy: {content: "x\n", dest: "{{ root }}/after"}
"#,
    );
    let root = "/srv/drover-batch-validate";
    let mut runs = Vec::new();
    for extra in [&[][..], &["--no-batch-writes"][..]] {
        fresh(&hosts, "host4", root);
        ssh(&hosts, "host4", &format!("printf 'first\\n' > {root}/conf"));
        let run = apply(&hosts, &play, "host4", root, extra);
        assert_eq!(run.code, 2, "{}", run.text);
        runs.push((run.results, tree(&hosts, "host4", root)));
    }
    assert_eq!(runs[0], runs[1], "batched and alone differ");
    assert_eq!(
        ssh(&hosts, "host4", &format!("cat {root}/conf")),
        "first\ngood\nalso good\n"
    );
    ssh(&hosts, "host4", &format!("rm -rf {root}"));
}

/// A user xattr on `path`, or `None` when the file system refuses user xattrs.
fn set_xattr(path: &Path, name: &str, value: &[u8]) -> Option<()> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings and a buffer of the given length.
    let rc = unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    (rc == 0).then_some(())
}

fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: NUL-terminated strings and a buffer of the given length.
    let rc = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (rc >= 0).then(|| {
        buf.truncate(rc as usize);
        buf
    })
}

#[test]
fn batched_writes_keep_the_replaced_files_acls_and_xattrs_and_make_parents() {
    // On the controller (ansible_connection: local), where the test can set and read
    // ACLs and xattrs; the writes are batched there as over SSH.
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("inv.yml");
    std::fs::write(
        &inv,
        "all:\n  hosts:\n    here:\n      ansible_connection: local\n",
    )
    .unwrap();
    let play = write_play(
        tmp.path(),
        "- hosts: all\n  gather_facts: no\n  tasks:\n\
         \x20   - copy: {content: \"new\\n\", dest: \"{{ root }}/kept\"}\n\
         \x20   - copy: {content: \"new\\n\", dest: \"{{ root }}/moded\", mode: \"0600\"}\n\
         \x20   - lineinfile: {path: \"{{ root }}/deep/er/settings\", line: \"a=1\", create: yes}\n\
         \x20   - blockinfile: {path: \"{{ root }}/other/dir/block\", block: \"b=2\", create: yes}\n",
    );
    let run = |root: &Path, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("apply")
            .arg(&play)
            .arg("-i")
            .arg(&inv)
            .args(["--format", "json", "-e"])
            .arg(format!("root={}", root.display()))
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{text}");
        let outline: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["event"] == "task_result")
            .map(|e| {
                (
                    e["task"].as_str().unwrap_or_default().to_string(),
                    e["status"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        outline
    };
    let mut outlines = Vec::new();
    for (name, extra) in [("batched", &[][..]), ("alone", &["--no-batch-writes"][..])] {
        let root = tmp.path().join(name);
        std::fs::create_dir(&root).unwrap();
        for f in ["kept", "moded"] {
            std::fs::write(root.join(f), "old\n").unwrap();
        }
        let xattrs = set_xattr(&root.join("kept"), "user.drover", b"kept").is_some();
        let acl = Command::new("setfacl")
            .args(["-m", "u:nobody:r"])
            .arg(root.join("kept"))
            .arg(root.join("moded"))
            .status()
            .is_ok_and(|s| s.success());
        outlines.push(run(&root, extra));
        for f in ["kept", "moded"] {
            assert_eq!(std::fs::read_to_string(root.join(f)).unwrap(), "new\n");
        }
        if xattrs {
            assert_eq!(
                get_xattr(&root.join("kept"), "user.drover").as_deref(),
                Some(&b"kept"[..]),
                "{name}: the xattr of the replaced file"
            );
        } else {
            eprintln!("{name}: no user xattrs on this file system, not checked");
        }
        if acl {
            for f in ["kept", "moded"] {
                let out = Command::new("getfacl")
                    .args(["-c"])
                    .arg(root.join(f))
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(
                    text.contains("user:nobody:r--"),
                    "{name}: the ACL of the replaced {f}: {text}"
                );
            }
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(root.join("moded"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: the given mode after the ACL");
        } else {
            eprintln!("{name}: no setfacl, ACLs not checked");
        }
        assert_eq!(
            std::fs::read_to_string(root.join("deep/er/settings")).unwrap(),
            "a=1\n"
        );
        assert!(std::fs::read_to_string(root.join("other/dir/block"))
            .unwrap()
            .contains("b=2\n"));
    }
    assert_eq!(
        outlines[0], outlines[1],
        "batched and alone report the same"
    );
    assert_eq!(outlines[0].len(), 4);
}
