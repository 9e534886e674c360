//! Ansible's own integration targets as the compatibility gate. Each role-form target of
//! `tests/upstream/targets.txt` (from the ansible-core source distribution pinned in
//! `tests/requirements-ansible.txt`, unpacked by `.ci/run`) runs unchanged, the way
//! `ansible-test integration` runs a role target: a play on `testhost` with facts gathered
//! (unless the target's aliases say `gather_facts/no`), `output_dir` set, the target as its
//! one role, `ANSIBLE_ROLES_PATH` = the targets directory (so its `meta` dependencies,
//! `setup_*` and `prepare_*`, come from there too). The host is a fresh namespace test
//! host (`tests/hosts/up --python`, with the `acl` and `file` packages the targets use and
//! a tmpfs on `/tmp`), restarted on a pristine root for every target.
//!
//! The test FAILS when a target recorded as passing in `tests/upstream/baseline.json` no
//! longer passes under drover. By default only drover runs (the baseline holds
//! ansible-playbook's results); the report and the baseline are regenerated, with
//! ansible-playbook on a twin host, by:
//!
//! ```sh
//! DROVER_UPSTREAM_ANSIBLE=1 DROVER_UPSTREAM_UPDATE_BASELINE=1 cargo test --release --test upstream -- --nocapture
//! ```
//!
//! Without `DROVER_UPSTREAM_ANSIBLE=1`, `DROVER_UPSTREAM_UPDATE_BASELINE=1` records only
//! drover's side of the targets run, keeping Ansible's recorded one, and rewrites the report.
//!
//! Knobs: `DROVER_UPSTREAM_TARGETS=a,b` runs only those; `DROVER_UPSTREAM_SOURCE` is the
//! unpacked ansible-core source; `DROVER_UPSTREAM_HOSTS_DIR`/`_BASE_PORT` the test hosts;
//! `DROVER_SKIP_ANSIBLE_TESTS=1` skips the suite when the source is missing.

use serde_json::{json, Value as J};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ANSIBLE_VERSION: &str = "2.19.14";
/// Packages of the test hosts' image beyond the usual: `setfacl`/`getfacl` (lineinfile and
/// copy check ACLs) and `file` (stat's mimetype).
const EXTRA_PACKAGES: &str = "acl,file";

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/upstream")
}

fn targets_dir() -> Option<PathBuf> {
    let src = std::env::var_os("DROVER_UPSTREAM_SOURCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(format!(
                "/var/cache/drover-test/sdist/ansible_core-{ANSIBLE_VERSION}"
            ))
        });
    let t = src.join("test/integration/targets");
    t.is_dir().then_some(t)
}

/// One line of targets.txt.
struct Listed {
    name: String,
    skip: Option<String>,
}

/// The targets to run: all of targets.txt, or those `DROVER_UPSTREAM_TARGETS` names.
fn selected() -> Vec<Listed> {
    let only: Option<Vec<String>> = std::env::var("DROVER_UPSTREAM_TARGETS")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    listed()
        .into_iter()
        .filter(|t| only.as_ref().map_or(true, |o| o.contains(&t.name)))
        .collect()
}

/// Every target of targets.txt (the report lists them all, whichever were run).
fn listed() -> Vec<Listed> {
    let text = std::fs::read_to_string(suite_dir().join("targets.txt")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            Listed {
                name: name.to_string(),
                skip: rest
                    .trim()
                    .strip_prefix("skip:")
                    .map(|r| r.trim().to_string()),
            }
        })
        .collect()
}

/// A namespace test host this suite restarts on a pristine root for each target.
struct Host {
    state: PathBuf,
    index: u16,
    port: u16,
}

fn hosts_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hosts")
        .join(name)
}

fn hosts_env(c: &mut Command, state: &Path, base: u16) {
    c.env("DROVER_HOSTS_DIR", state)
        .env("DROVER_HOSTS_BASE_PORT", base.to_string())
        .env("DROVER_ROOTFS_EXTRA_PACKAGES", EXTRA_PACKAGES);
}

