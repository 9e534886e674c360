//! The whole run checked before the first host is touched: every template and condition
//! compiles, every template file compiles, and every variable a template needs is defined
//! for every host the play targets (unless the template guards it with `is defined` or
//! `default`). Ansible finds these out task by task, on the hosts; drover up front.

use crate::diagnostics::{Error, Result, Span};
use crate::inventory::{pattern, Inventory};
use crate::playbook::find_in;
use crate::playbook::{
    HandlerBody, Include, IncludeKind, Inherited, Item, ListCtx, Loader, Play, Playbook, Task,
};
use crate::vars::Vars;
use minijinja::value::{Value, ValueKind};
use minijinja::Environment;
use std::collections::HashSet;
use std::path::PathBuf;

/// A task found by the walk, the loop variables it can see, and the dynamic include
/// (`include_tasks`, `include_role`) it came through, if any.
type Collected = (
    std::sync::Arc<Task>,
    Vec<String>,
    Option<std::sync::Arc<str>>,
);

/// What the checks before a run found besides errors.
#[derive(Debug, Default)]
pub struct Checked {
    /// Problems of content only a dynamic include reaches, and other notes.
    pub warnings: Vec<String>,
    /// Some template of the run reads `ansible_python`: facts gathering includes it.
    pub reads_python_fact: bool,
}

