//! One task on one host: loop, `when`, templated arguments, the module's plan, check
//! mode, apply, retries/until, changed_when/failed_when, and the registered result.

use super::batch::OpResult;
use super::delegate::Delegation;
use super::host_ctx::HostCtx;
use super::loops;
use super::play::PlayRun;
use crate::connection::{Become, BecomeMethod, LocalConnection};
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::modules::probe::{Answer, Probe};
use crate::modules::{self, Applied, Args, Diff, Effect, Evaluator, ModuleCtx};
use crate::output::{Event, Status, TaskEvent};
use crate::playbook::Task;
use crate::vars::{magic, Vars};
use minijinja::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::vars::magic::OMIT;

/// What the host walker needs from a finished task.
pub struct ItemOutcome {
    pub status: Status,
    pub registered: Value,
    pub effects: Vec<Effect>,
    pub notify: Vec<String>,
    pub unreachable: Option<Error>,
    /// A run_once result copied from the host that ran it: not counted in this host's
    /// recap and not shown (Ansible reports it on the host that ran it only).
    pub shared: bool,
}

struct One {
    result: Vars,
    status: Status,
    diffs: Vec<Diff>,
    effects: Vec<Effect>,
    /// Paths the apply step changed; `None` when it may have changed anything.
    touched: Option<Vec<String>>,
    touched_tree: bool,
    /// The batched op (`exec::batch`) that will finish this result.
    pending: Option<usize>,
    /// It never ran: an earlier task of its batch failed, or the run stopped.
    not_run: bool,
    /// Host state the apply step reported (see `ProbeCache::learn`).
    known: Vec<(Probe, Answer)>,
    /// Where a failure happened and what to do (shown with `msg`, not part of it).
    note: Option<crate::output::FailureNote>,
    /// `no_log` as it held for this item: its output is censored.
    no_log: bool,
}

impl One {
    fn new(result: Vars, status: Status) -> Self {
        One {
            result,
            status,
            diffs: Vec::new(),
            effects: Vec::new(),
            touched: None,
            touched_tree: false,
            pending: None,
            not_run: false,
            known: Vec::new(),
            note: None,
            no_log: false,
        }
    }

    /// Finish a batched result with what its op reported, as `plan_and_apply` finishes
    /// one that ran at once.
    fn resolve(&mut self, r: OpResult) {
        self.pending = None;
        match r {
            OpResult::Done(mut extra) => {
                extra.shift_remove("changed");
                // The same key order as a result applied at once: the apply step's keys,
                // then `changed` and `failed`.
                let tail: Vec<_> = ["changed", "failed"]
                    .iter()
                    .filter_map(|k| self.result.shift_remove_entry(*k))
                    .collect();
                self.result.extend(extra);
                self.result.extend(tail);
            }
            OpResult::Failed(e) => *self = fail_one(e),
            OpResult::NotRun => self.not_run = true,
        }
    }
}

/// One loop item (or the single run) of a task, kept until it is shown.
struct ItemRec {
    one: One,
    label: Option<String>,
    item: Value,
    duration: Duration,
}

/// A task whose changes wait in the host's write batch: run, but not yet shown,
/// counted or registered (see `HostWalker::settle`).
pub struct Deferred {
    pub task: Arc<Task>,
    name: String,
    recs: Vec<ItemRec>,
    /// A loop's variable name; `None` for a single run.
    looped: Option<String>,
    /// The handlers it notifies if it changed something, rendered when it ran: a
    /// deferred task keeps no copy of its variables (they hold the play's host lists,
    /// and a host may hold several deferred tasks at once).
    notify: Vec<String>,
    started: Instant,
    /// How many items were already shown, and whether the task's start was.
    shown: usize,
    start_shown: bool,
}

impl Deferred {
    /// Whether it already failed without a batched op (its plan failed).
    pub fn failed(&self) -> bool {
        self.recs
            .iter()
            .any(|r| r.one.pending.is_none() && r.one.status == Status::Failed)
    }

    /// Whether every op of it ran and succeeded and nothing else failed: it can be
    /// reported before the rest of its batch.
    pub fn succeeded(&self, batch: &super::batch::WriteBatch) -> bool {
        self.recs.iter().all(|r| match r.one.pending {
            Some(id) => batch.succeeded(id),
            None => !r.one.not_run && r.one.status != Status::Failed,
        })
    }
}

/// What running a task gave: its outcome, or (batched) a task still to be finished.
pub enum Ran {
    Done(ItemOutcome),
    Deferred(Deferred),
}

/// What a task runner needs from the walk it runs in (the host walker implements it;
/// the runner sees no more of the walk, so `exec::task` does not depend on `exec::host`).
pub trait TaskHost<'a> {
    /// The host's context: connections, caches, batch, variable sources.
    fn ctx(&mut self) -> &mut HostCtx<'a>;
    /// The same, to read.
    fn ctx_ref(&self) -> &HostCtx<'a>;
    /// Report the deferred tasks ahead of this one whose writes went through; `true`
    /// when none is left waiting (so this task's own items may be shown now).
    fn report_succeeded(&mut self) -> bool;
}

pub struct TaskRunner<'w, 'a> {
    w: &'w mut dyn TaskHost<'a>,
    run: &'a PlayRun<'a>,
    task: &'w Arc<Task>,
    handler: bool,
    /// The task's name, templated with its variables (as Ansible shows it).
    name: String,
    /// Its changes go to the host's write batch and its results are shown later.
    defer: bool,
    /// The handler names, already rendered (a deferred task being completed).
    notify_rendered: Option<Vec<String>>,
    /// `no_log` for the item running now (Ansible renders it for each item).
    no_log: bool,
}

/// The controller's host name (`template_host`, Python's `os.uname()[1]`).
fn controller_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Template evaluation for modules, bound to one task's variables.
struct TaskEval<'r> {
    run: &'r super::play::PlayRun<'r>,
    vars: Vars,
    /// The task's `dest` (template_destpath).
    dest: Option<String>,
}

/// The user name owning a controller file (template_uid), as Python's pwd gives it.
fn file_owner(path: &str) -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return String::new();
    };
    let uid = meta.uid().to_string();
    // /etc/passwd rather than getpwuid: that one is not thread-safe, and hosts run on
    // threads.
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
            })
        })
        .unwrap_or(uid)
}

impl Evaluator for TaskEval<'_> {
    fn render_text(
        &self,
        name: &str,
        text: &str,
        opts: &crate::template::TextOptions,
    ) -> Result<String> {
        let mut vars = self.vars.clone();
        magic::set(&mut vars, "template_path", Value::from(name));
        magic::set(&mut vars, "template_fullpath", Value::from(name));
        magic::set(
            &mut vars,
            "template_host",
            Value::from(controller_hostname()),
        );
        magic::set(&mut vars, "template_uid", Value::from(file_owner(name)));
        if let Some(dest) = &self.dest {
            magic::set(&mut vars, "template_destpath", Value::from(dest.as_str()));
        }
        vars.entry("ansible_managed".into())
            .or_insert(Value::from("Ansible managed"));
        let ctx = self.run.ctx(vars);
        crate::template::render_text(&self.run.env, name, text, &ctx, opts).map_err(|e| {
            let message = format!("{} (in template {name})", e.message);
            e.with_message(message)
        })
    }
    fn eval_expr(&self, expr: &str) -> Result<Value> {
        let ctx = self.run.ctx(self.vars.clone());
        crate::template::render_str(&self.run.env, &format!("{{{{ {expr} }}}}"), &ctx)
    }
    fn eval_cond(&self, cond: &Value) -> Result<bool> {
        self.run.eval_cond(cond, self.vars.clone())
    }
    fn verbosity(&self) -> u8 {
        self.run.opts.verbosity
    }
}

