//! Modules: one file per Ansible module, all behind one trait.
//!
//! The engine owns the state machine: a module reads the host's current state and returns
//! a [`Plan`] (no change, or a change with its differences and diff); in check mode the
//! engine stops there, otherwise it runs the plan's `apply` step. A module never decides
//! on its own whether to skip work for check mode.
//!
//! # Check mode
//!
//! `plan` changes nothing on the host, in check mode or not: everything that changes the
//! host (even work Ansible does without reporting it, such as systemd's
//! `daemon_reload`) belongs in the apply step or op, which the engine never runs in check
//! mode. A module therefore does not test [`ModuleCtx::check`] to avoid a write. It reads
//! `check` only where Ansible's own module behaves differently in check mode:
//!
//! - the result it reports (Ansible's modules return fewer keys, or other messages, for
//!   a change they only predict: user, group, known_hosts, command's "would have run");
//! - a module Ansible skips in check mode whatever its arguments (tempfile, fetch, uri,
//!   wait_for, wait_for_connection) says so once, with [`Module::check_mode`], and the
//!   engine skips it without calling `plan`; one that Ansible skips depending on its
//!   arguments (script, command without `creates`/`removes`) returns a `skipped` plan;
//! - a read Ansible makes only in check mode (command's `creates`, asked before the
//!   command instead of folded into it), or a prediction that cannot be checked against
//!   the host because an earlier task of the same check run did not really happen
//!   (systemd's unit that a previous task would have installed).
//!
//! Work that must run but is not reported as a change is a change plan marked
//! [`Plan::silently`]: the engine applies it (not in check mode) and reports `changed:
//! false`, so check mode predicts exactly what a real run reports.

mod apt;
pub mod args;
pub(crate) mod async_status;
mod attrs;
mod authorized_key;
pub(crate) mod background;
mod blockinfile;
mod command;
mod compose;
mod control;
mod copy;
mod copy_remote_tree;
mod copy_tree;
mod copy_walk;
mod cron;
mod fetch;
mod file;
mod file_diff;
mod file_flags;
mod file_lookups;
mod file_times;
mod find;
mod get_url;
mod getent;
mod group;
mod hostname;
mod http;
mod ini_file;
pub(crate) mod inventory;
mod known_hosts;
mod lineinfile;
mod mount;
pub(crate) mod op;
mod output_encoding;
mod package_facts;
mod pause;
pub mod probe;
mod replace;
mod repo;
mod script;
mod service_facts;
pub(crate) mod setup;
pub(crate) mod spec;
mod stat;
mod sysctl;
mod systemd;
mod tempfile;
mod template;
pub(crate) mod timeout;
mod unarchive;
mod uri;
mod user;
mod wait_for;
mod wait_for_connection;
mod wait_for_drain;
mod write;

pub use args::Args;
pub use spec::{ArgSpec, ArgType, FreeForm, ModuleSpec};

use crate::connection::{exec_as, Become, Connection, Output};
use crate::diagnostics::{Error, Result};
use crate::playbook::Task;
use crate::vars::Vars;
use minijinja::Value;

/// What a plan will change.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Nothing to do: the host is as asked.
    None,
    /// Something will be created (a file, a user, a package installed).
    Create,
    /// The attributes or contents that differ.
    Modify(Vec<String>),
    /// Something will be removed.
    Remove,
    /// A command that will be run (command/shell always "change" when they run).
    Run,
}

/// A unified diff (or before/after of attributes) to show with `--diff`.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// What the left side is (a path, "before").
    pub before_header: String,
    /// What the right side is.
    pub after_header: String,
    /// The text before the change.
    pub before: String,
    /// The text after it.
    pub after: String,
}

/// The header that marks a [`Diff::prepared`] text.
pub const PREPARED: &str = "\0prepared";

impl Diff {
    /// A module's own description of a change, shown as it is instead of a before/after
    /// comparison (Ansible's `prepared` diffs: apt's plan).
    pub fn prepared(text: String) -> Diff {
        Diff {
            before_header: PREPARED.into(),
            after_header: PREPARED.into(),
            before: String::new(),
            after: text,
        }
    }
}

