//! The `module_defaults` keyword: default arguments per module or action group, on plays,
//! blocks, roles and tasks.
//!
//! As ansible-core 2.19 does: the levels form one mapping, outer levels first, where an
//! inner level's entry for a module *replaces* the outer one (entries are not merged
//! argument by argument); a module gets the arguments of the groups it belongs to, then its
//! own entry's, and the task's own arguments win over both. Names resolve without the
//! `collections` keyword (`file`, `ansible.builtin.file` and `ansible.legacy.file` are one
//! module). Values are templated when the task runs, with the task's variables (each loop
//! item too), as if the task had written them; `omit` drops one. A whole entry may be a
//! template (`debug: "{{ debug_defaults }}"`), merged when the task runs.

use crate::diagnostics::{did_you_mean, Error, Result, Span};
use crate::modules::{self, ModuleSpec};
use crate::vars::Vars;
use crate::yaml::{Node, NodeKind};
use minijinja::Value;
use std::sync::Arc;

/// An action group (`group/NAME`) as the installed collections define it, with the drover
/// modules it holds (many hold none drover has: they are accepted, and apply to nothing).
#[derive(Debug)]
pub struct ActionGroup {
    /// Its fully qualified name.
    pub name: &'static str,
    /// The drover modules in it (canonical names).
    pub modules: &'static [&'static str],
}

/// The action groups of ansible-core 2.19.14 and of the collections drover has modules
/// from (`meta/runtime.yml`, `action_groups`), extended groups followed.
pub const GROUPS: &[ActionGroup] = &[
    ActionGroup {
        name: "ansible.builtin.testgroup",
        modules: &["ping"],
    },
    ActionGroup {
        name: "ansible.builtin.docker",
        modules: &["docker_compose_v2"],
    },
    ActionGroup {
        name: "community.docker.docker",
        modules: &["docker_compose_v2"],
    },
    ActionGroup {
        name: "ansible.builtin.testlegacy",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.aws",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.acme",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.azure",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.cpm",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.gcp",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.k8s",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.os",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.ovirt",
        modules: &[],
    },
    ActionGroup {
        name: "ansible.builtin.vmware",
        modules: &[],
    },
    ActionGroup {
        name: "community.general.consul",
        modules: &[],
    },
    ActionGroup {
        name: "community.general.proxmox",
        modules: &[],
    },
    ActionGroup {
        name: "community.general.keycloak",
        modules: &[],
    },
    ActionGroup {
        name: "community.general.scaleway",
        modules: &[],
    },
];

