//! `ansible.cfg` and `ANSIBLE_*` through the real binary: where the file is found, which
//! value wins (flag > environment > file), what `-v` lists, and a configuration that
//! names the inventory and the roles path used by `drover apply` without `-i`.

use std::path::Path;
use std::process::{Command, Output};

/// A project directory: a playbook using role `greet` (under `myroles/`), three
/// inventories naming hosts h1, h2, h3 (local connection), and `ansible.cfg`.
fn project(dir: &Path) {
    let w = |p: &str, text: &str| {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  roles:\n    - greet\n",
    );
    w(
        "myroles/greet/tasks/main.yml",
        "- name: mark\n  copy:\n    content: \"hi\\n\"\n    dest: \"{{ root }}/{{ inventory_hostname }}\"\n",
    );
    for h in ["h1", "h2", "h3"] {
        w(
            &format!("inv-{h}.ini"),
            &format!("{h} ansible_connection=local\n"),
        );
    }
    w(
        "ansible.cfg",
        "# project settings\n[defaults]\ninventory = inv-h1.ini\nroles_path = myroles ; beside the file\nnocows = 1\nforks: 3\n\n[ssh_connection]\npipelining = true\n",
    );
}

fn drover(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
    c.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("ANSIBLE_") || k.starts_with("DROVER_") {
            c.env_remove(k);
        }
    }
    // No ~/.ansible.cfg of whoever runs the tests.
    c.env("HOME", cwd.join("home"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run drover")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn marked(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_project_cfg_names_inventory_and_roles_path_and_v_lists_it() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let root = d.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let rootv = format!("root={}", root.display());
    let out = drover(d.path(), &["apply", "site.yml", "-e", &rootv, "-v"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_eq!(marked(&root), vec!["h1"], "{all}");
    let cfg = d.path().join("ansible.cfg");
    assert!(
        all.contains(&format!("config file: {}", cfg.display())),
        "{all}"
    );
    assert!(
        all.contains("defaults.inventory (line 3)")
            && all.contains("defaults.roles_path (line 4)")
            && all.contains("defaults.forks (line 6)"),
        "{all}"
    );
    assert!(
        all.contains("config keys ignored")
            && all.contains("defaults.nocows (line 5)")
            && all.contains("ssh_connection.pipelining (line 9)"),
        "{all}"
    );
}

#[test]
fn environment_wins_over_the_file_and_flags_over_the_environment() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let root = d.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let rootv = format!("root={}", root.display());
    let out = drover(
        d.path(),
        &["apply", "site.yml", "-e", &rootv, "-v"],
        &[("ANSIBLE_INVENTORY", "inv-h2.ini")],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_eq!(marked(&root), vec!["h2"], "{all}");
    assert!(
        all.contains("defaults.inventory (ANSIBLE_INVENTORY)"),
        "{all}"
    );
    let out = drover(
        d.path(),
        &["apply", "site.yml", "-e", &rootv, "-i", "inv-h3.ini"],
        &[("ANSIBLE_INVENTORY", "inv-h2.ini")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(marked(&root), vec!["h2", "h3"]);
}

#[test]
fn ansible_config_wins_over_the_current_directory_then_home() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let other = d.path().join("other");
    std::fs::create_dir(&other).unwrap();
    // Relative paths in a cfg are relative to the cfg's directory.
    std::fs::write(
        other.join("custom.cfg"),
        "[defaults]\ninventory = ../inv-h3.ini\nroles_path = ../myroles\n",
    )
    .unwrap();
    let root = d.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let rootv = format!("root={}", root.display());
    let custom = other.join("custom.cfg");
    let out = drover(
        d.path(),
        &["apply", "site.yml", "-e", &rootv, "-v"],
        &[("ANSIBLE_CONFIG", custom.to_str().unwrap())],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_eq!(marked(&root), vec!["h3"], "{all}");
    assert!(
        all.contains(&format!("config file: {}", custom.display())),
        "{all}"
    );
    // No ./ansible.cfg: ~/.ansible.cfg is next.
    std::fs::remove_file(d.path().join("ansible.cfg")).unwrap();
    let home = d.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(
        home.join(".ansible.cfg"),
        format!(
            "[defaults]\ninventory = {}\nroles_path = {}\n",
            d.path().join("inv-h2.ini").display(),
            d.path().join("myroles").display()
        ),
    )
    .unwrap();
    let out = drover(d.path(), &["apply", "site.yml", "-e", &rootv], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(marked(&root), vec!["h2", "h3"]);
}

#[test]
fn a_bad_value_is_refused_with_its_location() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    std::fs::write(
        d.path().join("ansible.cfg"),
        "[defaults]\ninventory = inv-h1.ini\nforks = many\n",
    )
    .unwrap();
    let out = drover(
        d.path(),
        &["apply", "site.yml", "-e", "root=/nonexistent"],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("ansible.cfg:3: [defaults] forks"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
}

#[test]
fn gathering_explicit_gathers_only_for_plays_that_ask() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    std::fs::write(
        d.path().join("facts.yml"),
        "- hosts: all\n  tasks:\n    - copy:\n        content: \"{{ ansible_facts | default({}) | length }}\"\n        dest: \"{{ root }}/count\"\n",
    )
    .unwrap();
    let root = d.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let rootv = format!("root={}", root.display());
    let out = drover(
        d.path(),
        &["apply", "facts.yml", "-e", &rootv],
        &[("ANSIBLE_GATHERING", "explicit")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(root.join("count")).unwrap(), "0");
    let out = drover(d.path(), &["apply", "facts.yml", "-e", &rootv], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_ne!(std::fs::read_to_string(root.join("count")).unwrap(), "0");
}
