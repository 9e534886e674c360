//! The SSH transport end to end: the real `drover` binary (and, for the passphrase and
//! exec semantics, the library) against real OpenSSH servers from `tests/hosts`.
//!
//! Needs running test hosts: `tests/hosts/up 4` (state dir from `DROVER_TEST_HOSTS`,
//! default /tmp/drover-hosts). Without them every test here FAILS saying so; set
//! `DROVER_SKIP_SSH_TESTS=1` to skip them on purpose. The tests take turns (one lock):
//! some stop and restart host4. Every check of a host's state is made with an
//! independent `ssh`, never with drover.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static LOCK: Mutex<()> = Mutex::new(());

/// The running test hosts.
struct Hosts {
    dir: PathBuf,
    /// Port of host I is base_port + I.
    base_port: u16,
    _guard: MutexGuard<'static, ()>,
}

/// The hosts, or `None` when the tests are skipped on purpose.
fn hosts() -> Option<Hosts> {
    if std::env::var("DROVER_SKIP_SSH_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("DROVER_SKIP_SSH_TESTS=1: SSH transport test skipped");
        return None;
    }
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let dir = PathBuf::from(
        std::env::var("DROVER_TEST_HOSTS").unwrap_or_else(|_| "/tmp/drover-hosts".into()),
    );
    let inv = dir.join("inventory.yml");
    let text = std::fs::read_to_string(&inv).unwrap_or_else(|_| {
        panic!(
            "no test hosts: {} is missing. Start them with `tests/hosts/up 4` \
             (state dir from DROVER_TEST_HOSTS, default /tmp/drover-hosts), \
             or set DROVER_SKIP_SSH_TESTS=1 to skip the SSH tests",
            inv.display()
        )
    });
    let ports: Vec<u16> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ansible_port:"))
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    assert!(
        ports.len() >= 4,
        "{} has {} hosts; the SSH tests need 4: run `tests/hosts/up 4`",
        inv.display(),
        ports.len()
    );
    let h = Hosts {
        dir,
        base_port: ports[0] - 1,
        _guard: guard,
    };
    // A previous failed run may have left host4 stopped.
    if !h.alive(4) {
        h.harness("restart-host", &["4"]);
    }
    Some(h)
}

impl Hosts {
    fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }

    fn port(&self, i: u16) -> u16 {
        self.base_port + i
    }

    /// Run one of the harness scripts on this state dir.
    fn harness(&self, script: &str, args: &[&str]) {
        let out = Command::new(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/hosts")
                .join(script),
        )
        .args(args)
        .env("DROVER_HOSTS_DIR", &self.dir)
        .env("DROVER_HOSTS_BASE_PORT", self.base_port.to_string())
        .output()
        .expect("run the tests/hosts harness");
        assert!(
            out.status.success(),
            "tests/hosts/{script} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn alive(&self, i: u16) -> bool {
        std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], self.port(i)).into(),
            Duration::from_secs(2),
        )
        .is_ok()
    }

    /// Run `cmd` on host I with the system's ssh client (as root unless `user`).
    fn ssh_as(&self, i: u16, user: &str, cmd: &str) -> Output {
        Command::new("ssh")
            .arg("-F")
            .arg(self.path("ssh_config"))
            .args(["-o", "BatchMode=yes", "-l", user])
            .arg(format!("host{i}"))
            .arg(cmd)
            .output()
            .expect("run ssh")
    }

    fn ssh(&self, i: u16, cmd: &str) -> String {
        let out = self.ssh_as(i, "root", cmd);
        assert!(
            out.status.success(),
            "ssh host{i} {cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Paths, types, modes, owners, link targets and sha256 of everything under `root`.
    fn snapshot(&self, i: u16, root: &str) -> String {
        self.ssh(
            i,
            &format!(
                "cd {root} 2>/dev/null || exit 0; \
                 find . -printf '%p|%y|%m|%u|%g|%l\\n' | LC_ALL=C sort; \
                 find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum"
            ),
        )
    }

    /// `drover apply` with the harness's ssh_config and known_hosts unless `args` say
    /// otherwise, JSON output.
    fn drover(&self, playbook: &Path, inventory: &Path, args: &[&str]) -> Run {
        let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
        c.arg("apply").arg(playbook).arg("-i").arg(inventory);
        c.args(["--format", "json"]);
        if !args.contains(&"-F") {
            c.arg("-F").arg(self.path("ssh_config"));
        }
        if !args.contains(&"--known-hosts") {
            c.arg("--known-hosts").arg(self.path("known_hosts"));
        }
        c.args(args);
        let started = Instant::now();
        let out = c.output().expect("run drover");
        Run {
            out,
            elapsed: started.elapsed(),
        }
    }

    /// Number of SSH logins host I's sshd accepted so far.
    fn logins(&self, i: u16) -> usize {
        std::fs::read_to_string(self.path(&format!("host{i}/log")))
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    }

    /// An inventory with hosts `ids` as the harness writes them, plus `extra` YAML
    /// lines for each host.
    fn inventory(&self, dir: &Path, ids: &[u16], extra: &str) -> PathBuf {
        let mut s = String::from("all:\n  children:\n    testhosts:\n      hosts:\n");
        for i in ids {
            s.push_str(&format!(
                "        host{i}:\n          ansible_host: 127.0.0.1\n          ansible_port: {}\n          \
                 ansible_user: root\n          ansible_ssh_private_key_file: {}\n",
                self.port(*i),
                self.path("id_ed25519").display()
            ));
            for l in extra.lines() {
                s.push_str(&format!("          {l}\n"));
            }
        }
        let p = dir.join("inventory.yml");
        std::fs::write(&p, s).unwrap();
        p
    }

    /// The known_hosts lines of host I (as the harness recorded them).
    fn known_lines(&self, i: u16) -> Vec<String> {
        let prefix = format!("[127.0.0.1]:{} ", self.port(i));
        std::fs::read_to_string(self.path("known_hosts"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(str::to_string)
            .collect()
    }
}

/// Brings host I back up when a test that stopped it ends, even by a panic.
struct Restart<'a>(&'a Hosts, u16);

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        if !self.0.alive(self.1) {
            self.0.harness("restart-host", &[&self.1.to_string()]);
        }
    }
}