/// Effects on the engine rather than the host (set_fact, include_vars, meta).
#[derive(Clone, Debug)]
pub enum Effect {
    /// `set_fact`: host variables for the rest of the run.
    SetFacts(Vars),
    /// `include_vars`: variables at include_vars precedence.
    IncludeVars(Vars),
    /// Host facts a module changed (hostname): keys without the `ansible_` prefix, merged
    /// into `ansible_facts` and the `ansible_*` names, as Ansible does with a module's
    /// returned `ansible_facts`.
    UpdateFacts(Vars),
    /// `meta`: an action of the engine.
    Meta(MetaAction),
    /// add_host / group_by: applied to the run's inventory by the executor.
    Inventory(inventory::InventoryChange),
    /// Facts a module returns under their own names (`getent_passwd`, `packages`,
    /// `services`): `ansible_facts.NAME` and the variable `NAME`.
    ModuleFacts(Vars),
}

/// The `meta` actions drover carries out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaAction {
    /// Run the notified handlers now.
    FlushHandlers,
    /// End the play for every host.
    EndPlay,
    /// End the play for this host.
    EndHost,
    /// Nothing (`noop`, and `reset_connection`/`refresh_inventory`, which need nothing here).
    Noop,
    /// Bring the hosts that failed back into the play.
    ClearHostErrors,
}

/// A plan's apply step: does the change on the host and returns result keys to add.
pub type ApplyFn = Box<dyn FnOnce(&mut ModuleCtx<'_>) -> Result<Vars> + Send>;

/// The result of the query step.
pub struct Plan {
    /// What the apply step will change.
    pub change: Change,
    /// What `--diff` shows.
    pub diff: Vec<Diff>,
    /// Keys for the registered result, valid whether or not the plan is applied.
    pub result: Vars,
    /// The work; `None` when there is nothing to do (or when it is `op`).
    pub apply: Option<ApplyFn>,
    /// The work as data, which the engine may batch with the writes around it.
    pub op: Option<op::RemoteOp>,
    /// What the engine must do besides (set facts, meta actions …).
    pub effects: Vec<Effect>,
    /// True when the module reports `skipped` (command in check mode).
    pub skipped: bool,
    /// With `skipped`: Ansible skips the task in its action plugin before any module runs
    /// (unarchive's `creates`), so the result has no `failed` key.
    pub skipped_by_action: bool,
    /// A module that fails after looking (assert, fail, command with rc != 0 …).
    pub failed: bool,
    /// The host paths `apply` may change; `None` means "anything" (commands), which
    /// empties the whole state cache afterwards.
    pub touches: Option<Vec<String>>,
    /// Whether the apply step may also change what is below the touched paths
    /// (removing or replacing a directory, `recurse`).
    pub touches_tree: bool,
    /// The apply step runs (never in check mode) but the task reports no change: work
    /// Ansible does without reporting it (systemd's `daemon_reload`). See
    /// [`Plan::silently`].
    pub silent: bool,
}

impl Plan {
    /// Nothing to do; `result` is the registered result.
    pub fn no_change(result: Vars) -> Self {
        Plan {
            change: Change::None,
            diff: Vec::new(),
            result,
            apply: None,
            op: None,
            effects: Vec::new(),
            skipped: false,
            skipped_by_action: false,
            failed: false,
            touches: None,
            touches_tree: false,
            silent: false,
        }
    }

    /// A change made by the closure `apply` (not batchable: see [`Plan::change_op`]).
    pub fn change(change: Change, result: Vars, apply: ApplyFn) -> Self {
        Plan {
            change,
            diff: Vec::new(),
            result,
            apply: Some(apply),
            op: None,
            effects: Vec::new(),
            skipped: false,
            skipped_by_action: false,
            failed: false,
            touches: None,
            touches_tree: false,
            silent: false,
        }
    }

    /// A change whose apply step is a [`op::RemoteOp`].
    pub fn change_op(change: Change, result: Vars, op: op::RemoteOp) -> Self {
        let mut p = Plan::no_change(result);
        p.change = change;
        p.op = Some(op);
        p
    }

    /// Mark a change plan as one whose work is not reported: it is applied (not in
    /// check mode) and the task says `changed: false`, in check mode too.
    pub fn silently(mut self) -> Self {
        self.silent = true;
        self
    }

    /// Adds a diff to show with `--diff`.
    pub fn with_diff(mut self, diff: Option<Diff>) -> Self {
        self.diff.extend(diff);
        self
    }

    /// Declare the paths the apply step changes (so only they and their parent
    /// directories leave the cache).
    pub fn touching(mut self, paths: Vec<String>) -> Self {
        self.touches = Some(paths);
        self
    }

    /// As [`Plan::touching`] for a change to the attributes of `cur` in place: when its
    /// inode has other names (hard links), they change too, unknown which, so the apply
    /// leaves the whole cache instead.
    pub fn touching_inode(self, paths: Vec<String>, cur: &crate::connection::FileState) -> Self {
        if cur.kind == crate::connection::FileKind::File && cur.links > 1 {
            self
        } else {
            self.touching(paths)
        }
    }

    /// As [`Plan::touching`], for changes that reach below the paths too.
    pub fn touching_tree(mut self, paths: Vec<String>) -> Self {
        self.touches = Some(paths);
        self.touches_tree = true;
        self
    }

    /// The apply step as a closure, for a module that runs another module's plan as a
    /// part of its own (an op then runs at once, not batched).
    pub fn take_apply(&mut self) -> Option<ApplyFn> {
        if let Some(a) = self.apply.take() {
            return Some(a);
        }
        let op = self.op.take()?;
        Some(Box::new(move |ctx: &mut ModuleCtx<'_>| {
            Ok(ctx.run_op_now(op)?.extra)
        }))
    }

    /// Will applying this plan change the host?
    pub fn is_change(&self) -> bool {
        self.change != Change::None
    }
}