/// Check every play of every playbook. What is static (the play's tasks, imports, roles)
/// must be right; what a dynamic include brings in is read when a host reaches it (as
/// Ansible), so its problems come back as warnings naming the include and its condition.
pub fn check(
    playbooks: &[Playbook],
    inv: &Inventory,
    extra_vars: &Vars,
    roles_path: &[PathBuf],
) -> Result<Checked> {
    let mut reads_python_fact = false;
    let env = crate::template::environment();
    let globals: HashSet<String> = env.globals().map(|(k, _)| k.to_string()).collect();
    // Facts and registered results outlive their play: later plays may read them.
    let mut carried: HashSet<String> = HashSet::new();
    let mut carried_dynamic = false;
    let mut warnings: Vec<String> = Vec::new();
    // See exec::run: after add_host/group_by, unknown pattern names match nothing.
    let mut inventory_may_change = false;
    for pb in playbooks {
        for play in &pb.plays {
            let pattern_text = play.hosts.as_str().unwrap_or_default();
            let select = if inventory_may_change {
                pattern::select_lenient
            } else {
                pattern::select
            };
            inventory_may_change |= crate::modules::inventory::play_changes_inventory(play);
            let hosts = if pattern_text.contains("{{") {
                Vec::new()
            } else {
                select(inv, pattern_text).map_err(|e| {
                    Error::invalid(e.0, &play.hosts_span).with_help(e.1.unwrap_or_default())
                })?
            };
            let mut walker = PlayCheck {
                env: &env,
                play,
                globals: &globals,
                loader: Loader::new(play.base_dir.clone(), roles_path.to_vec()),
                play_names: carried.clone(),
                fact_names: HashSet::new(),
                dynamic_names: carried_dynamic,
                visited_includes: HashSet::new(),
                visited_files: HashSet::new(),
                guard: None,
                warnings: Vec::new(),
                reads_python_fact: std::cell::Cell::new(false),
            };
            walker.collect_play_names(extra_vars)?;
            let mut tasks: Vec<Collected> = Vec::new();
            let sections: Vec<&Vec<Item>> = vec![&play.pre_tasks, &play.tasks, &play.post_tasks];
            for s in sections {
                walker.collect(s, &[], &mut tasks)?;
            }
            for h in &play.handlers {
                walker.collect(&[h.item()], &[], &mut tasks)?;
            }
            for (task, _, _) in &tasks {
                if let Some(e) = &task.unsupported {
                    walker.warn(describe_unsupported(task, e));
                }
            }
            carried.extend(walker.fact_names.iter().cloned());
            carried_dynamic |= walker.dynamic_names;
            for host in &hosts {
                let mut known: HashSet<String> = walker.play_names.clone();
                known.extend(inv.host_vars(host).keys().cloned());
                walker.check_var_cycles(inv, host, extra_vars)?;
                for (task, locals, guard) in &tasks {
                    let mut lazy = Vec::new();
                    let r = walker.check_task(task, locals, &known, host, &mut lazy);
                    walker.dynamic(r, guard.as_deref())?;
                    lazy.into_iter().for_each(|w| walker.warn(w));
                }
            }
            // Syntax of every template is checked even when the play matched no host.
            if hosts.is_empty() {
                for (task, locals, guard) in &tasks {
                    let mut lazy = Vec::new();
                    let r = walker.check_task(task, locals, &HashSet::new(), "", &mut lazy);
                    walker.dynamic(r, guard.as_deref())?;
                    lazy.into_iter().for_each(|w| walker.warn(w));
                }
            }
            reads_python_fact |= walker.reads_python_fact.get();
            for w in walker.warnings {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
    }
    for at in crate::vault::undecryptable::seen() {
        warnings.push(format!(
            "{}:{}:{}: no vault password given opens this vault-encrypted value; a task that uses it fails (pass --vault-password-file, --vault-id or --ask-vault-pass)",
            at.file.display(),
            at.line,
            at.col
        ));
    }
    Ok(Checked {
        warnings,
        reads_python_fact,
    })
}

/// How a warning names a guarded task drover cannot run: where, what guards it, why.
fn describe_unsupported(task: &Task, e: &Error) -> String {
    let guard: Vec<String> = task
        .kw
        .when
        .iter()
        .map(|c| {
            c.expr
                .as_str()
                .map_or_else(|| c.expr.to_string(), str::to_string)
        })
        .collect();
    let when = if guard.is_empty() {
        "its errors are ignored".to_string()
    } else {
        format!("it runs only when {}", guard.join(" and "))
    };
    format!(
        "task '{}' ({}): {when}; a host that reaches it fails there: {e}",
        task.display_name(),
        task.span,
    )
}

/// How a warning names a dynamic include: where it is, what it includes, what guards it.
fn describe_include(inc: &Include) -> String {
    let kind = match inc.kind {
        IncludeKind::Tasks => "include_tasks",
        IncludeKind::Role => "include_role",
    };
    let target = inc
        .file
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| inc.file.to_string());
    let conds: Vec<String> = inc
        .kw
        .when
        .iter()
        .map(|c| match c.expr.as_str() {
            Some(s) => s.to_string(),
            None => c.expr.to_string(),
        })
        .collect();
    let guard = if conds.is_empty() {
        "no when:".to_string()
    } else {
        format!("when: {}", conds.join(" and "))
    };
    format!("{kind} '{target}' at {} ({guard})", inc.span)
}

struct PlayCheck<'a> {
    env: &'a Environment<'static>,
    play: &'a Play,
    globals: &'a HashSet<String>,
    loader: Loader,
    /// Names defined for every host of the play (play vars, roles, registers, set_fact …).
    play_names: HashSet<String>,
    /// Names that stay defined after the play (set_fact, register, include_vars).
    fact_names: HashSet<String>,
    /// A template-named include_vars or vars file: names cannot all be known statically.
    dynamic_names: bool,
    visited_includes: HashSet<usize>,
    /// (include location, file) pairs read: a templated include may match its own file.
    visited_files: HashSet<(Span, PathBuf)>,
    /// The dynamic include the walk is under (outermost), described for warnings.
    guard: Option<std::sync::Arc<str>>,
    /// Problems in dynamically included content: reported, not fatal.
    warnings: Vec<String>,
    /// Some template reads `ansible_python`, gathered only then.
    reads_python_fact: std::cell::Cell<bool>,
}

