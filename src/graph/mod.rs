//! The task DAG: every (host, task) is a node; edges follow task order on a host, block
//! rescue/always paths, handler notifications and the order of plays. Hosts walk their
//! own chains and meet only where the executor makes them wait: at a task that reads
//! other hosts' variables (`cross_host`) and between plays, drawn as one shared node
//! ("all hosts reach …") every host's chain passes through. Rendered as DOT, Mermaid or
//! JSON (nodes with the file and line of their task, for tools and tests).

pub mod cross_host;

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

/// Why one node follows another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// The next task on the host.
    Next,
    /// A failure in the block goes to its rescue section.
    Rescue,
    /// The block's always section runs whatever happened.
    Always,
    /// A change notifies this handler.
    Notify,
    /// The end of a section flushes the notified handlers.
    Handlers,
    /// The next play.
    NextPlay,
    /// Into or out of a point every host of the batch must reach first.
    AllHosts,
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
            Edge::AllHosts => "all hosts",
        }
    }
}

/// One task, handler, include or meeting point.
#[derive(Clone, Debug)]
pub struct Node {
    /// What the drawing shows.
    pub label: String,
    /// `None` for a node shared by the hosts (a meeting point) or a collapsed graph.
    pub host: Option<String>,
    /// A handler (drawn rounded).
    pub handler: bool,
    /// Where the task, handler or include is written (`None` for play and meeting nodes).
    pub span: Option<crate::diagnostics::Span>,
}

/// The task DAG of a run (see the module docs).
pub struct TaskGraph {
    /// The nodes and edges.
    pub graph: DiGraph<Node, Edge>,
}

struct Builder {
    g: DiGraph<Node, Edge>,
    index: HashMap<String, NodeIndex>,
    collapse: Collapse,
    host: Option<String>,
    play: usize,
    /// More than one host in the play: tasks that read other hosts meet.
    hosts_meet: bool,
    env: std::sync::Arc<minijinja::Environment<'static>>,
    /// The variables cross-host reads are looked for in (the play's first host's), and
    /// the decision per task of the play.
    meet_vars: crate::vars::Vars,
    meets: HashMap<usize, bool>,
}

impl Builder {
    fn node(&mut self, key: String, label: String, handler: bool) -> NodeIndex {
        self.node_at(key, label, handler, None)
    }

    fn node_at(
        &mut self,
        key: String,
        label: String,
        handler: bool,
        span: Option<&crate::diagnostics::Span>,
    ) -> NodeIndex {
        let full_key = format!("{}|{}|{key}", self.play, self.host.as_deref().unwrap_or(""));
        if let Some(i) = self.index.get(&full_key) {
            return *i;
        }
        let i = self.g.add_node(Node {
            label,
            host: self.host.clone(),
            handler,
            span: span.cloned(),
        });
        self.index.insert(full_key, i);
        i
    }

    fn edge(&mut self, a: NodeIndex, b: NodeIndex, e: Edge) {
        if a != b && !self.g.edges_connecting(a, b).any(|x| *x.weight() == e) {
            self.g.add_edge(a, b, e);
        }
    }

    /// A node of the play shared by every host (a meeting point).
    fn shared_node(&mut self, key: String, label: String) -> NodeIndex {
        let host = self.host.take();
        let n = self.node(key, label, false);
        self.host = host;
        n
    }

