//! What a task on one host works with: the play, the host's connections and cached
//! state, its variable files and the writes waiting in its batch. The host walk owns it
//! and lends it to each task runner (`exec::task`), so the runner never sees the walk.

use super::batch::WriteBatch;
use super::play::PlayRun;
use crate::connection::Connection;
use crate::diagnostics::Span;
use crate::modules::probe::ProbeCache;
use crate::modules::Effect;
use crate::playbook::Inherited;
use crate::vars::Vars;
use minijinja::Value;

/// One host's context in a play.
pub struct HostCtx<'a> {
    pub run: &'a PlayRun<'a>,
    pub host: String,
    pub conn: Box<dyn Connection>,
    /// The controller, for tasks delegated to localhost (opened when first needed).
    pub local: Option<Box<dyn Connection>>,
    /// Batched host state for the plans (see `modules::probe`).
    pub cache: ProbeCache,
    pub local_cache: ProbeCache,
    pub vars_files: Vars,
    pub inventory_vars: Vars,
    /// Writes of the deferred tasks, not yet sent or not yet reported (`exec::batch`).
    pub batch: WriteBatch,
    /// The batch group (task number) of the task being deferred now.
    pub defer_group: Option<usize>,
    /// In a rescue: the failed task and its result (`ansible_failed_task`/`_result`).
    pub failed_task: Option<(Value, Value)>,
    /// Connections to the hosts this host's tasks delegate to.
    pub delegates: super::delegate::Delegates,
    /// How many changes other hosts' delegated tasks had made to this host when its
    /// cache was last trusted (see `HostState::changed_elsewhere`).
    pub changes_seen: u64,
}

impl<'a> HostCtx<'a> {
    pub fn new(run: &'a PlayRun<'a>, host: String, conn: Box<dyn Connection>) -> Self {
        let inventory_vars = run.shared.inventory().host_vars(&host);
        HostCtx {
            run,
            host,
            conn,
            local: None,
            cache: ProbeCache::default(),
            local_cache: ProbeCache::default(),
            vars_files: Vars::new(),
            inventory_vars,
            batch: WriteBatch::default(),
            defer_group: None,
            failed_task: None,
            delegates: Default::default(),
            changes_seen: 0,
        }
    }

    /// Vars of the play for this host, below block/task level (for vars_files, includes).
    pub fn base_vars(&self, kw: &Inherited) -> Vars {
        self.run
            .task_vars(&self.host, &self.inventory_vars, &self.vars_files, kw)
    }
    /// The variables of a task (or include) written at `span`: the base vars plus
    /// `ansible_search_path`, where lookups look for relative files.
    pub fn vars_at(&self, kw: &Inherited, span: &Span) -> Vars {
        let mut v = self.base_vars(kw);
        crate::vars::magic::set(&mut v, "ansible_search_path", search_path(kw, span));
        v
    }
    /// Apply the variable effects of one loop item now, so the next item sees them.
    pub fn apply_var_effects(&self, effects: &[Effect]) {
        self.run.shared.with_host(&self.host, |s| s.apply(effects));
    }
    pub fn failed_context(&self) -> Option<&(Value, Value)> {
        self.failed_task.as_ref()
    }
    /// Drop what is known of the host's state when another host's delegated task
    /// changed it since.
    pub fn forget_changes_elsewhere(&mut self) {
        let now = self.run.shared.peek(&self.host, |s| s.changed_elsewhere);
        if now != self.changes_seen {
            self.changes_seen = now;
            self.cache.clear();
        }
    }
}

/// As Ansible's `Task.get_search_path`: the role's directory, then the directory of the
/// file the task is written in.
fn search_path(kw: &Inherited, span: &Span) -> Value {
    let mut paths: Vec<String> = Vec::new();
    if let Some(r) = &kw.role {
        paths.push(r.path.display().to_string());
    }
    if let Some(dir) = span.file.parent() {
        let dir = dir.display().to_string();
        if !paths.contains(&dir) {
            paths.push(dir);
        }
    }
    Value::from(paths)
}
