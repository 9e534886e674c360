//! Task lists: tasks, blocks, imports (expanded here) and includes (kept for run time).

use super::async_kw::AsyncKw;
use super::keywords::{apply_inheritable, conditions, unknown_key};
use super::loader::Loader;
use super::model::*;
use crate::diagnostics::{did_you_mean, Error, ErrorKind, Result, Span};
use crate::modules::{self, args as margs};
use crate::vars::Vars;
use crate::yaml::{Node, NodeKind};
use minijinja::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Keywords a task may carry besides its module.
pub const TASK_KEYWORDS: &[&str] = &[
    "name",
    "when",
    "tags",
    "become",
    "become_user",
    "remote_user",
    "become_method",
    "vars",
    "environment",
    "ignore_errors",
    "check_mode",
    "diff",
    "no_log",
    "any_errors_fatal",
    "run_once",
    "timeout",
    "delegate_to",
    "delegate_facts",
    "module_defaults",
    "collections",
    "throttle",
    "register",
    "notify",
    "listen",
    "changed_when",
    "failed_when",
    "until",
    "retries",
    "delay",
    "async",
    "poll",
    "loop",
    "loop_control",
    "args",
    "action",
    "local_action",
    "with_items",
    "with_list",
    "with_dict",
    "with_indexed_items",
    "with_together",
    "with_sequence",
    "with_fileglob",
    "with_nested",
    "with_cartesian",
    "with_subelements",
];

/// The lookup a `with_<name>` keyword loops over, for the lookups drover has that no
/// dedicated loop keyword covers (`with_first_found`, `with_env` …).
fn with_lookup(key: &str) -> Option<&'static str> {
    let name = key.strip_prefix("with_")?;
    if TASK_KEYWORDS.contains(&key) {
        return None;
    }
    crate::template::LOOKUPS
        .iter()
        .copied()
        .find(|l| *l == name)
}

/// A task keyword: one of [`TASK_KEYWORDS`] or a `with_<lookup>` loop.
fn is_task_keyword(key: &str) -> bool {
    TASK_KEYWORDS.contains(&key) || with_lookup(key).is_some()
}

pub const BLOCK_KEYWORDS: &[&str] = &[
    "block",
    "rescue",
    "always",
    "name",
    "when",
    "tags",
    "become",
    "become_user",
    "remote_user",
    "become_method",
    "vars",
    "environment",
    "ignore_errors",
    "check_mode",
    "diff",
    "no_log",
    "any_errors_fatal",
    "run_once",
    "timeout",
    "delegate_to",
    "delegate_facts",
    "module_defaults",
    "collections",
    "throttle",
    "notify",
];

/// Where a task list comes from: decides search paths and role context.
#[derive(Clone)]
pub struct ListCtx {
    pub file: PathBuf,
    pub inh: Inherited,
    pub search_dirs: Arc<Vec<PathBuf>>,
    pub handler: bool,
}

impl Loader {
    /// Parse a task list node (a sequence of tasks and blocks).
    pub fn parse_items(&mut self, node: &Node, lc: &ListCtx) -> Result<Vec<Item>> {
        if node.is_null() {
            return Ok(Vec::new());
        }
        let Some(seq) = node.as_seq() else {
            return Err(Error::invalid(
                format!("a task list must be a list, found a {}", node.type_name()),
                &node.span,
            )
            .with_help("start each task with '- '"));
        };
        let mut out = Vec::new();
        for t in seq {
            self.parse_entry(t, lc, &mut out)?;
        }
        Ok(out)
    }