impl<'w, 'a> TaskRunner<'w, 'a> {
    pub fn new(w: &'w mut dyn TaskHost<'a>, task: &'w Arc<Task>, handler: bool) -> Self {
        let name = task.display_name();
        TaskRunner {
            run: w.ctx_ref().run,
            w,
            task,
            handler,
            name,
            defer: false,
            notify_rendered: None,
            no_log: false,
        }
    }

    pub fn run(self) -> ItemOutcome {
        match self.run_any() {
            Ran::Done(o) => o,
            // Only a deferred runner defers.
            Ran::Deferred(_) => unreachable!("a task run at once was deferred"),
        }
    }

    /// Run with the task's changes queued in the host's write batch (the walker has
    /// checked that nothing it reads can depend on what is still queued).
    pub fn run_deferred(mut self) -> Ran {
        self.defer = true;
        self.run_any()
    }

    fn run_any(mut self) -> Ran {
        let run = self.run;
        let task = self.task.clone();
        if task.runs_once() && self.once_here() {
            if let Some(first) = run.first_active_host() {
                if first != self.w.ctx_ref().host {
                    // Another host runs it; this one gets the same result, as in Ansible.
                    let shared = run.run_once_result(task.id);
                    // add_host and pause without `run_once`: Ansible runs them for the
                    // first host alone (their actions bypass the host loop), so the others
                    // register nothing and take no effects.
                    let bypass = task.kw.run_once.is_none();
                    return Ran::Done(match shared {
                        // Registered results and facts go to every host, as in Ansible.
                        Some((status, registered, effects)) => ItemOutcome {
                            status,
                            registered: if bypass { Value::UNDEFINED } else { registered },
                            effects: if bypass { Vec::new() } else { effects },
                            notify: Vec::new(),
                            unreachable: None,
                            shared: true,
                        },
                        None => ItemOutcome {
                            status: Status::Skipped,
                            registered: Value::from(()),
                            effects: Vec::new(),
                            notify: Vec::new(),
                            unreachable: None,
                            shared: false,
                        },
                    });
                }
            }
        }
        let started = Instant::now();
        let mut base = self.w.ctx_ref().vars_at(&task.kw, &task.span);
        if let Some((t, r)) = self.w.ctx_ref().failed_context() {
            base.insert("ansible_failed_task".into(), t.clone());
            base.insert("ansible_failed_result".into(), r.clone());
        }
        if self.name.contains("{{") {
            // A name that cannot be templated is shown as written, as in Ansible.
            if let Ok(v) = run.render(&Value::from(self.name.as_str()), base.clone()) {
                self.name = display(&v);
            }
        }
        if !self.defer {
            self.show_start();
        }
        // One hold for the whole task, loop items included (as Ansible); `run_once` tasks
        // ignore throttle, as in Ansible.
        let _hold = match self.throttle(&base) {
            Ok(Some(limit)) if !task.runs_once() => {
                match run
                    .throttles
                    .acquire(task.id, limit, || run.aborted() || run.ended())
                {
                    Some(hold) => Some(hold),
                    // The play ended while this host waited: it does not start the task.
                    None => {
                        return self.failure(
                            Error::module(
                                "the play ended while this host waited for its turn (throttle)",
                            ),
                            base,
                            started,
                        )
                    }
                }
            }
            Ok(_) => None,
            Err(e) => return self.failure(e.at(task.span.clone()), base, started),
        };
        let ran = match &task.loop_ {
            None => self.one(base, started),
            Some(l) => self.looped(base, l, started),
        };
        let outcome = match ran {
            Ran::Done(o) => o,
            d => return d,
        };
        if task.runs_once() {
            run.set_run_once_result(
                task.id,
                outcome.status,
                outcome.registered.clone(),
                outcome.effects.clone(),
            );
        }
        Ran::Done(outcome)
    }

    /// Whether a templated `run_once` holds for this host (its variables decide; a
    /// literal or add_host/pause always does). One that holds takes the first host's
    /// result; one that does not runs the task for this host, as its own.
    fn once_here(&self) -> bool {
        match &self.task.kw.run_once {
            Some(f @ crate::playbook::Flag::Template { .. }) => {
                let vars = self.w.ctx_ref().vars_at(&self.task.kw, &self.task.span);
                self.run.flag("run_once", f, &vars).unwrap_or(true)
            }
            _ => true,
        }
    }

    /// The task's `throttle`, templated with the host's variables (`None`: no limit).
    fn throttle(&self, vars: &Vars) -> Result<Option<usize>> {
        let Some(t) = &self.task.kw.throttle else {
            return Ok(None);
        };
        let rendered = self.run.render(t, vars.clone()).map_err(|e| {
            let message = format!(
                "Failed to convert the throttle value to an integer: {}",
                e.message
            );
            e.with_message(message)
        })?;
        super::throttle::limit(&rendered)
    }

    fn show_start(&self) {
        self.run.sink.event(&Event::TaskStart {
            host: &self.w.ctx_ref().host,
            task: &self.name,
            source: &self.task.span,
        });
    }

    fn deferred(&self, recs: Vec<ItemRec>, vars: &Vars, started: Instant) -> Ran {
        Ran::Deferred(Deferred {
            task: self.task.clone(),
            name: self.name.clone(),
            recs,
            looped: None,
            notify: self.notify_names(true, vars),
            started,
            shown: 0,
            start_shown: false,
        })
    }

    /// Finish a deferred task once its batch was sent: fill in what its ops reported,
    /// show what is left to show, and give the outcome. `None` when it must be dropped
    /// unseen: some of its changes never ran (an earlier task failed, or the run stopped).
    pub fn complete(w: &'w mut dyn TaskHost<'a>, mut d: Deferred) -> Option<ItemOutcome> {
        for rec in &mut d.recs[d.shown..] {
            if let Some(id) = rec.one.pending {
                rec.one
                    .resolve(w.ctx().batch.take(id).unwrap_or(OpResult::NotRun));
            }
            if rec.one.not_run {
                return None;
            }
        }
        let task = d.task.clone();
        let mut runner = TaskRunner {
            run: w.ctx_ref().run,
            w,
            task: &task,
            handler: false,
            name: d.name,
            defer: false,
            notify_rendered: Some(d.notify),
            no_log: false,
        };
        if !d.start_shown {
            runner.show_start();
        }
        // Deferred tasks have no ignore_errors (see `HostWalker::deferrable`) and their
        // handler names are rendered: their variables are not needed again.
        let no_vars = Vars::new();
        Some(match d.looped {
            Some(var) => runner.aggregate(d.recs, &var, &no_vars, d.started, d.shown),
            None => {
                let rec = d.recs.pop()?;
                if d.shown == 0 {
                    runner.emit(&rec.one, None, rec.duration);
                }
                runner.outcome(rec.one, &no_vars)
            }
        })
    }

    /// Show the leading items of a deferred loop whose ops already reported, when no
    /// earlier task waits to be shown: a long run of big writes shows its progress.
    fn stream(&mut self, recs: &mut [ItemRec], shown: &mut usize, start_shown: &mut bool) {
        if !self.w.report_succeeded() {
            return;
        }
        while let Some(rec) = recs.get_mut(*shown) {
            if let Some(id) = rec.one.pending {
                if !self.w.ctx().batch.resolved(id) {
                    return;
                }
                let r = self.w.ctx().batch.take(id).unwrap_or(OpResult::NotRun);
                rec.one.resolve(r);
            }
            if rec.one.not_run {
                return;
            }
            if !*start_shown {
                self.show_start();
                *start_shown = true;
            }
            self.emit(&rec.one, rec.label.clone(), rec.duration);
            *shown += 1;
        }
    }

