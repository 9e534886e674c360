//! The task DAG: every (host, task) is a node; edges follow task order on a host, block
//! rescue/always paths, handler notifications and the order of plays on each host. Hosts
//! have no edges between them: each walks its own chain. Rendered as DOT or Mermaid.

use crate::diagnostics::{Error, Result};
use crate::inventory::{pattern, Inventory};
use crate::playbook::{Item, Playbook};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::HashMap;

/// How much detail the graph keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collapse {
    /// A node per host and task.
    None,
    /// A node per task (the same for every host).
    Hosts,
    /// A node per role (or play section) per play.
    Roles,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Next,
    Rescue,
    Always,
    Notify,
    Handlers,
    NextPlay,
}

impl Edge {
    fn label(self) -> &'static str {
        match self {
            Edge::Next => "",
            Edge::Rescue => "on failure",
            Edge::Always => "always",
            Edge::Notify => "notify",
            Edge::Handlers => "flush",
            Edge::NextPlay => "next play",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub label: String,
    pub host: Option<String>,
    pub handler: bool,
}

pub struct TaskGraph {
    pub graph: DiGraph<Node, Edge>,
}

struct Builder {
    g: DiGraph<Node, Edge>,
    index: HashMap<String, NodeIndex>,
    collapse: Collapse,
    host: Option<String>,
    play: usize,
}

impl Builder {
    fn node(&mut self, key: String, label: String, handler: bool) -> NodeIndex {
        let full_key = format!("{}|{}|{key}", self.play, self.host.as_deref().unwrap_or(""));
        if let Some(i) = self.index.get(&full_key) {
            return *i;
        }
        let i = self.g.add_node(Node {
            label,
            host: self.host.clone(),
            handler,
        });
        self.index.insert(full_key, i);
        i
    }

    fn edge(&mut self, a: NodeIndex, b: NodeIndex, e: Edge) {
        if a != b && !self.g.edges_connecting(a, b).any(|x| *x.weight() == e) {
            self.g.add_edge(a, b, e);
        }
    }

    /// Add a task list after the `tails` nodes; returns the new tails (a block with a
    /// rescue has two ways out).
    fn items(
        &mut self,
        items: &[Item],
        tails: Vec<NodeIndex>,
        notify: &mut Vec<(NodeIndex, String)>,
    ) -> Vec<NodeIndex> {
        let mut tails = tails;
        for item in items {
            let node = match item {
                Item::Task(t) => {
                    let (key, label) = match self.collapse {
                        Collapse::Roles => {
                            let r =
                                t.kw.role
                                    .as_ref()
                                    .map(|r| format!("role {}", r.name))
                                    .unwrap_or_else(|| "tasks".into());
                            (r.clone(), r)
                        }
                        _ => (format!("task{}", t.id), t.display_name()),
                    };
                    let n = self.node(key, label, false);
                    for name in &t.notify {
                        notify.push((n, name.clone()));
                    }
                    n
                }
                Item::Include(i) => {
                    let label = format!("include {}", i.file.as_str().unwrap_or("(templated)"));
                    let key = if self.collapse == Collapse::Roles {
                        "tasks".to_string()
                    } else {
                        format!("inc{}", i.id)
                    };
                    self.node(key, label, false)
                }
                Item::Block(b) => {
                    let mut out = self.items(&b.block, tails.clone(), notify);
                    if !b.rescue.is_empty() {
                        let rescue_tails = self.items(&b.rescue, Vec::new(), notify);
                        // Any task of the block may fail over to the rescue section.
                        if let (Some(bf), Some(rf)) =
                            (self.first_of(&b.block), self.first_of(&b.rescue))
                        {
                            self.edge(bf, rf, Edge::Rescue);
                        }
                        out.extend(rescue_tails);
                    }
                    if !b.always.is_empty() {
                        let before = out.clone();
                        out = self.items(&b.always, Vec::new(), notify);
                        if let Some(af) = self.first_of(&b.always) {
                            for t in before {
                                self.edge(t, af, Edge::Always);
                            }
                        }
                    }
                    if !out.is_empty() {
                        tails = out;
                    }
                    continue;
                }
            };
            for t in &tails {
                self.edge(*t, node, Edge::Next);
            }
            tails = vec![node];
        }
        tails
    }