    fn parse_entry(&mut self, node: &Node, lc: &ListCtx, out: &mut Vec<Item>) -> Result<()> {
        let map = node.expect_map("a task")?;
        if map.is_empty() {
            return Err(Error::invalid("empty task", &node.span)
                .with_help("a task needs a module, e.g. '- debug: msg=hi'"));
        }
        if node.get("block").is_some() {
            if lc.handler {
                return Err(Error::invalid(
                    "blocks in handlers are not supported",
                    &node.span,
                ));
            }
            out.push(Item::Block(Arc::new(self.parse_block(node, lc)?)));
            return Ok(());
        }
        // Find the action: `action:`/`local_action:` or the one key that is not a keyword.
        let mut action: Option<(String, &Node, &Node)> = None;
        for (k, v) in map {
            let key = k.expect_str("a task key")?;
            let is_kw = is_task_keyword(&key);
            if key == "action" || key == "local_action" || !is_kw {
                if key != "action"
                    && key != "local_action"
                    && super::keywords::unsupported_reason(&key).is_some()
                {
                    return Err(unknown_key(&key, k, "a task", TASK_KEYWORDS));
                }
                if let Some((prev, pk, _)) = &action {
                    let prev_is_module = modules::find(prev).is_some()
                        || modules::ENGINE_ACTIONS.contains(&prev.as_str());
                    let this_is_module = modules::find(&key).is_some()
                        || modules::ENGINE_ACTIONS.contains(&key.as_str());
                    let bad = if prev_is_module && !this_is_module {
                        k
                    } else if this_is_module && !prev_is_module {
                        pk
                    } else {
                        k
                    };
                    let bad_name = bad.key_text().unwrap_or_default();
                    if prev_is_module && this_is_module {
                        return Err(Error::invalid(
                            format!("a task can call only one module, found '{prev}' and '{key}'"),
                            &k.span,
                        )
                        .with_help("split them into two tasks"));
                    }
                    return Err(unknown_key(&bad_name, bad, "a task", TASK_KEYWORDS));
                }
                action = Some((key, k, v));
            }
        }
        let Some((key, key_node, value)) = action else {
            return Err(Error::invalid("task has no module to run", &node.span)
                .with_help("add a module such as 'command:', 'copy:' or 'debug:'"));
        };
        let (module_name, args_node, local) = match key.as_str() {
            "action" | "local_action" => {
                let (m, rest) = split_action(value)?;
                (m, rest, key == "local_action")
            }
            _ => (key.clone(), ActionArgs::Node(value.clone()), false),
        };
        let short = module_name
            .strip_prefix("ansible.builtin.")
            .or_else(|| module_name.strip_prefix("ansible.legacy."))
            .unwrap_or(&module_name)
            .to_string();
        match short.as_str() {
            "import_tasks" => return self.import_tasks(node, key_node, &args_node, lc, out),
            "import_role" => return self.import_role(node, &args_node, lc, out),
            "include_tasks" | "include_role" => {
                out.push(Item::Include(Arc::new(
                    self.parse_include(node, &short, &args_node, lc)?,
                )));
                return Ok(());
            }
            "include" => {
                return Err(
                    Error::invalid("'include' was removed from Ansible", &key_node.span)
                        .with_help("use include_tasks (dynamic) or import_tasks (static)"),
                )
            }
            "import_playbook" => {
                return Err(Error::invalid(
                    "import_playbook is only valid at the top level of a playbook",
                    &key_node.span,
                ))
            }
            _ => {}
        }
        // The task's own `collections` replaces the inherited list, as in Ansible.
        let collections = match node.get("collections") {
            Some(c) => super::collections::parse(c)?,
            None => lc.inh.collections.as_deref().cloned().unwrap_or_default(),
        };
        let parsed = match super::collections::resolve(&module_name, &collections) {
            Some(module) => self.parse_task(node, module, &args_node, local, lc),
            None => Err(unknown_module(
                &module_name,
                &short,
                &collections,
                &key_node.span,
            )),
        };
        let mut task = match parsed {
            Ok(task) => task,
            // Refuse only what will run: a task guarded by `when` may be a branch for
            // another platform, so what drover lacks there fails only when reached.
            Err(e) if e.kind == ErrorKind::Invalid && is_guarded(node, lc) => {
                let stand_in = modules::find("fail").expect("fail is a module");
                let no_args = ActionArgs::Text(String::new(), key_node.span.clone());
                // The stand-in takes the task's keywords, not its module's `args:` nor
                // `async`/`poll` (which the stand-in's module would refuse).
                let keywords = Node {
                    kind: NodeKind::Map(
                        node.as_map()
                            .unwrap_or(&[])
                            .iter()
                            .filter(|(k, _)| {
                                !matches!(k.key_text().as_deref(), Some("args" | "async" | "poll"))
                            })
                            .cloned()
                            .collect(),
                    ),
                    ..node.clone()
                };
                let mut task = self.parse_task(&keywords, stand_in, &no_args, local, lc)?;
                task.unsupported = Some(Arc::new(e));
                task
            }
            Err(e) => return Err(e),
        };
        if module_name != task.module {
            task.written_module = Some(module_name);
        }
        out.push(Item::Task(Arc::new(task)));
        Ok(())
    }