/// What an entry gives defaults to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// A module (its canonical name).
    Module(&'static str),
    /// An action group.
    Group(&'static ActionGroup),
}

impl Target {
    /// The key Ansible stores the entry under: one per module, one per group.
    fn key(&self) -> (bool, &'static str) {
        match self {
            Target::Module(m) => (false, m),
            Target::Group(g) => (true, g.name),
        }
    }
}

/// An entry's arguments.
#[derive(Debug, Clone)]
pub enum EntryArgs {
    /// A mapping, with the span of each argument name.
    Static(Vars, Vec<(String, Span)>),
    /// A template of the whole mapping, rendered when the task runs.
    Template(Value),
}

/// One entry of a `module_defaults` mapping.
#[derive(Debug, Clone)]
pub struct Entry {
    pub target: Target,
    pub args: EntryArgs,
    /// Where the entry's name is written.
    pub span: Span,
}

/// One `module_defaults` mapping (a level; the list form gives several).
pub type Level = Arc<Vec<Entry>>;

/// Read a `module_defaults:` value: a mapping, or a list of mappings.
pub fn parse(node: &Node) -> Result<Vec<Level>> {
    let maps: Vec<&Node> = match &node.kind {
        NodeKind::Null => return Ok(Vec::new()),
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    maps.into_iter()
        .map(|m| {
            let Some(entries) = m.as_map() else {
                return Err(Error::invalid(
                    format!("module_defaults must be a mapping or a list of mappings, found a {}", m.type_name()),
                    &m.span,
                )
                .with_help("the keys name modules or action groups, the values are their arguments, e.g. 'module_defaults: {file: {mode: \"0644\"}}'"));
            };
            entries
                .iter()
                .map(|(k, v)| entry(k, v))
                .collect::<Result<Vec<_>>>()
                .map(Arc::new)
        })
        .collect()
}

fn entry(k: &Node, v: &Node) -> Result<Entry> {
    let name = k.expect_str("a module_defaults key")?;
    if name.contains("{{") {
        return Err(Error::invalid(
            format!("module_defaults key '{name}' is a template"),
            &k.span,
        )
        .with_help(
            "the keys must be static module or group names; only the values may be templates",
        ));
    }
    let target = match name.strip_prefix("group/") {
        Some(g) => Target::Group(group(g, &k.span)?),
        None => Target::Module(module(&name, &k.span)?.name),
    };
    let args = match &v.kind {
        NodeKind::Null => EntryArgs::Static(Vars::new(), Vec::new()),
        NodeKind::Map(pairs) => {
            let mut vars = Vars::new();
            let mut spans = Vec::new();
            for (ak, av) in pairs {
                let an = ak.expect_str("an argument name")?;
                for spec in specs_of(&target) {
                    check_arg(spec, &name, &an, &ak.span)?;
                }
                spans.push((an.clone(), ak.span.clone()));
                vars.insert(an, av.to_value());
            }
            EntryArgs::Static(vars, spans)
        }
        NodeKind::Str(s) if s.contains("{{") || s.contains("{%") => {
            EntryArgs::Template(v.to_value())
        }
        _ => {
            return Err(Error::invalid(
                format!(
                    "module_defaults for {name} must be a mapping of arguments, found a {}",
                    v.type_name()
                ),
                &v.span,
            )
            .with_help("write the arguments as a mapping, or a template that gives one"))
        }
    };
    Ok(Entry {
        target,
        args,
        span: k.span.clone(),
    })
}

/// The module a module_defaults key names. As in Ansible, `collections` does not apply:
/// a short name is ansible-core's (or one it redirects).
fn module(name: &str, span: &Span) -> Result<&'static ModuleSpec> {
    if let Some(m) = super::collections::resolve(name, &[]) {
        return Ok(m.spec());
    }
    let e = Error::invalid(
        format!("Could not resolve action {name} in module_defaults"),
        span,
    );
    let short = name.rsplit('.').next().unwrap_or(name);
    let names = modules::all_names();
    Err(match super::collections::home_of(short) {
        Some(fqcn) => e.with_help(format!("module_defaults does not search 'collections': write '{fqcn}'")),
        None => match did_you_mean(short, names.iter().copied()) {
            Some(s) => e.with_help(format!("did you mean '{s}'?")),
            None => e.with_help("module_defaults applies to the modules drover has (see the README); remove the entry"),
        },
    })
}

/// The action group `group/NAME` names (`NAME` short: in ansible.builtin).
fn group(name: &str, span: &Span) -> Result<&'static ActionGroup> {
    let fq = if name.matches('.').count() >= 2 {
        name.to_string()
    } else {
        format!("ansible.builtin.{name}")
    };
    GROUPS.iter().find(|g| g.name == fq).ok_or_else(|| {
        let names: Vec<&str> = GROUPS.iter().map(|g| g.name).collect();
        let e = Error::invalid(
            format!(
                "Error loading module_defaults: could not resolve the module_defaults group {fq}"
            ),
            span,
        );
        match did_you_mean(&fq, names.iter().copied()) {
            Some(s) => e.with_help(format!("did you mean 'group/{s}'?")),
            None => e.with_help(format!("the action groups known: {}", names.join(", "))),
        }
    })
}

/// The specs of the modules an entry applies to.
fn specs_of(target: &Target) -> Vec<&'static ModuleSpec> {
    let names: Vec<&str> = match target {
        Target::Module(m) => vec![m],
        Target::Group(g) => g.modules.to_vec(),
    };
    names
        .into_iter()
        .filter_map(|n| modules::find(n).map(|m| m.spec()))
        .collect()
}

/// A default argument must be one the module takes: Ansible fails every task of the
/// module at run time ("Unsupported parameters"), drover refuses it before the run.
fn check_arg(spec: &ModuleSpec, entry: &str, arg: &str, span: &Span) -> Result<()> {
    if spec.any_keys || spec.canonical_arg(arg).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = spec.arg_names().collect();
    let e = Error::invalid(
        format!(
            "module_defaults for {entry}: unsupported argument '{arg}' for module {}",
            spec.name
        ),
        span,
    );
    Err(match did_you_mean(arg, names.iter().copied()) {
        Some(s) => e.with_help(format!("did you mean '{s}'?")),
        None => e.with_help(format!("{} accepts: {}", spec.name, names.join(", "))),
    })
}