struct Run {
    out: Output,
    elapsed: Duration,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    fn text(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&self.out.stdout),
            String::from_utf8_lossy(&self.out.stderr)
        )
    }

    fn events(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn recap(&self) -> serde_json::Value {
        self.events()
            .into_iter()
            .find(|e| e["event"] == "recap")
            .unwrap_or_else(|| panic!("no recap event:\n{}", self.text()))
    }

    fn host(&self, h: &str) -> serde_json::Value {
        self.recap()["hosts"][h].clone()
    }

    /// The message of host `h`'s unreachable event.
    fn unreachable_msg(&self, h: &str) -> String {
        self.events()
            .into_iter()
            .find(|e| e["host"] == h && e["status"] == "unreachable")
            .map(|e| e["result"]["msg"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{h} was not unreachable:\n{}", self.text()))
    }

    fn results(&self, h: &str, task: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == "task_result" && e["host"] == h && e["task"] == task)
            .map(|e| e["result"].clone())
            .collect()
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn sha256_fingerprint(known_hosts_line: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "k", &format!("{known_hosts_line}\n"));
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(&f)
        .output()
        .expect("ssh-keygen");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("ssh-keygen -l: {text}"))
        .to_string()
}

/// The basic fixture, adapted to the test hosts (group `testhosts`, any host name).
fn basic_fixture(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
    let site = std::fs::read_to_string(src.join("site.yml"))
        .unwrap()
        .replace("hosts: all", "hosts: testhosts")
        .replace(
            "inventory_hostname == 'localhost'",
            "inventory_hostname in groups['testhosts']",
        );
    for sub in ["files", "templates"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join(sub).join(e.file_name())).unwrap();
        }
    }
    write(dir, "site.yml", &site)
}