    fn parse_task(
        &mut self,
        node: &Node,
        module: &'static dyn modules::Module,
        args_node: &ActionArgs,
        local: bool,
        lc: &ListCtx,
    ) -> Result<Task> {
        let spec = module.spec();
        let (mut args, mut key_spans, args_span) = read_args(spec, args_node)?;
        let mut kw = lc.inh.clone();
        if local {
            kw.delegate_to = Some(Value::from("localhost"));
        }
        let mut t = Task {
            module_span: args_span.clone(),
            args_span: args_span.clone(),
            search_dirs: lc.search_dirs.clone(),
            ..Task::new(self.next_id(), spec.name, node.span.clone())
        };
        let mut own_when = Vec::new();
        let (mut async_limit, mut poll) = (None, None);
        for (k, v) in node.as_map().unwrap_or(&[]) {
            let key = k.key_text().unwrap_or_default();
            if key == "action" || key == "local_action" || !is_task_keyword(&key) {
                continue;
            }
            if key == "when" {
                own_when.extend(conditions(v)?);
                continue;
            }
            if apply_inheritable(&mut kw, &key, v)? {
                continue;
            }
            match key.as_str() {
                "name" => t.name = Some(v.expect_str("name")?),
                "register" => {
                    let r = v.expect_str("register")?;
                    crate::vars::file::check_var_name(&r, &v.span)?;
                    t.register = Some(r);
                }
                "notify" => t.notify = v.expect_str_list("notify")?,
                "listen" => {
                    if !lc.handler {
                        return Err(Error::invalid(
                            "'listen' is only valid on handlers",
                            &k.span,
                        ));
                    }
                    t.listen = v.expect_str_list("listen")?;
                }
                "changed_when" => t.changed_when = Some(conditions(v)?),
                "failed_when" => t.failed_when = Some(conditions(v)?),
                "until" => t.until = Some(conditions(v)?),
                "retries" => t.retries = Some(v.to_value()),
                "delay" => t.delay = Some(v.to_value()),
                "async" => async_limit = Some((v.to_value(), k.span.clone())),
                "poll" => poll = Some(v.to_value()),
                "loop_control" => t.loop_control = parse_loop_control(v)?,
                "args" => {
                    let (extra, spans, _) = read_args(spec, &ActionArgs::Node(v.clone()))?;
                    for (ek, ev) in extra {
                        args.entry(ek).or_insert(ev);
                    }
                    key_spans.extend(spans);
                }
                loop_key => {
                    if t.loop_.is_some() {
                        return Err(Error::invalid("a task can have only one loop", &k.span));
                    }
                    t.loop_ = Some(parse_loop(loop_key, v)?);
                }
            }
        }
        kw.when.extend(own_when);
        // `poll` alone means nothing (Ansible ignores it without `async`).
        if let Some((limit, span)) = async_limit {
            let a = AsyncKw { limit, poll, span };
            super::async_kw::check_literal(&a, module)?;
            t.async_ = Some(a);
        }
        if t.until.is_some() && t.retries.is_none() {
            t.retries = Some(Value::from(3));
        }
        t.arg_defaults =
            super::module_defaults::apply(&kw.module_defaults, spec, &mut args, &mut key_spans);
        if t.arg_defaults.is_empty() {
            margs::validate(spec, &args, &args_span, &key_spans)?;
        } else {
            // Templated defaults may give required arguments: what is written is checked
            // now, the whole when the task runs.
            let mut partial = args.clone();
            partial.insert(margs::VARIABLE_PARAMS.into(), Value::from(""));
            margs::validate(spec, &partial, &args_span, &key_spans)?;
        }
        t.args = args;
        t.kw = kw;
        for n in &t.notify {
            self.notified.push((n.clone(), node.span.clone()));
        }
        Ok(t)
    }

