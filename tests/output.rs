//! Captured outputs: JSON events against the published schema, GitHub annotations at the
//! failing task's line, the step-summary Markdown, reports, and the drift exit code.

use std::path::Path;
use std::process::{Command, Output};

mod support;
use support::local::{fixture, fixture_hosts};

fn run(root: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Output {
    let _hosts = fixture_hosts();
    let mut c = support::local::drover();
    c.arg("apply")
        .arg(fixture("output/site.yml"))
        .arg("-i")
        .arg(fixture("output/inventory.ini"))
        .arg("-e")
        .arg(format!("root={}", root.display()))
        .args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run drover")
}

#[test]
fn json_events_follow_the_schema_and_cover_every_status() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/events.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--format", "json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "a failed and an unreachable host"
    );
    let mut statuses = std::collections::BTreeSet::new();
    let mut kinds = std::collections::BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let ev: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        let errors: Vec<String> = validator.iter_errors(&ev).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "event {line} breaks the schema: {errors:?}"
        );
        kinds.insert(ev["event"].as_str().unwrap().to_string());
        if let Some(s) = ev["status"].as_str() {
            statuses.insert(s.to_string());
        }
    }
    for s in [
        "ok",
        "changed",
        "skipped",
        "failed",
        "ignored",
        "unreachable",
    ] {
        assert!(statuses.contains(s), "no {s} result in {statuses:?}");
    }
    for k in [
        "run_start",
        "play_start",
        "task_start",
        "task_result",
        "host_done",
        "recap",
    ] {
        assert!(kinds.contains(k), "no {k} event");
    }
    // Human-readable lines still go to stderr in JSON mode.
    assert!(String::from_utf8_lossy(&out.stderr).contains("PLAY RECAP"));
}

#[test]
fn github_annotations_point_at_the_failing_task() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = run(
        dir.path(),
        &["--format", "github"],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let site = fixture("output/site.yml");
    assert!(
        text.starts_with("::group::PLAY [every outcome] (3 hosts)\n"),
        "{text}"
    );
    assert!(text.contains(&format!("::error file={},line=18,title=fail for real on local2 on local2::[local2] fail for real on local2: local2 is broken", site.display())), "{text}");
    assert!(
        text.contains(&format!("::warning file={},line=15,", site.display())),
        "ignored failures are warnings: {text}"
    );
    assert!(text.contains("::endgroup::"));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n## ❌ drover run failed"),
        "the summary is appended: {md}"
    );
    assert!(
        md.contains("| local2 | 3 | 2 | 0 | 1 | 1 | 0 | 1 |"),
        "{md}"
    );
    assert!(md.contains("| dead | 0 | 0 | 1 | 0 | 0 | 0 | 0 |"), "{md}");
    let failures_at = md.find("### Failures").unwrap();
    let changed_at = md.find("### Tasks that changed").unwrap();
    assert!(failures_at < changed_at, "failures come first");
    assert!(
        md.contains("- **fail for real on local2** on `local2`"),
        "{md}"
    );
}

#[test]
fn diffs_are_collapsed_in_the_summary_and_reports_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let (xml, json, md) = (
        dir.path().join("r.xml"),
        dir.path().join("r.json"),
        dir.path().join("r.md"),
    );
    let out = run(
        dir.path(),
        &[
            "--diff",
            "--report",
            xml.to_str().unwrap(),
            "--report",
            json.to_str().unwrap(),
            "--report",
            md.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(6));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("<details><summary>write a file on <code>local1</code></summary>"),
        "{md}"
    );
    assert!(md.contains("```diff\n--- before: "), "{md}");
    assert!(md.contains("+local1"), "{md}");
    let xml = std::fs::read_to_string(xml).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"drover\" tests=\"12\" failures=\"2\""), "{xml}");
    assert!(
        xml.contains("<testcase classname=\"local2\" name=\"fail for real on local2\""),
        "{xml}"
    );
    assert!(
        xml.contains("<failure type=\"failed\" message=\"local2 is broken\"/>"),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"unreachable\""), "{xml}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(report["recap"]["local2"]["failed"], 1);
    assert_eq!(report["results"].as_array().unwrap().len(), 12);
}

#[test]
fn detailed_exitcode_is_one_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--check", "--detailed-exitcode"], &[]);
    assert_eq!(out.status.code(), Some(1));
}

fn drover_out(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// YAML fixtures as JSON, through drover's own YAML 1.1 reader.
fn yaml_as_json(p: &Path) -> serde_json::Value {
    let docs = drover::yaml::load_file(p).unwrap();
    serde_json::to_value(docs[0].to_value()).unwrap()
}

#[test]
fn schemas_accept_the_fixtures_and_reject_unknown_arguments() {
    for (kind, file) in [
        ("playbook", "basic/site.yml"),
        ("playbook", "roles/site.yml"),
        ("playbook", "output/site.yml"),
        ("tasks", "roles/roles/app/tasks/main.yml"),
        ("inventory", "roles/inventory.yml"),
    ] {
        let schema: serde_json::Value =
            serde_json::from_str(&drover_out(&["schema", kind])).unwrap();
        let v = jsonschema::validator_for(&schema).unwrap();
        let doc = yaml_as_json(&fixture(file));
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{file} against the {kind} schema: {errors:?}"
        );
    }
    let schema: serde_json::Value =
        serde_json::from_str(&drover_out(&["schema", "tasks"])).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let bad = serde_json::json!([{"name": "x", "copy": {"content": "a", "dset": "/tmp/x"}}]);
    assert!(
        !v.is_valid(&bad),
        "a misspelled argument is flagged in the editor"
    );
    let bad = serde_json::json!([{"name": "x", "copyy": {"src": "a"}}]);
    assert!(
        !v.is_valid(&bad),
        "an unknown module is flagged in the editor"
    );
}

#[test]
fn completions_for_each_shell() {
    assert!(drover_out(&["completions", "bash"]).contains("_drover()"));
    assert!(drover_out(&["completions", "zsh"]).contains("#compdef drover"));
    assert!(drover_out(&["completions", "fish"]).contains("complete -c drover"));
}

#[test]
fn inventory_output_is_what_ansible_inventory_prints() {
    let graph = drover_out(&[
        "inventory",
        "-i",
        fixture("output/inventory.ini").to_str().unwrap(),
        "--graph",
    ]);
    assert_eq!(
        graph,
        std::fs::read_to_string(fixture("output/ansible-inventory-graph.txt")).unwrap()
    );
    let list: serde_json::Value = serde_json::from_str(&drover_out(&[
        "inventory",
        "-i",
        fixture("roles/inventory.yml").to_str().unwrap(),
        "--list",
    ]))
    .unwrap();
    let ansible: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("roles/ansible-inventory-list.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(list, ansible);
}