#[test]
fn basic_fixture_converges_over_ssh_on_three_hosts() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let pb = basic_fixture(tmp.path());
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    let root = "/srv/drover-test/basic";
    for i in 1..=3 {
        h.ssh(i, &format!("rm -rf {root}"));
    }
    let logins: Vec<usize> = (1..=3).map(|i| h.logins(i)).collect();
    let root_arg = format!("root={root}");
    let first = h.drover(&pb, &inv, &["-e", &root_arg]);
    assert_eq!(first.code(), Some(0), "{}", first.text());
    for i in 1..=3u16 {
        let r = first.host(&format!("host{i}"));
        assert_eq!(r["changed"], 11, "host{i}: {r}");
        assert_eq!(r["failed"], 0);
        // One SSH connection per host for the whole play.
        assert_eq!(h.logins(i), logins[i as usize - 1] + 1, "host{i} logins");
        assert_eq!(
            h.ssh(i, &format!("cat {root}/etc/app/app.conf")),
            "greeting=hello\n"
        );
        assert_eq!(
            h.ssh(i, &format!("cat {root}/etc/app/motd")),
            format!("line one\nline two\nhost=host{i}\n")
        );
        assert_eq!(
            h.ssh(i, &format!("cat {root}/etc/app/extra.conf")),
            "port=8080\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=2\n# END ANSIBLE MANAGED BLOCK\n"
        );
        assert_eq!(
            h.ssh(i, &format!("readlink {root}/etc/app/current.conf")),
            format!("{root}/etc/app/app.conf\n")
        );
        assert_eq!(
            h.ssh(i, &format!("cat {root}/etc/app/seed.conf")),
            "listen=127.0.0.1:8080\n"
        );
        h.ssh(i, &format!("test -f {root}/reloaded && test -f {root}/marker && test -f {root}/etc/app/hello.txt"));
    }
    let round_trips = first.recap()["round_trips"].as_u64().unwrap_or(0);
    assert!(
        round_trips > 0,
        "round trips in the recap: {}",
        first.recap()
    );

    // Second run: nothing changes, on the hosts either.
    let before: Vec<String> = (1..=3).map(|i| h.snapshot(i, root)).collect();
    let second = h.drover(&pb, &inv, &["-e", &root_arg]);
    assert_eq!(second.code(), Some(0), "{}", second.text());
    for i in 1..=3u16 {
        assert_eq!(
            second.host(&format!("host{i}"))["changed"],
            0,
            "{}",
            second.text()
        );
        assert_eq!(
            h.snapshot(i, root),
            before[i as usize - 1],
            "host{i} changed on a no-op run"
        );
    }
    let per_host = second.recap()["round_trips"].as_u64().unwrap_or(0) / 3;
    eprintln!(
        "no-op run of the basic fixture over 3 hosts: {:?}, {per_host} round trips per host",
        second.elapsed
    );

    // Drift, then --check: reported, not repaired.
    for i in 1..=3 {
        h.ssh(
            i,
            &format!("rm {root}/etc/app/app.conf; echo drift > {root}/etc/app/motd"),
        );
    }
    let drifted: Vec<String> = (1..=3).map(|i| h.snapshot(i, root)).collect();
    let check = h.drover(&pb, &inv, &["-e", &root_arg, "--check"]);
    assert_eq!(check.code(), Some(0), "{}", check.text());
    for i in 1..=3u16 {
        let changed = check.host(&format!("host{i}"))["changed"]
            .as_u64()
            .unwrap_or(0);
        assert!(
            changed >= 2,
            "check mode saw the drift on host{i}: {}",
            check.text()
        );
        assert_eq!(
            h.snapshot(i, root),
            drifted[i as usize - 1],
            "--check wrote to host{i}"
        );
    }
}

#[test]
fn become_as_deploy_leaves_root_owned_files() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    // The inventory's user is root; this play logs in as deploy.
    let inv_text = std::fs::read_to_string(&inv)
        .unwrap()
        .replace("ansible_user: root", "ansible_user: deploy");
    std::fs::write(&inv, inv_text).unwrap();
    let root = "/srv/drover-test/become";
    for i in 1..=3 {
        h.ssh(i, &format!("rm -rf {root}"));
    }
    let pb = write(
        tmp.path(),
        "become.yml",
        &format!(
            "- hosts: testhosts\n  gather_facts: no\n  become: yes\n  tasks:\n\
             \x20   - file: {{path: {root}/conf.d, state: directory, mode: '0750'}}\n\
             \x20   - copy: {{content: \"secret=1\\n\", dest: {root}/conf.d/app.conf, mode: '0600'}}\n\
             \x20   - command: id -un\n      register: as_root\n\
             \x20   - command: id -un\n      become: no\n      register: as_login\n\
             \x20   - assert:\n        that: [\"as_root.stdout == 'root'\", \"as_login.stdout == 'deploy'\"]\n"
        ),
    );
    let run = h.drover(&pb, &inv, &[]);
    assert_eq!(run.code(), Some(0), "{}", run.text());
    for i in 1..=3 {
        assert_eq!(
            h.ssh(
                i,
                &format!("stat -c '%U:%G %a' {root}/conf.d {root}/conf.d/app.conf")
            ),
            "root:root 750\nroot:root 600\n"
        );
        assert_eq!(
            h.ssh(i, &format!("cat {root}/conf.d/app.conf")),
            "secret=1\n"
        );
        // No temp files left behind.
        assert_eq!(h.ssh(i, &format!("find {root} -name '.drover-tmp*'")), "");
    }
}

#[test]
fn closed_port_is_unreachable_and_the_others_finish() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    let mut text = std::fs::read_to_string(&inv).unwrap();
    text.push_str(&format!(
        "        ghost:\n          ansible_host: 127.0.0.1\n          ansible_port: {closed}\n"
    ));
    std::fs::write(&inv, text).unwrap();
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: testhosts\n  gather_facts: no\n  tasks:\n    - command: hostname\n",
    );
    let run = h.drover(&pb, &inv, &["--retries", "2"]);
    assert_eq!(run.code(), Some(4), "{}", run.text());
    let msg = run.unreachable_msg("ghost");
    assert!(msg.contains("connection refused"), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{closed}")), "{msg}");
    assert!(msg.contains("after 3 attempts"), "{msg}");
    // 200 ms + 400 ms of backoff, and not much more.
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    for i in 1..=3 {
        let r = run.host(&format!("host{i}"));
        assert_eq!(
            (r["changed"].as_u64(), r["unreachable"].as_u64()),
            (Some(1), Some(0)),
            "{r}"
        );
    }
}