    fn parse_block(&mut self, node: &Node, lc: &ListCtx) -> Result<Block> {
        let mut inh = lc.inh.clone();
        let mut name = None;
        for (k, v) in node.as_map().unwrap_or(&[]) {
            let key = k.key_text().unwrap_or_default();
            if matches!(key.as_str(), "block" | "rescue" | "always") {
                continue;
            }
            if key == "name" {
                name = Some(v.expect_str("name")?);
                continue;
            }
            if key == "notify" {
                return Err(Error::invalid(
                    "notify on a block is not supported; put it on the tasks",
                    &k.span,
                ));
            }
            if !apply_inheritable(&mut inh, &key, v)? {
                return Err(unknown_key(&key, k, "a block", BLOCK_KEYWORDS));
            }
        }
        let child = ListCtx { inh, ..lc.clone() };
        let part = |me: &mut Loader, key: &str| -> Result<Vec<Item>> {
            match node.get(key) {
                Some(n) => me.parse_items(n, &child),
                None => Ok(Vec::new()),
            }
        };
        Ok(Block {
            name,
            block: part(self, "block")?,
            rescue: part(self, "rescue")?,
            always: part(self, "always")?,
            span: node.span.clone(),
        })
    }

    fn import_tasks(
        &mut self,
        node: &Node,
        key_node: &Node,
        args: &ActionArgs,
        lc: &ListCtx,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let (file, extra_vars) = include_file_arg(args, key_node, false)?;
        if file.contains("{{") {
            return Err(Error::invalid(
                "import_tasks needs a literal file name (imports are static)",
                &key_node.span,
            )
            .with_help("use include_tasks for a templated file name"));
        }
        let mut inh = lc.inh.clone();
        inh.vars.extend(extra_vars);
        for (k, v) in node.as_map().unwrap_or(&[]) {
            let key = k.key_text().unwrap_or_default();
            if key == "import_tasks" || key == "ansible.builtin.import_tasks" || key == "name" {
                continue;
            }
            if key.starts_with("with_") || key == "loop" {
                return Err(Error::invalid("import_tasks cannot loop", &k.span)
                    .with_help("use include_tasks to loop over a task file"));
            }
            if !apply_inheritable(&mut inh, &key, v)? {
                return Err(unknown_key(&key, k, "import_tasks", BLOCK_KEYWORDS));
            }
        }
        let path = self.find_task_file(&file, lc, &key_node.span)?;
        let items = self.load_task_file(
            &path,
            &ListCtx {
                inh,
                file: path.clone(),
                ..lc.clone()
            },
        )?;
        out.extend(items);
        Ok(())
    }

