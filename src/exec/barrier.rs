//! Cross-host edges of the task graph: hosts walk a play independently, except that a
//! task which reads other hosts' variables (`hostvars`, `ansible_play_hosts`,
//! `play_hosts`, `ansible_play_batch`), and a `run_once` task, waits until every other host of the batch has
//! passed the tasks before it, as Ansible's lock-step strategy guarantees. Without the
//! wait, a cluster config built from `set_fact` + `hostvars` would miss the peers of a
//! slower host.
//!
//! Hosts count the cross-host tasks they reach; a host at its k-th such task waits until
//! every other started host of the batch has reached its k-th, or has left the play
//! (finished, failed, unreachable). Only started hosts are waited for: with `--forks`
//! smaller than the batch, hosts queued behind the forks cannot be waited for without a
//! deadlock.

use crate::inventory::Vars;
use crate::playbook::Task;
use minijinja::value::{Value, ValueKind};
use minijinja::Environment;
use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Names whose use reads other hosts' state.
const CROSS_HOST_NAMES: [&str; 4] = [
    "hostvars",
    "play_hosts",
    "ansible_play_hosts",
    "ansible_play_batch",
];

#[derive(Default)]
struct State {
    arrived: HashMap<String, usize>,
    started: HashSet<String>,
    gone: HashSet<String>,
}

/// The play batch's barrier (see the module docs).
#[derive(Default)]
pub struct CrossHostBarrier {
    state: Mutex<State>,
    cv: Condvar,
}

impl CrossHostBarrier {
    /// A host began walking the play.
    pub fn start(&self, host: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.started.insert(host.to_string());
    }

    /// A host stopped walking the play (done, failed, unreachable, ended).
    pub fn leave(&self, host: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.gone.insert(host.to_string());
        self.cv.notify_all();
    }

    /// Host `host` reached its `k`-th cross-host task: wait for the others, or until
    /// `stop()` says the play is over.
    pub fn wait(&self, host: &str, k: usize, stop: impl Fn() -> bool) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.arrived.insert(host.to_string(), k);
        self.cv.notify_all();
        loop {
            let waiting_for = st.started.iter().any(|h| {
                h != host && !st.gone.contains(h) && st.arrived.get(h).copied().unwrap_or(0) < k
            });
            if !waiting_for || stop() {
                return;
            }
            let (next, _) = self
                .cv
                .wait_timeout(st, Duration::from_millis(200))
                .unwrap_or_else(|e| e.into_inner());
            st = next;
        }
    }
}

/// Does this task read other hosts' variables, directly or through the variables it
/// uses (`voters: "{{ groups.kafka | map('extract', hostvars, 'id') }}"`)? `vars` are
/// the task's variables before templating.
pub fn reads_other_hosts(env: &Environment<'static>, task: &Task, vars: &Vars) -> bool {
    // A run_once task runs for the whole batch: once every host got there.
    if task.runs_once() {
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
        if CROSS_HOST_NAMES.iter().any(|n| text.contains(n)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_host_waits_for_the_others_to_reach_the_same_cross_host_task() {
        let b = Arc::new(CrossHostBarrier::default());
        b.start("a");
        b.start("b");
        let order = Arc::new(Mutex::new(Vec::new()));
        let (b2, o2) = (b.clone(), order.clone());
        let slow = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            o2.lock().unwrap().push("b set its fact");
            b2.wait("b", 1, || false);
        });
        b.wait("a", 1, || false);
        order.lock().unwrap().push("a read hostvars");
        slow.join().unwrap();
        assert_eq!(order.lock().unwrap()[0], "b set its fact");
    }

    #[test]
    fn a_host_that_left_is_not_waited_for() {
        let b = CrossHostBarrier::default();
        b.start("a");
        b.start("b");
        b.leave("b");
        b.wait("a", 3, || false);
    }
}