#[test]
fn handshake_timeout_does_not_hang() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Accepts TCP, never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming().take(4) {
            held.push(c);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let inv = write(
        tmp.path(),
        "inv.yml",
        &format!("all:\n  hosts:\n    mute:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"),
    );
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: all\n  gather_facts: no\n  tasks:\n    - ping:\n",
    );
    let run = h.drover(&pb, &inv, &["--timeout", "1", "--retries", "1"]);
    assert_eq!(run.code(), Some(4), "{}", run.text());
    let msg = run.unreachable_msg("mute");
    assert!(msg.contains("SSH handshake with mute"), "{msg}");
    assert!(msg.contains("failed"), "{msg}");
    assert!(
        run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn changed_host_key_is_refused_in_every_mode() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    // host2's records replaced by another (freshly made) key of each type.
    let mut kh = String::new();
    let host2 = format!("[127.0.0.1]:{}", h.port(2));
    for line in std::fs::read_to_string(h.path("known_hosts"))
        .unwrap()
        .lines()
    {
        if line.starts_with(&format!("{host2} ")) {
            let ktype = line.split_whitespace().nth(1).unwrap();
            let t = match ktype {
                "ssh-ed25519" => "ed25519",
                "ssh-rsa" => "rsa",
                _ => "ecdsa",
            };
            let key = tmp.path().join(format!("fake_{t}"));
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", t, "-N", "", "-f"])
                .arg(&key)
                .status()
                .unwrap();
            assert!(ok.success());
            let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
            let mut f = public.split_whitespace();
            kh.push_str(&format!(
                "{host2} {} {}\n",
                f.next().unwrap(),
                f.next().unwrap()
            ));
        } else {
            kh.push_str(line);
            kh.push('\n');
        }
    }
    let kh_path = write(tmp.path(), "known_hosts", &kh);
    let real_fp = sha256_fingerprint(
        h.known_lines(2)
            .iter()
            .find(|l| l.contains("ssh-ed25519"))
            .expect("host2 has an ed25519 key on record"),
    );
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: testhosts\n  gather_facts: no\n  tasks:\n    - command: hostname\n",
    );
    for mode in ["strict", "accept-new", "off"] {
        let run = h.drover(
            &pb,
            &inv,
            &[
                "--known-hosts",
                kh_path.to_str().unwrap(),
                "--host-key-checking",
                mode,
            ],
        );
        assert_eq!(run.code(), Some(4), "{mode}: {}", run.text());
        let msg = run.unreachable_msg("host2");
        assert!(msg.contains("HOST KEY CHANGED for host2"), "{mode}: {msg}");
        assert!(msg.contains(&real_fp), "{mode}: {msg} lacks {real_fp}");
        assert!(msg.contains(kh_path.to_str().unwrap()), "{mode}: {msg}");
        assert_eq!(run.host("host1")["changed"], 1, "{mode}");
        assert_eq!(run.host("host3")["changed"], 1, "{mode}");
        assert_eq!(
            std::fs::read_to_string(&kh_path).unwrap(),
            kh,
            "{mode} wrote known_hosts"
        );
    }
}

#[test]
fn unknown_host_key_strict_refuses_accept_new_records() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    // host3 missing from the file.
    let host3 = format!("[127.0.0.1]:{} ", h.port(3));
    let kh: String = std::fs::read_to_string(h.path("known_hosts"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(&host3))
        .map(|l| format!("{l}\n"))
        .collect();
    let kh_path = write(tmp.path(), "known_hosts", &kh);
    let khs = kh_path.to_str().unwrap();
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: testhosts\n  gather_facts: no\n  tasks:\n    - command: hostname\n",
    );
    let fp = sha256_fingerprint(
        h.known_lines(3)
            .iter()
            .find(|l| l.contains("ssh-ed25519"))
            .expect("host3's ed25519 key"),
    );
    let strict = h.drover(&pb, &inv, &["--known-hosts", khs]);
    assert_eq!(strict.code(), Some(4), "{}", strict.text());
    let msg = strict.unreachable_msg("host3");
    assert!(msg.contains("host key for host3"), "{msg}");
    assert!(msg.contains("is not known"), "{msg}");
    assert!(msg.contains(&format!("ssh-ed25519 {fp}")), "{msg}");
    assert!(msg.contains(khs), "{msg}");
    assert!(strict.text().contains("accept-new") || msg.contains("is not known"));
    assert_eq!(
        std::fs::read_to_string(&kh_path).unwrap(),
        kh,
        "strict wrote known_hosts"
    );

    let accept = h.drover(
        &pb,
        &inv,
        &["--known-hosts", khs, "--host-key-checking", "accept-new"],
    );
    assert_eq!(accept.code(), Some(0), "{}", accept.text());
    // Recorded: ssh-keygen finds it, and a strict run now passes.
    let found = Command::new("ssh-keygen")
        .args(["-F", host3.trim(), "-f", khs])
        .output()
        .unwrap();
    assert!(found.status.success(), "{} not recorded", host3.trim());
    let again = h.drover(&pb, &inv, &["--known-hosts", khs]);
    assert_eq!(again.code(), Some(0), "{}", again.text());
    // Recorded once, not on every run.
    let lines = std::fs::read_to_string(&kh_path).unwrap().lines().count();
    assert_eq!(lines, kh.lines().count() + 1);
}