    /// Load a task file (for imports now, and include_tasks at run time).
    pub fn load_task_file(&mut self, path: &Path, lc: &ListCtx) -> Result<Vec<Item>> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.file_stack.contains(&canon) {
            let chain: Vec<String> = self
                .file_stack
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| p.display().to_string())
                .collect();
            return Err(Error::invalid(
                format!(
                    "task files import each other in a loop: {}",
                    chain.join(" -> ")
                ),
                &Span::file(path),
            ));
        }
        self.file_stack.push(canon);
        let docs = crate::yaml::load_file(path);
        let result = docs.and_then(|docs| {
            let mut search = vec![path.parent().map(Path::to_path_buf).unwrap_or_default()];
            search.extend(lc.search_dirs.iter().cloned());
            search.dedup();
            let lc = ListCtx {
                file: path.to_path_buf(),
                search_dirs: Arc::new(search),
                ..lc.clone()
            };
            let mut items = Vec::new();
            for d in &docs {
                items.extend(self.parse_items(d, &lc)?);
            }
            Ok(items)
        });
        self.file_stack.pop();
        result
    }

    /// Resolve a task file name: beside the current file, in the role's tasks/, then
    /// the playbook directory.
    pub fn find_task_file(&self, file: &str, lc: &ListCtx, span: &Span) -> Result<PathBuf> {
        let p = Path::new(file);
        if p.is_absolute() {
            if p.is_file() {
                return Ok(p.to_path_buf());
            }
        } else {
            let bases = self.task_file_bases(lc);
            for b in &bases {
                let c = b.join(file);
                if c.is_file() {
                    return Ok(c);
                }
            }
        }
        Err(Error::not_found(format!("task file '{file}' not found")).at(span.clone()).with_help("paths are relative to the including file, the role's tasks/ directory, or the playbook directory"))
    }

    /// Where a relative task file is looked for, in order: beside the including file, the
    /// role's `tasks/` and the role, the playbook's `tasks/` and the playbook directory.
    fn task_file_bases(&self, lc: &ListCtx) -> Vec<PathBuf> {
        let mut bases: Vec<PathBuf> = Vec::new();
        if let Some(d) = lc.file.parent() {
            bases.push(d.to_path_buf());
        }
        if let Some(r) = &lc.inh.role {
            bases.push(r.path.join("tasks"));
            bases.push(r.path.clone());
        }
        bases.push(self.playbook_dir.join("tasks"));
        bases.push(self.playbook_dir.clone());
        bases
    }

    /// The task files a templated include file name may name (`{{ ansible_os_family }}.yml`):
    /// every file in the same search places whose name fits the literal parts. Only the
    /// last path component may be templated; anything else finds nothing.
    pub fn candidate_task_files(&self, file: &str, lc: &ListCtx) -> Vec<PathBuf> {
        let (dir, name) = match file.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", file),
        };
        if dir.contains("{{") || file.contains("{%") || Path::new(file).is_absolute() {
            return Vec::new();
        }
        let mut pattern = String::from("^");
        let mut rest = name;
        while let Some(start) = rest.find("{{") {
            pattern.push_str(&regex::escape(&rest[..start]));
            let Some(end) = rest[start..].find("}}") else {
                return Vec::new();
            };
            pattern.push_str(".+");
            rest = &rest[start + end + 2..];
        }
        pattern.push_str(&regex::escape(rest));
        pattern.push('$');
        let Ok(re) = regex::Regex::new(&pattern) else {
            return Vec::new();
        };
        let bases = self.task_file_bases(lc);
        let mut out: Vec<PathBuf> = Vec::new();
        for b in bases {
            let d = b.join(dir);
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| e.path().is_file())
                .filter(|e| re.is_match(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect();
            found.sort();
            // The nearest place with a match is where the host would look first: the
            // playbook directory's own files are not task files of a role.
            if !found.is_empty() {
                out = found;
                break;
            }
        }
        out
    }

    fn parse_include(
        &mut self,
        node: &Node,
        kind: &str,
        args: &ActionArgs,
        lc: &ListCtx,
    ) -> Result<Include> {
        let kind = if kind == "include_role" {
            IncludeKind::Role
        } else {
            IncludeKind::Tasks
        };
        let mut own = Inherited::default();
        let mut child = lc.inh.clone();
        let mut name = None;
        let mut loop_ = None;
        let mut loop_control = LoopControl::default();
        for (k, v) in node.as_map().unwrap_or(&[]) {
            let key = k.key_text().unwrap_or_default();
            if key.ends_with("include_tasks") || key.ends_with("include_role") {
                continue;
            }
            match key.as_str() {
                "name" => name = Some(v.expect_str("name")?),
                "loop_control" => loop_control = parse_loop_control(v)?,
                "loop" | "with_items" | "with_list" | "with_dict" | "with_indexed_items"
                | "with_sequence" | "with_nested" | "with_together" | "with_subelements"
                | "with_fileglob" => loop_ = Some(parse_loop(&key, v)?),
                k if with_lookup(k).is_some() => loop_ = Some(parse_loop(&key, v)?),
                "when" | "tags" => {
                    apply_inheritable(&mut own, &key, v)?;
                }
                "vars" => {
                    // Include vars are parameters of the included tasks.
                    for (vk, vv) in super::keywords::vars_block(v)? {
                        child.params.insert(vk, vv);
                    }
                }
                // Not attributes of Ansible's TaskInclude/IncludeRole.
                "module_defaults" | "throttle" => {
                    let class = match kind {
                        IncludeKind::Tasks => "TaskInclude",
                        IncludeKind::Role => "IncludeRole",
                    };
                    return Err(Error::invalid(
                        format!("'{key}' is not a valid attribute for a {class}"),
                        &k.span,
                    )
                    .with_help(format!(
                        "put '{key}' on a block around the include (or in include_tasks' apply:), or use the import"
                    )));
                }
                _ => {
                    if !apply_inheritable(&mut child, &key, v)? {
                        return Err(unknown_key(&key, k, "an include", BLOCK_KEYWORDS));
                    }
                    apply_inheritable(&mut own, &key, v)?;
                }
            }
        }
        // The include's own when/tags apply to it only; inherited ones still count.
        let mut own_full = lc.inh.clone();
        own_full.when.extend(own.when);
        for t in own.tags {
            if !own_full.tags.contains(&t) {
                own_full.tags.push(t);
            }
        }
        own_full.become_ = child.become_.clone();
        own_full.become_user = child.become_user.clone();
        own_full.delegate_to = child.delegate_to.clone();
        own_full.delegate_facts = child.delegate_facts.clone();
        own_full.run_once = child.run_once.clone();
        own_full.ignore_errors = child.ignore_errors.clone();
        let mut role_opts = RoleOpts::default();
        let file = match kind {
            IncludeKind::Tasks => {
                let (file, extra) = include_file_arg(args, &node.clone(), true)?;
                child.params.extend(extra);
                // `apply:` keywords (tags, when, become …) go to every included task, as a
                // block around them would.
                if let Some(apply) = include_apply(args) {
                    for (k, v) in apply.as_map().unwrap_or(&[]) {
                        let key = k.key_text().unwrap_or_default();
                        if !apply_inheritable(&mut child, &key, v)? {
                            return Err(unknown_key(
                                &key,
                                k,
                                "include_tasks apply",
                                BLOCK_KEYWORDS,
                            ));
                        }
                    }
                }
                // The file is read when a host reaches the include (as Ansible): a branch
                // for another platform may use what drover lacks and never run. Preflight
                // reads it too, and reports its problems as warnings.
                Value::from(file)
            }
            IncludeKind::Role => {
                let map = args.as_map_node().ok_or_else(|| {
                    Error::invalid("include_role needs a mapping with 'name'", &node.span)
                })?;
                let mut role_name = None;
                for (k, v) in map.as_map().unwrap_or(&[]) {
                    let key = k.key_text().unwrap_or_default();
                    match key.as_str() {
                        "name" | "role" => role_name = Some(v.expect_str("role name")?),
                        "tasks_from" => role_opts.tasks_from = Some(v.expect_str("tasks_from")?),
                        "vars_from" => role_opts.vars_from = Some(v.expect_str("vars_from")?),
                        "defaults_from" => role_opts.defaults_from = Some(v.expect_str("defaults_from")?),
                        "handlers_from" => role_opts.handlers_from = Some(v.expect_str("handlers_from")?),
                        "public" => role_opts.public = v.expect_bool("public")?,
                        "allow_duplicates" | "apply" | "rolespec_validate" => {
                            return Err(Error::invalid(format!("include_role option '{key}' is not supported yet"), &k.span))
                        }
                        _ => return Err(Error::invalid(format!("unknown include_role option '{key}'"), &k.span).with_help("include_role takes name, tasks_from, vars_from, defaults_from, handlers_from, public")),
                    }
                }
                let role_name = role_name
                    .ok_or_else(|| Error::invalid("include_role needs 'name'", &node.span))?;
                if !role_name.contains("{{") {
                    // Resolve now so a missing role is reported before any host is touched.
                    self.resolve_role(&role_name, &node.span)?;
                }
                Value::from(role_name)
            }
        };
        Ok(Include {
            id: self.next_id(),
            kind,
            name,
            file,
            kw: own_full,
            child_kw: child,
            loop_,
            loop_control,
            span: node.span.clone(),
            search_dirs: lc.search_dirs.clone(),
            role_opts,
        })
    }
}