fn start_hosts(n: u16) -> Vec<Host> {
    let state = std::env::var_os("DROVER_UPSTREAM_HOSTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/drover-upstream-hosts"));
    let base: u16 = std::env::var("DROVER_UPSTREAM_HOSTS_BASE_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(22800);
    let mut c = Command::new(hosts_script("up"));
    c.arg(n.to_string()).arg("--python");
    hosts_env(&mut c, &state, base);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "cannot start the upstream test hosts (`tests/hosts/up {n} --python` as root, DROVER_HOSTS_DIR={}): {}",
        state.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    (1..=n)
        .map(|index| Host {
            state: state.clone(),
            index,
            port: base + index,
        })
        .collect()
}

impl Host {
    /// Restart on an empty overlay layer, mount a tmpfs on /tmp, where the targets'
    /// temporary directories go, and share `output_dir` and the targets with the controller.
    fn fresh(&self, output_dir: &Path, targets: &Path) {
        let mut c = Command::new(hosts_script("restart-host"));
        c.arg(self.index.to_string()).arg("--fresh");
        hosts_env(&mut c, &self.state, self.port - self.index);
        let out = c.output().unwrap();
        assert!(out.status.success(), "restart-host: {out:?}");
        // ansible-test's controller and target share a file system: `output_dir` and the
        // targets are the same directories on both (a target writes a file in output_dir
        // on the host and reads it back with a lookup on the controller; it stats its
        // role_path's files on the host). So the controller's directories are bound at
        // the same paths inside the host's mount namespace, where the machine's file
        // systems are still visible outside the host's root.
        let dir = self.state.join(format!("host{}", self.index));
        let pid = std::fs::read_to_string(dir.join("pid")).unwrap();
        let out = Command::new("nsenter")
            .args(["-t", pid.trim(), "-m", "sh", "-c"])
            .arg(r#"mount -t tmpfs -o mode=1777 tmpfs "$1/tmp" && root=$1 && shift && for d; do mkdir -p "$root$d" && mount --bind "$d" "$root$d" || exit; done"#)
            .arg("sh")
            .arg(dir.join("merged"))
            .arg(output_dir)
            .arg(targets)
            .output()
            .unwrap();
        assert!(out.status.success(), "mount /tmp and output_dir: {out:?}");
    }

    fn inventory(&self, dir: &Path) -> PathBuf {
        let p = dir.join("inventory.yml");
        let inv = json!({"all": {"hosts": {"testhost": {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": self.state.join("id_ed25519"),
            "ansible_ssh_common_args": format!("-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes", self.state.join("known_hosts").display()),
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_pipelining": true,
        }}}});
        std::fs::write(&p, serde_json::to_string_pretty(&inv).unwrap()).unwrap();
        p
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Ansible,
    Drover,
}

/// A target's row: its name, why it was skipped, drover's and ansible's outcomes.
type Row = (String, Option<String>, Option<Outcome>, Option<Outcome>);

/// What one tool did with one target.
#[derive(Default, Clone)]
struct Outcome {
    rc: i32,
    /// ok, changed, failed, skipped, rescued, ignored
    recap: Option<[u64; 6]>,
    /// The first task that failed and was not ignored or rescued, with its message; or
    /// the error that stopped the run before any task.
    first_failure: Option<String>,
    seconds: f64,
}

impl Outcome {
    fn passed(&self) -> bool {
        self.rc == 0 && self.recap.is_some_and(|r| r[2] == 0)
    }

    fn to_json(&self) -> J {
        json!({
            "rc": self.rc,
            "passed": self.passed(),
            "recap": self.recap.map(|r| json!({"ok": r[0], "changed": r[1], "failed": r[2], "skipped": r[3], "rescued": r[4], "ignored": r[5]})),
            "first_failure": self.first_failure,
        })
    }
}

fn run_target(tool: Tool, targets: &Path, name: &str, host: &Host, work: &Path) -> Outcome {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work.join("output")).unwrap();
    host.fresh(&work.join("output"), targets);
    let aliases = std::fs::read_to_string(targets.join(name).join("aliases")).unwrap_or_default();
    let gather = !aliases.contains("gather_facts/no");
    let play = json!([{
        "hosts": "testhost",
        "gather_facts": gather,
        "vars": {"output_dir": work.join("output")},
        "roles": [name],
    }]);
    std::fs::write(
        work.join("play.yml"),
        serde_json::to_string_pretty(&play).unwrap(),
    )
    .unwrap();
    let inv = host.inventory(work);
    let started = Instant::now();
    let mut c = match tool {
        Tool::Ansible => {
            let venv = std::env::var("DROVER_ANSIBLE_VENV")
                .unwrap_or_else(|_| "/var/cache/drover-test/venv".into());
            let mut c = Command::new(Path::new(&venv).join("bin/ansible-playbook"));
            c.env("ANSIBLE_NOCOLOR", "1")
                .env("ANSIBLE_FORCE_COLOR", "0");
            c
        }
        Tool::Drover => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
            c.arg("apply").args(["--format", "json"]);
            c
        }
    };
    c.arg("play.yml")
        .arg("-i")
        .arg(&inv)
        .current_dir(work)
        .env("ANSIBLE_ROLES_PATH", targets)
        .env("OUTPUT_DIR", work.join("output"));
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::write(work.join("stdout"), &stdout).unwrap();
    std::fs::write(work.join("stderr"), &stderr).unwrap();
    let mut o = Outcome {
        rc: out.status.code().unwrap_or(-1),
        seconds: started.elapsed().as_secs_f64(),
        ..Default::default()
    };
    match tool {
        Tool::Ansible => read_ansible(&stdout, &mut o),
        Tool::Drover => read_drover(&stdout, &stderr, &mut o),
    }
    if o.passed() {
        // Failures on the way were expected ones (rescued or ignored).
        o.first_failure = None;
    }
    o
}

