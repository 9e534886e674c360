//! The inventory model: hosts, groups, and the variables attached to each.

use indexmap::IndexMap;
use std::path::PathBuf;

pub use crate::vars::Vars;

#[derive(Clone, Debug, Default)]
pub struct Host {
    pub name: String,
    /// Variables set on the host in the inventory source itself.
    pub vars: Vars,
    /// Variables from `host_vars/` directories, in load order (inventory dirs first).
    pub file_vars: Vec<Vars>,
}

#[derive(Clone, Debug, Default)]
pub struct Group {
    pub name: String,
    /// Direct members in inventory order (a set: loading stays linear in the hosts).
    pub hosts: indexmap::IndexSet<String>,
    pub children: Vec<String>,
    pub vars: Vars,
    /// Variables from `group_vars/` beside the inventory.
    pub inventory_file_vars: Vec<Vars>,
    /// Variables from `group_vars/` beside the playbook.
    pub playbook_file_vars: Vec<Vars>,
}

/// One level of inventory variables, for the precedence table and `drover inventory`.
#[derive(Clone, Debug)]
pub struct VarLayer {
    pub source: String,
    pub vars: Vars,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
    pub groups: IndexMap<String, Group>,
    /// Directories that held inventory sources: their `group_vars/` and `host_vars/` apply.
    pub source_dirs: Vec<PathBuf>,
    /// Where the hosts came from when that is not obvious (a Terraform state, or
    /// `terraform output` run in a module): shown with `-v` and by `drover inventory`.
    pub notes: Vec<String>,
}

impl Inventory {
    pub fn new() -> Self {
        let mut inv = Inventory::default();
        inv.group_mut("all");
        inv.group_mut("ungrouped");
        inv.add_child("all", "ungrouped");
        inv
    }

    pub fn group_mut(&mut self, name: &str) -> &mut Group {
        self.groups
            .entry(name.to_string())
            .or_insert_with(|| Group {
                name: name.to_string(),
                ..Group::default()
            })
    }

    pub fn host_mut(&mut self, name: &str) -> &mut Host {
        self.hosts.entry(name.to_string()).or_insert_with(|| Host {
            name: name.to_string(),
            ..Host::default()
        })
    }

    pub fn add_host_to_group(&mut self, host: &str, group: &str) {
        self.host_mut(host);
        let g = self.group_mut(group);
        g.hosts.insert(host.to_string());
    }

    pub fn add_child(&mut self, parent: &str, child: &str) {
        self.group_mut(child);
        let p = self.group_mut(parent);
        if !p.children.iter().any(|c| c == child) {
            p.children.push(child.to_string());
        }
    }

    /// Make every top-level group a child of `all` and put group-less hosts in
    /// `ungrouped`, as Ansible does after parsing.
    pub fn finish(&mut self) {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for name in &names {
            if name == "all" || name == "ungrouped" {
                continue;
            }
            if !self.groups.values().any(|g| g.children.contains(name)) {
                self.add_child("all", name);
            }
        }
        let grouped: std::collections::HashSet<String> = self
            .groups
            .values()
            .filter(|g| g.name != "all" && g.name != "ungrouped")
            .flat_map(|g| g.hosts.iter().cloned())
            .collect();
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for h in hosts {
            if !grouped.contains(&h) {
                self.add_host_to_group(&h, "ungrouped");
            } else if let Some(u) = self.groups.get_mut("ungrouped") {
                u.hosts.shift_remove(&h);
            }
        }
    }

