//! The service-manager modules on real systemd hosts: Debian bookworm booted with systemd
//! as PID 1 under systemd-nspawn, with a Docker engine and docker-compose v1
//! (`tests/hosts/nspawn`). Each test starts its own host on its own port and stops it at
//! the end. Every claim is checked with the plain OpenSSH client (`systemctl`, `docker`,
//! `sysctl`, `hostname` on the host), never with drover's own word.
//!
//! The hosts need root and systemd-nspawn; the rootfs is built (once, ~2 min) when
//! missing. With DROVER_SKIP_NSPAWN_TESTS=1 the tests are skipped when the hosts cannot
//! be started; otherwise that is a failure (CI runs them).

mod support;

use serde_json::Value as Json;
use std::process::Command;
use std::time::Instant;

use support::nspawn::NspawnHost as Host;

impl Host {
    /// Apply a playbook; returns (exit code, changed count, task results by task name).
    fn apply(&self, play: &str, files: &[(&str, &str)], extra: &[&str]) -> Run {
        let tmp = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = tmp.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let p = tmp.path().join("site.yml");
        std::fs::write(&p, play).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("apply")
            .arg(&p)
            .arg("-i")
            .arg(self.dir.join("inventory.yml"))
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let events: Vec<Json> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let changed = events
            .iter()
            .find(|e| e["event"] == "recap")
            .and_then(|e| e["hosts"][&self.name]["changed"].as_u64())
            .unwrap_or(0);
        Run {
            code: out.status.code().unwrap_or(-1),
            changed,
            events,
            text: format!("{text}\n{}", String::from_utf8_lossy(&out.stderr)),
        }
    }
}

struct Run {
    code: i32,
    changed: u64,
    events: Vec<Json>,
    text: String,
}

impl Run {
    /// The registered result of the task named `task`.
    fn result(&self, task: &str) -> &Json {
        self.events
            .iter()
            .find(|e| e["event"] == "task_result" && e["task"] == task)
            .map(|e| &e["result"])
            .unwrap_or_else(|| panic!("no result for task {task}: {}", self.text))
    }
}

const UNIT: &str = r#"[Unit]
Description=drover test unit ({{ greeting }})

[Service]
ExecStartPre=/bin/sh -c 'echo start >> /var/tmp/drover-demo.starts'
ExecStart=/bin/sh -c 'echo {{ greeting }} > /run/drover-demo.greeting; exec sleep 3600'
ExecReload=/bin/sh -c 'echo reload >> /var/tmp/drover-demo.reloads'

[Install]
WantedBy=multi-user.target
"#;

const UNIT_PLAY: &str = r#"- hosts: all
  gather_facts: yes
  vars:
    greeting: hello
  tasks:
    - name: unit file
      template: {src: demo.service.j2, dest: /etc/systemd/system/drover-demo.service}
      notify: restart demo
    - name: demo running
      systemd_service: {name: drover-demo, daemon_reload: yes, enabled: yes, state: started}
    - name: facts
      assert:
        that:
          - ansible_service_mgr == 'systemd'
          - ansible_pkg_mgr == 'apt'
          - ansible_distribution == 'Debian'
          - ansible_distribution_major_version == '12'
          - ansible_os_family == 'Debian'
  handlers:
    - name: restart demo
      ansible.builtin.service: {name: drover-demo, state: restarted}
"#;