fn read_drover(stdout: &str, stderr: &str, o: &mut Outcome) {
    for line in stdout.lines() {
        let Ok(e) = serde_json::from_str::<J>(line) else {
            continue;
        };
        match e["event"].as_str() {
            // The last failure is the one that stopped the run (earlier ones were rescued).
            Some("task_result" | "handler_result") if e["status"] == "failed" => {
                let msg = e["message"]
                    .as_str()
                    .or(e["result"]["msg"].as_str())
                    .unwrap_or_default();
                let assertion = e["result"]["assertion"]
                    .as_str()
                    .map(|a| format!(" (assertion: {a})"))
                    .unwrap_or_default();
                o.first_failure = Some(format!(
                    "{} ({}:{}): {}{assertion}",
                    e["task"].as_str().unwrap_or_default(),
                    short_path(e["file"].as_str().unwrap_or_default()),
                    e["line"],
                    first_line(msg)
                ));
            }
            Some("recap") => {
                let c = &e["hosts"]["testhost"];
                if c.is_object() {
                    o.recap = Some(recap_counts(|k| c[k].as_u64().unwrap_or(0)));
                }
            }
            _ => {}
        }
    }
    if o.first_failure.is_none() && o.rc != 0 {
        // Refused before the run: the located error is on stderr.
        let msg: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error") || l.trim_start().starts_with("-->"))
            .take(2)
            .collect();
        o.first_failure = Some(format!("before the run: {}", short_path(&msg.join(" "))));
    }
}

