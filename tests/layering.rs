//! The engine's imports run one way (issue #19): inside `src/exec/` the files form no
//! cycle (the host walk uses the task runner, never the reverse; no file reaches back
//! into `exec/mod.rs`), and `src/vars/` does not use `src/template/` (the template layer
//! reads variables; variables do not render templates).
//!
//! Read from the source text: a `super::NAME` or `crate::exec::NAME` path in a file of
//! `src/exec/` is an edge to the sibling file NAME, or to `mod.rs` when NAME is not a
//! sibling. Unit-test modules (from `#[cfg(test)]` on) are left out: `super` means the
//! file itself there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources(dir: &str) -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        // A directory module (`facts/mod.rs`) is one node, named after the directory.
        .map(|p| if p.is_dir() { p.join("mod.rs") } else { p })
        .filter(|p| p.extension().is_some_and(|x| x == "rs") && p.exists())
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let stem = if p.ends_with("mod.rs") && p.parent() != Some(root.as_path()) {
                p.parent().unwrap().file_name().unwrap()
            } else {
                p.file_stem().unwrap()
            }
            .to_string_lossy()
            .into_owned();
            (stem, code)
        })
        .collect()
}

/// The first path segments after each `prefix` (`super::a::b`, `super::{a, b::c}`).
fn referenced(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        let rest = &code[i + prefix.len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .collect(),
            None => vec![rest],
        };
        for n in names {
            let n: String = n
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !n.is_empty() {
                out.insert(n);
            }
        }
    }
    out
}

/// Edges between the files of `src/exec/` ("mod" is mod.rs).
fn exec_edges() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources("src/exec");
    let mut edges = BTreeMap::new();
    for (file, code) in &files {
        if file == "mod" {
            continue;
        }
        let mut to = BTreeSet::new();
        for name in referenced(code, "super::").union(&referenced(code, "crate::exec::")) {
            if name == "*" {
                continue;
            }
            to.insert(if files.contains_key(name) {
                name.clone()
            } else {
                "mod".to_string()
            });
        }
        to.remove(file);
        edges.insert(file.clone(), to);
    }
    edges
}

/// A cycle in the graph, as the list of files on it.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            return Some(path[i..].to_vec());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn exec_files_import_one_way() {
    let edges = exec_edges();
    let back: Vec<_> = edges
        .iter()
        .filter(|(_, to)| to.contains("mod"))
        .map(|(f, _)| f.as_str())
        .collect();
    assert!(
        back.is_empty(),
        "these files reach back into exec/mod.rs: {back:?}"
    );
    assert_eq!(find_cycle(&edges), None, "an import cycle in src/exec/");
    // The layering the executor is built on, so a change to it is a visible decision.
    assert!(edges["host"].contains("task") && !edges["task"].contains("host"));
    assert!(!edges["play"].contains("host") && !edges["play"].contains("task"));
}

#[test]
fn vars_do_not_use_the_template_layer() {
    for (file, code) in sources("src/vars") {
        assert!(
            !code.contains("crate::template"),
            "src/vars/{file}.rs uses crate::template"
        );
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let e = |pairs: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            m.entry(a.to_string()).or_default().insert(b.to_string());
            m.entry(b.to_string()).or_default();
        }
        m
    };
    assert_eq!(
        find_cycle(&e(&[("a", "b"), ("b", "c"), ("c", "a")])).map(|c| c.len()),
        Some(3)
    );
    assert_eq!(find_cycle(&e(&[("a", "b"), ("a", "c"), ("b", "c")])), None);
    assert_eq!(
        referenced("use super::{batch, loops::x};\nsuper::task::f()", "super::"),
        ["batch", "loops", "task"].map(String::from).into()
    );
}