#[test]
fn systemd_units_converge_restart_once_and_preview() {
    let Some(h) = Host::up("drover-sd", 1) else {
        return;
    };
    let t = Instant::now();
    let files = [("templates/demo.service.j2", UNIT)];
    let starts = |h: &Host| {
        h.ssh("cat /var/tmp/drover-demo.starts 2>/dev/null | wc -l")
            .parse::<u32>()
            .unwrap()
    };

    // Check mode on a fresh host: predicts, changes nothing.
    let r = h.apply(UNIT_PLAY, &files, &["--check"]);
    assert_eq!(r.code, 0, "{}", r.text);
    assert!(
        r.changed >= 2,
        "check mode predicts the changes: {}",
        r.text
    );
    assert_eq!(
        h.ssh("test -e /etc/systemd/system/drover-demo.service && echo yes || echo no"),
        "no"
    );
    assert_eq!(h.ssh("systemctl is-active drover-demo"), "inactive");

    // Apply: the unit is installed, enabled and running.
    let r = h.apply(UNIT_PLAY, &files, &[]);
    assert_eq!(r.code, 0, "{}", r.text);
    assert!(r.changed >= 2, "{}", r.text);
    assert_eq!(h.ssh("systemctl is-active drover-demo"), "active");
    assert_eq!(h.ssh("systemctl is-enabled drover-demo"), "enabled");
    assert_eq!(h.ssh("cat /run/drover-demo.greeting"), "hello");
    let status = &r.result("demo running")["status"];
    assert_eq!(
        status["Id"], "drover-demo.service",
        "status dict from systemctl show"
    );
    let n1 = starts(&h);
    let pid1 = h.ssh("systemctl show -p MainPID --value drover-demo");

    // Second apply: nothing to do, no restart.
    let r = h.apply(UNIT_PLAY, &files, &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);
    assert_eq!(starts(&h), n1);

    // A changed unit: the handler restarts the service exactly once.
    let changed_play = UNIT_PLAY.replace("greeting: hello", "greeting: bonjour");
    let r = h.apply(&changed_play, &files, &[]);
    assert_eq!(r.code, 0, "{}", r.text);
    assert_eq!(r.changed, 2, "template + handler: {}", r.text);
    assert_eq!(starts(&h), n1 + 1, "restarted exactly once");
    assert_ne!(h.ssh("systemctl show -p MainPID --value drover-demo"), pid1);
    assert_eq!(h.ssh("cat /run/drover-demo.greeting"), "bonjour");
    assert_eq!(
        h.ssh("systemctl show -p NeedDaemonReload --value drover-demo"),
        "no"
    );

    // Check mode with a pending change: the host stays as it is.
    let n2 = starts(&h);
    let r = h.apply(UNIT_PLAY, &files, &["--check", "--diff"]);
    assert_eq!(r.code, 0, "{}", r.text);
    assert!(r.changed >= 1, "{}", r.text);
    assert_eq!(starts(&h), n2);
    assert!(h
        .ssh("cat /etc/systemd/system/drover-demo.service")
        .contains("bonjour"));

    // reloaded (through `service`, facts not gathered): the unit reloads, same MainPID;
    // the diff shows the state before and after.
    let pid = h.ssh("systemctl show -p MainPID --value drover-demo");
    let reload = "- hosts: all\n  gather_facts: no\n  tasks:\n    - service: {name: drover-demo, state: reloaded}\n";
    let r = h.apply(reload, &[], &["--diff"]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("cat /var/tmp/drover-demo.reloads | wc -l"), "1");
    assert_eq!(h.ssh("systemctl show -p MainPID --value drover-demo"), pid);
    let diff = r.text.contains("ActiveState: active (reloaded)");
    assert!(diff, "{}", r.text);

    // Stop and disable, then mask; every step idempotent.
    let stop = r#"- hosts: all
  gather_facts: no
  tasks:
    - systemd: {name: drover-demo.service, state: stopped, enabled: no}
"#;
    let r = h.apply(stop, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("systemctl is-active drover-demo"), "inactive");
    assert_eq!(h.ssh("systemctl is-enabled drover-demo"), "disabled");
    let r = h.apply(stop, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);
    // mask / unmask (of a unit shipped under /usr/lib: masking needs its /etc slot free).
    h.ssh("printf '[Service]\\nExecStart=/bin/sleep 60\\n' > /usr/lib/systemd/system/drover-maskme.service && systemctl daemon-reload");
    let mask = "- hosts: all\n  gather_facts: no\n  tasks:\n    - systemd: {name: drover-maskme, masked: yes}\n";
    let r = h.apply(mask, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("systemctl is-enabled drover-maskme"), "masked");
    let r = h.apply(mask, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);
    let unmask = mask.replace("masked: yes", "masked: no");
    let r = h.apply(&unmask, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("systemctl is-enabled drover-maskme"), "static");
    let r = h.apply(&unmask, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);

    // A unit that does not exist: a clear error naming the host and the way out.
    let missing = stop.replace("drover-demo.service", "no-such-unit");
    let r = h.apply(&missing, &[], &[]);
    assert_eq!(r.code, 2, "{}", r.text);
    assert!(
        r.text
            .contains("Could not find the requested service no-such-unit"),
        "{}",
        r.text
    );
    assert!(r.text.contains("drover-sd"), "{}", r.text);
    eprintln!("systemd test: {:.1}s", t.elapsed().as_secs_f64());
}