    fn looped(&mut self, base: Vars, l: &crate::playbook::Loop, started: Instant) -> Ran {
        let run = self.run;
        let task = self.task.clone();
        // with_first_found drops the terms that are undefined (Ansible's first_found,
        // invoked as a loop, skips them: `"{{ missing }}.yml"` falls to the next name).
        let terms = match &l.kind {
            crate::playbook::LoopKind::Lookup(n) if n == "first_found" => {
                render_dropping_undefined(run, &l.items, &base)
            }
            _ => run.render(&l.items, base.clone()),
        };
        let items = terms
            .and_then(|v| self.lookup_loop(&l.kind, v, &base))
            .and_then(|v| loops::items(&l.kind, &v))
            .map_err(|e| e.at(l.span.clone()));
        let items = match items {
            Ok(i) => i,
            // As Ansible: a loop over something undefined is an error only where the
            // task's `when` holds; `when: false` skips the task (a false condition that
            // cannot be told without the loop keeps the loop's error).
            Err(e)
                if e.kind == ErrorKind::Template
                    && e.message.contains("undefined")
                    && task
                        .kw
                        .when
                        .iter()
                        .any(|c| run.eval_cond(&c.expr, base.clone()).ok() == Some(false)) =>
            {
                return self.one(base, started)
            }
            Err(e) => return self.failure(e, base, started),
        };
        let var = match run.loop_var(&task.loop_control, &base) {
            Ok(v) => v,
            Err(e) => return self.failure(e.at(l.span.clone()), base, started),
        };
        let n = items.len();
        let mut recs = Vec::new();
        let (mut shown, mut start_shown) = (0, false);
        let mut base = base;
        let all_items = items.clone();
        for (i, item) in items.into_iter().enumerate() {
            let mut vars = base.clone();
            vars.insert(var.clone(), item.clone());
            magic::set(&mut vars, "ansible_loop_var", Value::from(var.as_str()));
            if let Some(iv) = &task.loop_control.index_var {
                vars.insert(iv.clone(), Value::from(i));
                magic::set(&mut vars, "ansible_index_var", Value::from(iv.as_str()));
            }
            magic::set(
                &mut vars,
                "ansible_loop",
                [
                    ("index", Value::from(i + 1)),
                    ("index0", Value::from(i)),
                    ("first", Value::from(i == 0)),
                    ("last", Value::from(i + 1 == n)),
                    ("length", Value::from(n)),
                    ("revindex", Value::from(n - i)),
                    ("revindex0", Value::from(n - i - 1)),
                    ("allitems", Value::from(all_items.clone())),
                ]
                .into_iter()
                .chain(i.checked_sub(1).map(|p| ("previtem", all_items[p].clone())))
                .chain(all_items.get(i + 1).map(|x| ("nextitem", x.clone())))
                .collect::<Value>(),
            );
            let t0 = Instant::now();
            let mut one = match self.execute_item(vars.clone()) {
                Ok(o) => o,
                Err(e) => return Ran::Done(self.unreachable(e)),
            };
            let duration = t0.elapsed();
            // As Ansible (ansible#83619): each item's result is registered as it ends, so
            // the label (rendered after the item) and the next items see it.
            let registered = task
                .register
                .as_ref()
                .filter(|_| one.pending.is_none())
                .map(|r| {
                    let mut res = one.result.clone();
                    res.insert(var.clone(), item.clone());
                    res.insert("ansible_loop_var".into(), Value::from(var.as_str()));
                    // Data, as the whole result will be once registered (host.rs).
                    let result = crate::template::as_registered(
                        Value::from_iter(res),
                        crate::modules::loaded_result_keys(task.module),
                    );
                    (r.clone(), result)
                });
            if let Some((r, v)) = &registered {
                vars.insert(r.clone(), v.clone());
            }
            let label = match &task.loop_control.label {
                Some(l) => match run.render(l, vars) {
                    Ok(v) => display(&v),
                    // An undefined label fails the item, as Ansible (a batched item
                    // has no result yet to fail: it keeps the item as its label).
                    Err(e) if is_undefined(&e) && one.pending.is_none() => {
                        label_failed(&mut one, &e);
                        display(&item)
                    }
                    Err(_) => display(&item),
                },
                None => display(&item),
            };
            if !self.defer {
                self.emit(&one, Some(label.clone()), duration);
            }
            // Facts set by this item are seen by the next one, as in Ansible
            // (`acc: "{{ acc | default([]) + [item] }}"` accumulates).
            if one
                .effects
                .iter()
                .any(|e| matches!(e, Effect::SetFacts(_) | Effect::IncludeVars(_)))
            {
                self.w.ctx_ref().apply_var_effects(&one.effects);
                base = self.rebuild_base(&base);
            }
            if let Some((r, v)) = registered {
                base.insert(r, v);
            }
            recs.push(ItemRec {
                one,
                label: Some(label),
                item,
                duration,
            });
            if self.defer {
                self.stream(&mut recs, &mut shown, &mut start_shown);
            }
            if let Some(p) = task.loop_control.pause {
                std::thread::sleep(Duration::from_secs_f64(p.max(0.0)));
            }
        }
        if self.defer {
            return Ran::Deferred(Deferred {
                task: self.task.clone(),
                name: self.name.clone(),
                recs,
                looped: Some(var),
                notify: self.notify_names(true, &base),
                started,
                shown,
                start_shown,
            });
        }
        let shown = recs.len();
        Ran::Done(self.aggregate(recs, &var, &base, started, shown))
    }

    /// A loop's registered result and outcome from its items; the items from `shown`
    /// on are shown here (the others were as they ran).
    fn aggregate(
        &mut self,
        recs: Vec<ItemRec>,
        var: &str,
        base: &Vars,
        started: Instant,
        shown: usize,
    ) -> ItemOutcome {
        let n = recs.len();
        let mut results = Vec::new();
        let mut effects = Vec::new();
        let (mut any_changed, mut any_failed, mut all_skipped) = (false, false, true);
        for (i, rec) in recs.into_iter().enumerate() {
            if i >= shown {
                self.emit(&rec.one, rec.label.clone(), rec.duration);
            }
            let one = rec.one;
            any_changed |= one.result.get("changed").is_some_and(|v| v.is_true());
            any_failed |= matches!(one.status, Status::Failed | Status::Ignored);
            all_skipped &= one.status == Status::Skipped;
            let mut r = one.result;
            r.insert(var.to_string(), rec.item);
            r.insert("ansible_loop_var".into(), Value::from(var));
            results.push(Value::from_iter(r));
            effects.extend(one.effects);
        }
        let mut reg = Vars::new();
        reg.insert("changed".into(), Value::from(any_changed));
        // An empty loop registers no msg, as Ansible (the task never ran).
        if n > 0 {
            reg.insert(
                "msg".into(),
                Value::from(if any_failed {
                    "One or more items failed"
                } else {
                    "All items completed"
                }),
            );
        }
        reg.insert("results".into(), Value::from(results));
        reg.insert("skipped".into(), Value::from(n == 0 || all_skipped));
        if any_failed {
            reg.insert("failed".into(), Value::from(true));
        }
        let ignore = any_failed && self.ignore_errors(base);
        let status = if any_failed && !ignore {
            Status::Failed
        } else if any_failed {
            Status::Ignored
        } else if n > 0 && all_skipped || n == 0 {
            Status::Skipped
        } else if any_changed {
            Status::Changed
        } else {
            Status::Ok
        };
        if n == 0 {
            reg.insert("skipped_reason".into(), Value::from("No items in the list"));
            let mut one = One::new(reg.clone(), status);
            one.no_log = self.no_log_for(base).unwrap_or(true);
            self.emit(&one, None, started.elapsed());
        }
        ItemOutcome {
            status,
            registered: Value::from_iter(reg),
            effects,
            notify: self.notify_names(any_changed, base),
            unreachable: None,
            shared: false,
        }
    }

