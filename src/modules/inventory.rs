//! add_host and group_by: modules that change the run's in-memory inventory. They look
//! at nothing on the host; their plans carry an [`Effect`] the executor applies to the
//! shared inventory (`exec::state::Shared::update_inventory`), and whether that changed
//! anything decides `changed`, as in Ansible's strategy (`_add_host`, `_add_group`).

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Effect, Module, ModuleCtx, Plan};
use crate::diagnostics::{Error, Result};
use crate::inventory::Inventory;
use crate::playbook::{HandlerBody, Item, Play};
use crate::vars::Vars;
use minijinja::value::ValueKind;
use minijinja::Value;

pub struct AddHost;
pub struct GroupBy;

static ADD_HOST: ModuleSpec = ModuleSpec {
    name: "add_host",
    aliases: &[],
    // Every other key is a host variable (`ansible_host: …`), as Ansible's free-form
    // add_host: only `name` and `groups` are the module's own.
    // (With `any_keys` the names are not canonicalised: the plan reads the aliases.)
    args: &[
        arg("name", Str).aliases(&["host", "hostname"]),
        arg("groups", List).aliases(&["group", "groupname"]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: true,
    any_keys: true,
    messages: &[],
};

static GROUP_BY: ModuleSpec = ModuleSpec {
    name: "group_by",
    aliases: &[],
    args: &[arg("key", Str).required(), arg("parents", List)],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: true,
    any_keys: false,
    messages: &[],
};

/// What add_host or group_by asks of the inventory.
#[derive(Clone, Debug)]
pub enum InventoryChange {
    AddHost {
        name: String,
        /// `host:port` in `name` sets `ansible_port`, as Ansible parses it.
        vars: Vars,
        groups: Vec<String>,
    },
    GroupBy {
        host: String,
        group: String,
        parents: Vec<String>,
    },
}

impl InventoryChange {
    /// Apply to the inventory; true when it changed (Ansible's `changed` for these).
    pub fn apply(&self, inv: &mut Inventory) -> bool {
        match self {
            InventoryChange::AddHost { name, vars, groups } => {
                let mut changed = !inv.hosts.contains_key(name);
                if changed {
                    // Ansible adds the host to `all` itself, whose own members come first
                    // in `groups.all` and `hosts: all`: after those, before the rest.
                    let at = inv
                        .hosts
                        .keys()
                        .take_while(|h| inv.groups.get("all").is_some_and(|a| a.hosts.contains(*h)))
                        .count();
                    inv.host_mut(name);
                    if let Some(from) = inv.hosts.get_index_of(name.as_str()) {
                        inv.hosts.move_index(from, at);
                    }
                    inv.group_mut("all").hosts.insert(name.clone());
                }
                let host = inv.host_mut(name);
                for (k, v) in vars {
                    if host.vars.get(k) != Some(v) {
                        host.vars.insert(k.clone(), v.clone());
                        changed = true;
                    }
                }
                for g in groups {
                    if !inv.groups.contains_key(g) {
                        inv.group_mut(g);
                        inv.add_child("all", g);
                        changed = true;
                    }
                    if !inv.groups[g.as_str()].hosts.contains(name) {
                        inv.add_host_to_group(name, g);
                        changed = true;
                    }
                }
                if changed {
                    reconcile_ungrouped(inv, name);
                }
                changed
            }
            InventoryChange::GroupBy {
                host,
                group,
                parents,
            } => {
                let mut changed = false;
                if !inv.groups.contains_key(group) {
                    inv.group_mut(group);
                    if parents.is_empty() {
                        inv.add_child("all", group);
                    }
                }
                for p in parents {
                    if !inv.groups.contains_key(p) {
                        inv.group_mut(p);
                        inv.add_child("all", p);
                        changed = true;
                    }
                    if !inv.groups[p.as_str()].children.contains(group) {
                        inv.add_child(p, group);
                        changed = true;
                    }
                }
                if !inv.groups[group.as_str()].hosts.contains(host) {
                    inv.add_host_to_group(host, group);
                    changed = true;
                }
                if changed {
                    reconcile_ungrouped(inv, host);
                }
                changed
            }
        }
    }
}

/// A host is in `ungrouped` only while it is in no other group (Ansible's
/// `reconcile_inventory`).
fn reconcile_ungrouped(inv: &mut Inventory, host: &str) {
    let grouped = inv
        .groups
        .values()
        .any(|g| g.name != "all" && g.name != "ungrouped" && g.hosts.contains(host));
    if grouped {
        if let Some(u) = inv.groups.get_mut("ungrouped") {
            u.hosts.shift_remove(host);
        }
    } else {
        inv.add_host_to_group(host, "ungrouped");
    }
}

/// Ansible's `parse_address` for add_host's name: `host:port`, `[v6]:port`; a bare IPv6
/// address keeps its colons.
fn split_port(name: &str) -> (String, Option<u16>) {
    if let Some(rest) = name.strip_prefix('[') {
        if let Some((addr, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (addr.to_string(), port);
        }
    }
    match name.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h.to_string(), Some(port)),
            Err(_) => (name.to_string(), None),
        },
        _ => (name.to_string(), None),
    }
}

fn names(args: &Args, name: &str) -> Result<Vec<String>> {
    // A list argument given as one string is split on commas, as Ansible's type='list'.
    let list = args.str_list(name)?;
    for g in &list {
        if g.trim().is_empty() {
            return Err(Error::module(format!(
                "{}: an empty group name in '{name}'",
                args.module
            )));
        }
    }
    Ok(list.into_iter().map(|g| g.trim().to_string()).collect())
}