fn read_ansible(stdout: &str, o: &mut Outcome) {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut task = "";
    for (i, l) in lines.iter().enumerate() {
        if let Some(t) = l.strip_prefix("TASK [") {
            task = t.split(']').next().unwrap_or_default();
        }
        let failed = l.starts_with("fatal: [") || l.starts_with("failed: [");
        let next = lines[i + 1..].iter().take(40).find(|n| {
            n.starts_with("...ignoring") || n.starts_with("TASK [") || n.starts_with("PLAY RECAP")
        });
        if failed
            && o.first_failure.is_none()
            && next.is_some_and(|n| !n.starts_with("...ignoring"))
        {
            o.first_failure = Some(format!("{task}: {}", first_line(l)));
        }
        if let Some(rest) = l.strip_prefix("testhost") {
            let n = |k: &str| -> u64 {
                rest.split_whitespace()
                    .find_map(|w| w.strip_prefix(&format!("{k}=")))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            if rest.contains("ok=") {
                o.recap = Some(recap_counts(n));
            }
        }
    }
}

/// The recap as [`Outcome::recap`] holds it (an unreachable host counts as failed).
fn recap_counts(n: impl Fn(&str) -> u64) -> [u64; 6] {
    [
        n("ok"),
        n("changed"),
        n("failed") + n("unreachable"),
        n("skipped"),
        n("rescued"),
        n("ignored"),
    ]
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or_default();
    if l.chars().count() > 240 {
        format!("{}…", l.chars().take(240).collect::<String>())
    } else {
        l.to_string()
    }
}

/// Paths inside the ansible-core source shown relative to its targets directory.
fn short_path(s: &str) -> String {
    // Every absolute path into a targets tree (the source's or a run's copy) from the
    // target's name on.
    const MARK: &str = "/test/integration/targets/";
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(MARK) {
        let head = &rest[..i];
        let start = head
            .rfind(|c: char| c.is_whitespace() || "('\"".contains(c))
            .map_or(0, |p| p + 1);
        out.push_str(&head[..start]);
        rest = &rest[i + MARK.len()..];
    }
    out.push_str(rest);
    out
}

/// A fresh copy of the targets tree at `to` (24 MB: well under a second), whose path ends
/// as the source's does, so [`short_path`] shortens it alike.
fn fresh_copy(targets: &Path, to: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let st = Command::new("cp")
        .arg("-a")
        .arg(targets)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success(), "cp -a {} {}", targets.display(), to.display());
    to.to_path_buf()
}