    /// `with_fileglob`, `with_subelements` and every other `with_<lookup>` are the lookups
    /// of the same names, as in Ansible: their terms are turned into the list to iterate
    /// here.
    fn lookup_loop(
        &self,
        kind: &crate::playbook::LoopKind,
        terms: Value,
        base: &Vars,
    ) -> Result<Value> {
        use crate::playbook::LoopKind;
        let expr = match kind {
            LoopKind::Fileglob => "{{ query('fileglob', *__drover_terms) }}",
            LoopKind::Subelements => {
                "{{ __drover_terms[0] | subelements(__drover_terms[1], **(__drover_terms[2] if __drover_terms | length > 2 else {})) }}"
            }
            LoopKind::Lookup(_) => "{{ query(__drover_lookup, *__drover_terms) }}",
            _ => return Ok(terms),
        };
        let terms = match terms.kind() {
            minijinja::value::ValueKind::Seq => terms,
            _ => Value::from(vec![terms]),
        };
        let subkey = matches!(kind, LoopKind::Subelements)
            .then(|| terms.get_item_by_index(1).ok().map(|k| display(&k)))
            .flatten();
        let mut vars = base.clone();
        vars.insert("__drover_terms".into(), crate::template::as_data(terms));
        if let LoopKind::Lookup(name) = kind {
            vars.insert("__drover_lookup".into(), Value::from(name.as_str()));
            vars.insert(
                crate::template::WITH_ACTION_VAR.into(),
                Value::from(self.task.module),
            );
        }
        let list = self.run.render(&Value::from(expr), vars)?;
        let Some(subkey) = subkey else {
            return Ok(list);
        };
        // with_subelements gives each parent without the list it iterates (the filter
        // keeps it), as Ansible's lookup does.
        let pairs: Vec<Value> = list
            .try_iter()
            .map_err(|e| Error::template(e.to_string()))?
            .map(|pair| {
                let parent = pair.get_item_by_index(0).unwrap_or_default();
                let sub = pair.get_item_by_index(1).unwrap_or_default();
                let trimmed: Value = parent
                    .try_iter()
                    .into_iter()
                    .flatten()
                    .filter(|k| display(k) != subkey)
                    .map(|k| {
                        let v = parent.get_item(&k).unwrap_or_default();
                        (k, v)
                    })
                    .collect();
                Value::from(vec![trimmed, sub])
            })
            .collect();
        Ok(Value::from(pairs))
    }

    /// The task's variables again, after an item changed the host's facts; the failed-task
    /// context of a rescue is carried over.
    fn rebuild_base(&self, old: &Vars) -> Vars {
        let mut base = self.w.ctx_ref().vars_at(&self.task.kw, &self.task.span);
        for k in ["ansible_failed_task", "ansible_failed_result"] {
            if let Some(v) = old.get(k) {
                base.insert(k.into(), v.clone());
            }
        }
        base
    }

    fn one(&mut self, vars: Vars, started: Instant) -> Ran {
        let mut one = match self.execute_item(vars.clone()) {
            Ok(o) => o,
            Err(e) => return Ran::Done(self.unreachable(e)),
        };
        if one.status == Status::Failed && self.ignore_errors(&vars) {
            one.status = Status::Ignored;
        }
        let rec = ItemRec {
            one,
            label: None,
            item: Value::from(()),
            duration: started.elapsed(),
        };
        if self.defer {
            return self.deferred(vec![rec], &vars, started);
        }
        self.emit(&rec.one, None, rec.duration);
        Ran::Done(self.outcome(rec.one, &vars))
    }

    /// The outcome of a task without a loop.
    fn outcome(&mut self, one: One, vars: &Vars) -> ItemOutcome {
        let changed = one.status == Status::Changed;
        ItemOutcome {
            status: one.status,
            registered: Value::from_iter(one.result),
            effects: one.effects,
            notify: self.notify_names(changed, vars),
            unreachable: None,
            shared: false,
        }
    }

    /// The task failed before any item ran (its loop source): `ignore_errors` still
    /// applies, as in Ansible.
    fn failure(&mut self, e: Error, vars: Vars, started: Instant) -> Ran {
        self.no_log = self.no_log_for(&vars).unwrap_or(true);
        let mut one = fail_one(e);
        one.no_log = self.no_log;
        let mut rec = ItemRec {
            one,
            label: None,
            item: Value::from(()),
            duration: started.elapsed(),
        };
        if self.ignore_errors(&vars) {
            rec.one.status = Status::Ignored;
        }
        if self.defer {
            return self.deferred(vec![rec], &vars, started);
        }
        self.emit(&rec.one, None, rec.duration);
        Ran::Done(ItemOutcome {
            status: rec.one.status,
            registered: Value::from_iter(rec.one.result),
            effects: Vec::new(),
            notify: Vec::new(),
            unreachable: None,
            shared: false,
        })
    }

    fn unreachable(&mut self, e: Error) -> ItemOutcome {
        ItemOutcome {
            status: Status::Unreachable,
            registered: Value::from(()),
            effects: Vec::new(),
            notify: Vec::new(),
            unreachable: Some(e),
            shared: false,
        }
    }

    /// The task's `timeout:` in seconds (`None`: no limit). Refused for a module that
    /// cannot enforce it, rather than letting the task run past its limit.
    fn timeout(&self, vars: &Vars) -> Result<Option<u64>> {
        let Some(v) = &self.task.kw.timeout else {
            return Ok(None);
        };
        let span = &self.task.span;
        let r = self
            .run
            .render(v, vars.clone())
            .map_err(|e| e.at(span.clone()))?;
        let secs = i64::try_from(r.clone())
            .ok()
            .or_else(|| r.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| {
                Error::invalid(
                    format!("timeout must be a number of seconds, got '{}'", display(&r)),
                    span,
                )
            })?;
        if secs <= 0 {
            return Ok(None);
        }
        let m = self.task.module;
        if crate::modules::timeout::INSTANT.contains(&m) {
            return Ok(None);
        }
        if !crate::modules::timeout::ENFORCED.contains(&m) {
            return Err(Error::invalid(
                format!(
                    "'timeout' is not supported by drover for the module '{}'",
                    self.task.module
                ),
                span,
            )
            .with_help(format!(
                "drover enforces timeout for {} only; remove it or run the work with one of them",
                crate::modules::timeout::ENFORCED.join(", ")
            )));
        }
        Ok(Some(secs as u64))
    }

    fn ignore_errors(&self, vars: &Vars) -> bool {
        match &self.task.kw.ignore_errors {
            None => false,
            Some(v) => self.run.eval_cond(v, vars.clone()).unwrap_or(false),
        }
    }

    fn notify_names(&self, changed: bool, vars: &Vars) -> Vec<String> {
        if !changed {
            return Vec::new();
        }
        if let Some(names) = &self.notify_rendered {
            return names.clone();
        }
        self.task
            .notify
            .iter()
            .map(|n| {
                self.run
                    .render(&Value::from(n.as_str()), vars.clone())
                    .map(|v| display(&v))
                    .unwrap_or_else(|_| n.clone())
            })
            .collect()
    }