/// The entries that give `module` defaults, in the order they apply (later wins): the
/// levels merged into one mapping as Ansible merges them (an inner entry replaces the
/// outer entry of the same key, in its place), then the groups holding `module` in that
/// mapping's order, then the module's own entry.
pub fn effective<'l>(levels: &'l [Level], module: &str) -> Vec<&'l Entry> {
    let mut merged: Vec<&Entry> = Vec::new();
    for level in levels {
        for e in level.iter() {
            match merged.iter().position(|m| m.target.key() == e.target.key()) {
                Some(i) => merged[i] = e,
                None => merged.push(e),
            }
        }
    }
    let mut out: Vec<&Entry> = merged
        .iter()
        .copied()
        .filter(|e| matches!(e.target, Target::Group(g) if g.modules.contains(&module)))
        .collect();
    out.extend(
        merged
            .iter()
            .copied()
            .filter(|e| matches!(e.target, Target::Module(m) if m == module)),
    );
    out
}

/// Does `args` already give the argument `name` (under it or one of its aliases)?
pub fn gives(spec: &ModuleSpec, args: &Vars, name: &str) -> bool {
    let canonical = |n: &str| {
        spec.canonical_arg(n)
            .map_or(n.to_string(), |a| a.name.to_string())
    };
    let want = canonical(name);
    args.keys().any(|k| canonical(k) == want)
}

/// Add the defaults of `levels` for the module of `spec` to a task's arguments, below the
/// task's own. When an entry is a template, nothing is added now: the entries, in order,
/// are returned to be merged when the task runs.
pub fn apply(
    levels: &[Level],
    spec: &ModuleSpec,
    args: &mut Vars,
    key_spans: &mut Vec<(String, Span)>,
) -> Vec<Value> {
    let entries = effective(levels, spec.name);
    // A template of the whole arguments is rendered when the task runs: the defaults go
    // below it then, not above it now.
    let at_run = args.contains_key(modules::args::VARIABLE_PARAMS);
    if at_run
        || entries
            .iter()
            .any(|e| matches!(e.args, EntryArgs::Template(_)))
    {
        return as_values(&entries);
    }
    let mut defaults: Vec<(String, Value, Span)> = Vec::new();
    for e in entries {
        let EntryArgs::Static(vars, spans) = &e.args else {
            continue;
        };
        for (k, v) in vars {
            let span = spans
                .iter()
                .find(|(n, _)| n == k)
                .map_or_else(|| e.span.clone(), |(_, s)| s.clone());
            defaults.retain(|(n, _, _)| n != k);
            defaults.push((k.clone(), v.clone(), span));
        }
    }
    for (k, v, span) in defaults {
        if !gives(spec, args, &k) {
            key_spans.push((k.clone(), span));
            args.insert(k, v);
        }
    }
    Vec::new()
}

/// The entries as values to render: a mapping each, or the template of one.
fn as_values(entries: &[&Entry]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| match &e.args {
            EntryArgs::Template(t) => t.clone(),
            EntryArgs::Static(v, _) => Value::from_iter(v.clone()),
        })
        .collect()
}

/// The defaults `levels` give `module`, in order, not yet rendered (for what runs a module
/// without a task of it: the play's fact gathering runs `setup`).
pub fn for_module(levels: &[Level], module: &str) -> Vec<Value> {
    as_values(&effective(levels, module))
}