/// Arguments as written: a node, or the rest of an `action:` string.
#[derive(Clone)]
pub enum ActionArgs {
    Node(Node),
    Text(String, Span),
}

impl ActionArgs {
    fn as_map_node(&self) -> Option<&Node> {
        match self {
            ActionArgs::Node(n) if n.as_map().is_some() => Some(n),
            _ => None,
        }
    }
}

/// `action: copy src=a dest=b` or `action: {module: copy, src: a}`.
fn split_action(value: &Node) -> Result<(String, ActionArgs)> {
    match &value.kind {
        NodeKind::Str(s) => {
            let s = s.trim();
            let (m, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
            Ok((
                m.to_string(),
                ActionArgs::Text(rest.trim().to_string(), value.span.clone()),
            ))
        }
        NodeKind::Map(entries) => {
            let module = value
                .get("module")
                .ok_or_else(|| Error::invalid("action: mapping needs 'module'", &value.span))?
                .expect_str("module")?;
            let rest: Vec<(Node, Node)> = entries
                .iter()
                .filter(|(k, _)| k.as_str() != Some("module"))
                .cloned()
                .collect();
            Ok((
                module,
                ActionArgs::Node(Node::new(NodeKind::Map(rest), value.span.clone())),
            ))
        }
        _ => Err(Error::invalid(
            "action must be a string or a mapping",
            &value.span,
        )),
    }
}

/// Arguments, the span of each argument name, and the span of the whole mapping.
type ReadArgs = (Vars, Vec<(String, Span)>, Span);

fn unknown_module(module_name: &str, short: &str, collections: &[String], span: &Span) -> Error {
    let names = modules::all_names();
    let short_name = !module_name.contains('.');
    let searched = if short_name {
        format!(
            " (searched {})",
            super::collections::search_order(collections).join(", ")
        )
    } else {
        String::new()
    };
    let e = Error::invalid(format!("unknown module '{module_name}'{searched}"), span);
    if let Some(file) = shipped_module(short, span) {
        return Error::invalid(
            format!(
                "unknown module '{module_name}': it is module code shipped with the content ({}), and drover runs only its own built-in modules",
                file.display()
            ),
            span,
        )
        .with_help("do the same with built-in modules (command, shell and script run programs), or run this content with ansible-playbook");
    }
    if short_name {
        if let Some(fqcn) = super::collections::home_of(short) {
            return e.with_help(format!(
                "drover has it as '{fqcn}': write that name, or add its collection to 'collections:'"
            ));
        }
    }
    match did_you_mean(short, names.iter().copied()) {
        Some(s) => e.with_help(format!("did you mean '{s}'? (or a keyword misspelled?)")),
        None if module_name.matches('.').count() >= 2 => e.with_help(
            "drover has no module of that name in any collection (see the README for the modules drover supports)",
        ),
        None => e.with_help("see the README for the modules drover supports"),
    }
}

/// The file of a module the content ships in a `library/` directory beside its playbook
/// or role (where Ansible looks for custom modules), if there is one by that name.
fn shipped_module(short: &str, span: &Span) -> Option<std::path::PathBuf> {
    // A role's tasks file is <role>/tasks/…: its library/ is two levels up at most
    // (tasks in subdirectories aside); a playbook's is beside it.
    span.file.ancestors().skip(1).take(3).find_map(|dir| {
        let lib = dir.join("library");
        ["", ".py", ".sh", ".ps1"]
            .iter()
            .map(|ext| lib.join(format!("{short}{ext}")))
            .find(|f| f.is_file())
    })
}

/// Whether the task may never run, or its failure is expected: a `when` (its own or
/// inherited) decides if it runs, or `ignore_errors` makes its failure part of the play
/// (Ansible's own tests check that a bad call fails).
fn is_guarded(node: &Node, lc: &ListCtx) -> bool {
    !lc.inh.when.is_empty()
        || lc.inh.ignore_errors.is_some()
        || node
            .as_map()
            .unwrap_or(&[])
            .iter()
            .any(|(k, _)| matches!(k.key_text().as_deref(), Some("when" | "ignore_errors")))
}

fn read_args(spec: &'static modules::ModuleSpec, args: &ActionArgs) -> Result<ReadArgs> {
    match args {
        ActionArgs::Text(t, span) => Ok((
            margs::parse_free_form(spec, t, span)?,
            Vec::new(),
            span.clone(),
        )),
        ActionArgs::Node(n) => match &n.kind {
            NodeKind::Null => Ok((Vars::new(), Vec::new(), n.span.clone())),
            NodeKind::Str(s) => Ok((
                margs::parse_free_form(spec, s, &n.span)?,
                Vec::new(),
                n.span.clone(),
            )),
            NodeKind::Map(entries) => {
                let mut vars = Vars::new();
                let mut spans = Vec::new();
                for (k, v) in entries {
                    let key = k.expect_str("an argument name")?;
                    spans.push((key.clone(), k.span.clone()));
                    vars.insert(key, v.to_value());
                }
                Ok((vars, spans, n.span.clone()))
            }
            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_)
                if spec.free_form == modules::FreeForm::RawParams =>
            {
                let mut vars = Vars::new();
                vars.insert(
                    "_raw_params".into(),
                    Value::from(n.key_text().unwrap_or_default()),
                );
                Ok((vars, Vec::new(), n.span.clone()))
            }
            _ => Err(Error::invalid(
                format!(
                    "arguments of {} must be a mapping or a key=value string, found a {}",
                    spec.name,
                    n.type_name()
                ),
                &n.span,
            )),
        },
    }
}