/// Evaluates templates and conditions in the task's scope (debug, assert, template).
pub trait Evaluator {
    /// Renders `text` (a template file's content, `name` for errors) with the task's variables.
    fn render_text(
        &self,
        name: &str,
        text: &str,
        opts: &crate::template::TextOptions,
    ) -> Result<String>;
    /// Evaluates a Jinja expression (`debug: var=`).
    fn eval_expr(&self, expr: &str) -> Result<Value>;
    /// Evaluates a condition as `when:` does (`assert: that=`).
    fn eval_cond(&self, cond: &Value) -> Result<bool>;
    /// The run's `-v` count (`debug: verbosity=`).
    fn verbosity(&self) -> u8;
}

/// Everything a module may use while it runs on one host.
pub struct ModuleCtx<'a> {
    /// The host's inventory name.
    pub host: &'a str,
    /// Its connection.
    pub conn: &'a mut dyn Connection,
    /// The user the task becomes, if any.
    pub become_: Option<Become>,
    /// `environment:` of the task, exported before every command.
    pub environment: Vec<(String, String)>,
    /// Check mode. The engine skips the apply step by itself; a plan reads this only to
    /// report what Ansible reports in check mode (see the module docs, "Check mode").
    pub check: bool,
    /// `--diff` is on.
    pub diff: bool,
    /// The task being run.
    pub task: &'a Task,
    /// Templates and conditions in the task's scope.
    pub eval: &'a dyn Evaluator,
    /// Host state fetched in batches ahead of the plans (see [`probe`]).
    pub cache: &'a mut probe::ProbeCache,
    /// Where a task's ops wait to be sent with those of the tasks around it, and the
    /// task's number in it; `None` when the task's changes run at once.
    pub batch: Option<(&'a mut crate::exec::batch::WriteBatch, usize)>,
    /// The task's `timeout:` in seconds, for the modules that enforce it
    /// ([`timeout::ENFORCED`]).
    pub timeout: Option<u64>,
}

/// What became of an op handed to [`ModuleCtx::apply_op`].
pub enum Applied {
    /// Run at once; its outcome.
    Now(op::Done),
    /// Queued in the batch under this id.
    Queued(usize),
}

