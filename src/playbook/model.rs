//! The playbook model: plays, blocks, tasks and roles, each with the span it came from.
//!
//! Keywords that Ansible inherits from blocks, roles, imports and plays (`when`, `tags`,
//! `become`, `vars`, `environment` …) are resolved by the loader, so every task carries
//! its effective settings and the executor does not walk parents at run time.

use crate::diagnostics::Span;
use crate::vars::Vars;
use minijinja::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// A condition (`when`, `changed_when`, `failed_when`, `until`): a Jinja expression or a
/// literal boolean.
#[derive(Clone, Debug)]
pub struct Cond {
    pub expr: Value,
    /// Where the task starts.
    pub span: Span,
}

/// Keywords that pass from a parent (play, role, block, import) to the tasks below it.
#[derive(Clone, Debug, Default)]
pub struct Inherited {
    /// `when:` conditions, all of them (blocks and roles add theirs).
    pub when: Vec<Cond>,
    /// Tags, with those of the enclosing blocks, roles and imports.
    pub tags: Vec<String>,
    /// `become:` (`None`: not said at any level).
    pub become_: Option<super::Flag>,
    /// `become_user:`, templated when the task runs.
    pub become_user: Option<Value>,
    /// `become_method:` (`sudo` or `su`).
    pub become_method: Option<String>,
    /// `remote_user:`, templated when the task runs. The login user only where no
    /// `ansible_user` variable names one (the variable wins, as in Ansible).
    pub remote_user: Option<Value>,
    /// Block and task vars, outermost first.
    pub vars: Vars,
    /// Role parameters and include parameters (precedence above set_fact).
    pub params: Vars,
    /// `environment:` mappings, outermost first.
    pub environment: Vec<Value>,
    /// `ignore_errors:` (may be a template).
    pub ignore_errors: Option<Value>,
    /// `check_mode:` (forces check mode on or off for the task).
    pub check_mode: Option<super::Flag>,
    /// `diff:` (forces diff output on or off for the task).
    pub diff: Option<super::Flag>,
    /// `no_log:` (results hidden from the output).
    pub no_log: Option<super::Flag>,
    /// `any_errors_fatal:` (a failure stops every host).
    pub any_errors_fatal: Option<super::Flag>,
    /// `delegate_to:` (may be a template): another inventory host, an address, or the
    /// controller (`localhost`).
    pub delegate_to: Option<Value>,
    /// `delegate_facts:`: facts a delegated task sets go to the host it ran on.
    pub delegate_facts: Option<super::Flag>,
    /// `run_once:` (the first host runs it for the batch).
    pub run_once: Option<super::Flag>,
    /// `timeout:` in seconds (may be a template); enforced for remote commands only.
    pub timeout: Option<Value>,
    /// The role the task comes from (its defaults, vars and search path).
    pub role: Option<Arc<Role>>,
    /// `module_defaults:` mappings, outermost first (see `playbook::module_defaults`).
    pub module_defaults: Vec<super::module_defaults::Level>,
    /// `collections:` searched for short module names (the nearest list wins).
    pub collections: Option<Arc<Vec<String>>>,
    /// `throttle:` (may be a template): at most this many hosts in the task at once.
    pub throttle: Option<Value>,
}

#[derive(Clone, Debug)]
pub enum LoopKind {
    /// `loop:` (no flattening)
    Loop,
    /// `with_items:` (flattens one level)
    Items,
    /// `with_list:`
    List,
    /// `with_dict:` (items are {key, value})
    Dict,
    /// `with_indexed_items:`
    IndexedItems,
    /// `with_together:`
    Together,
    /// `with_sequence:`
    Sequence,
    /// `with_fileglob:` (controller paths)
    Fileglob,
    /// `with_nested:` / `with_cartesian:`
    Nested,
    /// `with_subelements:`
    Subelements,
    /// `with_<lookup>:` for another lookup drover has (`with_first_found`): the lookup's
    /// results, as Ansible runs it on the loop's terms.
    Lookup(String),
}

#[derive(Clone, Debug)]
pub struct Loop {
    pub kind: LoopKind,
    pub items: Value,
    pub span: Span,
}

/// `loop_control:` of a task.
#[derive(Clone, Debug, Default)]
pub struct LoopControl {
    /// `loop_var:` (default `item`).
    pub loop_var: Option<String>,
    /// `index_var:`: the item's index under this name.
    pub index_var: Option<String>,
    /// `label:`: what the output shows for each item.
    pub label: Option<Value>,
    /// `pause:` seconds between items.
    pub pause: Option<f64>,
    /// `extended:`: `ansible_loop` with index, first, last, … .
    pub extended: bool,
}