    fn emit(&self, one: &One, item: Option<String>, duration: Duration) {
        // As Ansible: a meta task shows a result only when it is skipped or fails.
        if self.task.module == "meta" && matches!(one.status, Status::Ok | Status::Changed) {
            return;
        }
        self.run.sink.event(&Event::Task(TaskEvent {
            host: &self.w.ctx_ref().host,
            task: &self.name,
            source: &self.task.span,
            status: one.status,
            changed: one.result.get("changed").is_some_and(|v| v.is_true()),
            result: &one.result,
            diffs: &one.diffs,
            duration,
            item,
            handler: self.handler,
            no_log: one.no_log,
            module: self.task.module,
            note: one.note.as_ref(),
        }));
    }

    /// `no_log` for these variables. A template that cannot be rendered, or gives no
    /// boolean (with a warning), fails the item with its output censored, as Ansible.
    fn no_log_for(&self, vars: &Vars) -> Result<bool> {
        let Some(flag) = &self.task.kw.no_log else {
            return Ok(false);
        };
        match self.run.flag("no_log", flag, vars) {
            Err(e) if e.message.contains("could not be converted") => {
                self.run.sink.event(&Event::Warning {
                    host: Some(&self.w.ctx_ref().host),
                    message: &format!(
                        "Invalid no_log value for task, output will be masked: {}",
                        e.message.trim_start_matches("Task failed: ")
                    ),
                });
                Err(e)
            }
            r => r,
        }
    }

    /// One item (or the single run): [`Self::execute`] with the item's `no_log`, a
    /// failure turned into a failed result. `Err` only for an unreachable host.
    fn execute_item(&mut self, vars: Vars) -> Result<One> {
        let no_log = self.no_log_for(&vars);
        self.no_log = *no_log.as_ref().unwrap_or(&true);
        let mut one = match no_log.and_then(|_| self.execute(vars)) {
            Ok(o) => o,
            Err(e) if e.kind == ErrorKind::Unreachable => return Err(e),
            Err(e) => fail_one(e),
        };
        one.no_log = self.no_log;
        Ok(one)
    }

    /// Conditions, arguments, plan, apply: one item of one task.
    fn execute(&mut self, vars: Vars) -> Result<One> {
        let run = self.run;
        let task = self.task.clone();
        for c in &task.kw.when {
            let ok = run
                .eval_cond(&c.expr, vars.clone())
                .map_err(|e| e.at(c.span.clone()))?;
            if !ok {
                let mut r = Vars::new();
                r.insert("changed".into(), Value::from(false));
                r.insert("skipped".into(), Value::from(true));
                r.insert(
                    "skip_reason".into(),
                    Value::from("Conditional result was False"),
                );
                r.insert("false_condition".into(), c.expr.clone());
                return Ok(One::new(r, Status::Skipped));
            }
        }
        if let Some(e) = &task.unsupported {
            return Err((**e).clone());
        }
        let module = modules::find(task.module)
            .ok_or_else(|| Error::module(format!("unknown module {}", task.module)))?;
        let mut rendered =
            render_args(run, &task, &vars).map_err(|e| e.at(task.args_span.clone()))?;
        let become_ = self.become_for(&vars)?;
        let environment = self.environment(&vars)?;
        let check = run.flag_or(
            "check_mode",
            task.kw.check_mode.as_ref(),
            run.opts.check,
            &vars,
        )?;
        let diff = run.flag_or("diff", task.kw.diff.as_ref(), run.opts.diff, &vars)?;
        let (delegation, delegated_to) = self.delegation(module, &vars)?;
        let delegate_local = matches!(delegation, Delegation::Controller(_));
        let home_conn: Option<&mut dyn crate::connection::Connection> = match &delegation {
            Delegation::Own => {
                self.check_remote_user(&vars)?;
                // Another host's delegated task may have changed this one since its
                // state was read.
                self.w.ctx().forget_changes_elsewhere();
                Some(self.w.ctx().conn.as_mut())
            }
            Delegation::Host(h) => Some(self.w.ctx().delegates.get(run, h)?.conn.as_mut()),
            Delegation::Controller(_) => None,
        };
        if let Some(conn) = home_conn {
            super::home::expand_home(
                conn,
                become_.as_ref(),
                &environment,
                module.spec().name,
                &mut rendered,
            )
            .map_err(|e| e.at(task.args_span.clone()))?;
        }
        let args = Args::new(module.spec(), rendered).map_err(|e| e.at(task.args_span.clone()))?;
        let retries = match &task.retries {
            Some(v) => run
                .render(v, vars.clone())?
                .as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| i64::try_from(run.render(v, vars.clone()).ok()?).ok())
                .unwrap_or(3)
                .max(0) as u32,
            None => 0,
        };
        let delay = match &task.delay {
            Some(v) => {
                let d = run.render(v, vars.clone())?;
                f64::try_from(d.clone())
                    .ok()
                    .or_else(|| d.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(5.0)
            }
            None => 5.0,
        };
        let job = super::async_job::settings(run, &task, &vars)?;
        let mut timeout = self.timeout(&vars)?;
        if let Some(j) = job.filter(|j| j.poll > 0) {
            // A polled job is bounded by its limit: the commands stop there.
            if crate::modules::timeout::ENFORCED.contains(&task.module) {
                timeout = Some(timeout.map_or(j.limit, |t| t.min(j.limit)));
            }
        }
        let eval = TaskEval {
            run,
            vars: vars.clone(),
            dest: args.str("dest").ok().flatten(),
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if delegate_local && self.w.ctx().local.is_none() {
                self.w.ctx().local = Some(Box::new(LocalConnection::new()));
            }
            let w = self.w.ctx();
            let (conn, cache): (&mut dyn crate::connection::Connection, _) =
                match (&delegation, w.local.as_mut()) {
                    (Delegation::Controller(_), Some(local)) => {
                        (local.as_mut(), &mut w.local_cache)
                    }
                    (Delegation::Host(h), _) => {
                        let d = w.delegates.get(run, h)?;
                        (d.conn.as_mut(), &mut d.cache)
                    }
                    _ => (w.conn.as_mut(), &mut w.cache),
                };
            let mut ctx = ModuleCtx {
                host: &w.host,
                conn,
                become_: become_.clone(),
                environment: environment.clone(),
                check,
                diff,
                task: &task,
                eval: &eval,
                cache,
                batch: match w.defer_group {
                    Some(g) if delegation == Delegation::Own => Some((&mut w.batch, g)),
                    _ => None,
                },
                timeout,
            };
            // Hosts delegating to the controller may edit the same file: one at a time,
            // each reading it afresh (another host may have just written it).
            let _path_lock = if delegate_local {
                controller_path(&args).map(|p| {
                    ctx.cache.invalidate(std::slice::from_ref(&p), false);
                    local_path_lock(&p)
                })
            } else {
                None
            };
            let _held = _path_lock
                .as_ref()
                .map(|l| l.lock().unwrap_or_else(|e| e.into_inner()));
            let result = match &job {
                None => plan_and_apply(module, &mut ctx, &args, check, diff),
                Some(j) => run_async(module, &mut ctx, &args, check, diff, j),
            };
            // What changed on the host leaves the cache: the paths a module names, or
            // everything after a command (or a failure half-way).
            match &result {
                _ if check => {}
                Ok(o) if matches!(o.status, Status::Ok | Status::Skipped) => {}
                // Queued: the batch has done it (keeping what the op will leave).
                Ok(o) if o.pending.is_some() => {}
                Ok(One {
                    status: Status::Changed,
                    touched: Some(paths),
                    touched_tree,
                    ..
                }) => ctx.cache.invalidate(paths, *touched_tree),
                _ => ctx.cache.clear(),
            }
            // The delegate's own worker no longer trusts what it cached of it.
            if let (Delegation::Host(h) | Delegation::Controller(h), false) = (&delegation, check) {
                if !matches!(&result, Ok(o) if matches!(o.status, Status::Ok | Status::Skipped)) {
                    run.shared.with_host(h, |s| s.changed_elsewhere += 1);
                }
            }
            let mut one = result?;
            // What the change reported it left is known without reading it again.
            ctx.cache
                .learn(std::mem::take(&mut one.known), become_.as_ref());
            self.delegate_facts(delegated_to.as_deref(), &vars, &mut one)?;
            // add_host / group_by: the inventory changes now (check mode too, as in
            // Ansible), and whether it did is the task's `changed`.
            if one.status == Status::Ok {
                let mut changed = false;
                for e in &one.effects {
                    if let Effect::Inventory(c) = e {
                        changed |= run.shared.update_inventory(|inv| c.apply(inv));
                    }
                }
                if changed {
                    one.status = Status::Changed;
                    one.result.insert("changed".into(), Value::from(true));
                }
            }
            // changed_when / failed_when / until see the result under the register name.
            let mut cvars = vars.clone();
            let result_value = Value::from_iter(one.result.clone());
            if let Some(r) = &task.register {
                cvars.insert(r.clone(), result_value.clone());
            }
            cvars.extend(one.result.iter().map(|(k, v)| (k.clone(), v.clone())));
            // As Ansible: a skipped result (a module that skips itself in check mode) is
            // not judged by changed_when/failed_when.
            let judged = one.status != Status::Skipped;
            if let Some(conds) = task.changed_when.as_ref().filter(|_| judged) {
                let mut changed = true;
                for c in conds {
                    changed &= run
                        .eval_cond(&c.expr, cvars.clone())
                        .map_err(|e| e.at(c.span.clone()))?;
                }
                one.result.insert("changed".into(), Value::from(changed));
                if one.status != Status::Failed && one.status != Status::Skipped {
                    one.status = if changed { Status::Changed } else { Status::Ok };
                }
            }
            if let Some(conds) = task.failed_when.as_ref().filter(|_| judged) {
                let mut failed = true;
                for c in conds {
                    failed &= run
                        .eval_cond(&c.expr, cvars.clone())
                        .map_err(|e| e.at(c.span.clone()))?;
                }
                one.result
                    .insert("failed_when_result".into(), Value::from(failed));
                one.result.insert("failed".into(), Value::from(failed));
                // As Ansible: a failure's exception, overruled, is kept under another name.
                if !failed {
                    if let Some(e) = one.result.shift_remove("exception") {
                        one.result
                            .insert("failed_when_suppressed_exception".into(), e);
                    }
                }
                if failed {
                    one.status = Status::Failed;
                } else if one.status == Status::Failed {
                    one.status = if one.result.get("changed").is_some_and(|v| v.is_true()) {
                        Status::Changed
                    } else {
                        Status::Ok
                    };
                }
            }
            if let Some(conds) = &task.until {
                let mut done = true;
                for c in conds {
                    done &= run
                        .eval_cond(&c.expr, cvars.clone())
                        .map_err(|e| e.at(c.span.clone()))?;
                }
                one.result.insert("attempts".into(), Value::from(attempt));
                if !done {
                    if attempt <= retries {
                        std::thread::sleep(Duration::from_secs_f64(delay.max(0.0)));
                        // The host may have changed meanwhile: a retry reads it again.
                        self.w.ctx().cache.clear();
                        self.w.ctx().local_cache.clear();
                        continue;
                    }
                    one.status = Status::Failed;
                    // Ansible reports `retries` (not retries + 1) attempts when they ran out.
                    one.result.insert("attempts".into(), Value::from(retries));
                    one.result.insert("failed".into(), Value::from(true));
                    one.result
                        .entry("msg".into())
                        .or_insert(Value::from("Retries exhausted"));
                }
            }
            return Ok(one);
        }
    }