#[test]
fn wrong_private_key_is_an_authentication_failure() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let wrong = tmp.path().join("wrong_key");
    assert!(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&wrong)
        .status()
        .unwrap()
        .success());
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    let text = std::fs::read_to_string(&inv).unwrap();
    // Only host1 gets the wrong key.
    let good = format!(
        "ansible_ssh_private_key_file: {}",
        h.path("id_ed25519").display()
    );
    let text = text.replacen(
        &good,
        &format!("ansible_ssh_private_key_file: {}", wrong.display()),
        1,
    );
    std::fs::write(&inv, text).unwrap();
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: testhosts\n  gather_facts: no\n  tasks:\n    - ping:\n",
    );
    let run = h.drover(&pb, &inv, &["--retries", "3"]);
    assert_eq!(run.code(), Some(4), "{}", run.text());
    let msg = run.unreachable_msg("host1");
    assert!(
        msg.contains("authentication failed for root@host1"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("key {} (rejected)", wrong.display())),
        "{msg}"
    );
    assert!(
        !msg.contains("attempts"),
        "auth failures are not retried: {msg}"
    );
    assert_eq!(run.host("host2")["unreachable"], 0);
}

#[test]
fn proxy_jump_through_host1_and_a_chain() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // A name only the jump hosts can resolve: the connection must go through them.
    let alias = "drover-jump-only";
    assert!(
        std::net::ToSocketAddrs::to_socket_addrs(&(alias, 22)).is_err(),
        "{alias} must not resolve on the controller"
    );
    for i in 1..=2 {
        h.ssh(
            i,
            &format!("grep -q ' {alias}$' /etc/hosts || echo '127.0.0.1 {alias}' >> /etc/hosts"),
        );
    }
    let key = h.path("id_ed25519");
    let mut cfg = std::fs::read_to_string(h.path("ssh_config")).unwrap();
    for (name, i, jump) in [("jumped2", 2, "host1"), ("jumped3", 3, "host1,host2")] {
        cfg.push_str(&format!(
            "\nHost {name}\n  HostName {alias}\n  Port {}\n  User root\n  IdentityFile {}\n  \
             IdentitiesOnly yes\n  ProxyJump {jump}\n",
            h.port(i),
            key.display()
        ));
    }
    let cfg_path = write(tmp.path(), "ssh_config", &cfg);
    let mut kh = std::fs::read_to_string(h.path("known_hosts")).unwrap();
    for i in [2, 3] {
        for l in h.known_lines(i) {
            kh.push_str(&l.replace("[127.0.0.1]", &format!("[{alias}]")));
            kh.push('\n');
        }
    }
    let kh_path = write(tmp.path(), "known_hosts", &kh);
    let inv = write(
        tmp.path(),
        "inv.yml",
        "all:\n  hosts:\n    jumped2:\n    jumped3:\n",
    );
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: all\n  gather_facts: yes\n  tasks:\n    - command: hostname\n      register: hn\n\
         \x20   - copy: {content: \"via jump\\n\", dest: /srv/drover-test-jump}\n",
    );
    let run = h.drover(
        &pb,
        &inv,
        &[
            "-F",
            cfg_path.to_str().unwrap(),
            "--known-hosts",
            kh_path.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code(), Some(0), "{}", run.text());
    for (name, i) in [("jumped2", 2), ("jumped3", 3)] {
        let r = run.results(name, "command");
        assert_eq!(r[0]["stdout"], format!("host{i}"), "{}", run.text());
        assert_eq!(h.ssh(i, "cat /srv/drover-test-jump"), "via jump\n");
    }
}