impl PlayCheck<'_> {
    fn collect_play_names(&mut self, extra_vars: &Vars) -> Result<()> {
        let names = &mut self.play_names;
        names.extend(crate::vars::magic::MAGIC.iter().map(|m| m.name.to_string()));
        names.extend(self.globals.iter().cloned());
        names.extend(self.play.vars.keys().cloned());
        names.extend(extra_vars.keys().cloned());
        for r in &self.play.role_defaults {
            names.extend(r.defaults.keys().cloned());
            names.extend(r.vars.keys().cloned());
            names.extend(r.params.keys().cloned());
        }
        for (file, span) in &self.play.vars_files {
            match file.as_str().filter(|f| !f.contains("{{")) {
                Some(f) => {
                    let v = crate::vars::file::load_vars_file(&self.play.base_dir.join(f))
                        .map_err(|e| {
                            let mut e =
                                e.with_help("vars_files are relative to the playbook directory");
                            e.span = Some(span.clone());
                            e
                        })?;
                    names.extend(v.keys().cloned());
                }
                None => self.dynamic_names = true,
            }
        }
        Ok(())
    }

    /// Variables whose templates refer to each other in a loop can never be rendered:
    /// refuse them now, naming the loop.
    fn check_var_cycles(&self, inv: &Inventory, host: &str, extra_vars: &Vars) -> Result<()> {
        let mut vars = Vars::new();
        for r in &self.play.role_defaults {
            vars.extend(r.defaults.clone());
        }
        vars.extend(inv.host_vars(host));
        vars.extend(self.play.vars.clone());
        for r in &self.play.role_defaults {
            vars.extend(r.vars.clone());
        }
        vars.extend(extra_vars.clone());
        let mut refs: std::collections::HashMap<&str, Vec<String>> =
            std::collections::HashMap::new();
        for (name, value) in &vars {
            let mut names = Vec::new();
            for text in strings_in(value) {
                if let Ok(found) = self.names_in(&text, false) {
                    names.extend(found.into_iter().filter(|n| vars.contains_key(n)));
                }
            }
            refs.insert(name.as_str(), names);
        }
        // Depth-first search with the path kept, to name the loop.
        fn visit<'a>(
            n: &'a str,
            refs: &'a std::collections::HashMap<&'a str, Vec<String>>,
            path: &mut Vec<&'a str>,
            done: &mut HashSet<&'a str>,
        ) -> Option<Vec<String>> {
            if let Some(i) = path.iter().position(|p| *p == n) {
                let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            if !done.insert(n) {
                return None;
            }
            path.push(n);
            for next in refs.get(n).into_iter().flatten() {
                if let Some((key, _)) = refs.get_key_value(next.as_str()) {
                    if let Some(c) = visit(key, refs, path, done) {
                        return Some(c);
                    }
                }
            }
            path.pop();
            None
        }
        let mut done = HashSet::new();
        let mut names: Vec<&str> = refs.keys().copied().collect();
        names.sort();
        for n in names {
            if let Some(cycle) = visit(n, &refs, &mut Vec::new(), &mut done) {
                return Err(Error::template(format!(
                    "variables refer to each other in a loop for host {host}: {}",
                    cycle.join(" -> ")
                ))
                .at(self.play.span.clone())
                .with_help("one of them must hold a value that does not depend on the others"));
            }
        }
        Ok(())
    }

    /// Walk the task tree (loading literal includes), remembering each task with the
    /// loop variables it can see, and every name that registers or set_facts define.
    fn collect(
        &mut self,
        items: &[Item],
        locals: &[String],
        out: &mut Vec<Collected>,
    ) -> Result<()> {
        for item in items {
            match item {
                Item::Task(t) => {
                    // A templated loop_var names its variable only at run time.
                    self.dynamic_names |= templated_loop_var(&t.loop_control);
                    let mut l = locals.to_vec();
                    l.extend(task_locals(t));
                    self.note_definitions(t);
                    out.push((t.clone(), l, self.guard.clone()));
                }
                Item::Block(b) => {
                    let mut l = locals.to_vec();
                    l.extend([
                        "ansible_failed_task".to_string(),
                        "ansible_failed_result".to_string(),
                    ]);
                    for part in [&b.block, &b.rescue, &b.always] {
                        self.collect(part, &l, out)?;
                    }
                }
                Item::Include(inc) => self.collect_include(inc, locals, out)?,
            }
        }
        Ok(())
    }

    fn collect_include(
        &mut self,
        inc: &Include,
        locals: &[String],
        out: &mut Vec<Collected>,
    ) -> Result<()> {
        if !self.visited_includes.insert(inc.id) {
            return Ok(());
        }
        self.dynamic_names |= templated_loop_var(&inc.loop_control);
        let mut l = locals.to_vec();
        l.push(
            inc.loop_control
                .loop_var
                .clone()
                .unwrap_or_else(|| "item".into()),
        );
        l.extend(inc.loop_control.index_var.clone());
        l.extend(inc.child_kw.params.keys().cloned());
        let lc = ListCtx {
            file: inc.span.file.to_path_buf(),
            inh: inc.child_kw.clone(),
            search_dirs: inc.search_dirs.clone(),
            handler: false,
        };
        let outer = self.guard.clone();
        if self.guard.is_none() {
            self.guard = Some(describe_include(inc).into());
        }
        let r = self.collect_include_files(inc, &lc, &l, out);
        self.guard = outer;
        r
    }

    /// Read what an include names (every candidate of a templated task file name); a
    /// problem in it is a warning when the include is dynamic, an error otherwise.
    fn collect_include_files(
        &mut self,
        inc: &Include,
        lc: &ListCtx,
        l: &[String],
        out: &mut Vec<Collected>,
    ) -> Result<()> {
        let Some(target) = inc.file.as_str() else {
            self.dynamic_names = true;
            return Ok(());
        };
        if target.contains("{{") {
            self.dynamic_names = true;
            if inc.kind == IncludeKind::Tasks {
                for path in self.loader.candidate_task_files(target, lc) {
                    if path.canonicalize().ok() == inc.span.file.canonicalize().ok()
                        || !self.visited_files.insert((inc.span.clone(), path.clone()))
                    {
                        continue;
                    }
                    let items = self.loader.load_task_file(&path, lc);
                    let items = match self.dynamic(items, self.guard.clone().as_deref())? {
                        Some(items) => items,
                        None => continue,
                    };
                    // Names a candidate defines may not exist on a host that reads another.
                    let keep = self.play_names.clone();
                    self.collect(&items, l, out)?;
                    self.play_names = keep;
                }
            }
            return Ok(());
        }
        let items = match inc.kind {
            IncludeKind::Tasks => self
                .loader
                .find_task_file(target, lc, &inc.span)
                .and_then(|path| self.loader.load_task_file(&path, lc)),
            IncludeKind::Role => {
                let loaded = self.loader.load_role(
                    target,
                    &inc.span,
                    inc.child_kw.clone(),
                    Vars::new(),
                    &inc.role_opts,
                    false,
                );
                loaded.map(|loaded| {
                    for h in self.loader.take_handlers() {
                        if let HandlerBody::Task(t) = &h.body {
                            self.note_definitions(t);
                        }
                    }
                    loaded.tasks
                })
            }
        };
        match self.dynamic(items, self.guard.clone().as_deref())? {
            Some(items) => self.collect(&items, l, out),
            None => Ok(()),
        }
    }

    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// A result from content under a dynamic include (`guard`): an error there becomes a
    /// warning (`None`); outside any, it stays an error.
    fn dynamic<T>(&mut self, r: Result<T>, guard: Option<&str>) -> Result<Option<T>> {
        match (r, guard) {
            (Ok(v), _) => Ok(Some(v)),
            (Err(e), None) => Err(e),
            (Err(e), Some(g)) => {
                self.warn(format!(
                    "{g} is read only when a host reaches it, and would fail there: {e}"
                ));
                Ok(None)
            }
        }
    }

    fn note_definitions(&mut self, t: &Task) {
        let before: HashSet<String> = self.play_names.clone();
        self.note_names(t);
        if matches!(
            t.module,
            "set_fact" | "include_vars" | "getent" | "package_facts" | "service_facts"
        ) || t.register.is_some()
        {
            let new: Vec<String> = self.play_names.difference(&before).cloned().collect();
            self.fact_names.extend(new);
            if let Some(r) = &t.register {
                self.fact_names.insert(r.clone());
            }
            if t.module == "set_fact" {
                self.fact_names.extend(t.args.keys().cloned());
            }
        }
    }

    fn note_names(&mut self, t: &Task) {
        if let Some(r) = &t.register {
            self.play_names.insert(r.clone());
        }
        self.play_names.extend(t.kw.vars.keys().cloned());
        self.play_names.extend(t.kw.params.keys().cloned());
        if let Some(role) = &t.kw.role {
            self.play_names.extend(role.defaults.keys().cloned());
            self.play_names.extend(role.vars.keys().cloned());
        }
        match t.module {
            "set_fact" => {
                // A templated name (`'{{ item }}=moo'`) or a template of all the
                // arguments: the names are known only when the task runs.
                if t.args
                    .keys()
                    .any(|k| k.contains("{{") || k == crate::modules::args::VARIABLE_PARAMS)
                {
                    self.dynamic_names = true;
                }
                self.play_names.extend(t.args.keys().cloned())
            }
            // Facts these modules return under their own names.
            "package_facts" => {
                self.play_names.insert("packages".into());
            }
            "service_facts" => {
                self.play_names.insert("services".into());
            }
            "getent" => match t.args.get("database").and_then(|v| v.as_str()) {
                Some(db) if !db.contains("{{") => {
                    self.play_names.insert(format!("getent_{db}"));
                }
                _ => self.dynamic_names = true,
            },
            "include_vars" => {
                let name = t
                    .args
                    .get("name")
                    .and_then(|v| v.as_str().map(str::to_string));
                match name {
                    Some(n) if !n.contains("{{") => {
                        self.play_names.insert(n);
                    }
                    _ => {
                        let file = t
                            .args
                            .get("file")
                            .or_else(|| t.args.get("_raw_params"))
                            .and_then(|v| v.as_str().map(str::to_string));
                        let loaded = file
                            .filter(|f| !f.contains("{{"))
                            .and_then(|f| find_in(&t.search_dirs, "vars", &f))
                            .and_then(|p| crate::vars::file::load_vars_file(&p).ok());
                        match loaded {
                            Some(v) => self.play_names.extend(v.keys().cloned()),
                            None => self.dynamic_names = true,
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn check_task(
        &self,
        task: &Task,
        locals: &[String],
        known: &HashSet<String>,
        host: &str,
        lazy: &mut Vec<String>,
    ) -> Result<()> {
        let check_names = !host.is_empty() && !self.dynamic_names;
        let is_known = |n: &str| {
            known.contains(n) || locals.iter().any(|l| l == n) || n.starts_with("ansible_")
        };
        // Environment names are checked before any host is touched (a name reaches the
        // remote shell as `export NAME=…`).
        for e in &task.kw.environment {
            if e.kind() != ValueKind::Map {
                continue;
            }
            for k in e.try_iter().into_iter().flatten() {
                if let Some(name) = k.as_str().filter(|n| !n.contains("{{")) {
                    if !crate::connection::quote::is_env_name(name) {
                        return Err(crate::connection::quote::env_name_error(name)
                            .at(task.span.clone())
                            .in_task(&task.display_name()));
                    }
                }
            }
        }
        // (text, where, a bare expression?, read only where the task's `when` holds?)
        let mut sources: Vec<(Value, Span, bool, bool)> = Vec::new();
        for c in &task.kw.when {
            sources.push((c.expr.clone(), c.span.clone(), true, false));
        }
        for conds in [&task.changed_when, &task.failed_when, &task.until]
            .into_iter()
            .flatten()
        {
            for c in conds {
                sources.push((c.expr.clone(), c.span.clone(), true, false));
            }
        }
        // `debug: var=` prints VARIABLE IS NOT DEFINED! for an undefined name: its names
        // are checked for syntax only.
        let mut syntax_only: Vec<Value> = Vec::new();
        for (k, v) in &task.args {
            // `debug: var=` and `assert: that=` hold bare expressions.
            let debug_var = task.module == "debug" && k == "var";
            let expr = debug_var || (task.module == "assert" && k == "that");
            for s in strings_in(v) {
                if debug_var {
                    syntax_only.push(Value::from(s.clone()));
                }
                sources.push((Value::from(s), task.args_span.clone(), expr, false));
            }
        }
        // Ansible evaluates a loop that fails on an undefined name only where the `when`
        // holds (`when: false` + `loop: "{{ fake_var }}"` skips): a warning here.
        let lazy_loop = !task.kw.when.is_empty();
        if let Some(l) = &task.loop_ {
            for s in strings_in(&l.items) {
                sources.push((Value::from(s), l.span.clone(), false, lazy_loop));
            }
        }
        // A task whose failure is ignored is expected to fail (Ansible's own tests check
        // the error of an undefined name that way): a warning, not a refusal.
        let failure_ignored = task
            .kw
            .ignore_errors
            .as_ref()
            .is_some_and(|v| v.kind() != ValueKind::Bool || v.is_true());
        for (text, span, is_expr, lazily) in sources {
            let Some(text) = text.as_str() else { continue };
            let names = self
                .names_in(text, is_expr)
                .map_err(|e| e.at(span.clone()).in_task(&task.display_name()))?;
            if !check_names || syntax_only.iter().any(|v| v.as_str() == Some(text)) {
                continue;
            }
            for n in names {
                if is_known(&n) || is_guarded(text, &n) {
                    continue;
                }
                // Read only where the `when` holds, or a failure the task ignores: warned.
                let consequence = if lazily {
                    Some(format!("is undefined in its loop '{}'; the task fails on a host whose `when` holds", short(text)))
                } else if failure_ignored {
                    Some(format!("is undefined in '{}'; the task fails, and goes on as its ignore_errors says", short(text)))
                } else {
                    None
                };
                if let Some(c) = consequence {
                    lazy.push(format!(
                        "task '{}' ({span}): '{n}' {c}",
                        task.display_name()
                    ));
                    break;
                }
                return Err(Error::template(format!("'{n}' is undefined for host {host} in '{}'", short(text)))
                    .at(span.clone())
                    .in_task(&task.display_name())
                    .with_help("define it (vars, group_vars, host_vars, -e) or guard it with `| default(...)` / `is defined`"));
            }
        }
        if task.module == "template" {
            self.check_template_file(task, known, locals, host, check_names)?;
        }
        Ok(())
    }

    /// Compile a template string (or bare expression) and list the names it reads.
    fn names_in(&self, text: &str, is_expr: bool) -> Result<Vec<String>> {
        let templated = text.contains("{{") || text.contains("{%");
        if (templated || is_expr) && crate::exec::reads_python_fact(text) {
            self.reads_python_fact.set(true);
        }
        let names: HashSet<String> = if is_expr && !templated {
            self.env
                .compile_expression(text)
                .map_err(|e| {
                    Error::template(format!(
                        "invalid expression '{}': {}",
                        short(text),
                        e.detail().unwrap_or("syntax error")
                    ))
                })?
                .undeclared_variables(false)
        } else if templated {
            self.env
                .template_from_str(text)
                .map_err(|e| {
                    Error::template(format!(
                        "template syntax error in '{}': {}",
                        short(text),
                        e.detail().unwrap_or("syntax error")
                    ))
                })?
                .undeclared_variables(false)
        } else {
            return Ok(Vec::new());
        };
        let mut v: Vec<String> = names
            .into_iter()
            .filter(|n| !self.globals.contains(n))
            .collect();
        v.sort();
        Ok(v)
    }

    fn check_template_file(
        &self,
        task: &Task,
        known: &HashSet<String>,
        locals: &[String],
        host: &str,
        check_names: bool,
    ) -> Result<()> {
        let Some(src) = task
            .args
            .get("src")
            .and_then(|v| v.as_str().map(str::to_string))
            .filter(|s| !s.contains("{{"))
        else {
            return Ok(());
        };
        let Some(path) = find_in(&task.search_dirs, "templates", &src) else {
            return Err(Error::not_found(format!("template '{src}' not found"))
                .at(task.args_span.clone())
                .in_task(&task.display_name())
                .with_help("put it in templates/ beside the role or playbook"));
        };
        let bytes = std::fs::read(&path).map_err(|e| Error::io_at(&path, &e))?;
        let text = crate::yaml::loader_decode(&bytes, &path)?;
        let name = path.display().to_string();
        // Read with the delimiters the task and the file's `#jinja2:` header give.
        let mut opts = crate::template::TextOptions::default();
        for (arg, _) in crate::template::text_options::DELIMITERS {
            if let Some(v) = task.args.get(arg).and_then(|v| v.as_str()) {
                opts.set_delimiter(arg, v.to_string());
            }
        }
        // A header that cannot be read fails the task when it renders, with the located
        // message (Ansible's template target rescues that failure): nothing to check here.
        let Ok((opts, body)) = crate::template::file_options(&name, &text, &opts) else {
            return Ok(());
        };
        let custom;
        let env = if opts.custom_syntax() {
            let mut e = (*self.env).clone();
            opts.apply(&mut e, &name)
                .map_err(|e| e.at(task.args_span.clone()).in_task(&task.display_name()))?;
            custom = e;
            &custom
        } else {
            self.env
        };
        let tmpl = env.template_from_named_str(&name, body).map_err(|e| {
            Error::template(format!(
                "template syntax error: {}",
                e.detail().unwrap_or("syntax error")
            ))
            .at(Span::new(
                std::sync::Arc::from(path.as_path()),
                e.line().unwrap_or(1) as u32,
                1,
            ))
        })?;
        if crate::exec::reads_python_fact(&text) {
            self.reads_python_fact.set(true);
        }
        if !check_names {
            return Ok(());
        }
        for n in tmpl.undeclared_variables(false) {
            let ok = known.contains(&n)
                || locals.contains(&n)
                || n.starts_with("ansible_")
                || self.globals.contains(&n);
            if !ok && !is_guarded(&text, &n) {
                let line = text
                    .lines()
                    .position(|l| l.contains(&n))
                    .map(|i| i + 1)
                    .unwrap_or(1);
                return Err(Error::template(format!(
                    "'{n}' is undefined for host {host} in template {src}"
                ))
                .at(Span::new(
                    std::sync::Arc::from(path.as_path()),
                    line as u32,
                    1,
                ))
                .in_task(&task.display_name())
                .with_help(
                    "define it for this host or guard it with `| default(...)` / `is defined`",
                ));
            }
        }
        Ok(())
    }
}

fn templated_loop_var(lc: &crate::playbook::LoopControl) -> bool {
    lc.loop_var.as_deref().is_some_and(|v| v.contains("{{"))
}

/// Loop variables and other names a task defines for itself.
fn task_locals(t: &Task) -> Vec<String> {
    let mut l = Vec::new();
    if t.loop_.is_some() {
        l.push(
            t.loop_control
                .loop_var
                .clone()
                .unwrap_or_else(|| "item".into()),
        );
        l.extend(t.loop_control.index_var.clone());
    }
    // changed_when/failed_when/until see the result under its register name and its keys.
    if let Some(r) = &t.register {
        l.push(r.clone());
    }
    for k in [
        "rc",
        "stdout",
        "stderr",
        "stdout_lines",
        "stderr_lines",
        "changed",
        "failed",
        "results",
        "msg",
    ] {
        l.push(k.to_string());
    }
    l.extend(t.kw.vars.keys().cloned());
    l.extend(t.kw.params.keys().cloned());
    let _: &Inherited = &t.kw;
    l
}

/// Every string inside a value.
fn strings_in(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v.kind() {
        ValueKind::String => out.extend(v.as_str().map(str::to_string)),
        ValueKind::Seq => {
            for i in v.try_iter().into_iter().flatten() {
                out.extend(strings_in(&i));
            }
        }
        ValueKind::Map => {
            for k in v.try_iter().into_iter().flatten() {
                if let Ok(item) = v.get_item(&k) {
                    out.extend(strings_in(&item));
                }
            }
        }
        _ => {}
    }
    out
}

/// Is `name` tested for definedness or given a default somewhere in the template?
fn is_guarded(text: &str, name: &str) -> bool {
    let pattern = format!(
        // `x.y[0]`, then filters that pass an undefined through (`| map('upper')`), then
        // `| default` or an `is defined`-style test.
        r#"\b{}\b[\w.\[\]'"]*\s*(\|\s*[\w.]+\s*(\([^()]*\))?\s*)*(\|\s*(default|d)\b|is\s+(not\s+)?(defined|undefined|none))|\b{}\s+(not\s+)?in\s|vars\[|lookup\(\s*['"]vars"#,
        regex::escape(name),
        regex::escape(name)
    );
    regex::Regex::new(&pattern)
        .map(|re| re.is_match(text))
        .unwrap_or(true)
}

fn short(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::is_guarded;

    #[test]
    fn guards() {
        assert!(is_guarded("{{ x | default('a') }}", "x"));
        assert!(is_guarded("x is defined and x", "x"));
        assert!(is_guarded("{{ x.y|d(1) }}", "x"));
        assert!(is_guarded("x is not defined", "x"));
        assert!(is_guarded("x | map('upper') is undefined", "x"));
        assert!(is_guarded("x|select('odd')|list|default([])", "x"));
        assert!(!is_guarded("x | map('upper') == y", "x"));
        assert!(!is_guarded("{{ x }}", "x"));
        assert!(!is_guarded("{{ xy | default(1) }} {{ x }}", "x"));
    }
}