    /// Where this task runs for these variables (`delegate_to` is templated per item),
    /// and the host it is delegated to (where `delegate_facts` sends facts: set_fact
    /// runs on the controller whatever it is delegated to).
    fn delegation(
        &self,
        module: &dyn modules::Module,
        vars: &Vars,
    ) -> Result<(Delegation, Option<String>)> {
        let rendered = self
            .task
            .kw
            .delegate_to
            .as_ref()
            .map(|d| self.run.render(d, vars.clone()))
            .transpose()
            .map_err(|e| e.at(self.task.span.clone()))?;
        let written = self.task.kw.delegate_to.clone().unwrap_or_default();
        let resolved = super::delegate::resolve(
            self.run,
            &self.w.ctx_ref().host,
            &written,
            rendered.as_ref(),
        )
        .map_err(|e| e.at(self.task.span.clone()))?;
        let delegated_to = match &resolved {
            Delegation::Host(h) | Delegation::Controller(h) => Some(h.clone()),
            Delegation::Own => None,
        };
        if module.spec().controller_only {
            return Ok((Delegation::Controller("localhost".into()), delegated_to));
        }
        Ok((resolved, delegated_to))
    }

    /// `delegate_facts`: the facts a delegated task set (set_fact, a module's
    /// `ansible_facts`) go to the host it ran on instead of this one, as in Ansible.
    fn delegate_facts(&self, to: Option<&str>, vars: &Vars, one: &mut One) -> Result<()> {
        let Some(to) = to else {
            return Ok(());
        };
        let Some(flag) = &self.task.kw.delegate_facts else {
            return Ok(());
        };
        if !self.run.flag("delegate_facts", flag, vars)? {
            return Ok(());
        }
        let (facts, rest): (Vec<Effect>, Vec<Effect>) =
            std::mem::take(&mut one.effects).into_iter().partition(|e| {
                matches!(
                    e,
                    Effect::SetFacts(_) | Effect::UpdateFacts(_) | Effect::ModuleFacts(_)
                )
            });
        one.effects = rest;
        if !facts.is_empty() {
            self.run.shared.with_host(to, |s| s.apply(&facts));
        }
        Ok(())
    }

    fn become_for(&self, vars: &Vars) -> Result<Option<Become>> {
        become_of(self.run, &self.task.kw, vars)
    }

    /// A task's (or block's) `remote_user:` must be whom drover logged in as on the
    /// host for the play: one SSH login per host and play. Where the host's variables
    /// name the user, the keyword changes nothing (the variable wins, as in Ansible).
    fn check_remote_user(&mut self, vars: &Vars) -> Result<()> {
        let Some(user) = &self.task.kw.remote_user else {
            return Ok(());
        };
        if crate::connection::ssh::target::login_user_from_vars(vars) {
            return Ok(());
        }
        let want = display(&self.run.render(user, vars.clone())?);
        let login = self.w.ctx().conn.login_user().to_string();
        if want == login {
            return Ok(());
        }
        Err(Error::module(format!(
            "remote_user '{want}' differs from '{login}', whom drover logged in as on this host for the play"
        ))
        .with_help("drover keeps one SSH login per host and play: put remote_user on the play, or use become_user on the task"))
    }