    /// Does every host of the play wait for the others before `t` (as the executor
    /// does, see `cross_host`)?
    fn hosts_meet_at(&mut self, t: &crate::playbook::Task) -> bool {
        if !self.hosts_meet || self.collapse != Collapse::None {
            return false;
        }
        let (env, vars) = (&self.env, &self.meet_vars);
        *self
            .meets
            .entry(t.id)
            .or_insert_with(|| cross_host::reads_other_hosts(env, t, vars))
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
                    if self.hosts_meet_at(t) {
                        let meet = self.shared_node(
                            format!("meet{}", t.id),
                            format!("all hosts reach: {}", t.display_name()),
                        );
                        for tail in &tails {
                            self.edge(*tail, meet, Edge::AllHosts);
                        }
                        tails = vec![meet];
                    }
                    let n = self.node_at(key, label, false, Some(&t.span));
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
                    self.node_at(key, label, false, Some(&i.span))
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
        Some(l) => Some(pattern::select(inv, l).map_err(|e| {
            Error::new(
                crate::diagnostics::ErrorKind::Invalid,
                format!("--limit '{l}': {}", e.0),
            )
        })?),
        None => None,
    };
    let mut b = Builder {
        g: DiGraph::new(),
        index: HashMap::new(),
        collapse,
        host: None,
        play: 0,
        hosts_meet: false,
        env: crate::template::environment(),
        meet_vars: crate::vars::Vars::new(),
        meets: HashMap::new(),
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
            b.play = play_no;
            b.hosts_meet = hosts.len() > 1;
            b.meets.clear();
            b.meet_vars = meet_vars(inv, play, hosts.first());
            // Plays run one after another: every host of the last play finishes first
            // (one meeting point when several hosts are involved).
            let before: Vec<NodeIndex> = last_on_host.values().copied().collect();
            let play_meet = if collapse == Collapse::None
                && !before.is_empty()
                && (hosts.len() > 1 || before.len() > 1)
            {
                b.host = None;
                let meet = b.shared_node(
                    format!("meetplay{play_no}"),
                    format!("all hosts reach: PLAY {}", play.name),
                );
                for p in &before {
                    b.edge(*p, meet, Edge::NextPlay);
                }
                Some(meet)
            } else {
                None
            };
            for host in &hosts {
                b.host = if host.is_empty() {
                    None
                } else {
                    Some(host.clone())
                };
                let start_key = format!("play{play_no}");
                let start = b.node(start_key, format!("PLAY {}", play.name), false);
                match play_meet {
                    Some(meet) => b.edge(meet, start, Edge::AllHosts),
                    None => {
                        if let Some(prev) = last_on_host.get(host) {
                            b.edge(*prev, start, Edge::NextPlay);
                        }
                    }
                }
                let mut notify = Vec::new();
                let mut end = vec![start];
                for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
                    end = b.items(section, end, &mut notify);
                }
                // Handlers: edges from the tasks that notify them, run after the tasks.
                let mut prev_handler = None;
                for h in &play.handlers {
                    let span = match &h.body {
                        crate::playbook::HandlerBody::Task(t) => &t.span,
                        crate::playbook::HandlerBody::Include(i) => &i.span,
                    };
                    let n = b.node_at(
                        format!("handler{}", h.id()),
                        format!("HANDLER {}", h.display_name()),
                        true,
                        Some(span),
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

/// The variables a play's tasks are checked for cross-host reads with: its first host's
/// inventory variables and the play's own (the executor decides with the first host's
/// variables at run time; facts and set_fact results hold data, not templates).
fn meet_vars(
    inv: &Inventory,
    play: &crate::playbook::Play,
    first: Option<&String>,
) -> crate::vars::Vars {
    let inventory = first
        .filter(|h| !h.is_empty())
        .map(|h| inv.host_vars(h))
        .unwrap_or_default();
    crate::vars::precedence::Sources {
        role_defaults: play.role_defaults.iter().map(|r| &r.defaults).collect(),
        inventory: Some(&inventory),
        play_vars: Some(&play.vars),
        role_vars: play.role_defaults.iter().map(|r| &r.vars).collect(),
        ..Default::default()
    }
    .merge()
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl TaskGraph {
    /// Graphviz DOT: a cluster per host.
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

    /// `{"nodes": [{id, host, label, handler, file, line}], "edges": [{from, to, kind}]}`.
    pub fn to_json(&self) -> String {
        let nodes: Vec<serde_json::Value> = self
            .graph
            .node_indices()
            .map(|i| {
                let n = &self.graph[i];
                serde_json::json!({
                    "id": i.index(),
                    "host": n.host,
                    "label": n.label,
                    "handler": n.handler,
                    "file": n.span.as_ref().map(|s| s.file.display().to_string()),
                    "line": n.span.as_ref().map(|s| s.line),
                })
            })
            .collect();
        let edges: Vec<serde_json::Value> = self
            .graph
            .edge_references()
            .map(|e| {
                serde_json::json!({
                    "from": e.source().index(),
                    "to": e.target().index(),
                    "kind": format!("{:?}", e.weight()).to_lowercase(),
                })
            })
            .collect();
        let mut out = serde_json::json!({"nodes": nodes, "edges": edges}).to_string();
        out.push('\n');
        out
    }

    /// A Mermaid flowchart.
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