impl Module for AddHost {
    fn spec(&self) -> &'static ModuleSpec {
        &ADD_HOST
    }

    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        const NAME: &[&str] = &["name", "host", "hostname"];
        const GROUPS: &[&str] = &["groups", "group", "groupname"];
        let raw_name = match NAME.iter().find(|k| args.has(k)) {
            Some(k) => args.req_str(k)?,
            None => String::new(),
        };
        let (name, port) = split_port(raw_name.trim());
        if name.is_empty() {
            return Err(Error::module("missing required arguments: name")
                .with_help("give add_host a name: (the inventory name of the new host)"));
        }
        let groups = match GROUPS.iter().find(|k| args.has(k)) {
            Some(k) => names(args, k)?,
            None => Vec::new(),
        };
        let mut vars = Vars::new();
        for (k, v) in args.raw() {
            if NAME.contains(&k.as_str()) || GROUPS.contains(&k.as_str()) || k.starts_with('_') {
                continue;
            }
            vars.insert(k.clone(), crate::template::as_data(v.clone()));
        }
        if let Some(p) = port {
            vars.insert("ansible_port".into(), Value::from(p));
        }
        let mut p = Plan::no_change(Vars::from_iter([(
            "add_host".to_string(),
            Value::from_iter([
                ("host_name", Value::from(name.as_str())),
                (
                    "groups",
                    Value::from(
                        groups
                            .iter()
                            .map(|g| Value::from(g.as_str()))
                            .collect::<Vec<_>>(),
                    ),
                ),
                ("host_vars", Value::from_iter(vars.clone())),
            ]),
        )]));
        p.effects.push(Effect::Inventory(InventoryChange::AddHost {
            name,
            vars,
            groups,
        }));
        Ok(p)
    }
}

impl Module for GroupBy {
    fn spec(&self) -> &'static ModuleSpec {
        &GROUP_BY
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        // As Ansible's action: spaces become dashes; the key must not be empty.
        let key = args.req_str("key")?;
        let group = key.replace(' ', "-");
        if group.trim().is_empty() {
            return Err(Error::module("group_by: the key is empty")
                .with_help("key: names the group, e.g. \"os_{{ ansible_distribution }}\""));
        }
        let parents = match args.value("parents") {
            None => vec!["all".to_string()],
            Some(v) if v.kind() == ValueKind::String => {
                vec![v.as_str().unwrap_or_default().replace(' ', "-")]
            }
            Some(_) => names(args, "parents")?
                .into_iter()
                .map(|p| p.replace(' ', "-"))
                .collect(),
        };
        let mut p = Plan::no_change(Vars::from_iter([
            ("add_group".to_string(), Value::from(group.as_str())),
            (
                "parent_groups".to_string(),
                Value::from(
                    parents
                        .iter()
                        .map(|g| Value::from(g.as_str()))
                        .collect::<Vec<_>>(),
                ),
            ),
        ]));
        p.effects.push(Effect::Inventory(InventoryChange::GroupBy {
            host: ctx.host.to_string(),
            group,
            parents,
        }));
        Ok(p)
    }
}

/// Does this module change the inventory (so later plays' patterns are resolved
/// leniently, and add_host runs once per task)?
pub fn is_inventory_module(module: &str) -> bool {
    matches!(module, "add_host" | "group_by")
}

/// Does the play hold an add_host or group_by task (its static tasks, blocks, roles)?
/// Later plays may then target groups that only exist once it ran.
pub fn play_changes_inventory(play: &Play) -> bool {
    fn items(list: &[Item]) -> bool {
        list.iter().any(|i| match i {
            Item::Task(t) => is_inventory_module(t.module),
            Item::Block(b) => items(&b.block) || items(&b.rescue) || items(&b.always),
            // A dynamic include is read when a host reaches it; counting every
            // include_role as a possible group_by would turn off the typo check for
            // most playbooks. The run itself is lenient once the inventory did change.
            Item::Include(_) => false,
        })
    }
    items(&play.pre_tasks)
        || items(&play.tasks)
        || items(&play.post_tasks)
        || play
            .handlers
            .iter()
            .any(|h| matches!(&h.body, HandlerBody::Task(t) if is_inventory_module(t.module)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_in_names() {
        assert_eq!(split_port("web1"), ("web1".into(), None));
        assert_eq!(split_port("web1:2222"), ("web1".into(), Some(2222)));
        assert_eq!(split_port("[::1]:22"), ("::1".into(), Some(22)));
        assert_eq!(split_port("fe80::1"), ("fe80::1".into(), None));
    }

    #[test]
    fn changes_are_idempotent() {
        let mut inv = Inventory::new();
        inv.add_host_to_group("a", "ungrouped");
        let c = InventoryChange::GroupBy {
            host: "a".into(),
            group: "os_Debian".into(),
            parents: vec!["all".into()],
        };
        assert!(c.apply(&mut inv));
        assert!(!c.apply(&mut inv));
        assert_eq!(inv.group_hosts("os_Debian"), vec!["a".to_string()]);
        assert!(!inv.groups["ungrouped"].hosts.contains("a"));
        let add = InventoryChange::AddHost {
            name: "b".into(),
            vars: Vars::from_iter([("x".to_string(), Value::from(1))]),
            groups: vec!["new".into()],
        };
        assert!(add.apply(&mut inv));
        assert!(!add.apply(&mut inv));
        assert_eq!(inv.group_hosts("new"), vec!["b".to_string()]);
        assert_eq!(inv.host_vars("b").get("x"), Some(&Value::from(1)));
    }
}
