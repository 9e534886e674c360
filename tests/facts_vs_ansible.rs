//! drover's gathered facts against Ansible's `setup` module on the same SSH test host:
//! every fact Ansible gathers on Linux is either gathered by drover with the same value
//! (or, for the clock, the load and free memory, the same shape), or listed in
//! [`LEFT_OUT`] with the reason, and every left-out key is named in the README's facts
//! table.

mod support;

use serde_json::Value as J;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Facts Ansible gathers that drover does not, and why (the README's "Facts" table says
/// the same).
const LEFT_OUT: &[(&str, &str)] = &[
    ("_ansible_facts_gathered", "Ansible's own bookkeeping flag"),
    (
        "local",
        "facts.d scripts and files are not read (`ansible_local`)",
    ),
    (
        "python",
        "gathered only when the run reads it (a Python start per host)",
    ),
    ("python_version", "no Python on targets"),
    ("discovered_interpreter_python", "no Python on targets"),
    ("selinux_python_present", "no Python on targets"),
    (
        "device_links",
        "block-device inventory (udev links) not gathered",
    ),
    (
        "devices",
        "block-device inventory (partitions, sizes, holders) not gathered",
    ),
    ("lvm", "LVM volumes not gathered"),
    ("fibre_channel_wwn", "storage HBAs not gathered"),
    ("hostnqn", "NVMe host NQN not gathered"),
    ("iscsi_iqn", "iSCSI initiator name not gathered"),
    ("flags", "CPU flags not gathered"),
    ("form_factor", "DMI chassis type names not mapped"),
    ("locally_reachable_ips", "local routing table not read"),
    ("system_capabilities", "needs capsh"),
    ("system_capabilities_enforced", "needs capsh"),
    ("virtualization_role", "virtualization detection not done"),
    ("virtualization_type", "virtualization detection not done"),
    (
        "virtualization_tech_guest",
        "virtualization detection not done",
    ),
    (
        "virtualization_tech_host",
        "virtualization detection not done",
    ),
];

/// Facts whose values change between two gatherings: compared by shape.
const VOLATILE: &[&str] = &[
    "date_time",
    "memfree_mb",
    "memory_mb",
    "loadavg",
    "uptime_seconds",
    "env",
];

/// Environment variables that differ by design or by connection: drover runs every
/// command with `LC_ALL=C`/`LANG=C` (stable output to parse); the client port and the
/// terminal belong to each SSH session.
const ENV_PER_SESSION: &[&str] = &[
    "LANG",
    "LC_ALL",
    "SSH_CLIENT",
    "SSH_CONNECTION",
    "SSH_TTY",
    "TERM",
];

/// The setup module, then its facts as `ansible_facts` holds them (without the
/// `ansible_` prefix of the module's own result).
const PLAY: &str = "- hosts: all\n  gather_facts: false\n  tasks:\n    - setup:\n    - copy:\n        content: \"{{ ansible_facts | to_json }}\"\n        dest: \"{{ out }}\"\n      delegate_to: localhost\n";

use support::ansible_venv as venv;

/// A python test host of our own (Ansible's setup module needs python3 on it).
struct Host {
    dir: PathBuf,
}

impl Host {
    fn up() -> Host {
        let dir = PathBuf::from("/tmp/drover-facts-hosts");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts/up");
        let out = Command::new(&script)
            .args(["1", "--python"])
            .env("DROVER_HOSTS_DIR", &dir)
            .env("DROVER_HOSTS_BASE_PORT", "22790")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot start the facts test host: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Host { dir }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts/down");
        let _ = Command::new(script)
            .env("DROVER_HOSTS_DIR", &self.dir)
            .output();
    }
}

fn gather(tool: &str, host: &Host, work: &Path) -> serde_json::Map<String, J> {
    let play = work.join("facts.yml");
    std::fs::write(&play, PLAY).unwrap();
    let out_file = work.join(format!("{tool}.json"));
    let inventory = host.dir.join("inventory.yml");
    let mut cmd = if tool == "ansible" {
        let mut c = Command::new(venv().join("bin/ansible-playbook"));
        c.env("ANSIBLE_CONFIG", work.join("none.cfg"))
            .env("ANSIBLE_LOCALHOST_WARNING", "0");
        c
    } else {
        let mut c = support::local::drover();
        c.arg("apply");
        c
    };
    let out = cmd
        .arg(&play)
        .arg("-i")
        .arg(&inventory)
        .arg("-e")
        .arg(format!("out={}", out_file.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tool} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    // The setup module's result names facts `ansible_x`; `ansible_facts.x` is the same.
    match serde_json::from_str(&text).unwrap() {
        J::Object(m) => m
            .into_iter()
            .map(|(k, v)| {
                (
                    k.strip_prefix("ansible_").map_or(k.clone(), str::to_string),
                    v,
                )
            })
            .collect(),
        other => panic!("{tool}: facts are not a mapping: {other}"),
    }
}

/// Same keys, recursively (values may differ).
fn same_shape(a: &J, d: &J) -> bool {
    match (a, d) {
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (J::Number(_), J::Number(_)) | (J::String(_), J::String(_)) => true,
        (x, y) => std::mem::discriminant(x) == std::mem::discriminant(y),
    }
}

fn compare_volatile(key: &str, a: &J, d: &J) -> Result<(), String> {
    match key {
        "env" => {
            let (x, y) = (a.as_object().unwrap(), d.as_object().unwrap());
            for (k, v) in x
                .iter()
                .filter(|(k, _)| !ENV_PER_SESSION.contains(&k.as_str()))
            {
                if y.get(k) != Some(v) {
                    return Err(format!("env.{k}: ansible {v} vs drover {:?}", y.get(k)));
                }
            }
            for k in y.keys().filter(|k| !ENV_PER_SESSION.contains(&k.as_str())) {
                if !x.contains_key(k) {
                    return Err(format!("env.{k}: only drover has it"));
                }
            }
            Ok(())
        }
        "uptime_seconds" => {
            let (x, y) = (a.as_i64().unwrap_or(0), d.as_i64().unwrap_or(0));
            if (y - x).abs() > 600 {
                return Err(format!("uptime {x} vs {y}"));
            }
            Ok(())
        }
        "date_time" if a["date"] != d["date"] && a["tz"] == d["tz"] => {
            // Crossing midnight between the two gatherings is possible; the zone is not.
            same_shape(a, d)
                .then_some(())
                .ok_or_else(|| "date_time keys differ".into())
        }
        "date_time" if a["tz"] != d["tz"] || a["tz_offset"] != d["tz_offset"] => Err(format!(
            "time zone: ansible {} vs drover {}",
            a["tz"], d["tz"]
        )),
        _ if same_shape(a, d) => Ok(()),
        _ => Err(format!("shape: ansible {a} vs drover {d}")),
    }
}

fn sorted_list(v: &J) -> Vec<String> {
    let mut l: Vec<String> = v
        .as_array()
        .map(|a| a.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default();
    l.sort();
    l
}

#[test]
fn facts_match_ansible_setup_on_the_same_host() {
    if !venv().join("bin/ansible-playbook").exists() {
        assert!(
            std::env::var("DROVER_SKIP_ANSIBLE_TESTS").as_deref() == Ok("1"),
            "{} is missing (see tests/requirements-ansible.txt)",
            venv().display()
        );
        return;
    }
    let host = Host::up();
    let work = tempfile::tempdir().unwrap();
    let ansible = gather("ansible", &host, work.path());
    let drover = gather("drover", &host, work.path());
    let left_out: std::collections::HashSet<&str> = LEFT_OUT.iter().map(|(k, _)| *k).collect();
    let mut problems = Vec::new();
    for (k, a) in &ansible {
        let Some(d) = drover.get(k) else {
            if !left_out.contains(k.as_str()) {
                problems.push(format!(
                    "{k}: Ansible gathers it, drover does not, and LEFT_OUT does not say why"
                ));
            }
            continue;
        };
        if left_out.contains(k.as_str()) {
            problems.push(format!(
                "{k}: gathered now; take it out of LEFT_OUT and the README"
            ));
        }
        let verdict = if VOLATILE.contains(&k.as_str()) {
            compare_volatile(k, a, d)
        } else if k == "interfaces" || k.starts_with("all_ipv") {
            // Ansible lists interfaces in the order it found them (a dict's keys).
            (sorted_list(a) == sorted_list(d))
                .then_some(())
                .ok_or_else(|| format!("ansible {a} vs drover {d}"))
        } else {
            (a == d)
                .then_some(())
                .ok_or_else(|| format!("ansible {a} vs drover {d}"))
        };
        if let Err(e) = verdict {
            problems.push(format!("{k}: {e}"));
        }
    }
    for k in drover.keys() {
        if !ansible.contains_key(k) {
            problems.push(format!("{k}: only drover gathers it"));
        }
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for (k, _) in LEFT_OUT {
        if !readme.contains(&format!("`{k}`")) {
            problems.push(format!(
                "{k}: left out but not named in the README's facts table"
            ));
        }
    }
    eprintln!(
        "facts: ansible {} keys, drover {} keys, {} left out with a reason",
        ansible.len(),
        drover.len(),
        LEFT_OUT.len()
    );
    assert!(
        problems.is_empty(),
        "facts differ from Ansible's:\n  {}",
        problems.join("\n  ")
    );
}
