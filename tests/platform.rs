//! The platform (issue #21): roles, playbooks and inventories under `roles/`,
//! `playbooks/`, `inventory/`, proven at three levels.
//!
//! 1. `drover validate playbooks/site.yml` passes for every inventory (example, single,
//!    test, and a three-broker variant of example).
//! 2. Every role's configuration template is rendered for every host of those inventories
//!    (`tests/platform/render.yml`: the roles' own `tasks/config.yml`, paths redirected
//!    to a scratch directory, with the real validators as `validate:`), and each file is
//!    checked again by `tests/platform/check_rendered.py`: `docker compose config -q`,
//!    `promtool check config`, `systemd-analyze verify`, `nginx -t`, the fluent-bit key
//!    schema, Kibana saved-object and Grafana datasource-uid checks.
//! 3. `playbooks/site.yml` converges a systemd + Docker test host (`tests/platform/hosts.sh`,
//!    one host in every group, inventory/test), a second run changes nothing, and
//!    `--check --diff` after editing one inventory variable shows exactly that change.
//! 4. The node_exporter layer converges the same under `ansible-playbook` on a twin host.
//!
//! Level 2 needs promtool (Debian `prometheus`), the Compose v2 plugin, systemd-analyze
//! and Debian's nginx extracted to /var/cache/drover-test/nginx (.ci/run installs them).
//! Levels 3-4 need root and systemd-nspawn; DROVER_SKIP_NSPAWN_TESTS=1 skips them when
//! the host cannot start, DROVER_SKIP_ANSIBLE_TESTS=1 skips 4 when the venv is missing.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const DROVER: &str = env!("CARGO_BIN_EXE_drover");
const VAULT_PASS: &str = "tests/platform/example-vault-password";
const INVENTORIES: &[&str] = &[
    "inventory/example",
    "inventory/single",
    "inventory/test",
    "tests/platform/inventory-kafka3",
];
const STATE: &str = "/tmp/drover-nspawn-platform";

fn root() -> PathBuf {
    PathBuf::from(ROOT)
}

