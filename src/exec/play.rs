//! A play in progress: what every host's walker shares (options, variables, tags,
//! run_once results, the abort flag).

use super::options::RunOptions;
use super::state::{HostVars, Shared};
use crate::diagnostics::Result;
use crate::output::{Sink, Status};
use crate::playbook::{Inherited, Play};
use crate::template::Scope;
use crate::vars::magic;
use crate::vars::Vars;
use minijinja::{Environment, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// What a run_once task left for the other hosts: status, registered result, effects.
pub type RunOnceResult = (Status, Value, Vec<crate::modules::Effect>);

pub struct PlayRun<'a> {
    pub play: &'a Play,
    pub opts: &'a RunOptions,
    pub shared: Arc<Shared>,
    pub env: Arc<Environment<'static>>,
    pub sink: &'a dyn Sink,
    pub roles_path: Vec<PathBuf>,
    /// Hosts of the current batch, in inventory order.
    pub batch: Vec<String>,
    pub play_hosts: Vec<String>,
    pub hostvars: Value,
    /// `groups`, with the inventory generation it was built from (add_host and group_by
    /// change it while the play runs).
    groups: Mutex<(u64, Value)>,
    /// `ansible_play_hosts` and its siblings: shared by every task's variables (one
    /// list each, not a copy per host and task).
    host_lists: Mutex<Option<PlayHostLists>>,
    abort: AtomicBool,
    ended: AtomicBool,
    run_once: Mutex<HashMap<usize, RunOnceResult>>,
    run_once_cv: Condvar,
    /// Cross-host edges: tasks that read other hosts' variables wait here.
    pub barrier: super::barrier::CrossHostBarrier,
    /// `throttle`d tasks: how many hosts are inside each.
    pub throttles: super::throttle::Throttles,
    /// Per task id: does it read other hosts' variables?
    cross_host: Mutex<HashMap<usize, bool>>,
}

impl<'a> PlayRun<'a> {
    pub fn new(
        play: &'a Play,
        opts: &'a RunOptions,
        shared: Arc<Shared>,
        env: Arc<Environment<'static>>,
        sink: &'a dyn Sink,
        play_hosts: Vec<String>,
        batch: Vec<String>,
    ) -> Self {
        let generation = shared.inventory_generation.load(Ordering::SeqCst);
        let groups = groups_value(&shared.inventory());
        let hostvars = Value::from_object(HostVars {
            shared: shared.clone(),
            env: env.clone(),
            cache: Mutex::new(HashMap::new()),
        });
        PlayRun {
            play,
            opts,
            shared,
            env,
            sink,
            roles_path: opts.roles_path.clone(),
            batch,
            play_hosts,
            hostvars,
            groups: Mutex::new((generation, groups)),
            host_lists: Mutex::new(None),
            abort: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            run_once: Mutex::new(HashMap::new()),
            run_once_cv: Condvar::new(),
            barrier: Default::default(),
            throttles: Default::default(),
            cross_host: Mutex::new(HashMap::new()),
        }
    }

    /// Does `task` read other hosts' variables (decided once per task, with the variables
    /// of the first host that reaches it)?
    pub fn reads_other_hosts(
        &self,
        task: &crate::playbook::Task,
        vars: impl FnOnce() -> Vars,
    ) -> bool {
        if self.batch.len() < 2 {
            return false;
        }
        let mut map = self.cross_host.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(task.id).or_insert_with(|| {
            crate::graph::cross_host::reads_other_hosts(&self.env, task, &vars())
        })
    }

    /// `groups` as the inventory is now.
    /// The name a loop's items are given (`loop_control.loop_var`, default `item`),
    /// templated as Ansible templates it (`loop_var: "{{ name_var }}"`).
    pub fn loop_var(
        &self,
        lc: &crate::playbook::LoopControl,
        vars: &Vars,
    ) -> crate::diagnostics::Result<String> {
        let Some(name) = &lc.loop_var else {
            return Ok("item".into());
        };
        if !name.contains("{{") {
            return Ok(name.clone());
        }
        let rendered = self.render(&Value::from(name.as_str()), vars.clone())?;
        let rendered = rendered.as_str().unwrap_or_default().trim().to_string();
        let valid = rendered
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && rendered.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !valid {
            return Err(crate::diagnostics::Error::template(format!(
                "loop_var '{name}' gives '{rendered}', which is not a variable name"
            )));
        }
        Ok(rendered)
    }