fn baseline() -> BTreeMap<String, J> {
    std::fs::read_to_string(suite_dir().join("baseline.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn recap_cell(o: &Option<Outcome>) -> String {
    match o.as_ref().and_then(|o| o.recap) {
        Some(r) => format!("{} ok, {} changed, {} failed", r[0], r[1], r[2]),
        None => "—".into(),
    }
}

#[test]
fn upstream_targets() {
    let Some(targets) = targets_dir() else {
        if std::env::var("DROVER_SKIP_ANSIBLE_TESTS").as_deref() == Ok("1") {
            eprintln!("upstream: skipped (no ansible-core source; DROVER_SKIP_ANSIBLE_TESTS=1)");
            return;
        }
        panic!(
            "the ansible-core {ANSIBLE_VERSION} source is missing: `pip download --no-binary :all: --no-deps ansible-core=={ANSIBLE_VERSION}` and unpack it under /var/cache/drover-test/sdist (.ci/run does), or set DROVER_UPSTREAM_SOURCE"
        );
    };
    let with_ansible = std::env::var("DROVER_UPSTREAM_ANSIBLE").as_deref() == Ok("1");
    let hosts = start_hosts(if with_ansible { 2 } else { 1 });
    let work_root = std::env::temp_dir().join("drover-upstream-work");
    // Some targets write into their own directory (include_vars makes a symlink under its
    // role_path): each tool runs a fresh copy, so neither sees the other's, nor an earlier
    // run's, leftovers.
    let drover_targets = fresh_copy(&targets, &work_root.join("drover/test/integration/targets"));
    let ansible_targets = with_ansible.then(|| {
        fresh_copy(
            &targets,
            &work_root.join("ansible/test/integration/targets"),
        )
    });
    let base = baseline();
    let mut results: Vec<Row> = Vec::new();
    let mut regressions = Vec::new();
    for t in selected() {
        if let Some(reason) = &t.skip {
            results.push((t.name, Some(reason.clone()), None, None));
            continue;
        }
        let d = std::thread::scope(|s| {
            let ansible = with_ansible.then(|| {
                let h = &hosts[1];
                let targets = ansible_targets.as_deref().unwrap_or(&targets);
                let work = work_root.join(format!("ansible-{}", t.name));
                let name = &t.name;
                s.spawn(move || run_target(Tool::Ansible, targets, name, h, &work))
            });
            let d = run_target(
                Tool::Drover,
                &drover_targets,
                &t.name,
                &hosts[0],
                &work_root.join(format!("drover-{}", t.name)),
            );
            (d, ansible.map(|h| h.join().unwrap()))
        });
        let (drover, ansible) = d;
        let ansible = ansible.or_else(|| {
            base.get(&t.name).and_then(|b| {
                let a = &b["ansible"];
                a.is_object().then(|| Outcome {
                    rc: a["rc"].as_i64().unwrap_or(0) as i32,
                    recap: a["recap"].as_object().map(|r| {
                        let n = |k: &str| r.get(k).and_then(J::as_u64).unwrap_or(0);
                        [
                            n("ok"),
                            n("changed"),
                            n("failed"),
                            n("skipped"),
                            n("rescued"),
                            n("ignored"),
                        ]
                    }),
                    first_failure: a["first_failure"].as_str().map(str::to_string),
                    seconds: 0.0,
                })
            })
        });
        let was_passing = base
            .get(&t.name)
            .is_some_and(|b| b["drover"]["passed"] == true);
        eprintln!(
            "upstream: {:<20} drover {} ({}, {:.1}s){}",
            t.name,
            if drover.passed() { "passed" } else { "FAILED" },
            recap_cell(&Some(drover.clone())),
            drover.seconds,
            drover
                .first_failure
                .as_ref()
                .map(|f| format!(": {f}"))
                .unwrap_or_default()
        );
        if was_passing && !drover.passed() {
            regressions.push(format!(
                "{}: passed before, now fails: {} (work dir {})",
                t.name,
                drover.first_failure.clone().unwrap_or_default(),
                work_root.join(format!("drover-{}", t.name)).display()
            ));
        }
        results.push((t.name, None, Some(drover), ansible));
    }
    if std::env::var("DROVER_UPSTREAM_UPDATE_BASELINE").as_deref() == Ok("1") {
        let mut b = base.clone();
        for (name, skip, d, a) in &results {
            let entry = match skip {
                Some(r) => json!({"skipped": r}),
                None => json!({
                    "drover": d.as_ref().map(Outcome::to_json),
                    "ansible": a.as_ref().map(Outcome::to_json),
                }),
            };
            b.insert(name.clone(), entry);
        }
        std::fs::write(
            suite_dir().join("baseline.json"),
            serde_json::to_string_pretty(&b).unwrap() + "\n",
        )
        .unwrap();
        write_report(&b);
    }
    assert!(
        regressions.is_empty(),
        "upstream targets that passed now fail:\n{}",
        regressions.join("\n")
    );
}

/// `tests/upstream/REPORT.md`: one row per target, from the baseline.
fn write_report(b: &BTreeMap<String, J>) {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Ansible's integration targets under drover\n\nansible-core {ANSIBLE_VERSION}'s own `test/integration/targets`, run unchanged (see `tests/upstream.rs`), drover and ansible-playbook on twin fresh test hosts. Regenerate with:\n\n```sh\nDROVER_UPSTREAM_ANSIBLE=1 DROVER_UPSTREAM_UPDATE_BASELINE=1 cargo test --release --test upstream -- --nocapture\n```\n"
    );
    let (mut pass, mut run) = (0, 0);
    for t in listed() {
        if let Some(e) = b.get(&t.name) {
            if e["drover"].is_object() {
                run += 1;
                if e["drover"]["passed"] == true {
                    pass += 1;
                }
            }
        }
    }
    let _ = writeln!(md, "drover passes **{pass} of {run}** targets run.\n");
    md.push_str("| target | drover | drover recap | ansible-playbook | ansible recap | drover's first failure |\n|---|---|---|---|---|---|\n");
    let recap = |o: &J| -> String {
        let r = &o["recap"];
        if r.is_object() {
            format!(
                "{} ok, {} changed, {} failed",
                r["ok"], r["changed"], r["failed"]
            )
        } else {
            "—".into()
        }
    };
    let verdict = |o: &J| if o["passed"] == true { "pass" } else { "fail" };
    for t in listed() {
        let Some(e) = b.get(&t.name) else { continue };
        if let Some(r) = e["skipped"].as_str() {
            let _ = writeln!(md, "| {} | not run | | | | {} |", t.name, r);
            continue;
        }
        let (d, a) = (&e["drover"], &e["ansible"]);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            t.name,
            verdict(d),
            recap(d),
            if a.is_object() { verdict(a) } else { "—" },
            recap(a),
            d["first_failure"]
                .as_str()
                .unwrap_or("")
                .replace('|', "\\|")
        );
    }
    std::fs::write(suite_dir().join("REPORT.md"), md).unwrap();
}