#[test]
fn sshd_killed_mid_run_fails_that_host_cleanly() {
    let Some(h) = hosts() else { return };
    let _restart = Restart(&h, 4);
    let tmp = tempfile::tempdir().unwrap();
    let root = "/srv/drover-test/midrun";
    for i in 1..=4 {
        h.ssh(i, &format!("rm -rf {root} && mkdir -p {root}"));
    }
    let inv = h.inventory(tmp.path(), &[1, 2, 3, 4], "");
    let big = "x".repeat(2 << 20);
    write(tmp.path(), "big.txt", &big);
    let pb = write(
        tmp.path(),
        "p.yml",
        &format!(
            "- hosts: testhosts\n  gather_facts: no\n  tasks:\n    - command: sleep 5\n\
             \x20   - copy: {{src: big.txt, dest: {root}/big.txt}}\n"
        ),
    );
    let killer = {
        let dir = h.dir.clone();
        let base = h.base_port;
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts/restart-host"))
                .args(["4", "--stop"])
                .env("DROVER_HOSTS_DIR", dir)
                .env("DROVER_HOSTS_BASE_PORT", base.to_string())
                .output()
        })
    };
    let run = h.drover(&pb, &inv, &[]);
    let killed = killer.join().unwrap().unwrap();
    assert!(
        killed.status.success(),
        "{}",
        String::from_utf8_lossy(&killed.stderr)
    );
    assert_eq!(run.code(), Some(4), "{}", run.text());
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
    let msg = run.unreachable_msg("host4");
    assert!(msg.contains("connection to host4 lost"), "{msg}");
    for i in 1..=3 {
        assert_eq!(
            run.host(&format!("host{i}"))["changed"],
            2,
            "{}",
            run.text()
        );
        assert_eq!(
            h.ssh(i, &format!("wc -c < {root}/big.txt")).trim(),
            (2 << 20).to_string()
        );
    }

    // While it is down: refused, quickly, others fine.
    let down = h.drover(&pb, &inv, &["--limit", "host4", "--retries", "1"]);
    assert_eq!(down.code(), Some(4));
    assert!(down.unreachable_msg("host4").contains("connection refused"));

    // Back up: nothing half written.
    h.harness("restart-host", &["4"]);
    assert_eq!(
        h.ssh(4, &format!("ls -A {root}")),
        "",
        "partial files on host4"
    );
}

#[test]
fn a_frozen_server_is_detected_by_keepalives() {
    let Some(h) = hosts() else { return };
    let _restart = Restart(&h, 4);
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = String::from("Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n");
    cfg.push_str(&std::fs::read_to_string(h.path("ssh_config")).unwrap());
    let cfg_path = write(tmp.path(), "ssh_config", &cfg);
    let inv = write(
        tmp.path(),
        "inv.yml",
        "all:\n  children:\n    testhosts:\n      hosts:\n        host4:\n",
    );
    // The command stops its own sshd session process: the TCP connection stays open but
    // nothing answers any more.
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: testhosts\n  gather_facts: no\n  tasks:\n    - shell: kill -STOP $PPID; sleep 60\n",
    );
    let run = h.drover(&pb, &inv, &["-F", cfg_path.to_str().unwrap()]);
    assert_eq!(run.code(), Some(4), "{}", run.text());
    let msg = run.unreachable_msg("host4");
    assert!(msg.contains("connection to host4 lost"), "{msg}");
    assert!(msg.contains("no answer from the server for 2s"), "{msg}");
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
    h.harness("restart-host", &["4"]);
}

#[test]
fn hostile_file_names_reach_the_host_literally() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let base = "/srv/drover-test/hostile";
    let names = [
        "sp ace",
        "quo'te",
        "dq\"uote",
        "$(touch canary)",
        "`touch canary`",
        "new\nline",
        "-leading-dash",
        "semi;colon&amp|pipe>gt",
        "*glob?",
        "back\\slash",
        "$(touch /tmp/canary)",
    ];
    for i in 1..=3 {
        h.ssh(i, &format!("rm -rf {base} /tmp/canary ~/canary"));
    }
    let list: Vec<String> = names
        .iter()
        .map(|n| serde_json::to_string(n).unwrap())
        .collect();
    let mut pb = format!(
        "- hosts: testhosts\n  gather_facts: no\n  vars:\n    base: {base}\n    names: [{}]\n  tasks:\n",
        list.join(", ")
    );
    for m in ["copy", "file", "lineinfile"] {
        // "$(touch /tmp/canary)" is a path: its directories first.
        pb.push_str(&format!(
            "    - file: {{path: \"{{{{ base }}}}/{m}/$(touch /tmp\", state: directory}}\n"
        ));
    }
    pb.push_str(
        "    - copy: {content: \"x\\n\", dest: \"{{ base }}/copy/{{ item }}\"}\n      loop: \"{{ names }}\"\n\
         \x20   - file: {path: \"{{ base }}/file/{{ item }}\", state: touch}\n      loop: \"{{ names }}\"\n\
         \x20   - lineinfile: {path: \"{{ base }}/lineinfile/{{ item }}\", line: \"{{ item }}\", create: yes}\n      loop: \"{{ names }}\"\n",
    );
    let pb = write(tmp.path(), "p.yml", &pb);
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    let run = h.drover(&pb, &inv, &[]);
    assert_eq!(run.code(), Some(0), "{}", run.text());
    let mut expected: Vec<String> = Vec::new();
    for m in ["copy", "file", "lineinfile"] {
        expected.push(format!("./{m}"));
        expected.push(format!("./{m}/$(touch "));
        expected.push(format!("./{m}/$(touch /tmp"));
        for n in names {
            expected.push(format!("./{m}/{n}"));
        }
    }
    expected.sort();
    expected.insert(0, ".".into());
    for i in 1..=3 {
        let listing = h.ssh(i, &format!("cd {base} && find . -print0"));
        let mut got: Vec<String> = listing
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        got.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(got, want, "host{i}");
        // lineinfile wrote the name itself as the line.
        assert_eq!(
            h.ssh(i, &format!("cat {base}/lineinfile/-leading-dash")),
            "-leading-dash\n"
        );
        assert_eq!(
            h.ssh(i, "ls /tmp/canary ~/canary 2>/dev/null; echo end"),
            "end\n",
            "a canary appeared on host{i}"
        );
    }
}