impl ModuleCtx<'_> {
    /// The `export` lines of the task's environment.
    fn env_prefix(&self) -> Result<String> {
        crate::connection::quote::exports(&self.environment)
    }

    /// Send the writes queued before this task's, so what runs next sees them (a
    /// command, or a read of something they changed). `Ok(true)` when a batch went out.
    pub fn settle(&mut self) -> Result<bool> {
        match self.batch.as_mut() {
            Some((b, _)) if b.has_queued() => b.flush(self.conn, self.cache),
            _ => Ok(false),
        }
    }

    /// Whether an earlier task of this batch failed, so this one must change nothing.
    pub fn stopped(&self) -> bool {
        self.batch
            .as_ref()
            .is_some_and(|(b, group)| b.failed_before(*group))
    }

    /// Run an op now, or queue it with the batch the task belongs to. `touches` are
    /// the paths it changes (`None`: anything), so later plans do not read stale state.
    pub fn apply_op(
        &mut self,
        op: op::RemoteOp,
        touches: Option<Vec<String>>,
        tree: bool,
    ) -> Result<Applied> {
        let env = if op.with_env {
            self.env_prefix()?
        } else {
            String::new()
        };
        if let Some((b, group)) = self.batch.as_mut() {
            let id = b.queue(
                self.conn,
                self.cache,
                self.become_.as_ref(),
                *group,
                op,
                &env,
                touches,
                tree,
            )?;
            return Ok(Applied::Queued(id));
        }
        Ok(Applied::Now(self.run_op_now(op)?))
    }

    /// Run an op alone, after what is queued: one round trip.
    pub fn run_op_now(&mut self, op: op::RemoteOp) -> Result<op::Done> {
        self.settle()?;
        let env = if op.with_env {
            self.env_prefix()?
        } else {
            String::new()
        };
        let script = match &op.describe {
            Some(path) => format!(
                "{}{env}( {}\n); __r=$?; [ \"$__r\" = 0 ] && {}\nexit $__r",
                op.prelude,
                op.script,
                crate::connection::describe_script(&crate::connection::quote(path))
            ),
            None => format!("{}{env}{}", op.prelude, op.script),
        };
        let stdin = (!op.payload.is_empty()).then_some(op.payload.as_slice());
        let mut out = exec_as(self.conn, &script, stdin, self.become_.as_ref())?;
        let described = match op.describe {
            Some(path) => crate::connection::take_described(&mut out.stdout, &[path])
                .pop()
                .flatten(),
            None => None,
        };
        (op.finish)(&out, described)
    }

    /// Run a `sh` script on the host as the become user, with the task's environment.
    pub fn sh(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<Output> {
        self.settle()?;
        let mut full = self.env_prefix()?;
        full.push_str(script);
        exec_as(self.conn, &full, stdin, self.become_.as_ref())
    }

    /// A path's state, from the batched probes when they fetched it, else read now.
    pub fn stat(
        &mut self,
        path: &str,
        follow: bool,
        checksum: bool,
    ) -> Result<crate::connection::FileState> {
        let probe = probe::Probe::Stat {
            path: path.to_string(),
            follow,
            checksum,
        };
        for _ in 0..2 {
            if let Some(probe::Answer::Stat(s)) = self.cache.get(&probe, self.become_.as_ref()) {
                return Ok(s.clone());
            }
            if !self.settle()? {
                break;
            }
        }
        crate::connection::stat(self.conn, path, follow, checksum, self.become_.as_ref())
    }

    /// A file's content (`None` when it does not exist), from the probes when they
    /// fetched it, else read now.
    pub fn read_file(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        let probe = probe::Probe::Read {
            path: path.to_string(),
        };
        for _ in 0..2 {
            if let Some(probe::Answer::Read(r)) = self.cache.get(&probe, self.become_.as_ref()) {
                return Ok(r.clone());
            }
            if !self.settle()? {
                break;
            }
        }
        self.conn.read_file(path, self.become_.as_ref())
    }

    /// The output of a read-only query script: from the batch when it was prefetched,
    /// else run now. Errors of the script itself are ignored (stderr dropped).
    pub fn query(&mut self, script: &str) -> Result<String> {
        let probe = probe::Probe::Query {
            script: script.to_string(),
        };
        for _ in 0..2 {
            if let Some(probe::Answer::Output(o)) = self.cache.get(&probe, self.become_.as_ref()) {
                return Ok(o.clone());
            }
            if !self.settle()? {
                break;
            }
        }
        Ok(self
            .sh(&format!("( {script} ) 2>/dev/null"), None)?
            .stdout_str())
    }

    /// Does anything match this glob? (`creates`/`removes`)
    pub fn cached_exists(&self, pattern: &str) -> Option<bool> {
        match self.cache.get(
            &probe::Probe::Exists {
                pattern: pattern.to_string(),
            },
            self.become_.as_ref(),
        ) {
            Some(probe::Answer::Exists(b)) => Some(*b),
            _ => None,
        }
    }

    /// Writes `content` to `dest` atomically, as the task's become user, after the queued
    /// writes have gone out.
    pub fn put_file(
        &mut self,
        dest: &str,
        content: &[u8],
        attrs: &crate::connection::PutAttrs,
    ) -> Result<crate::connection::Written> {
        self.settle()?;
        let b = self.become_.clone();
        self.conn.put_file(dest, content, attrs, b.as_ref())
    }

    /// Find a controller file for `src` (copy's `files/`, template's `templates/`).
    pub fn find_src(&self, sub: &str, src: &str) -> Result<std::path::PathBuf> {
        if let Some(found) = crate::playbook::find_in(&self.task.search_dirs, sub, src) {
            return Ok(found);
        }
        let searched: Vec<String> = self
            .task
            .search_dirs
            .iter()
            .map(|b| b.join(sub).display().to_string())
            .collect();
        Err(Error::not_found(format!(
            "could not find '{src}' (searched {})",
            searched.join(", ")
        ))
        .with_help(format!(
            "put the file in a {sub}/ directory beside the role or playbook"
        )))
    }
}

