//! Which tasks have cross-host edges: a task that reads other hosts' variables
//! (`hostvars`, `groups` through `extract`, `ansible_play_hosts`, …) or runs once for the
//! batch waits until every other host of the batch has passed the tasks before it. The
//! graph draws these edges (`graph::build`) and the executor waits on them
//! (`exec::barrier`), from this one decision.

use crate::playbook::Task;
use crate::vars::Vars;
use minijinja::value::{Value, ValueKind};
use minijinja::Environment;
use std::collections::HashSet;

/// Is this task delegated to a host other than the controller (or may it be, through a
/// template)? Such a task changes another host, so hosts meet before it and after it.
pub fn delegates_to_other_hosts(task: &Task) -> bool {
    task.kw
        .delegate_to
        .as_ref()
        .is_some_and(|to| !matches!(to.as_str(), Some("localhost" | "127.0.0.1")))
}

/// Does this task read other hosts' variables, directly or through the variables it
/// uses (`voters: "{{ groups.kafka | map('extract', hostvars, 'id') }}"`)? `vars` are
/// the task's variables before templating.
pub fn reads_other_hosts(env: &Environment<'static>, task: &Task, vars: &Vars) -> bool {
    // A run_once task runs for the whole batch: once every host got there.
    if task.runs_once() {
        return true;
    }
    // A task delegated to another host changes that host: it runs once every host has
    // passed the tasks before it, as in Ansible's lock-step (the delegate is set up).
    if delegates_to_other_hosts(task) {
        return true;
    }
    let mut pending: Vec<String> = Vec::new();
    let push = |v: &Value, out: &mut Vec<String>| strings_in(v, out);
    for v in task.args.values() {
        push(v, &mut pending);
    }
    for c in task.kw.when.iter() {
        push(&c.expr, &mut pending);
    }
    for conds in [&task.changed_when, &task.failed_when, &task.until]
        .into_iter()
        .flatten()
    {
        for c in conds {
            push(&c.expr, &mut pending);
        }
    }
    if let Some(l) = &task.loop_ {
        push(&l.items, &mut pending);
    }
    if task.module == "template" {
        match task.args.get("src").and_then(|v| v.as_str()) {
            Some(src) if src.contains("{{") => return true,
            Some(src) => {
                if let Some(text) = crate::playbook::find_in(&task.search_dirs, "templates", src)
                    .and_then(|p| std::fs::read_to_string(p).ok())
                {
                    pending.push(text);
                }
            }
            None => {}
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(text) = pending.pop() {
        if crate::vars::magic::cross_host_names().any(|n| text.contains(n)) {
            return true;
        }
        if !(text.contains("{{") || text.contains("{%")) {
            // A bare expression (`when:`) names variables too.
            if let Ok(e) = env.compile_expression(&text) {
                follow(e.undeclared_variables(false), vars, &mut seen, &mut pending);
            }
            continue;
        }
        if let Ok(t) = env.template_from_str(&text) {
            follow(t.undeclared_variables(false), vars, &mut seen, &mut pending);
        }
    }
    false
}

fn follow(names: HashSet<String>, vars: &Vars, seen: &mut HashSet<String>, out: &mut Vec<String>) {
    for n in names {
        if seen.insert(n.clone()) {
            if let Some(v) = vars.get(&n) {
                strings_in(v, out);
            }
        }
    }
}

fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v.kind() {
        ValueKind::String => out.extend(v.as_str().map(str::to_string)),
        ValueKind::Seq | ValueKind::Map => {
            if let Ok(it) = v.try_iter() {
                for k in it {
                    if v.kind() == ValueKind::Map {
                        strings_in(&v.get_item(&k).unwrap_or_default(), out);
                    } else {
                        strings_in(&k, out);
                    }
                }
            }
        }
        _ => {}
    }
}