    fn environment(&self, vars: &Vars) -> Result<Vec<(String, String)>> {
        let mut env = Vec::new();
        for e in &self.task.kw.environment {
            let v = self.run.render(e, vars.clone())?;
            let Ok(keys) = v.try_iter() else {
                return Err(Error::template(
                    "environment must be a mapping of names to values",
                ));
            };
            for k in keys {
                let val = v.get_item(&k).unwrap_or_default();
                let name = display(&k);
                if !crate::connection::quote::is_env_name(&name) {
                    return Err(crate::connection::quote::env_name_error(&name));
                }
                env.retain(|(n, _): &(String, String)| n != &name);
                env.push((name, display(&val)));
            }
        }
        Ok(env)
    }
}

/// The controller file a task delegated to localhost writes (`path` or `dest`).
fn controller_path(args: &Args) -> Option<String> {
    ["path", "dest"]
        .iter()
        .find_map(|k| args.str(k).ok().flatten())
}

/// The lock of one controller path, shared by every host's walker in this process.
fn local_path_lock(path: &str) -> Arc<std::sync::Mutex<()>> {
    static LOCKS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Arc<std::sync::Mutex<()>>>>,
    > = std::sync::OnceLock::new();
    let map = LOCKS.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(path.to_string()).or_default().clone()
}

/// The engine-owned state machine: plan, stop in check mode, otherwise apply.
fn plan_and_apply(
    module: &dyn modules::Module,
    ctx: &mut ModuleCtx<'_>,
    args: &Args,
    check: bool,
    diff: bool,
) -> Result<One> {
    // A module Ansible does not run in check mode is skipped here, never planned.
    let skipped = check.then(|| module.check_mode().skipped_plan()).flatten();
    let plan = match skipped.map(Ok).unwrap_or_else(|| module.plan(ctx, args)) {
        Ok(p) => p,
        Err(e) if e.kind == ErrorKind::Unreachable => return Err(e),
        Err(e) => return Ok(fail_one(e)),
    };
    let mut result = plan.result;
    let diffs = if diff { plan.diff } else { Vec::new() };
    if plan.failed {
        result.insert("changed".into(), Value::from(false));
        result.insert("failed".into(), Value::from(true));
        return Ok(One {
            diffs,
            effects: plan.effects,
            ..One::new(result, Status::Failed)
        });
    }
    if plan.skipped {
        // A module that ran and skipped itself (check mode, debug verbosity) returns a
        // result, so it also has `failed: false`, unlike a task skipped by `when`.
        result.insert("changed".into(), Value::from(false));
        result.insert("skipped".into(), Value::from(true));
        if !plan.skipped_by_action {
            result.insert("failed".into(), Value::from(false));
        }
        return Ok(One {
            diffs,
            effects: plan.effects,
            ..One::new(result, Status::Skipped)
        });
    }
    let mut will_change = plan.change != modules::Change::None;
    let silent = plan.silent;
    let touches = plan.touches;
    let touched_tree = plan.touches_tree;
    let (mut pending, mut known) = (None, Vec::new());
    if will_change && !check {
        if let Some(apply) = plan.apply {
            // Queued writes go first, and nothing changes after a failed task.
            ctx.settle()?;
            if ctx.stopped() {
                return Ok(One {
                    not_run: true,
                    ..One::new(result, Status::Skipped)
                });
            }
            match apply(ctx) {
                // An apply step may find, on the host, that nothing needed doing after
                // all (a command stopped by its `creates`, apt after refreshing its
                // cache): it says so with `changed: false`.
                Ok(mut extra) => {
                    if extra.get("changed").is_some_and(|v| !v.is_true()) {
                        will_change = false;
                    }
                    extra.shift_remove("changed");
                    result.extend(extra)
                }
                Err(e) if e.kind == ErrorKind::Unreachable => return Err(e),
                Err(e) => return Ok(fail_one(e)),
            }
        } else if let Some(op) = plan.op {
            match ctx.apply_op(op, touches.clone(), touched_tree) {
                Ok(Applied::Now(done)) => {
                    result.extend(done.extra);
                    known = done.known;
                }
                Ok(Applied::Queued(id)) => pending = Some(id),
                Err(e) if e.kind == ErrorKind::Unreachable => return Err(e),
                Err(e) => return Ok(fail_one(e)),
            }
        }
    }
    if silent && will_change {
        // Applied (not in check mode) yet not reported: what it did (a daemon-reload)
        // may still change what later plans read.
        if !check {
            ctx.cache.clear();
        }
        will_change = false;
    }
    let failed = result.get("failed").is_some_and(|v| v.is_true());
    result.insert("changed".into(), Value::from(will_change));
    result.insert("failed".into(), Value::from(failed));
    let status = if failed {
        Status::Failed
    } else if will_change {
        Status::Changed
    } else {
        Status::Ok
    };
    Ok(One {
        diffs,
        effects: plan.effects,
        touched: touches,
        touched_tree,
        pending,
        known,
        ..One::new(result, status)
    })
}