/// A module call.
#[derive(Debug)]
pub struct Task {
    /// A number unique in the run (graph nodes, run_once results, barriers).
    pub id: usize,
    /// `name:` as written (templated when shown).
    pub name: Option<String>,
    /// The module's canonical short name (`copy` for `ansible.builtin.copy`).
    pub module: &'static str,
    /// The module as the task wrote it when that differs from `module` (`ansible.builtin.
    /// copy`, an alias): an unnamed task is shown by it, as Ansible shows it.
    pub written_module: Option<String>,
    /// Where the module's key is written.
    pub module_span: Span,
    /// The module's arguments, not yet templated.
    pub args: Vars,
    /// Where the arguments are written.
    pub args_span: Span,
    /// The keywords it has, its own and inherited.
    pub kw: Inherited,
    /// `loop:` or `with_<lookup>:`.
    pub loop_: Option<Loop>,
    /// `loop_control:`.
    pub loop_control: LoopControl,
    /// `register:`: the variable its result is stored in.
    pub register: Option<String>,
    /// `notify:`: the handlers (names or topics) a change notifies.
    pub notify: Vec<String>,
    /// `listen:` topics (handlers only).
    pub listen: Vec<String>,
    /// `changed_when:` conditions.
    pub changed_when: Option<Vec<Cond>>,
    /// `failed_when:` conditions.
    pub failed_when: Option<Vec<Cond>>,
    /// `until:` conditions (retries until they hold).
    pub until: Option<Vec<Cond>>,
    /// `retries:` (may be a template).
    pub retries: Option<Value>,
    /// `delay:` seconds between retries (may be a template).
    pub delay: Option<Value>,
    /// `async:` and `poll:` (task-only keywords, as in Ansible).
    pub async_: Option<super::async_kw::AsyncKw>,
    /// Where the task starts.
    pub span: Span,
    /// Directories searched for `src` files and templates (role dir, task file dir,
    /// playbook dir), most specific first.
    pub search_dirs: Arc<Vec<PathBuf>>,
    /// Why drover cannot run this task (a module or argument it lacks), kept instead of
    /// refusing the playbook because a `when` guards the task: it may never run (a
    /// branch for another OS family). A host that reaches it fails with this error.
    pub unsupported: Option<Arc<crate::diagnostics::Error>>,
    /// `module_defaults` entries for the module of which one is a template: merged below
    /// the arguments when the task runs (static ones are in `args` already).
    pub arg_defaults: Vec<Value>,
}

impl Task {
    /// A task calling `module` written at `span` (its key and arguments there too),
    /// with no arguments and no keywords: the loader fills in the rest, and so do the
    /// host-free module cases.
    pub fn new(id: usize, module: &'static str, span: Span) -> Task {
        Task {
            id,
            name: None,
            module,
            written_module: None,
            module_span: span.clone(),
            args: Vars::new(),
            args_span: span.clone(),
            kw: Inherited::default(),
            loop_: None,
            loop_control: LoopControl::default(),
            register: None,
            notify: Vec::new(),
            listen: Vec::new(),
            changed_when: None,
            failed_when: None,
            until: None,
            retries: None,
            delay: None,
            async_: None,
            span,
            search_dirs: Arc::new(Vec::new()),
            unsupported: None,
            arg_defaults: Vec::new(),
        }
    }

    /// The name shown in output: `role : name`, or the module and its first argument.
    pub fn display_name(&self) -> String {
        let base = match (&self.name, &self.written_module) {
            (Some(n), _) => n.clone(),
            (None, Some(w)) => w.clone(),
            (None, None) => self.module.to_string(),
        };
        match &self.kw.role {
            Some(r) => format!("{} : {base}", r.name),
            None => base,
        }
    }

    /// Does the task run once for the whole batch: `run_once`, or add_host and pause,
    /// which Ansible runs on the first host only (their actions bypass the host loop)?
    pub fn runs_once(&self) -> bool {
        // A templated `run_once` may be true: the batch waits for the first host, which
        // decides (see `exec::task`).
        self.kw
            .run_once
            .as_ref()
            .is_some_and(super::Flag::may_be_true)
            || matches!(self.module, "add_host" | "pause")
    }
}

