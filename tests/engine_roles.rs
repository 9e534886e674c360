//! Roles, dependencies, handlers, blocks with rescue/always, includes with loops, tags,
//! variable precedence and the task graph, through the real binary (local connection).
//! The expected recaps and trees were checked against ansible-playbook (ansible-core
//! 2.19) on the same fixtures.

use std::path::Path;
use std::process::Output;

mod support;
use support::local::{fixture, fixture_hosts, recap_hosts as recap};

fn drover(args: &[&str]) -> Output {
    let _hosts = fixture_hosts();
    support::local::drover()
        .args(args)
        .output()
        .expect("run drover")
}

fn apply_roles(root: &Path, extra: &[&str]) -> Output {
    let site = fixture("roles/site.yml");
    let inv = fixture("roles/inventory.yml");
    let root_var = format!("root={}", root.display());
    let mut args = vec![
        "apply",
        site.to_str().unwrap(),
        "-i",
        inv.to_str().unwrap(),
        "-e",
        &root_var,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    drover(&args)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn roles_blocks_includes_and_handlers_converge_like_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let out = apply_roles(r, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rc = recap(&out);
    // Same counts as ansible-playbook on this fixture.
    assert_eq!(
        (
            rc["h1"]["ok"].as_u64(),
            rc["h1"]["changed"].as_u64(),
            rc["h1"]["rescued"].as_u64()
        ),
        (Some(13), Some(10), Some(1))
    );
    assert_eq!(
        (
            rc["h2"]["ok"].as_u64(),
            rc["h2"]["changed"].as_u64(),
            rc["h2"]["skipped"].as_u64()
        ),
        (Some(12), Some(9), Some(1))
    );
    assert_eq!(
        read(&r.join("common-h1")),
        "common\n",
        "the role dependency ran"
    );
    assert_eq!(
        read(&r.join("h1/app.conf")),
        "port=8081\nhost=h1\ninline=h1-inline\n"
    );
    assert_eq!(read(&r.join("h2/app.conf")), "port=8081\nhost=h2\n");
    assert_eq!(
        read(&r.join("h1/rescued")),
        "rescued after fail on purpose\n"
    );
    assert!(
        !r.join("h1/never").exists(),
        "the task after a failure in a block did not run"
    );
    assert_eq!(read(&r.join("h1/always")), "always\n");
    assert_eq!(read(&r.join("h1/part-a")), "a\n");
    assert_eq!(read(&r.join("h1/part-b")), "b\n");
    assert_eq!(
        read(&r.join("h1/restarted")),
        "restarted\n",
        "the handler ran"
    );
    assert!(r.join("h1/web-only").exists() && !r.join("h2/web-only").exists());
    assert!(
        !r.join("h1/tag-never").exists(),
        "a 'never' task runs only when asked for"
    );
    assert_eq!(
        read(&r.join("h1/vars")),
        "layer=group_all\ngroup_layer=web\nrole_default=d\nrole_var=v\nplay_var=from_play\nechoes=x,y\ngroups=web\n"
    );
    assert_eq!(
        read(&r.join("h2/vars")),
        "layer=host_h2\ngroup_layer=all\nrole_default=d\nrole_var=v\nplay_var=from_play\nechoes=x,y\ngroups=ungrouped\n"
    );
    std::fs::remove_file(r.join("h1/restarted")).unwrap();
    let again = apply_roles(r, &[]);
    let rc = recap(&again);
    assert_eq!(rc["h1"]["changed"], 0);
    assert_eq!(rc["h2"]["changed"], 0);
    assert!(!r.join("h1/restarted").exists(), "no change, so no handler");
}

#[test]
fn tags_select_tasks() {
    let dir = tempfile::tempdir().unwrap();
    apply_roles(dir.path(), &[]);
    std::fs::remove_file(dir.path().join("h1/app.conf")).unwrap();
    let out = apply_roles(dir.path(), &["--tags", "debug"]);
    let rc = recap(&out);
    assert_eq!(
        rc["h1"]["changed"], 1,
        "only the task tagged never+debug ran"
    );
    assert!(dir.path().join("h1/tag-never").exists());
    assert!(
        !dir.path().join("h1/app.conf").exists(),
        "untagged role tasks did not run"
    );
    let skip = tempfile::tempdir().unwrap();
    let out = apply_roles(skip.path(), &["--skip-tags", "never", "--limit", "h2"]);
    let rc = recap(&out);
    assert!(rc.get("h1").is_none(), "--limit left h1 out");
    assert!(skip.path().join("h2/app.conf").exists());
}

#[test]
fn sixteen_levels_of_variable_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let site = fixture("precedence/site.yml");
    let inv = fixture("precedence/inventory.yml");
    let extra = format!("@{}", fixture("precedence/extra.yml").display());
    let root = format!("root={}", dir.path().display());
    let out = drover(&[
        "apply",
        site.to_str().unwrap(),
        "-i",
        inv.to_str().unwrap(),
        "-e",
        &root,
        "-e",
        &extra,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        read(&dir.path().join("precedence")),
        read(&fixture("precedence/expected.txt"))
    );
}

#[test]
fn graph_has_task_chains_rescue_and_notify_edges() {
    let site = fixture("roles/site.yml");
    let inv = fixture("roles/inventory.yml");
    let out = drover(&[
        "graph",
        site.to_str().unwrap(),
        "-i",
        inv.to_str().unwrap(),
        "-e",
        "root=/x",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph drover {"));
    assert!(
        dot.contains("label=\"h1\"") && dot.contains("label=\"h2\""),
        "a cluster per host"
    );
    assert!(dot.contains("app : app config"));
    assert_eq!(
        dot.matches("label=\"on failure\"").count(),
        2,
        "one rescue edge per host"
    );
    assert_eq!(
        dot.matches("label=\"notify\"").count(),
        2,
        "app config notifies the handler on each host"
    );
    assert!(dot.contains("HANDLER app : restart app"));
    // One play and no task reading other hosts: no meeting point, each host its own chain.
    assert!(!dot.contains("all hosts reach"));
    let collapsed = drover(&[
        "graph",
        site.to_str().unwrap(),
        "-i",
        inv.to_str().unwrap(),
        "--collapse",
        "roles",
        "--format",
        "mermaid",
    ]);
    let m = String::from_utf8_lossy(&collapsed.stdout);
    assert!(m.starts_with("flowchart TD"));
    assert!(m.contains("role app") && m.contains("role common"));
}

#[test]
fn inventory_list_matches_ansible_inventory_shape() {
    let inv = fixture("roles/inventory.yml");
    let out = drover(&["inventory", "-i", inv.to_str().unwrap(), "--list"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["web"]["hosts"], serde_json::json!(["h1"]));
    assert_eq!(v["ungrouped"]["hosts"], serde_json::json!(["h2"]));
    assert_eq!(v["_meta"]["hostvars"]["h1"]["group_layer"], "web");
    assert_eq!(v["_meta"]["hostvars"]["h2"]["layer"], "host_h2");
    assert_eq!(v["_meta"]["hostvars"]["h1"]["host_only"], "h1-inline");
    let all_children = v["all"]["children"].as_array().unwrap();
    assert!(
        all_children.contains(&serde_json::json!("web"))
            && all_children.contains(&serde_json::json!("ungrouped"))
    );
}