/// The file of `import_tasks: file.yml` / `include_tasks: {file: x}`, and its extra args.
/// The `apply:` mapping of `include_tasks: {file: x, apply: {...}}`.
fn include_apply(args: &ActionArgs) -> Option<&Node> {
    match args {
        ActionArgs::Node(n) => match &n.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some("apply"))
                .map(|(_, v)| v),
            _ => None,
        },
        _ => None,
    }
}

/// The file of `include_tasks: NAME` or of its key=value form `include_tasks: file=NAME`
/// (Ansible parses the free form as key=value when it is one).
fn free_form_file(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix("file=") {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => {
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| rest.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)));
            unquoted.unwrap_or(rest).to_string()
        }
        _ => s.to_string(),
    }
}

fn include_file_arg(args: &ActionArgs, at: &Node, at_include: bool) -> Result<(String, Vars)> {
    match args {
        ActionArgs::Text(t, _) => Ok((free_form_file(t), Vars::new())),
        ActionArgs::Node(n) => match &n.kind {
            NodeKind::Str(s) => Ok((free_form_file(s), Vars::new())),
            NodeKind::Map(entries) => {
                let mut file = None;
                for (k, v) in entries {
                    match k.as_str() {
                        Some("file") | Some("_raw_params") => file = Some(v.expect_str("file")?),
                        // Read by `include_apply` (include_tasks only).
                        Some("apply") if at_include => {}
                        Some("apply") => {
                            return Err(Error::invalid(
                                "'apply' is only valid on include_tasks (an import is static)",
                                &k.span,
                            ))
                        }
                        Some(other) => {
                            return Err(Error::invalid(
                                format!("unknown option '{other}'"),
                                &k.span,
                            )
                            .with_help("include_tasks/import_tasks take 'file'"))
                        }
                        None => return Err(Error::invalid("bad option", &k.span)),
                    }
                }
                file.map(|f| (f, Vars::new()))
                    .ok_or_else(|| Error::invalid("needs 'file'", &n.span))
            }
            _ => Err(Error::invalid("expected a file name", &at.span)),
        },
    }
}

