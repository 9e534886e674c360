//! `drover graph` draws the order the executor keeps (issue #19): on the fixtures, the
//! events of a real run (`--format json`, local connection, hosts in parallel) respect
//! every edge of `drover graph --format json`:
//! - on a host, no task starts before a task the graph puts ahead of it has started;
//! - across hosts, a task the graph makes wait for another host's task (through an
//!   "all hosts reach" point: a task reading other hosts' variables, or the next play)
//!   starts only after that task's last result.
//!
//! Events map to graph nodes by host, file and line. Tasks of a dynamic include are not
//! in the graph (it draws the include); their events are checked to come from files the
//! graph has no node in.

use serde_json::Value as J;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

mod support;
use support::local::{drover, fixture, fixture_hosts, json_events};

struct Graph {
    /// (host, file, line) -> node id
    at: HashMap<(String, String, u64), usize>,
    files: BTreeSet<String>,
    host: Vec<Option<String>>,
    /// ancestors[n]: every node with a path to n.
    ancestors: Vec<BTreeSet<usize>>,
    meeting_points: usize,
}

fn graph(dir: &Path, args: &[&str]) -> Graph {
    let out = drover()
        .current_dir(dir)
        .args([
            "graph",
            "site.yml",
            "-i",
            "inventory.yml",
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let g: J = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = g["nodes"].as_array().unwrap();
    let n = nodes.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in g["edges"].as_array().unwrap() {
        let (from, to) = (e["from"].as_u64().unwrap(), e["to"].as_u64().unwrap());
        preds[to as usize].push(from as usize);
    }
    let ancestors = (0..n)
        .map(|v| {
            let mut seen = BTreeSet::new();
            let mut stack = preds[v].clone();
            while let Some(p) = stack.pop() {
                if seen.insert(p) {
                    stack.extend(&preds[p]);
                }
            }
            seen
        })
        .collect();
    let mut at = HashMap::new();
    let mut files = BTreeSet::new();
    for node in nodes {
        if let (Some(h), Some(f), Some(l)) = (
            node["host"].as_str(),
            node["file"].as_str(),
            node["line"].as_u64(),
        ) {
            at.insert(
                (h.to_string(), f.to_string(), l),
                node["id"].as_u64().unwrap() as usize,
            );
            files.insert(f.to_string());
        }
    }
    Graph {
        at,
        files,
        host: nodes
            .iter()
            .map(|n| n["host"].as_str().map(str::to_string))
            .collect(),
        meeting_points: nodes
            .iter()
            .filter(|n| {
                n["label"]
                    .as_str()
                    .is_some_and(|l| l.starts_with("all hosts reach"))
            })
            .count(),
        ancestors,
    }
}

/// Where in the event stream each node started (its first `task_start`) and last
/// reported (its last `task_result`).
struct Executed {
    start: HashMap<usize, usize>,
    end: HashMap<usize, usize>,
}

fn run(dir: &Path, g: &Graph, args: &[&str]) -> Executed {
    let out = drover()
        .current_dir(dir)
        .args([
            "apply",
            "site.yml",
            "-i",
            "inventory.yml",
            "--format",
            "json",
        ])
        .args(["--forks", "5"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(2)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ex = Executed {
        start: HashMap::new(),
        end: HashMap::new(),
    };
    for (i, e) in json_events(&out).iter().enumerate() {
        let kind = e["event"].as_str().unwrap_or("");
        if kind != "task_start" && kind != "task_result" {
            continue;
        }
        let key = (
            e["host"].as_str().unwrap().to_string(),
            e["file"].as_str().unwrap().to_string(),
            e["line"].as_u64().unwrap(),
        );
        let Some(&node) = g.at.get(&key) else {
            assert!(
                !g.files.contains(&key.1),
                "an event the graph has no node for: {e}"
            );
            continue;
        };
        if kind == "task_start" {
            ex.start.entry(node).or_insert(i);
        } else {
            ex.end.insert(node, i);
            ex.start.entry(node).or_insert(i);
        }
    }
    ex
}

/// Check the run against the graph; returns how many cross-host orderings were checked.
fn respects(g: &Graph, ex: &Executed) -> usize {
    let mut across = 0;
    for (&v, &v_start) in &ex.start {
        for &u in &g.ancestors[v] {
            let Some(&u_start) = ex.start.get(&u) else {
                continue;
            };
            if g.host[u] == g.host[v] {
                assert!(
                    u_start < v_start,
                    "node {u} is ahead of {v} in the graph, but started after it"
                );
            } else if let Some(&u_end) = ex.end.get(&u) {
                assert!(
                    u_end < v_start,
                    "node {v} ({:?}) waits for {u} ({:?}) in the graph, but started before its result",
                    g.host[v],
                    g.host[u]
                );
                across += 1;
            }
        }
    }
    across
}

#[test]
fn a_run_keeps_the_order_drover_graph_draws() {
    let _hosts = fixture_hosts();
    let dir = fixture("graph_order");
    let g = graph(&dir, &[]);
    assert_eq!(
        g.meeting_points, 2,
        "the task reading hostvars and the second play are meeting points"
    );
    let ex = run(&dir, &g, &[]);
    assert!(ex.start.len() >= 20, "{} nodes ran", ex.start.len());
    // Every host's "in the second play" waited for all three hosts' first play: the
    // cross-host checks are not vacuous.
    assert!(respects(&g, &ex) > 30);
}

#[test]
fn the_roles_fixture_keeps_the_graph_order_too() {
    let _hosts = fixture_hosts();
    let root = tempfile::tempdir().unwrap();
    let root_arg = format!("root={}", root.path().display());
    for h in ["h1", "h2"] {
        std::fs::create_dir_all(root.path().join(h)).unwrap();
    }
    let dir = fixture("roles");
    let g = graph(&dir, &["-e", &root_arg]);
    let ex = run(&dir, &g, &["-e", &root_arg]);
    assert!(ex.start.len() >= 10, "{} nodes ran", ex.start.len());
    respects(&g, &ex);
}