#[test]
fn large_output_on_both_streams_and_large_input() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut data = Vec::with_capacity(3 << 20);
    let mut x: u32 = 12345;
    while data.len() < 3 << 20 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        data.push((x >> 16) as u8);
    }
    std::fs::write(tmp.path().join("blob.bin"), &data).unwrap();
    let sum = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&data))
    };
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: testhosts\n  gather_facts: no\n  tasks:\n\
         \x20   - shell: \"i=0; while [ $i -lt 16 ]; do head -c 65536 /dev/zero | tr '\\\\0' a; head -c 65536 /dev/zero | tr '\\\\0' b >&2; i=$((i+1)); done\"\n\
         \x20     register: r\n\
         \x20   - assert:\n        that: [\"r.stdout | length == 1048576\", \"r.stderr | length == 1048576\"]\n\
         \x20   - copy: {src: blob.bin, dest: /srv/drover-test-blob.bin}\n",
    );
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    let run = h.drover(&pb, &inv, &[]);
    assert_eq!(run.code(), Some(0), "{}", run.text());
    for i in 1..=3 {
        assert_eq!(
            h.ssh(i, "sha256sum < /srv/drover-test-blob.bin"),
            format!("{sum}  -\n")
        );
    }
}

/// The library's exec: exit codes, streams kept apart, stdin, the locale, counters, and
/// an encrypted key with its passphrase.
#[test]
fn exec_semantics_and_encrypted_key() {
    use drover::connection::ssh::{connect, HostKeyChecking, SshOptions};
    let Some(h) = hosts() else { return };
    let mut vars = drover::vars::Vars::new();
    vars.insert("ansible_host".into(), "127.0.0.1".into());
    vars.insert("ansible_port".into(), i64::from(h.port(1)).into());
    vars.insert("ansible_user".into(), "root".into());
    vars.insert(
        "ansible_ssh_private_key_file".into(),
        h.path("id_ed25519_enc").display().to_string().into(),
    );
    let opts = SshOptions {
        known_hosts: Some(h.path("known_hosts")),
        host_key_checking: HostKeyChecking::Strict,
        config_file: Some(h.path("ssh_config")),
        key_passphrase: Some("drover-pass".into()),
        ..SshOptions::default()
    };
    let mut c = connect("host1", &vars, &opts).unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(c.login_user(), "root");
    let out = c.exec("echo out; echo err >&2; exit 3", None).unwrap();
    assert_eq!(
        (out.rc, out.stdout_str(), out.stderr_str()),
        (3, "out\n".into(), "err\n".into())
    );
    let out = c.exec("tr a-z A-Z", Some(b"hello\n")).unwrap();
    assert_eq!(out.stdout_str(), "HELLO\n");
    let out = c
        .exec("echo \"$LANG $LC_ALL\"; printf '%s' \"$0\"", None)
        .unwrap();
    assert_eq!(out.stdout_str(), "C C\n/bin/sh");
    // A command that exits without reading a large stdin.
    let out = c.exec("exit 0", Some(&vec![b'z'; 4 << 20])).unwrap();
    assert_eq!(out.rc, 0);
    // 4 MiB on stderr before the command reads its 4 MiB of stdin, then stdout: needs
    // reading and writing at once (the SSH windows are 2 MiB).
    let input: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    let out = c
        .exec(
            "head -c 4194304 /dev/zero | tr '\\0' e >&2; cat; head -c 1048576 /dev/zero | tr '\\0' o",
            Some(&input),
        )
        .unwrap();
    assert_eq!(out.rc, 0);
    assert_eq!(out.stderr.len(), 4 << 20);
    assert!(out.stderr.iter().all(|b| *b == b'e'));
    assert_eq!(out.stdout.len(), (4 << 20) + (1 << 20));
    assert_eq!(&out.stdout[..4 << 20], &input[..]);
    assert!(out.stdout[4 << 20..].iter().all(|b| *b == b'o'));
    let s = c.stats();
    assert_eq!((s.round_trips, s.channels, s.connects), (5, 5, 1));

    // The same key without a passphrase (and no terminal to ask on): a clear failure.
    let no_pass = SshOptions {
        key_passphrase: None,
        ..opts.clone()
    };
    let err = match connect("host1", &vars, &no_pass) {
        Ok(_) => panic!("connected with an encrypted key and no passphrase"),
        Err(e) => e,
    };
    assert!(
        err.message.contains("authentication failed for root@host1"),
        "{}",
        err.message
    );
    assert!(err.message.contains("encrypted"), "{}", err.message);
    assert!(!err.message.contains("drover-pass"));
    let wrong = SshOptions {
        key_passphrase: Some("not-it".into()),
        ..opts.clone()
    };
    let err = match connect("host1", &vars, &wrong) {
        Ok(_) => panic!("connected with a wrong passphrase"),
        Err(e) => e,
    };
    assert!(err.message.contains("wrong passphrase"), "{}", err.message);
    assert!(
        !err.message.contains("not-it"),
        "the passphrase leaked: {}",
        err.message
    );
}