    /// All hosts of a group, its children's included, in inventory order.
    pub fn group_hosts(&self, group: &str) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut members = std::collections::HashSet::new();
        self.collect_members(group, &mut seen, &mut members);
        self.hosts
            .keys()
            .filter(|h| members.contains(h.as_str()))
            .cloned()
            .collect()
    }

    fn collect_members<'a>(
        &'a self,
        group: &'a str,
        seen: &mut std::collections::HashSet<&'a str>,
        members: &mut std::collections::HashSet<&'a str>,
    ) {
        if !seen.insert(group) {
            return;
        }
        if group == "all" {
            members.extend(self.hosts.keys().map(String::as_str));
            return;
        }
        if let Some(g) = self.groups.get(group) {
            members.extend(g.hosts.iter().map(String::as_str));
            for c in &g.children {
                self.collect_members(c, seen, members);
            }
        }
    }

    /// Depth of each group below `all` (the longest path, as Ansible computes it).
    fn depths(&self) -> IndexMap<String, usize> {
        let mut depth: IndexMap<String, usize> =
            self.groups.keys().map(|g| (g.clone(), 0)).collect();
        // Relax edges; the inventory loader has refused cycles, so this terminates.
        for _ in 0..self.groups.len() {
            let mut changed = false;
            for g in self.groups.values() {
                let d = depth[&g.name];
                for c in &g.children {
                    if depth.get(c).copied().unwrap_or(0) < d + 1 {
                        depth.insert(c.clone(), d + 1);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        depth
    }

    /// The groups a host belongs to (ancestors included), sorted as Ansible sorts them
    /// for variable merging: by depth, then by name. `all` is first.
    pub fn host_groups(&self, host: &str) -> Vec<String> {
        let mut direct: Vec<&str> = self
            .groups
            .values()
            .filter(|g| g.hosts.contains(host))
            .map(|g| g.name.as_str())
            .collect();
        let mut all = std::collections::HashSet::new();
        while let Some(g) = direct.pop() {
            if all.insert(g.to_string()) {
                for parent in self
                    .groups
                    .values()
                    .filter(|p| p.children.iter().any(|c| c == g))
                {
                    direct.push(&parent.name);
                }
            }
        }
        all.insert("all".to_string());
        let depth = self.depths();
        let mut groups: Vec<String> = all.into_iter().collect();
        groups.sort_by(|a, b| {
            let da = depth.get(a).copied().unwrap_or(0);
            let db = depth.get(b).copied().unwrap_or(0);
            da.cmp(&db).then_with(|| a.cmp(b))
        });
        groups
    }

    /// `group_names`: the host's groups without `all` (and without `ungrouped` only when
    /// the host is grouped), sorted by name as Ansible shows them.
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .host_groups(host)
            .into_iter()
            .filter(|g| g != "all")
            .collect();
        names.sort();
        names
    }

    /// The inventory variable layers of a host, lowest precedence first, following
    /// Ansible's default VARIABLE_PRECEDENCE (inventory file vars, then group_vars/ files
    /// beside the inventory, then beside the playbook; `all` before other groups; host
    /// vars last).
    pub fn host_var_layers(&self, host: &str) -> Vec<VarLayer> {
        let groups = self.host_groups(host);
        let group = |n: &str| self.groups.get(n);
        let mut layers = Vec::new();
        let mut push = |source: String, vars: &Vars| {
            if !vars.is_empty() {
                layers.push(VarLayer {
                    source,
                    vars: vars.clone(),
                });
            }
        };
        if let Some(all) = group("all") {
            push("inventory: all".into(), &all.vars);
        }
        for g in groups.iter().filter(|g| *g != "all") {
            if let Some(grp) = group(g) {
                push(format!("inventory: group {g}"), &grp.vars);
            }
        }
        if let Some(all) = group("all") {
            for v in &all.inventory_file_vars {
                push("inventory group_vars/all".into(), v);
            }
            for v in &all.playbook_file_vars {
                push("playbook group_vars/all".into(), v);
            }
        }
        for g in groups.iter().filter(|g| *g != "all") {
            if let Some(grp) = group(g) {
                for v in &grp.inventory_file_vars {
                    push(format!("inventory group_vars/{g}"), v);
                }
                for v in &grp.playbook_file_vars {
                    push(format!("playbook group_vars/{g}"), v);
                }
            }
        }
        if let Some(h) = self.hosts.get(host) {
            push(format!("inventory: host {host}"), &h.vars);
            for v in &h.file_vars {
                push(format!("host_vars/{host}"), v);
            }
        }
        layers
    }

    /// The host's inventory variables merged (higher layers replace lower ones).
    pub fn host_vars(&self, host: &str) -> Vars {
        let mut out = Vars::new();
        for layer in self.host_var_layers(host) {
            for (k, v) in layer.vars {
                out.insert(k, v);
            }
        }
        out
    }
}
