//! One host's walk through a play: tasks in order, blocks with rescue/always, includes
//! loaded when reached, handlers flushed at section ends and on `meta: flush_handlers`.

use super::host_ctx::HostCtx;
use super::loops;
use super::play::PlayRun;
use super::task::{Deferred, ItemOutcome, Ran, TaskHost, TaskRunner};
use crate::connection::Connection;
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::modules::probe::{Probe, ProbeCache};
use crate::modules::{Effect, MetaAction};
use crate::output::{Event, Status};
use crate::playbook::{
    Block, Handler, HandlerBody, Include, IncludeKind, Inherited, Item, ListCtx, Loader, Task,
};
use crate::vars::Vars;
use minijinja::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Failed,
    Unreachable,
    EndHost,
    EndPlay,
    Interrupted,
}

/// One host's walk through a play: its context (shared with the task runner) and what
/// only the walk keeps (handlers notified, deferred tasks waiting to be reported).
pub struct HostWalker<'a> {
    pub ctx: HostCtx<'a>,
    /// A connection opened for this walk (its first command takes the host lock).
    pub fresh: bool,
    notified: Vec<String>,
    extra_handlers: Vec<Handler>,
    /// How many cross-host tasks this host has reached (see `barrier`).
    cross_host_seen: usize,
    /// Tasks run with their changes in `ctx.batch`, in order, waiting to be reported.
    pending: Vec<Deferred>,
    groups: usize,
}

impl<'a> TaskHost<'a> for HostWalker<'a> {
    fn ctx(&mut self) -> &mut HostCtx<'a> {
        &mut self.ctx
    }

    fn ctx_ref(&self) -> &HostCtx<'a> {
        &self.ctx
    }

    fn report_succeeded(&mut self) -> bool {
        self.report_leading();
        self.pending.is_empty()
    }
}

impl<'a> HostWalker<'a> {
    pub fn new(run: &'a PlayRun<'a>, host: String, conn: Box<dyn Connection>) -> Self {
        HostWalker {
            ctx: HostCtx::new(run, host, conn),
            fresh: false,
            notified: Vec::new(),
            extra_handlers: Vec::new(),
            cross_host_seen: 0,
            pending: Vec::new(),
            groups: 0,
        }
    }

    /// The host's `ansible_python_interpreter`, rendered, if it names a path (`auto…`
    /// values are Ansible's discovery, which drover's default mirrors).
    fn python_interpreter(&self) -> Option<String> {
        let vars = self.ctx.base_vars(&Inherited::default());
        let value = vars.get("ansible_python_interpreter")?;
        let rendered = self.ctx.run.render(value, vars.clone()).ok()?;
        rendered
            .as_str()
            .filter(|p| !p.starts_with("auto"))
            .map(str::to_string)
    }

    /// The `filter` of the play's module_defaults for `setup`, which its fact gathering
    /// runs (as Ansible's gather_facts action applies them), rendered with the host's
    /// variables as they are before facts.
    fn play_fact_filter(&self) -> Result<Vec<String>> {
        let levels = &self.ctx.run.play.module_defaults;
        let entries = crate::playbook::module_defaults::for_module(levels, "setup");
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let vars = self.ctx.base_vars(&Default::default());
        let rendered = entries
            .iter()
            .map(|e| self.ctx.run.render(e, vars.clone()))
            .collect::<Result<Vec<_>>>()?;
        let spec = crate::modules::find("setup").map(|m| m.spec());
        let mut args = Vars::new();
        if let Some(spec) = spec {
            crate::playbook::module_defaults::merge_rendered(spec, rendered, &mut args)?;
        }
        crate::modules::setup::play_gathering_filter(args)
    }