fn drover(args: &[&str]) -> Output {
    Command::new(DROVER)
        .current_dir(ROOT)
        .env("DROVER_ROLES_PATH", root().join("roles"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run drover")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn site_validates_for_every_inventory() {
    for inv in INVENTORIES {
        let out = drover(&[
            "validate",
            "playbooks/site.yml",
            "-i",
            inv,
            "--vault-password-file",
            VAULT_PASS,
        ]);
        assert!(out.status.success(), "validate -i {inv}:\n{}", text(&out));
    }
    // Each layer's playbook on its own, for partial runs.
    for entry in std::fs::read_dir(root().join("playbooks")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yml") {
            let out = drover(&[
                "validate",
                p.to_str().unwrap(),
                "-i",
                "inventory/example",
                "--vault-password-file",
                VAULT_PASS,
            ]);
            assert!(
                out.status.success(),
                "validate {}:\n{}",
                p.display(),
                text(&out)
            );
        }
    }
}

#[test]
fn every_template_renders_and_passes_its_validator() {
    let scratch = tempfile::tempdir().unwrap();
    for inv in INVENTORIES {
        let dir = scratch.path().join(inv.replace('/', "-"));
        let t = Instant::now();
        let out = drover(&[
            "apply",
            "tests/platform/render.yml",
            "-i",
            inv,
            "-e",
            "ansible_connection=local",
            "-e",
            &format!("render_root={}", dir.display()),
            "--vault-password-file",
            VAULT_PASS,
            "--no-progress",
        ]);
        assert!(out.status.success(), "render -i {inv}:\n{}", text(&out));
        let hosts = inventory_hosts(inv);
        let check = Command::new("python3")
            .arg(root().join("tests/platform/check_rendered.py"))
            .arg(&dir)
            .args(&hosts)
            .output()
            .unwrap();
        assert!(check.status.success(), "checks of {inv}:\n{}", text(&check));
        eprintln!(
            "{inv}: {} ({:.1}s)",
            String::from_utf8_lossy(&check.stdout).trim(),
            t.elapsed().as_secs_f64()
        );
    }
}

/// Host names of an inventory, from `drover inventory --list`.
fn inventory_hosts(inv: &str) -> Vec<String> {
    let out = drover(&[
        "inventory",
        "-i",
        inv,
        "--list",
        "--vault-password-file",
        VAULT_PASS,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let list: Json = serde_json::from_slice(&out.stdout).unwrap();
    let mut hosts: Vec<String> = list["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    hosts.sort();
    hosts
}

#[test]
fn every_role_has_a_readme_with_every_default() {
    for entry in std::fs::read_dir(root().join("roles")).unwrap() {
        let role = entry.unwrap().path();
        let name = role.file_name().unwrap().to_string_lossy().to_string();
        let readme = std::fs::read_to_string(role.join("README.md"))
            .unwrap_or_else(|_| panic!("roles/{name}/README.md is missing"));
        let defaults = std::fs::read_to_string(role.join("defaults/main.yml")).unwrap();
        for line in defaults.lines() {
            // Top-level keys of the defaults file: `name:` at column 0.
            let Some((key, _)) = line.split_once(':') else {
                continue;
            };
            if key.is_empty() || key.starts_with(['#', ' ', '-']) || key == "---" {
                continue;
            }
            assert!(
                readme.contains(&format!("`{key}`")),
                "roles/{name}/README.md does not document `{key}`"
            );
        }
    }
}

/// The platform's test host (tests/platform/hosts.sh), stopped when dropped.
struct TestHost {
    dir: PathBuf,
}

impl TestHost {
    fn up() -> Option<TestHost> {
        TestHost::up_hosts(&[])
    }

    /// `hosts.sh up NAME:PORT…` (none: the one host of inventory/test).
    fn up_hosts(specs: &[&str]) -> Option<TestHost> {
        let skip = std::env::var("DROVER_SKIP_NSPAWN_TESTS").is_ok_and(|v| v == "1");
        let t = Instant::now();
        let out = Command::new(root().join("tests/platform/hosts.sh"))
            .arg("up")
            .args(specs)
            .env("DROVER_NSPAWN_DIR", STATE)
            .output()
            .expect("hosts.sh");
        if !out.status.success() {
            if skip {
                eprintln!("skipped (DROVER_SKIP_NSPAWN_TESTS=1): {}", text(&out));
                return None;
            }
            panic!("tests/platform/hosts.sh up failed (root and systemd-nspawn needed; DROVER_SKIP_NSPAWN_TESTS=1 skips):\n{}", text(&out));
        }
        eprintln!("test host up in {:.1}s", t.elapsed().as_secs_f64());
        Some(TestHost {
            dir: PathBuf::from(STATE),
        })
    }

    fn ssh(&self, host: &str, cmd: &str) -> String {
        let out = Command::new("ssh")
            .arg("-F")
            .arg(self.dir.join(host).join("ssh_config"))
            .arg(host)
            .arg(cmd)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        let _ = Command::new(root().join("tests/platform/hosts.sh"))
            .arg("down")
            .env("DROVER_NSPAWN_DIR", STATE)
            .status();
    }
}

struct Run {
    code: i32,
    events: Vec<Json>,
    text: String,
    secs: f64,
}

impl Run {
    fn recap(&self, host: &str, key: &str) -> u64 {
        self.events
            .iter()
            .find(|e| e["event"] == "recap")
            .and_then(|e| e["hosts"][host][key].as_u64())
            .unwrap_or_else(|| panic!("no recap for {host}: {}", self.text))
    }
    fn changed_tasks(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                (e["event"] == "task_result" || e["event"] == "handler_result")
                    && e["changed"] == true
            })
            .map(|e| e["task"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

fn apply(inv: &Path, extra: &[&str]) -> Run {
    let t = Instant::now();
    let pin = format!("@{STATE}/pin.yml");
    let mut args = vec![
        "apply",
        "playbooks/site.yml",
        "-i",
        inv.to_str().unwrap(),
        "-e",
        &pin,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = drover(&args);
    Run {
        code: out.status.code().unwrap_or(-1),
        events: String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        text: text(&out),
        secs: t.elapsed().as_secs_f64(),
    }
}

/// The tests that use the test hosts run one at a time (same state dir, same HTTP server).
static HOSTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn site_converges_on_a_test_host_idempotently_and_previews_an_edit() {
    let _serial = HOSTS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(h) = TestHost::up() else { return };
    let host = "platform-test-1";
    let inv = root().join("inventory/test");

    // A preview of the first install: it runs through and changes nothing.
    let preview = apply(&inv, &["--check", "--diff"]);
    assert_eq!(preview.code, 0, "first --check --diff:\n{}", preview.text);
    assert!(preview.recap(host, "changed") > 0);
    assert_eq!(
        h.ssh(host, "test -e /opt/platform || test -e /etc/systemd/system/node_exporter.service || echo untouched"),
        "untouched"
    );
    eprintln!("preview of the first install: {:.1}s", preview.secs);

    let first = apply(&inv, &[]);
    assert_eq!(first.code, 0, "first converge:\n{}", first.text);
    eprintln!(
        "first converge: {:.1}s, changed={}",
        first.secs,
        first.recap(host, "changed")
    );

    // What really runs on the host, checked with plain ssh.
    assert_eq!(
        h.ssh(
            host,
            "systemctl is-active node_exporter prometheus platform-loggen.timer docker"
        ),
        "active\nactive\nactive\nactive"
    );
    assert_eq!(
        h.ssh(host, "systemctl show -p User --value node_exporter"),
        "node-exp"
    );
    assert!(h
        .ssh(host, "curl -s 127.0.0.1:22710/metrics")
        .contains("node_cpu_seconds_total"));
    assert_eq!(
        h.ssh(
            host,
            "curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:22712/"
        ),
        "200",
        "the web server (stand-in) answers"
    );
    // The log generator reaches the web server: every request of one burst succeeds.
    let burst = h.ssh(
        host,
        "sh -x /usr/local/bin/platform-loggen 2>&1 | grep -c 'curl -s -o /dev/null --max-time 5'",
    );
    assert!(
        burst.parse::<u32>().unwrap_or(0) >= 5,
        "log generator burst: {burst}"
    );
    // Prometheus scrapes node_exporter (wait for the first scrape).
    let mut health = String::new();
    for _ in 0..40 {
        health = h.ssh(
            host,
            "curl -s 127.0.0.1:22711/api/v1/targets | jq -r '.data.activeTargets[] | select(.labels.job==\"node\") | .health'",
        );
        if health == "up" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(health, "up", "prometheus scrapes node_exporter");
    // Every compose project runs (stand-ins for the services Debian does not package).
    let names = h.ssh(
        host,
        "docker ps --format '{{.Names}}' | sort | tr '\\n' ' '",
    );
    for c in [
        "elasticsearch",
        "elasticsearch-exporter",
        "fluent-bit-aggregator",
        "fluent-bit-forwarder",
        "grafana",
        "kafka",
        "kafka-exporter",
        "kibana",
        "webapp-nginx",
    ] {
        assert!(
            names.split(' ').any(|n| n == c),
            "container {c} runs: {names}"
        );
    }
    assert_eq!(
        h.ssh(host, "docker inspect -f '{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"tag\"}}' webapp-nginx"),
        "fluentd docker.{{.Name}}",
        "nginx logs through the fluentd driver with the raw {{{{.Name}}}} tag"
    );

    let second = apply(&inv, &[]);
    assert_eq!(second.code, 0, "second converge:\n{}", second.text);
    assert_eq!(
        second.recap(host, "changed"),
        0,
        "second run changes nothing: {:?}",
        second.changed_tasks()
    );
    eprintln!("second converge: {:.1}s, changed=0", second.secs);

    // Edit one inventory variable in a copy of the inventory: the preview shows that change.
    let edited = tempfile::tempdir().unwrap();
    let cp = Command::new("cp")
        .arg("-r")
        .arg(root().join("inventory/test/."))
        .arg(edited.path())
        .status()
        .unwrap();
    assert!(cp.success());
    let mon = edited.path().join("group_vars/monitoring.yml");
    let before = std::fs::read_to_string(&mon).unwrap();
    assert!(before.contains("prometheus_retention_time: 1d"));
    std::fs::write(
        &mon,
        before.replace(
            "prometheus_retention_time: 1d",
            "prometheus_retention_time: 2d",
        ),
    )
    .unwrap();
    let preview = apply(edited.path(), &["--check", "--diff"]);
    assert_eq!(preview.code, 0, "{}", preview.text);
    assert_eq!(
        preview.changed_tasks(),
        vec![
            "prometheus : The service's arguments are written".to_string(),
            "prometheus : Restart prometheus".to_string()
        ],
        "{}",
        preview.text
    );
    assert!(preview.text.contains("-ARGS=\"--config.file=/etc/prometheus/prometheus.yml --web.listen-address=0.0.0.0:22711 --storage.tsdb.retention.time=1d\""), "{}", preview.text);
    assert!(preview.text.contains("+ARGS=\"--config.file=/etc/prometheus/prometheus.yml --web.listen-address=0.0.0.0:22711 --storage.tsdb.retention.time=2d\""), "{}", preview.text);
    // The preview changed nothing.
    assert!(h
        .ssh(host, "cat /etc/default/prometheus")
        .contains("retention.time=1d"));
}

/// Ansible's recap counts (`ok`, `changed`, `skipped`) of a host, summed over every recap
/// line (ansible-playbook prints one per playbook file).
fn recap_counts(out: &Output, host: &str) -> (u64, u64, u64) {
    let t = String::from_utf8_lossy(&out.stdout);
    let get = |line: &str, key: &str| -> u64 {
        let n = line
            .split(&format!("{key}="))
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        n.parse().unwrap()
    };
    let lines: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with(host) && l.contains("changed="))
        .collect();
    assert!(!lines.is_empty(), "no recap for {host}:\n{}", text(out));
    lines.iter().fold((0, 0, 0), |(o, c, s), l| {
        (
            o + get(l, "ok"),
            c + get(l, "changed"),
            s + get(l, "skipped"),
        )
    })
}

/// inventory/test for another host name and SSH port.
fn twin_inventory(dir: &Path, name: &str, port: u16) {
    let cp = Command::new("cp")
        .arg("-r")
        .arg(root().join("inventory/test/."))
        .arg(dir)
        .status()
        .unwrap();
    assert!(cp.success());
    let hosts = dir.join("hosts.yml");
    let text = std::fs::read_to_string(&hosts)
        .unwrap()
        .replace("platform-test-1", name)
        .replace("ansible_port: 22700", &format!("ansible_port: {port}"));
    std::fs::write(hosts, text).unwrap();
}

/// What site.yml leaves on a host, as text (plain ssh): the managed files with mode,
/// owner and content hash, the accounts, the units, the containers. The Kafka cluster id
/// is random per host and the host names differ, so both are masked in the contents.
fn observe(h: &TestHost, host: &str) -> String {
    let script = r#"set -u
cid=$(cat /opt/platform/kafka/cluster.id 2>/dev/null)
for f in $(find /opt/platform /opt/node_exporter /var/cache/node_exporter /etc/systemd/system/node_exporter.service /etc/systemd/system/platform-loggen.service /etc/systemd/system/platform-loggen.timer /usr/local/bin/node_exporter /usr/local/bin/platform-loggen /etc/prometheus/prometheus.yml /etc/default/prometheus /etc/docker/daemon.json /etc/sysctl.d/60-platform.conf | sort); do
  if [ -f "$f" ] && [ ! -L "$f" ]; then h=$(sed "s/$cid/CLUSTER_ID/g; s/$(hostname)/HOST/g" "$f" | sha256sum | cut -c1-16); else h=-; fi
  echo "$(stat -c '%n %A %U %G' "$f") $h"
done
getent passwd node-exp | cut -d: -f1,6,7
for u in node_exporter prometheus platform-loggen.timer docker; do echo "$u $(systemctl is-enabled $u) $(systemctl is-active $u)"; done
docker ps -a --format '{{.Names}} {{.Image}} {{.State}}' | sort"#;
    h.ssh(host, script)
}

/// site.yml on a fresh twin host under drover, then on another fresh twin under
/// ansible-playbook (ansible-core from the test venv, with the `ansible` community
/// package's community.docker and ansible.posix): both converge, with the same recap
/// (ok/changed/skipped) in the first and the second run (changed=0), and leave the same
/// state (files, modes, owners, contents, accounts, units, containers). The twins run one
/// after the other (they would share ports); both get the compose v2 plugin, which
/// community.docker.docker_compose_v2 needs (drover then uses it too).
#[test]
fn site_converges_the_same_under_ansible_playbook() {
    let venv = PathBuf::from(
        std::env::var("DROVER_ANSIBLE_VENV")
            .unwrap_or_else(|_| "/var/cache/drover-test/venv".into()),
    );
    let ansible = venv.join("bin/ansible-playbook");
    if !ansible.exists() {
        assert!(
            std::env::var("DROVER_SKIP_ANSIBLE_TESTS").is_ok_and(|v| v == "1"),
            "no {} (python3 -m venv {} && {}/bin/pip install -r tests/requirements-ansible.txt; DROVER_SKIP_ANSIBLE_TESTS=1 skips)",
            ansible.display(),
            venv.display(),
            venv.display()
        );
        return;
    }
    let plugin = "/usr/libexec/docker/cli-plugins/docker-compose";
    assert!(
        Path::new(plugin).exists(),
        "{plugin} is needed (.ci/run installs them)"
    );
    let _serial = HOSTS.lock().unwrap_or_else(|e| e.into_inner());
    let pin = format!("@{STATE}/pin.yml");
    let tmp = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for (tool, name) in [
        ("drover", "platform-twin-a"),
        ("ansible-playbook", "platform-twin-b"),
    ] {
        let Some(h) = TestHost::up_hosts(&[&format!("{name}:22701")]) else {
            return;
        };
        let copy = Command::new("scp")
            .arg("-q")
            .arg("-F")
            .arg(h.dir.join(name).join("ssh_config"))
            .arg(plugin)
            .arg(format!("{name}:/tmp/docker-compose"))
            .status()
            .unwrap();
        assert!(copy.success());
        h.ssh(
            name,
            "install -D -m 0755 /tmp/docker-compose /usr/libexec/docker/cli-plugins/docker-compose",
        );
        let inv = tmp.path().join(name);
        std::fs::create_dir_all(&inv).unwrap();
        twin_inventory(&inv, name, 22701);
        let run = || {
            if tool == "drover" {
                drover(&[
                    "apply",
                    "playbooks/site.yml",
                    "-i",
                    inv.to_str().unwrap(),
                    "-e",
                    &pin,
                    "--no-progress",
                ])
            } else {
                Command::new(&ansible)
                    .current_dir(ROOT)
                    .env("ANSIBLE_ROLES_PATH", root().join("roles"))
                    .env("ANSIBLE_HOST_KEY_CHECKING", "True")
                    .env("ANSIBLE_NOCOLOR", "1")
                    .args([
                        "playbooks/site.yml",
                        "-i",
                        inv.to_str().unwrap(),
                        "-e",
                        &pin,
                    ])
                    .output()
                    .unwrap()
            }
        };
        let mut recaps = Vec::new();
        for round in [1, 2] {
            let t = Instant::now();
            let out = run();
            assert!(out.status.success(), "{tool} run {round}:\n{}", text(&out));
            let counts = recap_counts(&out, name);
            eprintln!(
                "{tool} run {round}: {:.1}s, ok/changed/skipped {counts:?}",
                t.elapsed().as_secs_f64()
            );
            recaps.push(counts);
        }
        assert_eq!(recaps[1].1, 0, "{tool}: the second run changes nothing");
        results.push((recaps, observe(&h, name).replace(name, "HOST")));
    }
    assert_eq!(
        results[0].0, results[1].0,
        "recaps: drover (left), ansible-playbook (right)"
    );
    assert_eq!(
        results[0].1, results[1].1,
        "end state: drover (left), ansible-playbook (right)"
    );
    assert!(
        results[0].1.contains("node_exporter enabled active"),
        "{}",
        results[0].1
    );
}

/// The example inventory's layout (logging-1, kafka-1, web-1, monitoring-1; every host a
/// forwarder and a node_exporter) on four test hosts: what one host's data derives from
/// another's (Prometheus targets, the forwarder address of the fluentd driver, the
/// logging group's sysctl) is right, and a second run changes nothing.
#[test]
fn site_converges_on_four_hosts_like_the_example() {
    let _serial = HOSTS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(h) = TestHost::up_hosts(&[
        "logging-1:22700",
        "kafka-1:22701",
        "web-1:22702",
        "monitoring-1:22703",
    ]) else {
        return;
    };
    let inv = root().join("tests/platform/inventory-test4");
    let hosts = ["logging-1", "kafka-1", "web-1", "monitoring-1"];
    let first = apply(&inv, &[]);
    assert_eq!(first.code, 0, "first converge:\n{}", first.text);
    eprintln!("4 hosts, first converge: {:.1}s", first.secs);
    let second = apply(&inv, &[]);
    assert_eq!(second.code, 0, "second converge:\n{}", second.text);
    for host in hosts {
        assert_eq!(
            second.recap(host, "changed"),
            0,
            "{host}: {:?}",
            second.changed_tasks()
        );
    }
    eprintln!("4 hosts, second converge: {:.1}s, changed=0", second.secs);

    // Prometheus on monitoring-1 scrapes the node_exporter of every host, each on its port.
    let mut up = String::new();
    for _ in 0..60 {
        up = h.ssh(
            "monitoring-1",
            "curl -s 127.0.0.1:22711/api/v1/targets | jq -r '.data.activeTargets[] | select(.labels.job==\"node\" and .health==\"up\") | .labels.host' | sort | tr '\\n' ' '",
        );
        if up == "kafka-1 logging-1 monitoring-1 web-1" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(up, "kafka-1 logging-1 monitoring-1 web-1");
    // nginx on web-1 logs to web-1's own forwarder.
    assert_eq!(
        h.ssh("web-1", "docker inspect -f '{{index .HostConfig.LogConfig.Config \"fluentd-address\"}}' webapp-nginx"),
        "127.0.0.1:22752"
    );
    // vm.max_map_count only on the logging host (written to the file; test hosts share a kernel).
    for host in hosts {
        let has = h.ssh(
            host,
            "grep -c '^vm.max_map_count=262144$' /etc/sysctl.d/60-platform.conf",
        );
        assert_eq!(has, if host == "logging-1" { "1" } else { "0" }, "{host}");
    }
    // Only the web host runs the log generator, only logging-1 the aggregator.
    for host in hosts {
        let units = h.ssh(host, "systemctl is-active platform-loggen.timer; docker ps --format '{{.Names}}' | grep -c fluent-bit-aggregator");
        let want = match host {
            "web-1" => "active\n0",
            "logging-1" => "inactive\n1",
            _ => "inactive\n0",
        };
        assert_eq!(units, want, "{host}");
    }
}
