//! drover's template layer against ansible-core's own templar, on a generated corpus of
//! thousands of expressions (tests/template_diff/corpus.py: every filter and test on
//! every kind of value, literals in each YAML scalar style, undefined chains, type
//! round-trips, whitespace control, macros, namespace, loops). One Python process renders
//! the whole corpus with Ansible; each case is then rendered here with the same variables
//! and compared: the same value (type included; the elements of union/difference/
//! intersect, which Ansible builds from Python sets, in any order), or the same error
//! class (undefined variable, or any other error). A case may differ only when
//! tests/template_diff/known_differences.txt lists it with a reason.
//!
//! `DROVER_TEMPLATE_DIFF_SHOW=N` prints the first N unexplained differences in full.

use drover::template::Scope;
use drover::template::{environment, render_str, render_value};
use minijinja::Value;
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn venv_python() -> PathBuf {
    let venv = std::env::var("DROVER_ANSIBLE_VENV")
        .unwrap_or_else(|_| "/var/cache/drover-test/venv".to_string());
    PathBuf::from(venv).join("bin/python")
}

fn corpus_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/template_diff/corpus.py")
}

fn python(args: &[&str]) -> String {
    let out = Command::new(venv_python())
        .arg(corpus_script())
        .args(args)
        .env("ANSIBLE_CONFIG", "/nonexistent/ansible.cfg")
        .output()
        .expect("the ansible-core venv (made by .ci/run) runs the corpus");
    assert!(
        out.status.success(),
        "corpus.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The known differences: `source<TAB>reason` per line (`#` comments).
fn known() -> BTreeMap<String, String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/template_diff/known_differences.txt");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(s, r)| (s.replace("\\n", "\n"), r.to_string()))
        .collect()
}

enum Outcome {
    Value(J),
    Error(&'static str, String),
}

fn drover_render(kind: &str, source: &str, vars: &drover::vars::Vars) -> Outcome {
    let env = environment();
    let ctx = Value::from_dyn_object(Scope::new(env.clone(), vars.clone()));
    let result = if kind == "yaml" {
        drover::yaml::load_str(source, std::path::Path::new("corpus.yml"))
            .map(|docs| docs[0].to_value().get_attr("v").unwrap_or_default())
            .and_then(|v| render_value(&env, &v, &ctx))
    } else {
        render_str(&env, source, &ctx)
    };
    match result {
        Ok(v) => match serde_json::to_value(&v) {
            Ok(j) => Outcome::Value(j),
            Err(e) => Outcome::Error("error", format!("cannot serialize: {e}")),
        },
        Err(e) if e.message.contains("undefined") => Outcome::Error("undefined", e.message.clone()),
        Err(e) => Outcome::Error("error", e.message.clone()),
    }
}

/// Python's json turns a float that is whole into `2.0`; serde_json keeps 2.0 as a float
/// too, so numbers compare with their type. Strings, lists and maps compare as they are.
fn same(a: &J, d: &J) -> bool {
    match (a, d) {
        (J::Number(x), J::Number(y)) => x.is_f64() == y.is_f64() && x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == d,
    }
}

/// A list's elements in a fixed order (by their JSON text); anything else as it is.
fn sorted(v: &J) -> J {
    match v {
        J::Array(items) => {
            let mut items = items.clone();
            items.sort_by_key(|i| i.to_string());
            J::Array(items)
        }
        other => other.clone(),
    }
}

#[test]
fn drover_templates_like_ansible() {
    let vars_json: J = serde_json::from_str(&python(&["--vars"])).expect("vars json");
    let vars: drover::vars::Vars = vars_json
        .as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
        .collect();
    let known = known();
    let corpus = python(&[]);
    let (mut total, mut identical, mut listed) = (0, 0, 0);
    let mut unexplained = Vec::new();
    let mut stale: Vec<&String> = Vec::new();
    let mut seen_listed = std::collections::HashSet::new();
    for line in corpus.lines() {
        let case: J = serde_json::from_str(line).expect("a corpus line");
        let (kind, source) = (
            case["kind"].as_str().unwrap(),
            case["source"].as_str().unwrap(),
        );
        total += 1;
        let ansible = &case["ansible"];
        // Ansible builds these from Python sets: their order is hash order (for strings
        // it varies per process), so the elements are compared, not their order.
        let set_result = ["union(", "difference(", "intersect("]
            .iter()
            .any(|f| source.contains(f));
        let agrees = match drover_render(kind, source, &vars) {
            Outcome::Value(v) if set_result => ansible
                .get("value")
                .is_some_and(|a| same(&sorted(a), &sorted(&v))),
            Outcome::Value(v) => ansible.get("value").is_some_and(|a| same(a, &v)),
            Outcome::Error(class, _) => ansible["error"] == class,
        };
        if agrees {
            identical += 1;
            if known.contains_key(source) {
                seen_listed.insert(source.to_string());
            }
            continue;
        }
        if known.contains_key(source) {
            listed += 1;
            seen_listed.insert(source.to_string());
            continue;
        }
        let drover = match drover_render(kind, source, &vars) {
            Outcome::Value(v) => format!("value {v}"),
            Outcome::Error(c, m) => format!("{c} error: {m}"),
        };
        unexplained.push(format!(
            "{source:?}\n      ansible: {ansible}\n      drover:  {drover}"
        ));
    }
    for k in known.keys() {
        if !seen_listed.contains(k) {
            stale.push(k);
        }
    }
    eprintln!(
        "template corpus: {total} cases, {identical} identical, {listed} listed differences, {} unexplained",
        unexplained.len()
    );
    let show: usize = std::env::var("DROVER_TEMPLATE_DIFF_SHOW")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    assert!(total >= 2000, "the corpus must hold at least 2,000 cases");
    assert!(
        unexplained.is_empty(),
        "{} case(s) render differently from ansible-core (first {show}):\n  {}",
        unexplained.len(),
        unexplained
            .iter()
            .take(show)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    let _ = stale;
}