    /// Walk the whole play on this host.
    pub fn walk(&mut self) -> Flow {
        let play = self.ctx.run.play;
        // The first command of a new connection takes the host's run lock (see
        // `lock`): facts when the play gathers them, else a bare `true`.
        let first = if play.gather_facts {
            let started = std::time::Instant::now();
            let interpreter = self
                .ctx
                .run
                .opts
                .python_fact
                .then(|| self.python_interpreter());
            let python = match &interpreter {
                None => super::facts::PythonFact::Skip,
                Some(named) => super::facts::PythonFact::Gather(named.as_deref()),
            };
            let filter = self.play_fact_filter();
            let gathered = super::facts::gather(self.ctx.conn.as_mut(), python);
            gathered
                .and_then(|f| crate::modules::setup::keep(f, &filter?))
                .map(|f| {
                    self.ctx.run.shared.with_host(&self.ctx.host, |s| {
                        s.facts = f;
                        s.stats.ok += 1;
                    });
                    // A task of its own in the output and the recap, as Ansible's.
                    self.ctx
                        .run
                        .sink
                        .event(&Event::Task(crate::output::TaskEvent {
                            host: &self.ctx.host,
                            task: "Gathering Facts",
                            source: &self.ctx.run.play.span,
                            status: Status::Ok,
                            changed: false,
                            result: &Vars::new(),
                            diffs: &[],
                            duration: started.elapsed(),
                            item: None,
                            handler: false,
                            no_log: false,
                            module: "gather_facts",
                            note: None,
                        }));
                })
        } else {
            Ok(())
        };
        match first {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Unreachable => return self.unreachable(&e),
            Err(e) => {
                self.report_error("connect", &play.span, &e);
                return Flow::Failed;
            }
        }
        if let Err(e) = self.load_vars_files() {
            self.report_error("vars_files", &play.span, &e);
            return Flow::Failed;
        }
        if !play.gather_facts && self.fresh {
            // Without facts, the run lock rides on the first batch of host state (or a
            // bare `true` when the first tasks read none): no round trip of its own.
            let first = [&play.pre_tasks, &play.tasks, &play.post_tasks]
                .into_iter()
                .find(|s| !s.is_empty());
            let taken = match first.map(|items| self.prefetch(items)) {
                Some(Ok(true)) => Ok(()),
                Some(Err(e)) => Err(e),
                _ => self.ctx.conn.exec("true", None).map(|_| ()),
            };
            match taken {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::Unreachable => return self.unreachable(&e),
                Err(e) => {
                    self.report_error("connect", &play.span, &e);
                    return Flow::Failed;
                }
            }
        }
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            let flow = self.run_items(section);
            match flow {
                Flow::Continue => {
                    let f = self.flush_handlers();
                    if f != Flow::Continue {
                        return f;
                    }
                }
                Flow::Failed if play.force_handlers => {
                    self.flush_handlers();
                    return flow;
                }
                Flow::EndHost => return Flow::Continue,
                _ => return flow,
            }
        }
        Flow::Continue
    }

    fn load_vars_files(&mut self) -> Result<()> {
        for (file, span) in &self.ctx.run.play.vars_files {
            let vars = self.ctx.base_vars(&Inherited::default());
            let name = self.ctx.run.render(file, vars)?;
            let name = name.as_str().unwrap_or_default().to_string();
            let path = self.ctx.run.play.base_dir.join(&name);
            let loaded =
                crate::vars::file::load_vars_file(&path).map_err(|e| e.at(span.clone()))?;
            self.ctx.vars_files.extend(loaded);
        }
        Ok(())
    }

    pub fn unreachable(&mut self, e: &Error) -> Flow {
        self.ctx.run.shared.with_host(&self.ctx.host, |s| {
            s.unreachable = true;
            s.stats.unreachable += 1;
        });
        let mut r = Vars::new();
        r.insert("msg".into(), Value::from(e.message.clone()));
        r.insert("unreachable".into(), Value::from(true));
        self.ctx
            .run
            .sink
            .event(&Event::Task(crate::output::TaskEvent {
                host: &self.ctx.host,
                task: "connect",
                source: &self.ctx.run.play.span,
                status: Status::Unreachable,
                changed: false,
                result: &r,
                diffs: &[],
                duration: Default::default(),
                item: None,
                handler: false,
                no_log: false,
                module: "",
                note: None,
            }));
        Flow::Unreachable
    }

    fn report_error(&mut self, what: &str, span: &crate::diagnostics::Span, e: &Error) {
        self.ctx.run.shared.with_host(&self.ctx.host, |s| {
            s.failed = true;
            s.stats.failed += 1;
        });
        let mut r = Vars::new();
        r.insert("msg".into(), Value::from(e.to_string()));
        self.ctx
            .run
            .sink
            .event(&Event::Task(crate::output::TaskEvent {
                host: &self.ctx.host,
                task: what,
                source: span,
                status: Status::Failed,
                changed: false,
                result: &r,
                diffs: &[],
                duration: Default::default(),
                item: None,
                handler: false,
                no_log: false,
                module: "",
                note: None,
            }));
    }

    pub fn run_items(&mut self, items: &[Item]) -> Flow {
        for (i, item) in items.iter().enumerate() {
            let defer = self.deferrable(item);
            // Fetch what the coming plans will read, in one round trip, when the next
            // one needs something the cache does not hold (at the start, or after a
            // change on the host emptied part of it).
            let need = match self.needs_fetch(item) {
                // A command whose `creates` the cache cannot answer can carry the test
                // itself, but if a later task needs a batch anyway, fetching it now answers
                // the command too (and costs nothing more when it is stopped).
                Need::Optional => items[i + 1..]
                    .iter()
                    .any(|later| self.needs_fetch(later) == Need::Required),
                need => need == Need::Required,
            };
            if need {
                // A transport failure here is met again, and reported, by the plan.
                // (Writes still queued go with it, first.)
                let _ = self.prefetch(&items[i..]);
            }
            // A task that cannot join the write batch waits until the tasks queued
            // before it are done and reported: commands, packages, reads of results.
            // So does any task once a queued write failed: the list stops there.
            if !defer || self.ctx.batch.has_failure() {
                let f = self.settle();
                if f != Flow::Continue {
                    return f;
                }
            }
            // Another host ended the play (end_play) or failed under any_errors_fatal:
            // this host stops here without failing itself.
            if self.ctx.run.ended() || self.ctx.run.aborted() {
                let f = self.settle();
                if f != Flow::Continue {
                    return f;
                }
                return Flow::EndPlay;
            }
            // Ctrl-C / SIGTERM: start nothing new, run no handlers; writes still queued
            // are not sent.
            if super::interrupt::received().is_some() {
                self.ctx.batch.drop_queued();
                self.report_done();
                return Flow::Interrupted;
            }
            let flow = match item {
                Item::Task(t) if defer => self.defer_task(t),
                Item::Task(t) => self.run_task(t, false),
                Item::Block(b) => self.run_block(b),
                Item::Include(i) => self.run_include(i),
            };
            if flow != Flow::Continue {
                return flow;
            }
        }
        // A batch never outlives its task list.
        self.settle()
    }

    /// Whether this item can join the write batch: a file-writing task whose outcome
    /// nothing later can read before the batch is reported (no register, no conditions
    /// on its result, no retries, no ignore_errors, nothing shared with other hosts).
    fn deferrable(&self, item: &Item) -> bool {
        // Only these: other modules that write files (ini_file, known_hosts, mount,
        // cron, sysctl, authorized_key, …) run their changes at once, as barriers.
        const WRITERS: &[&str] = &[
            "copy",
            "template",
            "file",
            "lineinfile",
            "blockinfile",
            "replace",
        ];
        let Item::Task(t) = item else {
            return false;
        };
        let Some(module) = crate::modules::find(t.module) else {
            return false;
        };
        !self.ctx.run.opts.check
            && !self.ctx.run.opts.no_batch_writes
            && WRITERS.contains(&module.spec().name)
            && t.register.is_none()
            && t.changed_when.is_none()
            && t.failed_when.is_none()
            && t.until.is_none()
            && t.kw.ignore_errors.is_none()
            && t.kw.delegate_to.is_none()
            && t.kw.run_once.is_none()
            && t.kw.no_log.is_none()
            && t.kw.throttle.is_none()
            && !t.runs_once()
            && t.unsupported.is_none()
            && t.loop_control.pause.is_none()
            && t.async_.is_none()
    }

    /// Run a task with its writes queued in the batch; it is reported by `settle`.
    fn defer_task(&mut self, task: &Arc<Task>) -> Flow {
        if !self.ctx.run.tags_match(&task.kw.tags) {
            return Flow::Continue;
        }
        // A task that reads other hosts' variables waits for them first, batched or not
        // (what it reads is never a deferred task's result: those register nothing).
        self.cross_host_wait(task);
        self.groups += 1;
        let group = self.groups;
        self.ctx.defer_group = Some(group);
        let ran = TaskRunner::new(self, task, false).run_deferred();
        self.ctx.defer_group = None;
        match ran {
            Ran::Deferred(d) => {
                let failed = d.failed();
                self.pending.push(d);
                if failed {
                    // Its plan failed: nothing after it runs, and it is reported now.
                    self.ctx.batch.fail_group(group);
                    return self.settle();
                }
                Flow::Continue
            }
            Ran::Done(outcome) => {
                if let Some(e) = &outcome.unreachable {
                    let e = e.clone();
                    self.ctx.batch.drop_queued();
                    self.report_done();
                    return self.unreachable(&e);
                }
                let f = self.settle();
                if f != Flow::Continue {
                    return f;
                }
                self.finish_task(task, outcome)
            }
        }
    }

    /// Send the queued writes and report the deferred tasks in order, as if each had
    /// run alone: stats, registered results, handlers, and the first failure stops.
    fn settle(&mut self) -> Flow {
        if self.pending.is_empty() && self.ctx.batch.is_idle() {
            return Flow::Continue;
        }
        if let Err(e) = self
            .ctx
            .batch
            .flush(self.ctx.conn.as_mut(), &mut self.ctx.cache)
        {
            self.report_done();
            return self.unreachable(&e);
        }
        self.report_done()
    }

    /// Report the leading deferred tasks whose writes all ran and succeeded, before the
    /// rest of their batch (a long run of big writes shows its progress).
    fn report_leading(&mut self) {
        while self
            .pending
            .first()
            .is_some_and(|d| d.succeeded(&self.ctx.batch))
        {
            let d = self.pending.remove(0);
            let task = d.task.clone();
            if let Some(outcome) = TaskRunner::complete(self, d) {
                // A task that succeeded goes on.
                let _ = self.finish_task(&task, outcome);
            }
        }
    }

    /// Report the deferred tasks whose writes all ran; drop the rest unseen.
    fn report_done(&mut self) -> Flow {
        let pending = std::mem::take(&mut self.pending);
        let mut flow = Flow::Continue;
        for d in pending {
            if flow != Flow::Continue {
                break;
            }
            let task = d.task.clone();
            let Some(outcome) = TaskRunner::complete(self, d) else {
                break;
            };
            flow = self.finish_task(&task, outcome);
        }
        self.ctx.batch.reset();
        flow
    }

    /// Whether the plan of this item will read host state the cache does not hold.
    fn needs_fetch(&self, item: &Item) -> Need {
        let Item::Task(t) = item else {
            // Blocks and includes: fetch for everything they hold, as before a list.
            return Need::Required;
        };
        if !self.ctx.run.tags_match(&t.kw.tags) || t.kw.delegate_to.is_some() {
            return Need::No;
        }
        let Some(module) = crate::modules::find(t.module) else {
            return Need::No;
        };
        if module.spec().controller_only {
            return Need::No;
        }
        let vars = self.ctx.base_vars(&t.kw);
        let Ok(become_) = super::task::become_of(self.ctx.run, &t.kw, &vars) else {
            return Need::No;
        };
        let missing = self
            .task_probes(t, module, vars)
            .iter()
            .any(|p| !self.ctx.cache.contains(p, become_.as_ref()));
        match (missing, module.probes_optional()) {
            (false, _) => Need::No,
            (true, true) => Need::Optional,
            (true, false) => Need::Required,
        }
    }

    /// Batch-read the host state the plans of these tasks will need (see
    /// `modules::probe`). Tasks whose arguments cannot be known yet (they use a result
    /// registered on the way) are left to read for themselves.
    fn prefetch(&mut self, items: &[Item]) -> Result<bool> {
        let mut by_become: Vec<(Option<crate::connection::Become>, Vec<Probe>)> = Vec::new();
        let mut tasks = Vec::new();
        collect_tasks(items, &mut tasks);
        for t in tasks {
            if !self.ctx.run.tags_match(&t.kw.tags) || t.kw.delegate_to.is_some() {
                continue;
            }
            let Some(module) = crate::modules::find(t.module) else {
                continue;
            };
            if module.spec().controller_only {
                continue;
            }
            let vars = self.ctx.base_vars(&t.kw);
            let Ok(become_) = super::task::become_of(self.ctx.run, &t.kw, &vars) else {
                continue;
            };
            let probes = self.task_probes(&t, module, vars);
            if probes.is_empty() {
                continue;
            }
            match by_become.iter_mut().find(|(b, _)| *b == become_) {
                Some((_, v)) => v.extend(probes),
                None => by_become.push((become_, probes)),
            }
        }
        let mut sent = false;
        // Queued writes go first, the answers must be what the next plans will meet: in
        // the same command when the reads run as the same user.
        if let Some(queued_as) = self.ctx.batch.queued_as().map(|b| b.cloned()) {
            let same = by_become.iter().position(|(b, _)| *b == queued_as);
            let missing = same
                .map(|i| self.ctx.cache.missing(&by_become[i].1, queued_as.as_ref()))
                .filter(|m| !m.is_empty());
            let reads = missing.as_ref().map(|m| ProbeCache::script(m));
            let out = self.ctx.batch.flush_then(
                self.ctx.conn.as_mut(),
                &mut self.ctx.cache,
                reads.as_deref(),
            )?;
            if let (Some(m), Some(out)) = (&missing, out.filter(|o| !o.is_empty())) {
                self.ctx.cache.absorb(m, &out, queued_as.as_ref());
            }
            sent = true;
        }
        for (become_, probes) in by_become {
            sent |= self
                .ctx
                .cache
                .fetch(self.ctx.conn.as_mut(), &probes, become_.as_ref())?;
        }
        Ok(sent)
    }

    fn task_probes(
        &self,
        t: &Task,
        module: &'static dyn crate::modules::Module,
        vars: Vars,
    ) -> Vec<Probe> {
        for c in &t.kw.when {
            match self.ctx.run.eval_cond(&c.expr, vars.clone()) {
                Ok(true) => {}
                _ => return Vec::new(),
            }
        }
        let mut iterations = vec![vars];
        if let Some(l) = &t.loop_ {
            let base = iterations.remove(0);
            let Ok(items) = self
                .ctx
                .run
                .render(&l.items, base.clone())
                .and_then(|v| loops::items(&l.kind, &v))
            else {
                return Vec::new();
            };
            let Ok(var) = self.ctx.run.loop_var(&t.loop_control, &base) else {
                return Vec::new();
            };
            for item in items {
                let mut v = base.clone();
                v.insert(var.clone(), item);
                iterations.push(v);
            }
        }
        let mut out = Vec::new();
        for vars in iterations {
            let Ok(rendered) = super::task::render_args(self.ctx.run, t, &vars) else {
                return out;
            };
            if let Ok(args) = crate::modules::Args::new(module.spec(), rendered) {
                out.extend(module.probes(&args));
            }
        }
        out
    }

    fn run_block(&mut self, b: &Block) -> Flow {
        let mut flow = self.run_items(&b.block);
        if flow == Flow::Failed && !b.rescue.is_empty() {
            self.ctx.run.shared.with_host(&self.ctx.host, |s| {
                s.failed = false;
                s.stats.failed = s.stats.failed.saturating_sub(1);
                s.stats.rescued += 1;
            });
            flow = self.run_items(&b.rescue);
        }
        if !b.always.is_empty()
            && !matches!(flow, Flow::Unreachable | Flow::EndPlay | Flow::Interrupted)
        {
            let was_failed = flow == Flow::Failed;
            if was_failed {
                self.ctx
                    .run
                    .shared
                    .with_host(&self.ctx.host, |s| s.failed = false);
            }
            let af = self.run_items(&b.always);
            if af != Flow::Continue {
                flow = af;
            } else if was_failed {
                self.ctx
                    .run
                    .shared
                    .with_host(&self.ctx.host, |s| s.failed = true);
            }
        }
        flow
    }

    pub fn run_task(&mut self, task: &Arc<Task>, handler: bool) -> Flow {
        if !handler && !self.ctx.run.tags_match(&task.kw.tags) {
            return Flow::Continue;
        }
        if !handler {
            self.cross_host_wait(task);
        }
        let outcome = TaskRunner::new(self, task, handler).run();
        // A task delegated to another host may have changed it: no host goes on until
        // every host has run it, so the delegate's own next tasks see the change (as
        // Ansible's lock-step guarantees).
        if !handler
            && self.ctx.run.batch.len() > 1
            && crate::graph::cross_host::delegates_to_other_hosts(task)
        {
            self.cross_host_seen += 1;
            let run = self.ctx.run;
            run.barrier.wait(&self.ctx.host, self.cross_host_seen, || {
                run.aborted() || run.ended()
            });
        }
        self.finish_task(task, outcome)
    }

    /// Before a task that reads other hosts' variables: wait until every other started
    /// host of the batch has reached the same point (see `barrier`).
    fn cross_host_wait(&mut self, task: &Task) {
        if self
            .ctx
            .run
            .reads_other_hosts(task, || self.ctx.base_vars(&task.kw))
        {
            self.cross_host_seen += 1;
            let run = self.ctx.run;
            run.barrier.wait(&self.ctx.host, self.cross_host_seen, || {
                run.aborted() || run.ended()
            });
        }
    }

    /// Record a task's outcome on the host: recap counts, registered result, effects,
    /// notified handlers, and what a failure or a meta action does to the walk.
    fn finish_task(&mut self, task: &Arc<Task>, outcome: ItemOutcome) -> Flow {
        let failed = outcome.status == Status::Failed;
        if let Some(e) = &outcome.unreachable {
            let e = e.clone();
            return self.unreachable(&e);
        }
        self.ctx.run.shared.with_host(&self.ctx.host, |s| {
            let st = &mut s.stats;
            // Ansible does not count meta tasks in the recap.
            let counted = (task.module != "meta" && !outcome.shared).then_some(outcome.status);
            match counted {
                Some(Status::Ok) => st.ok += 1,
                Some(Status::Changed) => {
                    st.ok += 1;
                    st.changed += 1;
                }
                Some(Status::Skipped) => st.skipped += 1,
                Some(Status::Failed) => st.failed += 1,
                Some(Status::Ignored) => {
                    st.ok += 1;
                    st.ignored += 1;
                    // Ansible counts an ignored failure that reported a change as changed.
                    if outcome
                        .registered
                        .get_attr("changed")
                        .is_ok_and(|c| c.is_true())
                    {
                        st.changed += 1;
                    }
                }
                _ => {}
            }
            if let Some(name) = task
                .register
                .as_ref()
                .filter(|_| !outcome.registered.is_undefined())
            {
                s.set_facts.insert(
                    name.clone(),
                    crate::template::as_registered(
                        outcome.registered.clone(),
                        crate::modules::loaded_result_keys(task.module),
                    ),
                );
            }
            s.apply(&outcome.effects);
            if failed {
                s.failed = true;
            }
        });
        if outcome.status == Status::Changed {
            for n in &outcome.notify {
                if !self.notified.contains(n) {
                    self.notified.push(n.clone());
                }
            }
        }
        if failed {
            self.ctx.failed_task = Some((
                Value::from_iter([
                    // The task's own name, without its role, "" when it has none (as
                    // Ansible's serialized task).
                    ("name", Value::from(task.name.clone().unwrap_or_default())),
                    ("action", Value::from(task.module)),
                ]),
                // Data, as registered results are: a message quoting a template is
                // not templated again.
                crate::template::as_data(outcome.registered.clone()),
            ));
            // Ansible's strategy reads this keyword without templating it: a template is
            // a non-empty string there, so it holds whatever it would render to.
            let fatal = match &task.kw.any_errors_fatal {
                None => self.ctx.run.play.any_errors_fatal,
                Some(f) => f.literal().unwrap_or(true),
            };
            if fatal {
                self.ctx.run.abort();
            }
            return Flow::Failed;
        }
        for e in &outcome.effects {
            if let Effect::Meta(m) = e {
                match m {
                    MetaAction::FlushHandlers => {
                        let f = self.flush_handlers();
                        if f != Flow::Continue {
                            return f;
                        }
                    }
                    MetaAction::EndHost => return Flow::EndHost,
                    MetaAction::EndPlay => {
                        self.ctx.run.end_play();
                        return Flow::EndPlay;
                    }
                    MetaAction::ClearHostErrors | MetaAction::Noop => {}
                }
            }
        }
        Flow::Continue
    }

    fn flush_handlers(&mut self) -> Flow {
        if self.notified.is_empty() {
            return Flow::Continue;
        }
        let handlers: Vec<Handler> = self
            .ctx
            .run
            .play
            .handlers
            .iter()
            .chain(self.extra_handlers.iter())
            .cloned()
            .collect();
        for h in handlers {
            let hit = h.topics.iter().any(|t| self.notified.contains(t));
            if !hit {
                continue;
            }
            // Every handler listening to a notified topic runs (each once: the loop
            // visits each handler once).
            let flow = match &h.body {
                HandlerBody::Task(t) => self.run_task(t, true),
                HandlerBody::Include(i) => self.run_include(i),
            };
            if flow != Flow::Continue {
                self.notified.clear();
                return flow;
            }
        }
        self.notified.clear();
        Flow::Continue
    }

    fn run_include(&mut self, inc: &Include) -> Flow {
        if !self.ctx.run.tags_match(&inc.kw.tags) {
            return Flow::Continue;
        }
        let mut skipped: Vec<Option<String>> = Vec::new();
        let result = self.expand_include(inc, &mut skipped);
        match result {
            Ok(batches) => {
                self.report_skipped_include(inc, &skipped, batches.is_empty());
                for (items, label) in batches {
                    self.ctx.run.sink.event(&Event::Included {
                        host: &self.ctx.host,
                        file: &label,
                    });
                    // Ansible counts each included file as an ok result.
                    self.ctx
                        .run
                        .shared
                        .with_host(&self.ctx.host, |s| s.stats.ok += 1);
                    let flow = self.run_items(&items);
                    if flow != Flow::Continue {
                        return flow;
                    }
                }
                Flow::Continue
            }
            Err(e) if e.kind == ErrorKind::Unreachable => self.unreachable(&e),
            Err(e) => {
                self.report_error(inc.name.as_deref().unwrap_or("include"), &inc.span, &e);
                Flow::Failed
            }
        }
    }

    /// As Ansible: a skipped include (or loop item of one) is a skipped result; the
    /// include counts as skipped in the recap when nothing was included.
    fn report_skipped_include(&mut self, inc: &Include, skipped: &[Option<String>], none: bool) {
        if !none && skipped.is_empty() {
            return;
        }
        let base = inc.name.clone().unwrap_or_else(|| {
            match inc.kind {
                IncludeKind::Tasks => "include_tasks",
                IncludeKind::Role => "include_role",
            }
            .to_string()
        });
        let name = match &inc.kw.role {
            Some(r) => format!("{} : {base}", r.name),
            None => base,
        };
        let mut r = Vars::new();
        r.insert("changed".into(), Value::from(false));
        r.insert("skipped".into(), Value::from(true));
        let emit = |item: Option<String>, r: &Vars| {
            self.ctx
                .run
                .sink
                .event(&Event::Task(crate::output::TaskEvent {
                    host: &self.ctx.host,
                    task: &name,
                    source: &inc.span,
                    status: Status::Skipped,
                    changed: false,
                    result: r,
                    diffs: &[],
                    duration: Default::default(),
                    item,
                    handler: false,
                    no_log: false,
                    module: "",
                    note: None,
                }));
        };
        if skipped.is_empty() {
            // A loop over no items.
            r.insert("skipped_reason".into(), Value::from("No items in the list"));
            emit(None, &r);
        } else {
            r.insert(
                "skip_reason".into(),
                Value::from("Conditional result was False"),
            );
            for label in skipped {
                emit(label.clone(), &r);
            }
        }
        if none {
            self.ctx
                .run
                .shared
                .with_host(&self.ctx.host, |s| s.stats.skipped += 1);
        }
    }

    /// The task lists an include expands to on this host (one per loop item); the
    /// iterations skipped by `when` are pushed to `skipped` (their loop label).
    fn expand_include(
        &mut self,
        inc: &Include,
        skipped: &mut Vec<Option<String>>,
    ) -> Result<Vec<(Vec<Item>, String)>> {
        let base = self.ctx.vars_at(&inc.kw, &inc.span);
        // The include's own `vars:` are its task variables: its loop and loop_control
        // see them, as in Ansible.
        let mut own = base.clone();
        own.extend(
            inc.child_kw
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let mut iterations: Vec<Vars> = Vec::new();
        match &inc.loop_ {
            Some(l) => {
                let items_val = self
                    .ctx
                    .run
                    .render(&l.items, own.clone())
                    .map_err(|e| e.at(l.span.clone()))?;
                let items = loops::items(&l.kind, &items_val).map_err(|e| e.at(l.span.clone()))?;
                let var = self
                    .ctx
                    .run
                    .loop_var(&inc.loop_control, &own)
                    .map_err(|e| e.at(l.span.clone()))?;
                for (i, item) in items.into_iter().enumerate() {
                    let mut p = Vars::new();
                    p.insert(var.clone(), item);
                    if let Some(iv) = &inc.loop_control.index_var {
                        p.insert(iv.clone(), Value::from(i));
                    }
                    iterations.push(p);
                }
            }
            None => iterations.push(Vars::new()),
        }
        let mut out = Vec::new();
        for params in iterations {
            let mut vars = base.clone();
            vars.extend(params.clone());
            let mut skip = false;
            for c in &inc.kw.when {
                if !self
                    .ctx
                    .run
                    .eval_cond(&c.expr, vars.clone())
                    .map_err(|e| e.at(c.span.clone()))?
                {
                    skip = true;
                    break;
                }
            }
            if skip {
                skipped.push(match &inc.loop_ {
                    None => None,
                    Some(_) => {
                        let var = self.ctx.run.loop_var(&inc.loop_control, &vars)?;
                        let item = params.get(&var).cloned().unwrap_or_default();
                        Some(match &inc.loop_control.label {
                            Some(l) => self
                                .ctx
                                .run
                                .render(l, vars.clone())
                                .map(|v| super::task::display(&v))
                                .unwrap_or_else(|_| super::task::display(&item)),
                            None => super::task::display(&item),
                        })
                    }
                });
                continue;
            }
            // The include's own `vars:` are there when its file name is templated.
            let mut file_vars = vars.clone();
            file_vars.extend(inc.child_kw.params.clone());
            file_vars.extend(params.clone());
            let target = self
                .ctx
                .run
                .render(&inc.file, file_vars)
                .map_err(|e| e.at(inc.span.clone()))?;
            let target = target.as_str().unwrap_or_default().to_string();
            let mut child = inc.child_kw.clone();
            child.params.extend(params);
            let mut loader = Loader::new(
                self.ctx.run.play.base_dir.clone(),
                self.ctx.run.roles_path.clone(),
            );
            let lc = ListCtx {
                file: inc.span.file.to_path_buf(),
                inh: child.clone(),
                search_dirs: inc.search_dirs.clone(),
                handler: false,
            };
            let items = match inc.kind {
                IncludeKind::Tasks => {
                    let path = loader.find_task_file(&target, &lc, &inc.span)?;
                    loader.load_task_file(&path, &lc)?
                }
                IncludeKind::Role => {
                    let loaded = loader.load_role(
                        &target,
                        &inc.span,
                        child,
                        Vars::new(),
                        &inc.role_opts,
                        false,
                    )?;
                    self.extra_handlers.extend(loader.take_handlers());
                    if inc.role_opts.public {
                        let mut tasks = Vec::new();
                        collect_tasks(&loaded.tasks, &mut tasks);
                        let role = tasks.iter().rev().find_map(|t| t.kw.role.clone());
                        if let Some(role) = role {
                            self.ctx
                                .run
                                .shared
                                .with_host(&self.ctx.host, |s| s.public_roles.push(role));
                        }
                    }
                    loaded.tasks
                }
            };
            out.push((items, target));
        }
        Ok(out)
    }
}

/// The module tasks in a list, blocks included (rescue/always too: they may run).
fn collect_tasks(items: &[Item], out: &mut Vec<Arc<Task>>) {
    for item in items {
        match item {
            Item::Task(t) => out.push(t.clone()),
            Item::Block(b) => {
                collect_tasks(&b.block, out);
                collect_tasks(&b.rescue, out);
                collect_tasks(&b.always, out);
            }
            Item::Include(_) => {}
        }
    }
}

/// Whether a task's plan needs a batch of host state fetched before it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    No,
    /// Its probes are answered by the task's own command if not by the cache.
    Optional,
    Required,
}