#[derive(Debug)]
pub struct Block {
    pub name: Option<String>,
    pub block: Vec<Item>,
    pub rescue: Vec<Item>,
    pub always: Vec<Item>,
    pub span: Span,
}

/// `include_tasks` / `include_role`: loaded when reached, per host.
#[derive(Debug)]
pub struct Include {
    pub id: usize,
    pub kind: IncludeKind,
    pub name: Option<String>,
    pub file: Value,
    pub kw: Inherited,
    /// Keywords the included tasks inherit (the include's own `when` and `tags` excluded).
    pub child_kw: Inherited,
    pub loop_: Option<Loop>,
    pub loop_control: LoopControl,
    pub span: Span,
    pub search_dirs: Arc<Vec<PathBuf>>,
    pub role_opts: RoleOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeKind {
    Tasks,
    Role,
}

#[derive(Debug, Clone, Default)]
pub struct RoleOpts {
    pub tasks_from: Option<String>,
    pub vars_from: Option<String>,
    pub defaults_from: Option<String>,
    pub handlers_from: Option<String>,
    /// `public: true`: the role's defaults and vars stay visible after the include.
    pub public: bool,
}

#[derive(Debug, Clone)]
pub enum Item {
    Task(Arc<Task>),
    Block(Arc<Block>),
    Include(Arc<Include>),
}

/// A role as used in a play (one instance per distinct set of parameters).
#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub path: PathBuf,
    pub defaults: Vars,
    pub vars: Vars,
    pub params: Vars,
}

/// A handler: a task that runs when notified.
#[derive(Debug, Clone)]
pub struct Handler {
    pub body: HandlerBody,
    /// The names it answers to: its name, `role : name`, and its `listen` topics.
    pub topics: Vec<String>,
}

/// What a handler runs: a task, or (as in Ansible) an `include_tasks`/`include_role`
/// whose tasks run when the handler is notified.
#[derive(Clone, Debug)]
pub enum HandlerBody {
    Task(Arc<Task>),
    Include(Arc<Include>),
}

impl Handler {
    /// A stable id for the graph.
    pub fn id(&self) -> usize {
        match &self.body {
            HandlerBody::Task(t) => t.id,
            HandlerBody::Include(i) => i.id,
        }
    }

    pub fn display_name(&self) -> String {
        match &self.body {
            HandlerBody::Task(t) => t.display_name(),
            HandlerBody::Include(i) => i.name.clone().unwrap_or_else(|| "include".into()),
        }
    }

    /// The handler as a playbook item, for walkers that visit items.
    pub fn item(&self) -> Item {
        match &self.body {
            HandlerBody::Task(t) => Item::Task(t.clone()),
            HandlerBody::Include(i) => Item::Include(i.clone()),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Serial {
    Count(usize),
    Percent(f64),
}

#[derive(Debug)]
pub struct Play {
    pub name: String,
    pub hosts: Value,
    pub hosts_span: Span,
    pub span: Span,
    pub vars: Vars,
    pub vars_files: Vec<(Value, Span)>,
    /// Defaults and vars of every role in the play: Ansible exposes them play-wide.
    pub role_defaults: Vec<Arc<Role>>,
    pub pre_tasks: Vec<Item>,
    /// `roles:` followed by `tasks:` — one section for handler flushing.
    pub tasks: Vec<Item>,
    pub post_tasks: Vec<Item>,
    pub handlers: Vec<Handler>,
    pub gather_facts: bool,
    /// Whether the play says `gather_facts:` itself (else `gathering` in ansible.cfg
    /// decides).
    pub gather_facts_given: bool,
    pub serial: Vec<Serial>,
    pub max_fail_percentage: Option<f64>,
    pub any_errors_fatal: bool,
    pub force_handlers: bool,
    /// The play's `remote_user:`: whom drover logs in as on hosts whose variables name
    /// no user (templated with the host's variables when it connects).
    pub remote_user: Option<Value>,
    pub base_dir: PathBuf,
    /// The play's `module_defaults` (its fact gathering takes those of `setup`).
    pub module_defaults: Vec<super::module_defaults::Level>,
}

#[derive(Debug, Default)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Play>,
}

/// A controller file named `name` for a task: absolute as is, else under `sub` (`files`,
/// `templates`, `vars`) or directly in each of the task's search directories.
pub fn find_in(dirs: &[PathBuf], sub: &str, name: &str) -> Option<PathBuf> {
    let p = std::path::Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    dirs.iter()
        .flat_map(|b| [b.join(sub).join(name), b.join(name)])
        .find(|c| c.exists())
}
