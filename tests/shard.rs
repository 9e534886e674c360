//! `--shard K/N` splits the hosts between the jobs of a CI matrix, and `drover report
//! merge` combines their reports: every host converged by exactly one shard, every host
//! in the merged report once.

use std::path::Path;
use std::process::Command;

const HOSTS: usize = 11;

fn setup(dir: &Path) {
    let mut inv = String::from("all:\n  hosts:\n");
    for i in 0..HOSTS {
        inv.push_str(&format!("    node{i}:\n"));
    }
    inv.push_str("  vars:\n    ansible_connection: local\n");
    std::fs::write(dir.join("inventory.yml"), inv).unwrap();
    std::fs::write(
        dir.join("site.yml"),
        format!(
            "- hosts: all\n  gather_facts: no\n  tasks:\n    - name: mark\n      copy:\n        content: \"{{{{ inventory_hostname }}}}\\n\"\n        dest: \"{}/out/{{{{ inventory_hostname }}}}\"\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.join("out")).unwrap();
}

fn drover(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn recap_hosts(report: &Path) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    doc["recap"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn shards_partition_the_hosts_and_reports_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let mut all: Vec<String> = Vec::new();
    let mut reports = Vec::new();
    for k in 1..=3 {
        let report = format!("shard{k}.json");
        let out = drover(
            dir,
            &[
                "apply",
                "site.yml",
                "-i",
                "inventory.yml",
                "--shard",
                &format!("{k}/3"),
                "--report",
                &report,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let hosts = recap_hosts(&dir.join(&report));
        // 11 hosts in 3 shards: 4, 4 and 3.
        assert!((3..=4).contains(&hosts.len()), "shard {k}: {hosts:?}");
        all.extend(hosts);
        reports.push(report);
    }
    all.sort();
    let mut expected: Vec<String> = (0..HOSTS).map(|i| format!("node{i}")).collect();
    expected.sort();
    assert_eq!(all, expected, "each host in exactly one shard");
    let written: usize = std::fs::read_dir(dir.join("out")).unwrap().count();
    assert_eq!(written, HOSTS);

    // The same shard twice converges the same hosts (no dependence on run order).
    let again = drover(
        dir,
        &[
            "apply",
            "site.yml",
            "-i",
            "inventory.yml",
            "--shard",
            "2/3",
            "--report",
            "again.json",
        ],
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        recap_hosts(&dir.join("again.json")),
        recap_hosts(&dir.join("shard2.json"))
    );

    let mut args = vec!["report", "merge"];
    args.extend(reports.iter().map(String::as_str));
    args.extend(["-o", "run.json", "-o", "run.md", "-o", "run.xml"]);
    let out = drover(dir, &args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut merged = recap_hosts(&dir.join("run.json"));
    merged.sort();
    assert_eq!(merged, expected);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), HOSTS);
    let md = std::fs::read_to_string(dir.join("run.md")).unwrap();
    for h in &expected {
        assert!(md.contains(&format!("| {h} | 1 | 1 |")), "{h} in\n{md}");
    }
    let xml = std::fs::read_to_string(dir.join("run.xml")).unwrap();
    assert!(xml.contains(&format!("tests=\"{HOSTS}\"")), "{xml}");

    // Reports that overlap are not shards of one run.
    let out = drover(dir, &["report", "merge", "shard1.json", "shard1.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is in shard1.json and in shard1.json"),
        "{err}"
    );
}

#[test]
fn a_bad_shard_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    let out = drover(
        tmp.path(),
        &["apply", "site.yml", "-i", "inventory.yml", "--shard", "4/3"],
    );
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("K/N"));
    assert_eq!(
        std::fs::read_dir(tmp.path().join("out")).unwrap().count(),
        0
    );
}