    /// The play's host lists, rebuilt only when the set of failed hosts changes.
    fn play_host_lists(&self) -> PlayHostLists {
        let failed: Vec<usize> = (self.play_hosts.iter().enumerate())
            .filter(|(_, h)| self.shared.peek(h, |st| st.failed))
            .map(|(i, _)| i)
            .collect();
        let mut cached = self.host_lists.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(&*cached, Some(c) if c.failed == failed) {
            let out = |h: &String| {
                let i = self.play_hosts.iter().position(|p| p == h);
                i.is_some_and(|i| failed.binary_search(&i).is_ok())
            };
            // As Ansible: the play's hosts are not limited by `serial`, the batch is.
            let active = |hosts: &[String]| -> Value {
                Value::from(
                    hosts
                        .iter()
                        .filter(|h| !out(h))
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            };
            *cached = Some(PlayHostLists {
                play_hosts: active(&self.play_hosts),
                batch: active(&self.batch),
                all: Value::from(self.play_hosts.clone()),
                failed,
            });
        }
        cached.clone().expect("set above")
    }

    pub fn groups(&self) -> Value {
        let now = self.shared.inventory_generation.load(Ordering::SeqCst);
        let mut g = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if g.0 != now {
            *g = (now, groups_value(&self.shared.inventory()));
        }
        g.1.clone()
    }

    /// `any_errors_fatal`: a host failed, every host stops the play.
    pub fn abort(&self) {
        self.abort.store(true, Ordering::SeqCst);
    }

    /// `meta: end_play`: every host stops the play, without failing.
    pub fn end_play(&self) {
        self.ended.store(true, Ordering::SeqCst);
    }

    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    pub fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }

    /// The template context for a set of variables.
    pub fn ctx(&self, vars: Vars) -> Value {
        Value::from_dyn_object(Scope::new(self.env.clone(), vars))
    }

    pub fn render(&self, v: &Value, vars: Vars) -> Result<Value> {
        let ctx = self.ctx(vars);
        crate::template::render_value(&self.env, v, &ctx)
    }

    pub fn eval_cond(&self, cond: &Value, vars: Vars) -> Result<bool> {
        let ctx = self.ctx(vars);
        crate::template::eval_condition(&self.env, cond, &ctx)
    }

    /// A connection to inventory host `host` (or an address the inventory lacks), as the
    /// play opens its hosts' connections: for tasks delegated to it.
    pub fn connect(&self, host: &str) -> Result<Box<dyn crate::connection::Connection>> {
        super::connect::connect(
            &self.shared.inventory(),
            host,
            self.opts,
            &self.shared,
            &self.env,
            self.play,
        )
    }

    /// A boolean keyword's value for these variables: a template is rendered (Ansible
    /// templates every keyword), and the result must read as a boolean.
    pub fn flag(&self, key: &str, flag: &crate::playbook::Flag, vars: &Vars) -> Result<bool> {
        use crate::playbook::Flag;
        match flag {
            Flag::Literal(b) => Ok(*b),
            Flag::Template { expr, .. } => {
                let v = self
                    .render(expr, vars.clone())
                    .map_err(|e| flag.render_error(key, e))?;
                flag.convert(key, &v)
            }
        }
    }

    /// [`PlayRun::flag`] for an optional keyword, `default` when it is not set.
    pub fn flag_or(
        &self,
        key: &str,
        flag: Option<&crate::playbook::Flag>,
        default: bool,
        vars: &Vars,
    ) -> Result<bool> {
        flag.map_or(Ok(default), |f| self.flag(key, f, vars))
    }

    /// Does a task with these (effective) tags run under --tags/--skip-tags?
    pub fn tags_match(&self, tags: &[String]) -> bool {
        tags_selected(tags, &self.opts.tags, &self.opts.skip_tags)
    }

    /// The first host of the batch that has not failed (run_once runs there).
    pub fn first_active_host(&self) -> Option<String> {
        self.batch.iter().find(|h| !self.shared.is_out(h)).cloned()
    }