    fn first_of(&self, items: &[Item]) -> Option<NodeIndex> {
        let key = match items.first()? {
            Item::Task(t) if self.collapse == Collapse::Roles => {
                t.kw.role
                    .as_ref()
                    .map(|r| format!("role {}", r.name))
                    .unwrap_or_else(|| "tasks".into())
            }
            Item::Task(t) => format!("task{}", t.id),
            Item::Include(i) => format!("inc{}", i.id),
            Item::Block(b) => return self.first_of(&b.block),
        };
        self.index
            .get(&format!(
                "{}|{}|{key}",
                self.play,
                self.host.as_deref().unwrap_or("")
            ))
            .copied()
    }
}

/// Build the DAG for the playbooks and the hosts their plays target.
pub fn build(
    playbooks: &[Playbook],
    inv: &Inventory,
    limit: Option<&str>,
    collapse: Collapse,
) -> Result<TaskGraph> {
    let limit_hosts = match limit {
        Some(l) => {
            Some(pattern::select(inv, l).map_err(|e| Error::io(format!("--limit: {}", e.0)))?)
        }
        None => None,
    };
    let mut b = Builder {
        g: DiGraph::new(),
        index: HashMap::new(),
        collapse,
        host: None,
        play: 0,
    };
    let mut last_on_host: HashMap<String, NodeIndex> = HashMap::new();
    let mut play_no = 0;
    let mut inventory_may_change = false;
    for pb in playbooks {
        for play in &pb.plays {
            play_no += 1;
            let select = if inventory_may_change {
                pattern::select_lenient
            } else {
                pattern::select
            };
            inventory_may_change |= crate::modules::inventory::play_changes_inventory(play);
            let hosts: Vec<String> = if collapse == Collapse::None {
                let mut h = select(inv, play.hosts.as_str().unwrap_or("all"))
                    .map_err(|e| Error::invalid(e.0, &play.hosts_span))?;
                if let Some(l) = &limit_hosts {
                    h.retain(|x| l.contains(x));
                }
                h
            } else {
                vec![String::new()]
            };
            for host in &hosts {
                b.play = play_no;
                b.host = if host.is_empty() {
                    None
                } else {
                    Some(host.clone())
                };
                let start_key = format!("play{play_no}");
                let start = b.node(start_key, format!("PLAY {}", play.name), false);
                if let Some(prev) = last_on_host.get(host) {
                    b.edge(*prev, start, Edge::NextPlay);
                }
                let mut notify = Vec::new();
                let mut end = vec![start];
                for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
                    end = b.items(section, end, &mut notify);
                }
                // Handlers: edges from the tasks that notify them, run after the tasks.
                let mut prev_handler = None;
                for h in &play.handlers {
                    let n = b.node(
                        format!("handler{}", h.id()),
                        format!("HANDLER {}", h.display_name()),
                        true,
                    );
                    for (from, name) in &notify {
                        if h.topics.contains(name) {
                            b.edge(*from, n, Edge::Notify);
                        }
                    }
                    match prev_handler {
                        Some(p) => b.edge(p, n, Edge::Next),
                        None => {
                            for t in &end {
                                b.edge(*t, n, Edge::Handlers);
                            }
                        }
                    }
                    prev_handler = Some(n);
                }
                if let Some(e) = prev_handler.or(end.last().copied()) {
                    last_on_host.insert(host.clone(), e);
                }
            }
        }
    }
    if petgraph::algo::is_cyclic_directed(&b.g) && collapse != Collapse::Roles {
        let cycle = petgraph::algo::kosaraju_scc(&b.g)
            .into_iter()
            .find(|c| c.len() > 1)
            .unwrap_or_default();
        let names: Vec<String> = cycle.iter().map(|i| b.g[*i].label.clone()).collect();
        return Err(Error::io(format!(
            "the task graph has a cycle: {}",
            names.join(" -> ")
        )));
    }
    Ok(TaskGraph { graph: b.g })
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl TaskGraph {
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph drover {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
        let mut by_host: HashMap<Option<String>, Vec<NodeIndex>> = HashMap::new();
        for i in self.graph.node_indices() {
            by_host
                .entry(self.graph[i].host.clone())
                .or_default()
                .push(i);
        }
        let mut hosts: Vec<_> = by_host.into_iter().collect();
        hosts.sort_by(|a, b| a.0.cmp(&b.0));
        for (n, (host, nodes)) in hosts.iter().enumerate() {
            if let Some(h) = host {
                out.push_str(&format!(
                    "  subgraph cluster_{n} {{\n    label=\"{}\";\n",
                    esc(h)
                ));
            }
            for i in nodes {
                let node = &self.graph[*i];
                let style = if node.handler {
                    ", style=rounded"
                } else if node.label.starts_with("PLAY ") {
                    ", style=filled, fillcolor=\"#eeeeee\""
                } else {
                    ""
                };
                out.push_str(&format!(
                    "    n{} [label=\"{}\"{style}];\n",
                    i.index(),
                    esc(&node.label)
                ));
            }
            if host.is_some() {
                out.push_str("  }\n");
            }
        }
        for e in self.graph.edge_references() {
            let label = e.weight().label();
            let attrs = if label.is_empty() {
                String::new()
            } else {
                format!(" [label=\"{label}\", style=dashed]")
            };
            out.push_str(&format!(
                "  n{} -> n{}{attrs};\n",
                e.source().index(),
                e.target().index()
            ));
        }
        out.push_str("}\n");
        out
    }

    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        for i in self.graph.node_indices() {
            let n = &self.graph[i];
            let label = match &n.host {
                Some(h) => format!("{h}: {}", n.label),
                None => n.label.clone(),
            };
            let label = label.replace('"', "'");
            if n.handler {
                out.push_str(&format!("  n{}([\"{label}\"])\n", i.index()));
            } else {
                out.push_str(&format!("  n{}[\"{label}\"]\n", i.index()));
            }
        }
        for e in self.graph.edge_references() {
            match e.weight().label() {
                "" => out.push_str(&format!(
                    "  n{} --> n{}\n",
                    e.source().index(),
                    e.target().index()
                )),
                l => out.push_str(&format!(
                    "  n{} -. {l} .-> n{}\n",
                    e.source().index(),
                    e.target().index()
                )),
            }
        }
        out
    }
}
