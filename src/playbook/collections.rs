//! The `collections` keyword: the collections searched for a task's short module name.
//!
//! As in ansible-core 2.19: the nearest list wins (a task's replaces its block's, a block's
//! its play's), a role does not inherit it (its tasks search its `meta/main.yml` list), and
//! `ansible.legacy` is searched last unless the list names it or `ansible.builtin`. The
//! `ansible.legacy` search finds ansible-core's own modules and the short names
//! ansible-core redirects to a collection (`sysctl` → `ansible.posix.sysctl`); a module
//! that only a collection provides (`docker_compose_v2`) needs its collection listed or its
//! fully qualified name.

use crate::diagnostics::{Error, Result};
use crate::modules::{self, Module};
use crate::yaml::{Node, NodeKind};

/// The short names `ansible.builtin` redirects to a collection
/// (`config/ansible_builtin_runtime.yml`), for the modules drover has from collections.
const BUILTIN_REDIRECTS: &[(&str, &str)] = &[
    ("sysctl", "ansible.posix.sysctl"),
    ("mount", "ansible.posix.mount"),
    ("authorized_key", "ansible.posix.authorized_key"),
    ("ini_file", "community.general.ini_file"),
];

/// The two names of ansible-core's own collection.
fn is_core(collection: &str) -> bool {
    matches!(collection, "ansible.builtin" | "ansible.legacy")
}

/// Read a `collections:` value: a list of collection names (a single name is a list of
/// one, as Ansible reads it). A collection drover has no modules from is accepted: it
/// simply provides nothing.
pub fn parse(node: &Node) -> Result<Vec<String>> {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Null => return Ok(Vec::new()),
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|n| match &n.kind {
            NodeKind::Str(s) => Ok(s.clone()),
            _ => Err(Error::invalid(
                format!(
                    "Keyword 'collections' items must be of type 'str', not '{}'",
                    python_type(n)
                ),
                &n.span,
            )
            .with_help("list collection names, e.g. 'collections: [community.general]'")),
        })
        .collect()
}

/// A node's type as Python names it (Ansible's messages use those words).
fn python_type(n: &Node) -> &'static str {
    match &n.kind {
        NodeKind::Null => "NoneType",
        NodeKind::Bool(_) => "bool",
        NodeKind::Int(_) => "int",
        NodeKind::Float(_) => "float",
        NodeKind::Str(_) | NodeKind::Vault(_) => "str",
        NodeKind::Seq(_) => "list",
        NodeKind::Map(_) => "dict",
    }
}

/// The collections searched, in order, for a short name: the list, then `ansible.legacy`
/// unless the list has ansible-core's collection already.
pub fn search_order(listed: &[String]) -> Vec<String> {
    let mut order = listed.to_vec();
    if !order.iter().any(|c| is_core(c)) {
        order.push("ansible.legacy".into());
    }
    order
}

/// Is `name` (short) found in ansible-core's collection: a module of ansible-core (its
/// canonical name or a short alias), or a short name ansible-core redirects?
fn core_module(name: &str) -> Option<&'static dyn Module> {
    if let Some((_, fqcn)) = BUILTIN_REDIRECTS.iter().find(|(s, _)| *s == name) {
        return modules::find(fqcn);
    }
    let m = modules::find(name)?;
    // A module drover knows under another collection's name only (docker_compose_v2)
    // is not in ansible-core.
    let foreign = m
        .spec()
        .aliases
        .iter()
        .any(|a| a.matches('.').count() >= 2 && !a.starts_with("ansible."));
    (!foreign).then_some(m)
}

/// The module a task's action name names, searching `listed` collections for a short
/// name. `None`: no collection searched has it.
pub fn resolve(name: &str, listed: &[String]) -> Option<&'static dyn Module> {
    let parts: Vec<&str> = name.splitn(3, '.').collect();
    if parts.len() == 3 {
        let collection = format!("{}.{}", parts[0], parts[1]);
        return in_collection(&collection, parts[2]);
    }
    search_order(listed)
        .iter()
        .find_map(|c| in_collection(c, name))
}

/// The module `short` of `collection`, as drover knows it.
fn in_collection(collection: &str, short: &str) -> Option<&'static dyn Module> {
    if is_core(collection) {
        return core_module(short);
    }
    let fqcn = format!("{collection}.{short}");
    modules::registry()
        .iter()
        .copied()
        .find(|m| m.spec().aliases.contains(&fqcn.as_str()))
}

/// Where a module drover has lives, when a short name of it was searched in vain
/// (`community.docker.docker_compose_v2`).
pub fn home_of(short: &str) -> Option<&'static str> {
    modules::registry().iter().find_map(|m| {
        m.spec().aliases.iter().copied().find(|a| {
            a.matches('.').count() >= 2
                && !a.starts_with("ansible.")
                && a.rsplit('.').next() == Some(short)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(m: Option<&'static dyn Module>) -> Option<&'static str> {
        m.map(|m| m.spec().name)
    }

    #[test]
    fn legacy_is_searched_last_unless_listed() {
        assert_eq!(
            search_order(&["community.general".into()]),
            vec!["community.general", "ansible.legacy"]
        );
        assert_eq!(
            search_order(&["ansible.builtin".into(), "x.y".into()]),
            vec!["ansible.builtin", "x.y"]
        );
        assert_eq!(search_order(&[]), vec!["ansible.legacy"]);
    }

    #[test]
    fn short_names_resolve_through_the_listed_collections() {
        assert_eq!(name(resolve("copy", &[])), Some("copy"));
        assert_eq!(name(resolve("systemd", &[])), Some("systemd_service"));
        // ansible-core redirects these to their collections.
        assert_eq!(name(resolve("sysctl", &[])), Some("sysctl"));
        assert_eq!(name(resolve("ini_file", &[])), Some("ini_file"));
        // Only its collection has it.
        assert_eq!(name(resolve("docker_compose_v2", &[])), None);
        assert_eq!(
            name(resolve("docker_compose_v2", &["community.docker".into()])),
            Some("docker_compose_v2")
        );
        assert_eq!(
            name(resolve("docker_compose_v2", &["ansible.posix".into()])),
            None
        );
        assert_eq!(
            name(resolve("community.docker.docker_compose_v2", &[])),
            Some("docker_compose_v2")
        );
        assert_eq!(
            name(resolve("ansible.builtin.docker_compose_v2", &[])),
            None
        );
        assert_eq!(name(resolve("ansible.legacy.sysctl", &[])), Some("sysctl"));
        assert_eq!(name(resolve("ansible.posix.copy", &[])), None);
        // A collection drover has nothing from resolves nothing, and legacy still comes.
        assert_eq!(name(resolve("copy", &["my.things".into()])), Some("copy"));
        assert_eq!(
            home_of("docker_compose_v2"),
            Some("community.docker.docker_compose_v2")
        );
    }
}