    /// Wait for the run_once result of a task (the first host publishes it).
    pub fn run_once_result(&self, task: usize) -> Option<RunOnceResult> {
        let mut map = self.run_once.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = map.get(&task) {
                return Some(r.clone());
            }
            if self.aborted() {
                return None;
            }
            let (m, timeout) = self
                .run_once_cv
                .wait_timeout(map, std::time::Duration::from_millis(200))
                .unwrap_or_else(|e| e.into_inner());
            map = m;
            if timeout.timed_out() && self.first_active_host().is_none() {
                return None;
            }
        }
    }

    pub fn set_run_once_result(
        &self,
        task: usize,
        status: Status,
        registered: Value,
        effects: Vec<crate::modules::Effect>,
    ) {
        let mut map = self.run_once.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(task).or_insert((status, registered, effects));
        self.run_once_cv.notify_all();
    }

    /// Variables for a task on a host: its sources merged in precedence order
    /// (`vars::precedence`), then the magic variables.
    /// `inventory_vars` and `vars_files` are the host's own (as loaded by its walk).
    pub fn task_vars(
        &self,
        host: &str,
        inventory_vars: &Vars,
        vars_files: &Vars,
        kw: &Inherited,
    ) -> Vars {
        let st = self.shared.snapshot(host);
        let mut facts = Vars::new();
        if !st.facts.is_empty() || !st.module_facts.is_empty() {
            facts.insert("ansible_facts".into(), Value::from_iter(st.all_facts()));
            for (k, f) in &st.facts {
                facts.insert(format!("ansible_{k}"), f.clone());
            }
            facts.extend(st.module_facts.clone());
        }
        let roles = || {
            self.play
                .role_defaults
                .iter()
                .chain(&st.public_roles)
                .chain(kw.role.as_ref())
        };
        let mut v = crate::vars::precedence::Sources {
            role_defaults: roles().map(|r| &r.defaults).collect(),
            inventory: Some(inventory_vars),
            facts,
            play_vars: Some(&self.play.vars),
            vars_files: Some(vars_files),
            role_vars: roles().map(|r| &r.vars).collect(),
            block_task_vars: Some(&kw.vars),
            include_vars: Some(&st.include_vars),
            set_facts: Some(&st.set_facts),
            params: Some(&kw.params),
            extra_vars: Some(&self.shared.extra_vars),
        }
        .merge();
        self.magic(&mut v, host, kw);
        v
    }

    fn magic(&self, v: &mut Vars, host: &str, kw: &Inherited) {
        // Ansible's play context adds the connection in use to the task's variables
        // (`lookup('vars', 'ansible_connection')` works without one in the inventory).
        if !v.contains_key("ansible_connection") {
            let local =
                matches!(host, "localhost" | "127.0.0.1") && !v.contains_key("ansible_host");
            v.insert(
                "ansible_connection".into(),
                Value::from(if local { "local" } else { "ssh" }),
            );
        }
        // Without one in the inventory, ansible_host is the host's name, or, in a task
        // delegated elsewhere, the delegate's (as Ansible).
        if !v.contains_key("ansible_host") {
            let delegate = kw
                .delegate_to
                .as_ref()
                .and_then(|d| d.as_str())
                .filter(|d| !d.contains("{{"));
            magic::set(v, "ansible_host", Value::from(delegate.unwrap_or(host)));
        }
        let inv = self.shared.inventory();
        let mut put = |k: &str, val: Value| magic::set(v, k, val);
        put("inventory_hostname", Value::from(host));
        put(
            "inventory_hostname_short",
            Value::from(host.split('.').next().unwrap_or(host)),
        );
        put("group_names", Value::from(inv.group_names(host)));
        put("groups", self.groups());
        put("hostvars", self.hostvars.clone());
        let lists = self.play_host_lists();
        put("ansible_play_hosts", lists.play_hosts);
        put("play_hosts", lists.batch.clone());
        put("ansible_play_batch", lists.batch);
        put("ansible_play_hosts_all", lists.all);
        put("ansible_play_name", Value::from(self.play.name.as_str()));
        put("ansible_check_mode", Value::from(self.opts.check));
        put("ansible_diff_mode", Value::from(self.opts.diff));
        put("ansible_verbosity", Value::from(self.opts.verbosity));
        put(
            "ansible_run_tags",
            Value::from(if self.opts.tags.is_empty() {
                vec!["all".to_string()]
            } else {
                self.opts.tags.clone()
            }),
        );
        put(
            "ansible_skip_tags",
            Value::from(self.opts.skip_tags.clone()),
        );
        let dir = std::fs::canonicalize(&self.play.base_dir)
            .unwrap_or_else(|_| self.play.base_dir.clone());
        put("playbook_dir", Value::from(dir.display().to_string()));
        put("omit", Value::from(magic::OMIT));
        put(
            "ansible_version",
            Value::from_iter([
                ("full", Value::from(magic::ANSIBLE_COMPAT_VERSION)),
                ("string", Value::from(magic::ANSIBLE_COMPAT_VERSION)),
                ("major", version_part(0)),
                ("minor", version_part(1)),
                ("revision", version_part(2)),
            ]),
        );
        put("drover_version", Value::from(env!("CARGO_PKG_VERSION")));
        if let Some(r) = &kw.role {
            put("role_name", Value::from(r.name.as_str()));
            put("role_path", Value::from(r.path.display().to_string()));
        }
    }
}