#[test]
fn agent_keys_are_used() {
    let Some(h) = hosts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("agent.sock");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _agent = Kill(
        Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("ssh-agent is needed (Debian package openssh-client)"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sock.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .arg(h.path("id_ed25519"))
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // No key in the inventory and an empty HOME: only the agent can log in.
    let inv = h.inventory(tmp.path(), &[1, 2, 3], "");
    let text = std::fs::read_to_string(&inv).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.contains("ansible_ssh_private_key_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&inv, text).unwrap();
    let pb = write(
        tmp.path(),
        "p.yml",
        "- hosts: testhosts\n  gather_facts: no\n  tasks:\n    - ping:\n",
    );
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
    c.arg("apply")
        .arg(&pb)
        .arg("-i")
        .arg(&inv)
        .args(["--format", "json"]);
    c.arg("-F")
        .arg(h.path("ssh_config"))
        .arg("--known-hosts")
        .arg(h.path("known_hosts"));
    c.env("SSH_AUTH_SOCK", &sock).env("HOME", &home);
    let out = c.output().unwrap();
    let run = Run {
        out,
        elapsed: Duration::ZERO,
    };
    assert_eq!(run.code(), Some(0), "{}", run.text());
    // Without the agent the same run fails, naming what it tried.
    c.env_remove("SSH_AUTH_SOCK");
    let run = Run {
        out: c.output().unwrap(),
        elapsed: Duration::ZERO,
    };
    assert_eq!(run.code(), Some(4));
    let msg = run.unreachable_msg("host1");
    assert!(msg.contains("agent (SSH_AUTH_SOCK not set)"), "{msg}");
}

/// Prints the figures for the report: connect time and a no-op run's cost.
#[test]
fn connection_time_is_reported() {
    let Some(h) = hosts() else { return };
    let mut vars = drover::vars::Vars::new();
    vars.insert("ansible_host".into(), "127.0.0.1".into());
    vars.insert("ansible_port".into(), i64::from(h.port(2)).into());
    vars.insert("ansible_user".into(), "root".into());
    vars.insert(
        "ansible_ssh_private_key_file".into(),
        h.path("id_ed25519").display().to_string().into(),
    );
    let opts = drover::connection::ssh::SshOptions {
        known_hosts: Some(h.path("known_hosts")),
        config_file: Some(h.path("ssh_config")),
        ..Default::default()
    };
    let mut times = BTreeMap::new();
    for n in 0..5 {
        let t = Instant::now();
        let mut c = drover::connection::ssh::SshConnection::open("host2", &vars, &opts)
            .unwrap_or_else(|e| panic!("{}", e.message));
        let connect = t.elapsed();
        let t = Instant::now();
        drover::connection::Connection::exec(&mut c, "true", None).unwrap();
        times.insert(n, (connect, t.elapsed()));
    }
    let best = times.values().min().copied().unwrap_or_default();
    eprintln!("connect {:?}, one command {:?} (best of 5)", best.0, best.1);
    assert!(best.0 < Duration::from_secs(2));
    let _ = std::io::stderr().flush();
}