fn parse_loop(key: &str, v: &Node) -> Result<Loop> {
    let kind = match key {
        "loop" => LoopKind::Loop,
        "with_items" => LoopKind::Items,
        "with_list" => LoopKind::List,
        "with_dict" => LoopKind::Dict,
        "with_indexed_items" => LoopKind::IndexedItems,
        "with_together" => LoopKind::Together,
        "with_sequence" => LoopKind::Sequence,
        "with_fileglob" => LoopKind::Fileglob,
        "with_nested" | "with_cartesian" => LoopKind::Nested,
        "with_subelements" => LoopKind::Subelements,
        other if with_lookup(other).is_some() => {
            LoopKind::Lookup(with_lookup(other).unwrap_or_default().to_string())
        }
        other => {
            return Err(Error::invalid(
                format!("unknown loop keyword '{other}'"),
                &v.span,
            ))
        }
    };
    Ok(Loop {
        kind,
        items: v.to_value(),
        span: v.span.clone(),
    })
}

fn parse_loop_control(v: &Node) -> Result<LoopControl> {
    let mut lc = LoopControl::default();
    for (k, val) in v.expect_map("loop_control")? {
        let key = k.expect_str("a loop_control key")?;
        match key.as_str() {
            "loop_var" => lc.loop_var = Some(val.expect_str("loop_var")?),
            "index_var" => lc.index_var = Some(val.expect_str("index_var")?),
            "label" => lc.label = Some(val.to_value()),
            "pause" => {
                lc.pause = Some(
                    val.key_text()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| Error::invalid("pause must be a number", &val.span))?,
                )
            }
            "extended" => lc.extended = val.expect_bool("extended")?,
            "extended_allitems" => {}
            other => {
                return Err(
                    Error::invalid(format!("unknown loop_control key '{other}'"), &k.span)
                        .with_help(
                            "loop_control takes loop_var, index_var, label, pause, extended",
                        ),
                )
            }
        }
    }
    Ok(lc)
}

#[cfg(test)]
mod tests {
    use super::free_form_file;

    #[test]
    fn include_free_form_may_be_file_equals() {
        assert_eq!(free_form_file("file=more.yml"), "more.yml");
        assert_eq!(free_form_file("file='a b.yml'"), "file='a b.yml'");
        assert_eq!(free_form_file("file=\"x.yml\""), "x.yml");
        assert_eq!(free_form_file("tasks/x.yml"), "tasks/x.yml");
        assert_eq!(free_form_file("{{ f }}"), "{{ f }}");
    }
}