/// How a module takes check mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckMode {
    /// It plans as in a real run; the engine stops before the apply step.
    Plans,
    /// Ansible does not run it in check mode: the engine skips the task and never
    /// calls `plan`.
    Skipped {
        /// The result's message, Ansible's words.
        msg: &'static str,
        /// Ansible's action plugin skips it before any module runs, so the result
        /// has no `failed` key.
        by_action: bool,
    },
}

impl CheckMode {
    /// The skipped plan the engine reports in check mode, if the module is skipped.
    pub fn skipped_plan(self) -> Option<Plan> {
        let CheckMode::Skipped { msg, by_action } = self else {
            return None;
        };
        let mut r = Vars::new();
        if !msg.is_empty() {
            r.insert("msg".into(), Value::from(msg));
        }
        let mut p = Plan::no_change(r);
        p.skipped = true;
        p.skipped_by_action = by_action;
        Some(p)
    }
}

/// A module: Ansible's name and arguments, drover's query → plan → apply contract.
pub trait Module: Sync + Send {
    /// The module's name and arguments, checked before the run.
    fn spec(&self) -> &'static ModuleSpec;
    /// Read the host's state and decide what to do. Must not change anything, in check
    /// mode or not: the engine alone decides whether the plan's apply step runs (see the
    /// module docs, "Check mode").
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan>;
    /// What the plan will read from the host, so the engine can fetch it in a batch
    /// ahead of time. Only a hint: anything not prefetched is read directly.
    fn probes(&self, _args: &Args) -> Vec<probe::Probe> {
        Vec::new()
    }
    /// How it takes check mode: most plan as usual; those Ansible does not run in check
    /// mode are skipped by the engine.
    fn check_mode(&self) -> CheckMode {
        CheckMode::Plans
    }
    /// Whether the plan does as well without its probes answered (it folds the test into
    /// the one command it sends anyway), so a missing answer is no reason for a batch.
    fn probes_optional(&self) -> bool {
        false
    }
    /// Whether [`Module::background`] can leave the module's work running on the host
    /// (`poll: 0`): checked before the run.
    fn can_background(&self) -> bool {
        false
    }
    /// The work to leave running on the host for `poll: 0` (`None`: the module cannot;
    /// see `modules::background`). Like `plan`, it changes nothing itself.
    fn background(
        &self,
        _ctx: &mut ModuleCtx<'_>,
        _args: &Args,
    ) -> Option<Result<background::Background>> {
        None
    }
    /// Keys of the result holding content read from the controller's files, which
    /// Ansible keeps trusted as templates once registered (include_vars' `ansible_facts`:
    /// `"{{ 1 + 1 }}"` there renders where the registered result is used). The rest of a
    /// registered result is data, never templated again.
    fn loaded_result_keys(&self) -> &'static [&'static str] {
        &[]
    }
}