/// The `groups` variable: every group and its hosts (children's included).
/// The play's host lists as template values, and the failed hosts (indices into the
/// play's hosts) they were built without.
#[derive(Clone)]
struct PlayHostLists {
    failed: Vec<usize>,
    play_hosts: Value,
    batch: Value,
    all: Value,
}

pub fn groups_value(inv: &crate::inventory::Inventory) -> Value {
    inv.groups
        .keys()
        .map(|g| (g.clone(), Value::from(inv.group_hosts(g))))
        .collect()
}

/// Tag selection as Ansible does it: `always` runs unless skipped, `never` only when
/// asked for by name; `all`, `tagged`, `untagged` are special.
pub fn tags_selected(tags: &[String], only: &[String], skip: &[String]) -> bool {
    // A port of Ansible's Taggable.evaluate_tags: an untagged task has the tag
    // `untagged`, no --tags means `all`.
    let untagged = vec!["untagged".to_string()];
    let tags = if tags.is_empty() { &untagged } else { tags };
    let has = |t: &str| tags.iter().any(|x| x == t);
    let meets = |set: &[String]| set.iter().any(|t| has(t));
    let in_set = |set: &[String], t: &str| set.iter().any(|x| x == t);
    let all = ["all".to_string()];
    let only = if only.is_empty() { &all[..] } else { only };
    let is_untagged = tags.len() == 1 && tags[0] == "untagged";
    let mut run = has("always")
        || (in_set(only, "all") && !has("never"))
        || meets(only)
        || (in_set(only, "tagged") && !is_untagged && !has("never"));
    if run && !skip.is_empty() {
        if in_set(skip, "all") {
            if !has("always") || in_set(skip, "always") {
                run = false;
            }
        } else if meets(skip) || (in_set(skip, "tagged") && !is_untagged) {
            run = false;
        }
    }
    run
}

/// One numeric part of [`magic::ANSIBLE_COMPAT_VERSION`].
fn version_part(i: usize) -> Value {
    let n: u32 = magic::ANSIBLE_COMPAT_VERSION
        .split('.')
        .nth(i)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    Value::from(n)
}

#[cfg(test)]
mod tests {
    use super::tags_selected;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn tag_rules() {
        assert!(tags_selected(&v(&[]), &v(&[]), &v(&[])));
        assert!(!tags_selected(&v(&["never"]), &v(&[]), &v(&[])));
        assert!(tags_selected(
            &v(&["never", "debug"]),
            &v(&["debug"]),
            &v(&[])
        ));
        assert!(tags_selected(&v(&["always"]), &v(&["web"]), &v(&[])));
        assert!(!tags_selected(
            &v(&["always"]),
            &v(&["web"]),
            &v(&["always"])
        ));
        assert!(!tags_selected(&v(&["db"]), &v(&["web"]), &v(&[])));
        assert!(tags_selected(&v(&["web"]), &v(&["tagged"]), &v(&[])));
        assert!(tags_selected(&v(&[]), &v(&["untagged"]), &v(&[])));
        assert!(!tags_selected(&v(&["web"]), &v(&[]), &v(&["web"])));
    }
}