const COMPOSE: &str = r#"version: "3"
services:
  alpha:
    image: drover/busybox:latest
    command: ["sleep", "3600"]
    network_mode: none
    stop_signal: SIGKILL
  beta:
    image: drover/busybox:latest
    command: ["sleep", "3601"]
    network_mode: none
    stop_signal: SIGKILL
"#;

const COMPOSE_PLAY: &str = r#"- hosts: all
  gather_facts: no
  tasks:
    - name: project
      community.docker.docker_compose_v2: {project_src: /srv/dtest, state: present}
"#;

#[test]
fn docker_compose_project_converges() {
    let Some(h) = Host::up("drover-dc", 2) else {
        return;
    };
    let t = Instant::now();
    let write = |text: &str| {
        let out = Command::new("ssh")
            .arg("-F")
            .arg(h.dir.join("ssh_config"))
            .arg(&h.name)
            .arg("mkdir -p /srv/dtest && cat > /srv/dtest/docker-compose.yml")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(text.as_bytes())?;
                c.wait()
            })
            .unwrap();
        assert!(out.success());
    };
    let ids = |h: &Host| -> Vec<(String, String)> {
        let text = h.ssh("docker ps -a --filter label=com.docker.compose.project=dtest --format '{{.Label \"com.docker.compose.service\"}} {{.ID}} {{.State}}'");
        let mut v: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (f.len() == 3).then(|| (f[0].to_string(), format!("{} {}", f[1], f[2])))
            })
            .collect();
        v.sort();
        v
    };
    write(COMPOSE);

    // Check mode: reports the would-be actions, creates nothing.
    let r = h.apply(COMPOSE_PLAY, &[], &["--check"]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    let acts = r.result("project")["actions"].as_array().unwrap().clone();
    assert_eq!(acts.len(), 2, "{}", r.text);
    assert!(acts.iter().all(|a| a["status"] == "Creating"), "{acts:?}");
    assert!(ids(&h).is_empty());

    // Up: two running containers.
    let r = h.apply(COMPOSE_PLAY, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    let first = ids(&h);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(
        first.iter().all(|(_, s)| s.ends_with("running")),
        "{first:?}"
    );
    assert_eq!(
        r.result("project")["containers"].as_array().map(Vec::len),
        Some(2)
    );

    // Again: nothing to do.
    let r = h.apply(COMPOSE_PLAY, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);
    assert_eq!(ids(&h), first);

    // Change beta only: check mode previews one recreate, apply recreates only beta.
    write(&COMPOSE.replace("3601", "3602"));
    let r = h.apply(COMPOSE_PLAY, &[], &["--check"]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    let acts = r.result("project")["actions"].as_array().unwrap().clone();
    assert_eq!(acts.len(), 1, "{acts:?}");
    assert_eq!(acts[0]["status"], "Recreating");
    assert_eq!(acts[0]["service"], "beta");
    assert_eq!(ids(&h), first, "check mode recreated nothing");
    let r = h.apply(COMPOSE_PLAY, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    let second = ids(&h);
    assert_eq!(second[0], first[0], "alpha kept its container");
    assert_ne!(second[1].1, first[1].1, "beta was recreated");
    assert!(second[1].1.ends_with("running"));
    let r = h.apply(COMPOSE_PLAY, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);

    // Stopped, then absent (check mode first).
    let stopped = COMPOSE_PLAY.replace("state: present", "state: stopped");
    let r = h.apply(&stopped, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert!(
        ids(&h).iter().all(|(_, s)| s.ends_with("exited")),
        "{:?}",
        ids(&h)
    );
    let r = h.apply(&stopped, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);
    let absent = COMPOSE_PLAY.replace("state: present", "state: absent");
    let r = h.apply(&absent, &[], &["--check"]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(ids(&h).len(), 2);
    let r = h.apply(&absent, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert!(ids(&h).is_empty());
    let r = h.apply(&absent, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);

    // A broken compose file: the error says where and what to run.
    write("services: [\n");
    let r = h.apply(COMPOSE_PLAY, &[], &[]);
    assert_eq!(r.code, 2, "{}", r.text);
    assert!(
        r.text.contains("docker compose config failed"),
        "{}",
        r.text
    );
    eprintln!("compose test: {:.1}s", t.elapsed().as_secs_f64());
}

#[test]
fn sysctl_and_hostname_converge() {
    let Some(h) = Host::up("drover-sys", 3) else {
        return;
    };
    // kernel.domainname lives in the container's own UTS namespace: the machine's
    // kernel settings are never touched.
    let play = r#"- hosts: all
  gather_facts: no
  tasks:
    - sysctl:
        name: kernel.domainname
        value: drover.example
        sysctl_file: /etc/sysctl.d/90-drover-test.conf
        sysctl_set: yes
    - hostname: {name: web-7.example.net}
    # As Ansible: the FQDN is read back after the rename, so check mode still has the old one.
    - assert: {that: ["ansible_hostname == 'web-7'", "ansible_facts.fqdn == ('drover-sys' if ansible_check_mode else 'web-7.example.net')"]}
"#;
    let r = h.apply(play, &[], &["--check"]);
    assert_eq!((r.code, r.changed), (0, 2), "{}", r.text);
    assert_eq!(h.ssh("sysctl -n kernel.domainname"), "(none)");
    assert_eq!(h.ssh("hostname"), "drover-sys");
    assert_eq!(
        h.ssh("test -e /etc/sysctl.d/90-drover-test.conf && echo yes || echo no"),
        "no"
    );

    let r = h.apply(play, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 2), "{}", r.text);
    assert_eq!(h.ssh("sysctl -n kernel.domainname"), "drover.example");
    assert_eq!(
        h.ssh("cat /etc/sysctl.d/90-drover-test.conf"),
        "kernel.domainname=drover.example"
    );
    assert_eq!(h.ssh("hostname"), "web-7.example.net");
    assert_eq!(h.ssh("cat /etc/hostname"), "web-7.example.net");
    assert_eq!(h.ssh("hostnamectl --static"), "web-7.example.net");

    let r = h.apply(play, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);

    // Modify: the file line is replaced (no duplicate), the live value follows.
    let modify = play.replace("value: drover.example", "value: other.example");
    let r = h.apply(&modify, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("sysctl -n kernel.domainname"), "other.example");
    assert_eq!(
        h.ssh("cat /etc/sysctl.d/90-drover-test.conf"),
        "kernel.domainname=other.example"
    );
    // Drift of the live value only is corrected with sysctl_set.
    h.ssh("sysctl -w kernel.domainname=drifted");
    let r = h.apply(&modify, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("sysctl -n kernel.domainname"), "other.example");

    // Absent removes the line; reload: no leaves the live value alone.
    let absent = r#"- hosts: all
  gather_facts: no
  tasks:
    - sysctl: {name: kernel.domainname, state: absent, sysctl_file: /etc/sysctl.d/90-drover-test.conf, reload: no}
"#;
    let r = h.apply(absent, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("cat /etc/sysctl.d/90-drover-test.conf"), "");
    let r = h.apply(absent, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);

    // hostname without systemd's help (use: debian): file + live name.
    let deb =
        "- hosts: all\n  gather_facts: no\n  tasks:\n    - hostname: {name: db-2, use: debian}\n";
    let r = h.apply(deb, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 1), "{}", r.text);
    assert_eq!(h.ssh("hostname; cat /etc/hostname"), "db-2\ndb-2");
    let r = h.apply(deb, &[], &[]);
    assert_eq!((r.code, r.changed), (0, 0), "{}", r.text);
}

/// On a host without systemd (the namespace test hosts: sshd is PID 1) the service
/// modules fail with a message naming the host and the way out, and touch nothing.
#[test]
fn service_modules_refuse_hosts_without_systemd() {
    let Some(dir) = support::hosts_dir() else {
        return;
    };
    for (gather, task) in [
        ("yes", "service: {name: no-such-daemon, state: started}"),
        ("no", "service: {name: no-such-daemon, state: started}"),
        ("no", "systemd_service: {name: ssh, state: started}"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("p.yml");
        std::fs::write(
            &p,
            format!("- hosts: all\n  gather_facts: {gather}\n  tasks:\n    - {task}\n"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("apply")
            .arg(&p)
            .arg("-i")
            .arg(dir.join("inventory.yml"))
            .args(["--limit", "host3", "--no-progress"])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(all.contains("host3"), "{all}");
        assert!(
            all.contains("no init script /etc/init.d/no-such-daemon")
                || all.contains("not running systemd"),
            "{all}"
        );
    }
    assert_eq!(
        support::ssh(&dir, "host3", "cat /proc/1/comm").trim(),
        "sshd",
        "still the namespace host"
    );
}

const DUMMY_INIT: &str = r#"#!/bin/sh
### BEGIN INIT INFO
# Provides:          drover-dummy
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: drover test daemon
### END INIT INFO
P=/run/drover-dummy.pid
running() { [ -f $P ] && kill -0 "$(cat $P)" 2>/dev/null; }
case "$1" in
  start) running && exit 0; setsid sleep 3600 </dev/null >/dev/null 2>&1 & echo $! > $P; echo start >> /var/tmp/drover-dummy.log ;;
  stop) running && kill "$(cat $P)"; rm -f $P ;;
  restart) "$0" stop; "$0" start ;;
  reload) echo reload >> /var/tmp/drover-dummy.log ;;
  status) running ;;
  *) exit 3 ;;
esac
"#;

/// `service` on a host without systemd drives a SysV init script: started + enabled,
/// idempotent, stopped + disabled, all checked with the script's own `status` and the
/// rc?.d links.
#[test]
fn service_drives_sysv_init_scripts_without_systemd() {
    let Some(dir) = support::hosts_dir() else {
        return;
    };
    let host = "host3";
    let sh = |cmd: &str| support::ssh(&dir, host, cmd).trim().to_string();
    let cleanup = "/etc/init.d/drover-dummy stop 2>/dev/null; update-rc.d -f drover-dummy remove >/dev/null 2>&1; rm -f /etc/init.d/drover-dummy /var/tmp/drover-dummy.log";
    sh(cleanup);
    let out = Command::new("ssh")
        .arg("-F")
        .arg(dir.join("ssh_config"))
        .arg(host)
        .arg("cat > /etc/init.d/drover-dummy && chmod 0755 /etc/init.d/drover-dummy")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(DUMMY_INIT.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(out.success());
    let apply = |task: &str, extra: &[&str]| -> (i32, String) {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("p.yml");
        std::fs::write(
            &p,
            format!("- hosts: all\n  gather_facts: yes\n  tasks:\n    - {task}\n"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("apply")
            .arg(&p)
            .arg("-i")
            .arg(dir.join("inventory.yml"))
            .args(["--limit", host, "--no-progress"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let status = || sh("/etc/init.d/drover-dummy status; echo $?");
    let links = || sh("ls /etc/rc2.d | grep -c '^S..drover-dummy$' || true");
    let up = "service: {name: drover-dummy, state: started, enabled: yes}";
    let (code, text) = apply(up, &["--check"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("changed=1"), "{text}");
    assert_eq!((status(), links()), ("1".to_string(), "0".to_string()));
    let (code, text) = apply(up, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("changed=1"), "{text}");
    assert_eq!((status(), links()), ("0".to_string(), "1".to_string()));
    let (code, text) = apply(up, &[]);
    assert!(code == 0 && text.contains("changed=0"), "{text}");
    let down = "service: {name: drover-dummy, state: stopped, enabled: no}";
    let (code, text) = apply(down, &[]);
    assert!(code == 0 && text.contains("changed=1"), "{text}");
    assert_eq!((status(), links()), ("1".to_string(), "0".to_string()));
    let (code, text) = apply(down, &[]);
    assert!(code == 0 && text.contains("changed=0"), "{text}");
    sh(cleanup);
}