/// A task under `async` (see `exec::async_job`): left running on the host (`poll: 0`),
/// or run now within its limit with the keys of Ansible's polled result.
fn run_async(
    module: &dyn modules::Module,
    ctx: &mut ModuleCtx<'_>,
    args: &Args,
    check: bool,
    diff: bool,
    job: &super::async_job::Settings,
) -> Result<One> {
    use super::async_job as aj;
    use crate::modules::background::{self, Background};
    let failed = |e: Error| {
        if e.kind == ErrorKind::Unreachable {
            Err(e)
        } else {
            Ok(fail_one(e))
        }
    };
    let dir = match modules::async_status::async_dir(ctx.eval) {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    if job.poll == 0 {
        let work = if check {
            // Ansible's wrapper runs the module in check mode: what it would have done is
            // the job's result at once.
            Ok(Background::Finished(
                plan_and_apply(module, ctx, args, true, diff)?.result,
            ))
        } else {
            module.background(ctx, args).unwrap_or_else(|| {
                Err(Error::module(format!(
                    "'poll: 0' is not supported by drover for the module '{}'",
                    module.spec().name
                )))
            })
        };
        let started = work.and_then(|w| background::launch(ctx, &dir, job.limit, w));
        return match started {
            Ok(s) => Ok(One::new(aj::started_result(&s), Status::Changed)),
            Err(e) => failed(e),
        };
    }
    let reserved = match background::reserve(ctx, &dir) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let t0 = Instant::now();
    let mut one = plan_and_apply(module, ctx, args, check, diff)?;
    let overran = if aj::killed(&one.result, job.limit) {
        Some(aj::killed_result(&reserved))
    } else if aj::late(t0.elapsed(), job.limit) {
        Some(aj::timed_out_result(job.limit, &reserved))
    } else {
        None
    };
    if let Some(result) = overran {
        return Ok(One::new(result, Status::Failed));
    }
    aj::add_polled_keys(&mut one.result, &reserved);
    Ok(one)
}

fn fail_one(e: Error) -> One {
    let mut r = Vars::new();
    r.insert("changed".into(), Value::from(false));
    r.insert("failed".into(), Value::from(true));
    // The bare message, as Ansible's `msg`; where and what to do are shown with it.
    r.insert("msg".into(), Value::from(e.message.clone()));
    for (k, v) in &e.result_keys {
        r.insert(k.clone(), Value::from_serialize(v));
    }
    let mut one = One::new(r, Status::Failed);
    if e.span.is_some() || e.help.is_some() {
        one.note = Some(crate::output::FailureNote {
            at: e.span.as_ref().map(|s| s.to_string()),
            help: e.help.clone(),
        });
    }
    one
}

fn is_undefined(e: &Error) -> bool {
    e.kind == ErrorKind::Template && e.message.contains("undefined")
}

/// An item whose loop_control.label could not be rendered: failed, with Ansible's message
/// (its other keys, `skipped` of a false `when` too, are kept as Ansible does).
fn label_failed(one: &mut One, e: &Error) {
    one.result.insert("failed".into(), Value::from(true));
    one.result.insert(
        "msg".into(),
        Value::from(format!(
            "Failed to template loop_control.label: {}",
            e.message
        )),
    );
    one.status = Status::Failed;
}

/// A value as text, the way Python's str() shows it (`{'k': True}` for a dict item).
pub fn display(v: &Value) -> String {
    crate::template::ansible::filters::py_str(v)
}

/// The `become` settings of a task in its variables (keywords win over inventory vars).
pub fn become_of(
    run: &super::play::PlayRun<'_>,
    kw: &crate::playbook::Inherited,
    vars: &Vars,
) -> Result<Option<Become>> {
    // Connection variables are templated when used, as Ansible's play context does
    // (`ansible_become_user: "{{ test_user_name }}"`).
    let var = |name: &str| -> Result<Option<Value>> {
        vars.get(name)
            .map(|v| run.render(v, vars.clone()))
            .transpose()
    };
    let inv_become = var("ansible_become")?
        .as_ref()
        .and_then(crate::modules::args::to_bool);
    let defaults = &run.opts.become_defaults;
    let on = match &kw.become_ {
        Some(f) => run.flag("become", f, vars)?,
        None => inv_become.or(defaults.become_).unwrap_or(false),
    };
    if !on {
        return Ok(None);
    }
    let user = match &kw.become_user {
        Some(u) => display(&run.render(u, vars.clone())?),
        None => var("ansible_become_user")?
            .map(|v| display(&v))
            .or_else(|| defaults.user.clone())
            .unwrap_or_else(|| "root".into()),
    };
    let method_var = var("ansible_become_method")?;
    let method = match kw
        .become_method
        .as_deref()
        .or_else(|| method_var.as_ref().and_then(|v| v.as_str()))
        .or(defaults.method.as_deref())
    {
        Some("su") => BecomeMethod::Su,
        _ => BecomeMethod::Sudo,
    };
    let password = match var("ansible_become_password")? {
        Some(p) => Some(p),
        None => var("ansible_become_pass")?,
    }
    .map(|p| display(&p))
    .or_else(|| run.opts.become_password.clone());
    Ok(Some(Become {
        user,
        method,
        password,
    }))
}

/// The task's arguments for one item, templated: `omit` drops one; set_fact's templated
/// variable names are rendered too (Ansible templates those keys, no other module's); a
/// template of the whole arguments (`assert: '{{ item }}'`) must give a mapping, whose keys
/// the arguments written beside it override, and is checked against the module's spec
/// now, as it could not be before the run.
pub(super) fn render_args(
    run: &super::play::PlayRun<'_>,
    task: &Task,
    vars: &Vars,
) -> Result<Vars> {
    let mut rendered = Vars::new();
    for (k, v) in &task.args {
        if k == modules::args::VARIABLE_PARAMS {
            continue;
        }
        // Ansible names the argument whose value failed to render.
        let value = run.render(v, vars.clone()).map_err(|mut e| {
            e.message = format!("Error while resolving value for '{k}': {}", e.message);
            e
        })?;
        if value.as_str() == Some(OMIT) {
            continue;
        }
        // A value no vault password opens fails here, where a module would use it;
        // set_fact keeps it as it is, still encrypted.
        if task.module != "set_fact" {
            crate::vault::undecryptable::ensure_none_in(&value).map_err(|e| {
                Error::module(format!(
                    "Error while resolving value for '{k}': {}",
                    e.detail().unwrap_or_default()
                ))
            })?;
        }
        let key = if task.module == "set_fact" && k.contains("{{") {
            let name = run.render(&Value::from(k.as_str()), vars.clone())?;
            let name = name
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| name.to_string());
            crate::vars::file::check_var_name(&name, &task.args_span)?;
            name
        } else {
            k.clone()
        };
        rendered.insert(key, value);
    }
    let Some(whole) = task.args.get(modules::args::VARIABLE_PARAMS) else {
        return with_defaults(run, task, vars, rendered);
    };
    let whole = run.render(whole, vars.clone())?;
    if whole.kind() != minijinja::value::ValueKind::Map {
        return Err(Error::module(format!(
            "Task args must resolve to a 'dict' not '{}'.",
            crate::template::ansible::filters::type_debug(&whole).unwrap_or_default()
        )));
    }
    let mut merged = Vars::new();
    for k in whole.try_iter().into_iter().flatten() {
        let v = whole.get_item(&k).unwrap_or_default();
        if v.as_str() == Some(OMIT) {
            continue;
        }
        merged.insert(
            k.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| k.to_string()),
            v,
        );
    }
    merged.extend(rendered);
    let spec = modules::find(task.module)
        .map(|m| m.spec())
        .ok_or_else(|| Error::module(format!("unknown module {}", task.module)))?;
    if task.arg_defaults.is_empty() {
        modules::args::validate(spec, &merged, &task.args_span, &[])?;
        return Ok(merged);
    }
    with_defaults(run, task, vars, merged)
}

/// The task's `module_defaults` that could only be merged when it runs (one is a
/// template), rendered with the item's variables and put below its arguments; the whole
/// is then checked against the module's spec.
fn with_defaults(
    run: &super::play::PlayRun<'_>,
    task: &Task,
    vars: &Vars,
    mut args: Vars,
) -> Result<Vars> {
    let spec = modules::find(task.module)
        .map(|m| m.spec())
        .ok_or_else(|| Error::module(format!("unknown module {}", task.module)))?;
    if task.arg_defaults.is_empty() {
        // A templated value may render to something its argument does not allow.
        modules::args::validate_rendered_choices(spec, &args, &task.args_span)?;
        return Ok(args);
    }
    let rendered = task
        .arg_defaults
        .iter()
        .map(|d| run.render(d, vars.clone()))
        .collect::<Result<Vec<_>>>()
        .map_err(|mut e| {
            e.message = format!("module_defaults for {}: {}", task.module, e.message);
            e
        })?;
    crate::playbook::module_defaults::merge_rendered(spec, rendered, &mut args)?;
    modules::args::validate(spec, &args, &task.args_span, &[])?;
    Ok(args)
}

/// Render a loop's terms, leaving out each list item or mapping value whose template
/// reads an undefined variable.
fn render_dropping_undefined(
    run: &super::play::PlayRun<'_>,
    v: &Value,
    vars: &Vars,
) -> Result<Value> {
    use minijinja::value::ValueKind;
    let undefined = |e: &Error| e.kind == ErrorKind::Template && e.message.contains("undefined");
    match v.kind() {
        ValueKind::Seq => {
            let mut out = Vec::new();
            for item in v.try_iter().into_iter().flatten() {
                match render_dropping_undefined(run, &item, vars) {
                    Ok(r) => out.push(r),
                    Err(e) if undefined(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(Value::from(out))
        }
        ValueKind::Map => {
            let mut out = indexmap::IndexMap::new();
            for k in v.try_iter().into_iter().flatten() {
                let item = v.get_item(&k).unwrap_or_default();
                match render_dropping_undefined(run, &item, vars) {
                    Ok(r) => {
                        out.insert(k, r);
                    }
                    Err(e) if undefined(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(Value::from_iter(out))
        }
        _ => run.render(v, vars.clone()),
    }
}