/// The keys of a module's result that stay templatable once registered (see
/// [`Module::loaded_result_keys`]); none for the engine's own actions.
pub fn loaded_result_keys(module: &str) -> &'static [&'static str] {
    find(module).map_or(&[], |m| m.loaded_result_keys())
}

/// Modules drover knows, and the Ansible modules it refuses with a reason.
pub fn registry() -> &'static [&'static dyn Module] {
    static MODULES: &[&dyn Module] = &[
        &command::Command,
        &command::Shell,
        &command::Raw,
        &copy::Copy,
        &template::Template,
        &file::File,
        &lineinfile::LineInFile,
        &blockinfile::BlockInFile,
        &replace::Replace,
        &stat::Stat,
        &stat::Slurp,
        &control::Debug,
        &control::Assert,
        &control::Fail,
        &control::SetFact,
        &control::Meta,
        &control::IncludeVars,
        &control::Ping,
        &setup::Setup,
        &setup::GatherFacts,
        &user::User,
        &group::Group,
        &systemd::SystemdService,
        &systemd::Service,
        &sysctl::Sysctl,
        &hostname::Hostname,
        &compose::DockerCompose,
        &apt::Apt,
        &apt::Package,
        &repo::Deb822Repository,
        &repo::AptRepository,
        &get_url::GetUrl,
        &uri::Uri,
        &wait_for::WaitFor,
        &cron::Cron,
        &authorized_key::AuthorizedKey,
        &unarchive::Unarchive,
        &inventory::AddHost,
        &inventory::GroupBy,
        &tempfile::TempFile,
        &find::Find,
        &getent::Getent,
        &package_facts::PackageFacts,
        &service_facts::ServiceFacts,
        &script::Script,
        &fetch::Fetch,
        &pause::Pause,
        &wait_for_connection::WaitForConnection,
        &ini_file::IniFile,
        &known_hosts::KnownHosts,
        &mount::Mount,
        &async_status::AsyncStatus,
    ];
    MODULES
}

/// Find a module by short name, FQCN (`ansible.builtin.copy`) or alias.
pub fn find(name: &str) -> Option<&'static dyn Module> {
    let short = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name);
    registry().iter().copied().find(|m| {
        m.spec().name == short
            || m.spec().aliases.contains(&name)
            || m.spec().aliases.contains(&short)
    })
}

/// Names handled by the engine itself rather than a module.
pub const ENGINE_ACTIONS: &[&str] = &[
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "import_playbook",
    "block",
];

/// Every action name a task may use: the modules and the engine's own actions.
pub fn all_names() -> Vec<&'static str> {
    registry()
        .iter()
        .map(|m| m.spec().name)
        .chain(ENGINE_ACTIONS.iter().copied())
        .collect()
}

/// Run `script` on the host; a non-zero exit is the error "`what` failed: <stderr>".
pub fn sh_checked(ctx: &mut ModuleCtx<'_>, script: &str, what: &str) -> Result<Output> {
    let out = ctx.sh(script, None)?;
    if out.rc != 0 {
        return Err(Error::module(format!(
            "{what} failed: {}",
            out.stderr_str().trim()
        )));
    }
    Ok(out)
}

/// An apply step that runs `script` on the host; a non-zero exit fails the task with
/// "`what` failed: <stderr>".
pub fn run_script(script: String, what: String) -> ApplyFn {
    Box::new(move |ctx: &mut ModuleCtx<'_>| {
        sh_checked(ctx, &script, &what)?;
        Ok(Vars::new())
    })
}

/// [`run_script`] as an op (batchable with the writes around it).
pub fn script_op(script: String, what: String) -> op::RemoteOp {
    op::RemoteOp::script(
        script,
        Box::new(move |out: &Output, _| {
            if out.rc != 0 {
                return Err(Error::module(format!(
                    "{what} failed: {}",
                    out.stderr_str().trim()
                )));
            }
            Ok(op::Done::default())
        }),
    )
}

/// [`run_script`] for a command whose first word names it in errors (`useradd failed: …`).
pub fn run_named(script: String) -> ApplyFn {
    let what = script
        .split_whitespace()
        .next()
        .unwrap_or("command")
        .to_string();
    run_script(script, what)
}

/// Result keys common to every module.
pub fn result(pairs: &[(&str, Value)]) -> Vars {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}