/// Merge rendered defaults (the entries [`apply`] returned, templated) below a task's
/// rendered arguments, when the task runs.
pub fn merge_rendered(spec: &ModuleSpec, rendered: Vec<Value>, args: &mut Vars) -> Result<()> {
    let mut defaults = Vars::new();
    for entry in rendered {
        if entry.is_none() || entry.is_undefined() {
            continue;
        }
        if entry.kind() != minijinja::value::ValueKind::Map {
            return Err(Error::module(format!(
                "module_defaults for {} must give a mapping of arguments, found '{}'",
                spec.name, entry
            )));
        }
        for k in entry.try_iter().into_iter().flatten() {
            let v = entry.get_item(&k).unwrap_or_default();
            let name = k.as_str().map_or_else(|| k.to_string(), str::to_string);
            defaults.shift_remove(&name);
            if v.as_str() != Some(crate::vars::magic::OMIT) {
                defaults.insert(name, v);
            }
        }
    }
    for (k, v) in defaults {
        if !gives(spec, args, &k) {
            args.insert(k, v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(text: &str) -> Vec<Level> {
        let docs = crate::yaml::load_str(text, std::path::Path::new("t.yml")).unwrap();
        docs[0]
            .as_seq()
            .unwrap()
            .iter()
            .flat_map(|n| parse(n).unwrap())
            .collect()
    }

    fn args_for(levels: &[Level], module: &str, own: &[(&str, &str)]) -> Vec<(String, String)> {
        let spec = modules::find(module).unwrap().spec();
        let mut args: Vars = own
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        let dynamic = apply(levels, spec, &mut args, &mut Vec::new());
        assert!(dynamic.is_empty());
        args.into_iter().map(|(k, v)| (k, v.to_string())).collect()
    }

    #[test]
    fn inner_levels_replace_the_whole_entry_of_a_module() {
        let l = levels(
            "- {file: {mode: '0600', owner: root}, debug: {msg: outer}}\n- {ansible.builtin.file: {group: adm}}\n",
        );
        assert_eq!(
            args_for(&l, "file", &[("path", "/x")]),
            vec![("path".into(), "/x".into()), ("group".into(), "adm".into())]
        );
        assert_eq!(
            args_for(&l, "debug", &[]),
            vec![("msg".into(), "outer".into())]
        );
    }

    #[test]
    fn the_task_wins_even_under_an_alias() {
        let l = levels("- {file: {path: /d, mode: '0600'}}\n");
        assert_eq!(
            args_for(&l, "file", &[("dest", "/own")]),
            vec![
                ("dest".into(), "/own".into()),
                ("mode".into(), "0600".into())
            ]
        );
    }

    #[test]
    fn groups_apply_before_the_module_entry_whatever_the_order() {
        let l = levels("- {ping: {data: own}, group/testgroup: {data: group}}\n");
        assert_eq!(
            args_for(&l, "ping", &[]),
            vec![("data".into(), "own".into())]
        );
        let l = levels("- {group/testgroup: {data: group}}\n");
        assert_eq!(
            args_for(&l, "ping", &[]),
            vec![("data".into(), "group".into())]
        );
        assert!(args_for(&l, "debug", &[]).is_empty());
    }

    #[test]
    fn bad_entries_are_refused_where_written() {
        let docs = crate::yaml::load_str(
            "- {file: {bogus: 1}}\n- {nosuch: {}}\n- {group/nosuch: {}}\n- [1]\n- {debug: [1]}\n",
            std::path::Path::new("t.yml"),
        )
        .unwrap();
        let items = docs[0].as_seq().unwrap();
        let msgs: Vec<String> = items
            .iter()
            .map(|n| parse(n).unwrap_err().message.clone())
            .collect();
        assert!(
            msgs[0].contains("unsupported argument 'bogus'"),
            "{}",
            msgs[0]
        );
        assert!(
            msgs[1].contains("Could not resolve action nosuch"),
            "{}",
            msgs[1]
        );
        assert!(msgs[2].contains("ansible.builtin.nosuch"), "{}", msgs[2]);
        assert!(
            msgs[3].contains("a mapping or a list of mappings"),
            "{}",
            msgs[3]
        );
        assert!(
            msgs[4].contains("must be a mapping of arguments"),
            "{}",
            msgs[4]
        );
    }

    #[test]
    fn a_templated_entry_is_merged_when_the_task_runs() {
        let l = levels("- {debug: {msg: a}}\n- {debug: '{{ d }}'}\n");
        let spec = modules::find("debug").unwrap().spec();
        let mut args = Vars::new();
        let dynamic = apply(&l, spec, &mut args, &mut Vec::new());
        assert_eq!(dynamic.len(), 1);
        assert!(args.is_empty());
        let mut own = Vars::new();
        merge_rendered(
            spec,
            vec![Value::from_iter([
                ("msg", Value::from("x")),
                ("verbosity", Value::from(0)),
            ])],
            &mut own,
        )
        .unwrap();
        assert_eq!(own.get("msg").map(|v| v.to_string()), Some("x".into()));
    }
}
