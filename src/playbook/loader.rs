//! Reading playbooks: plays, `import_playbook`, sections, handlers, and the checks that
//! need the whole play (every `notify` has a handler).

use super::keywords::{apply_inheritable, unknown_key};
use super::model::*;
use super::tasks::ListCtx;
use crate::diagnostics::{Error, Result, Span};
use crate::yaml::{self, Node};
use minijinja::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const PLAY_KEYWORDS: &[&str] = &[
    "name",
    "hosts",
    "vars",
    "vars_files",
    "roles",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "become",
    "become_user",
    "remote_user",
    "become_method",
    "gather_facts",
    "serial",
    "tags",
    "environment",
    "any_errors_fatal",
    "max_fail_percentage",
    "strategy",
    "check_mode",
    "diff",
    "no_log",
    "ignore_errors",
    "force_handlers",
    "when",
    "run_once",
    "timeout",
    "module_defaults",
    "collections",
    "throttle",
];

pub struct Loader {
    pub playbook_dir: PathBuf,
    pub roles_path: Vec<PathBuf>,
    next_id: usize,
    pub(super) file_stack: Vec<PathBuf>,
    pub(super) role_stack: Vec<PathBuf>,
    pub(super) roles_seen: Vec<String>,
    pub(super) play_roles: Vec<Arc<Role>>,
    pub(super) handlers: Vec<Handler>,
    pub(super) notified: Vec<(String, Span)>,
}

/// Parse playbook text as if it were the file `path` (imports are read relative to it).
/// Used by the fuzzers and by tools that hold a playbook in memory.
pub fn load_playbook_str(text: &str, path: &Path, roles_path: &[PathBuf]) -> Result<Playbook> {
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let mut loader = Loader::new(dir, roles_path.to_vec());
    let mut pb = Playbook {
        path: path.to_path_buf(),
        plays: Vec::new(),
    };
    let docs = yaml::load_str(text, path)?;
    loader.load_docs(&docs, path, &mut pb)?;
    Ok(pb)
}

/// Load a playbook file and everything it imports.
pub fn load_playbook(path: &Path, roles_path: &[PathBuf]) -> Result<Playbook> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let mut loader = Loader::new(dir, roles_path.to_vec());
    let mut pb = Playbook {
        path: path.to_path_buf(),
        plays: Vec::new(),
    };
    loader.load_file(path, &mut pb)?;
    Ok(pb)
}

impl Loader {
    /// A loader for a playbook directory (also used at run time for includes).
    pub fn new(playbook_dir: PathBuf, roles_path: Vec<PathBuf>) -> Self {
        Loader {
            playbook_dir,
            roles_path,
            next_id: 0,
            file_stack: Vec::new(),
            role_stack: Vec::new(),
            roles_seen: Vec::new(),
            play_roles: Vec::new(),
            handlers: Vec::new(),
            notified: Vec::new(),
        }
    }

    /// Handlers collected by roles loaded at run time (include_role).
    pub fn take_handlers(&mut self) -> Vec<Handler> {
        std::mem::take(&mut self.handlers)
    }

    /// Task ids are unique across the run, including files loaded at run time.
    pub(super) fn next_id(&mut self) -> usize {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        self.next_id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.next_id
    }

    fn load_file(&mut self, path: &Path, pb: &mut Playbook) -> Result<()> {
        let canon = path.canonicalize().map_err(|e| Error::io_at(path, &e))?;
        if self.file_stack.contains(&canon) {
            return Err(Error::invalid(
                format!("playbook {} imports itself", path.display()),
                &Span::file(path),
            ));
        }
        self.file_stack.push(canon);
        let docs = yaml::load_file(path)?;
        self.load_docs(&docs, path, pb)?;
        self.file_stack.pop();
        Ok(())
    }

    /// The plays of parsed playbook documents (`path` places imports and spans).
    fn load_docs(&mut self, docs: &[Node], path: &Path, pb: &mut Playbook) -> Result<()> {
        for doc in docs {
            if doc.is_null() {
                continue;
            }
            let Some(seq) = doc.as_seq() else {
                return Err(Error::invalid(
                    format!(
                        "a playbook must be a list of plays, found a {}",
                        doc.type_name()
                    ),
                    &doc.span,
                )
                .with_help("start each play with '- hosts: ...'"));
            };
            for play in seq {
                if let Some(target) = play
                    .get("import_playbook")
                    .or_else(|| play.get("ansible.builtin.import_playbook"))
                {
                    for (k, _) in play.as_map().unwrap_or(&[]) {
                        let key = k.key_text().unwrap_or_default();
                        if !key.ends_with("import_playbook") && key != "name" {
                            return Err(Error::invalid(
                                format!("'{key}' on import_playbook is not supported"),
                                &k.span,
                            ));
                        }
                    }
                    let file = target.expect_str("import_playbook")?;
                    let base = path.parent().unwrap_or(Path::new("."));
                    let p = base.join(&file);
                    if !p.is_file() {
                        return Err(Error::not_found(format!(
                            "imported playbook '{file}' not found"
                        ))
                        .at(target.span.clone()));
                    }
                    self.load_file(&p, pb)?;
                    continue;
                }
                pb.plays.push(self.parse_play(play, path)?);
            }
        }
        Ok(())
    }

    fn parse_play(&mut self, node: &Node, file: &Path) -> Result<Play> {
        let map = node.expect_map("a play")?;
        self.roles_seen.clear();
        self.play_roles.clear();
        self.handlers.clear();
        self.notified.clear();
        let hosts = node.get("hosts").ok_or_else(|| {
            Error::invalid("play has no 'hosts'", &node.span)
                .with_help("add 'hosts: all' or a group name")
        })?;
        let hosts_value = match hosts.as_seq() {
            Some(items) => Value::from(
                items
                    .iter()
                    .map(|n| n.expect_str("a host pattern"))
                    .collect::<Result<Vec<_>>>()?
                    .join(":"),
            ),
            None => Value::from(hosts.expect_str("hosts")?),
        };
        let mut inh = Inherited::default();
        let mut play = Play {
            name: String::new(),
            hosts: hosts_value,
            hosts_span: hosts.span.clone(),
            span: node.span.clone(),
            vars: Default::default(),
            vars_files: Vec::new(),
            role_defaults: Vec::new(),
            pre_tasks: Vec::new(),
            tasks: Vec::new(),
            post_tasks: Vec::new(),
            handlers: Vec::new(),
            gather_facts: true,
            gather_facts_given: false,
            serial: Vec::new(),
            max_fail_percentage: None,
            any_errors_fatal: false,
            force_handlers: false,
            remote_user: None,
            base_dir: self.playbook_dir.clone(),
            module_defaults: Vec::new(),
        };
        for (k, v) in map {
            let key = k.expect_str("a play keyword")?;
            match key.as_str() {
                "hosts" | "roles" | "pre_tasks" | "tasks" | "post_tasks" | "handlers" => {}
                "name" => play.name = v.expect_str("name")?,
                "vars" => play.vars = super::keywords::vars_block(v)?,
                "vars_files" => {
                    let items: Vec<&Node> = match v.as_seq() {
                        Some(s) => s.iter().collect(),
                        None => vec![v],
                    };
                    for i in items {
                        if i.as_seq().is_some() {
                            return Err(Error::invalid(
                                "first-found lists in vars_files are not supported",
                                &i.span,
                            ));
                        }
                        play.vars_files
                            .push((Value::from(i.expect_str("a vars file")?), i.span.clone()));
                    }
                }
                "gather_facts" => {
                    play.gather_facts = v.expect_bool("gather_facts")?;
                    play.gather_facts_given = true;
                }
                "serial" => play.serial = parse_serial(v)?,
                "max_fail_percentage" => {
                    play.max_fail_percentage = Some(
                        v.key_text()
                            .and_then(|s| s.trim_end_matches('%').parse().ok())
                            .ok_or_else(|| {
                                Error::invalid("max_fail_percentage must be a number", &v.span)
                            })?,
                    )
                }
                "any_errors_fatal" => play.any_errors_fatal = v.expect_bool("any_errors_fatal")?,
                "force_handlers" => play.force_handlers = v.expect_bool("force_handlers")?,
                "strategy" => {
                    let s = v.expect_str("strategy")?;
                    if s != "free" && s != "host_pinned" {
                        return Err(Error::invalid(format!("strategy '{s}' is not supported"), &v.span).with_help(
                            "drover runs every host through its tasks independently (like strategy: free); remove the keyword or use serial to batch hosts",
                        ));
                    }
                }
                "when" => {
                    return Err(Error::invalid("'when' is not valid on a play", &k.span)
                        .with_help("put the condition on the tasks or a block"))
                }
                _ => {
                    if !apply_inheritable(&mut inh, &key, v)? {
                        return Err(unknown_key(&key, k, "a play", PLAY_KEYWORDS));
                    }
                }
            }
        }
        if play.name.is_empty() {
            play.name = play.hosts.as_str().unwrap_or("").to_string();
        }
        play.remote_user = inh.remote_user.clone();
        play.module_defaults = inh.module_defaults.clone();
        let search = Arc::new(vec![self.playbook_dir.clone()]);
        let lc = ListCtx {
            file: file.to_path_buf(),
            inh: inh.clone(),
            search_dirs: search,
            handler: false,
        };
        let section = |me: &mut Loader, key: &str| -> Result<Vec<Item>> {
            match node.get(key) {
                Some(n) => me.parse_items(n, &lc),
                None => Ok(Vec::new()),
            }
        };
        play.pre_tasks = section(self, "pre_tasks")?;
        if let Some(roles) = node.get("roles") {
            let Some(seq) = roles.as_seq() else {
                if roles.is_null() {
                    return self.finish_play(play, node, &lc);
                }
                return Err(Error::invalid("roles must be a list", &roles.span));
            };
            for r in seq {
                let loaded = self.role_entry(r, &inh)?;
                play.tasks.extend(loaded.tasks);
            }
        }
        play.tasks.extend(section(self, "tasks")?);
        play.post_tasks = section(self, "post_tasks")?;
        self.finish_play(play, node, &lc)
    }

    fn finish_play(&mut self, mut play: Play, node: &Node, lc: &ListCtx) -> Result<Play> {
        if let Some(h) = node.get("handlers") {
            let mut hinh = lc.inh.clone();
            hinh.when.clear();
            let hlc = ListCtx {
                handler: true,
                inh: hinh,
                ..lc.clone()
            };
            let items = self.parse_items(h, &hlc)?;
            self.add_handlers(items, None)?;
        }
        // Every notify must reach a handler: Ansible finds out at run time, drover now.
        for (name, span) in &self.notified {
            if name.contains("{{") {
                continue;
            }
            if !self
                .handlers
                .iter()
                .any(|h| h.topics.iter().any(|t| t == name))
            {
                let names: Vec<&str> = self
                    .handlers
                    .iter()
                    .flat_map(|h| h.topics.iter().map(String::as_str))
                    .collect();
                let e = Error::invalid(
                    format!("notify: no handler named '{name}' in this play"),
                    span,
                );
                return Err(
                    match crate::diagnostics::did_you_mean(name, names.iter().copied()) {
                        Some(s) => e.with_help(format!("did you mean '{s}'?")),
                        None => e.with_help("add a handler with that name or a 'listen:' topic"),
                    },
                );
            }
        }
        play.handlers = std::mem::take(&mut self.handlers);
        play.role_defaults = std::mem::take(&mut self.play_roles);
        Ok(play)
    }

    pub(super) fn add_handlers(&mut self, items: Vec<Item>, role: Option<&str>) -> Result<()> {
        for item in items {
            match item {
                Item::Task(t) => {
                    let mut topics = Vec::new();
                    if let Some(n) = &t.name {
                        topics.push(n.clone());
                        if let Some(r) = role {
                            topics.push(format!("{r} : {n}"));
                        }
                    }
                    topics.extend(t.listen.iter().cloned());
                    self.handlers.push(Handler {
                        body: HandlerBody::Task(t),
                        topics,
                    });
                }
                Item::Block(b) => {
                    return Err(Error::invalid(
                        "blocks in handlers are not supported",
                        &b.span,
                    ))
                }
                Item::Include(i) => {
                    let mut topics = Vec::new();
                    if let Some(n) = &i.name {
                        topics.push(n.clone());
                        if let Some(r) = role {
                            topics.push(format!("{r} : {n}"));
                        }
                    }
                    self.handlers.push(Handler {
                        body: HandlerBody::Include(i),
                        topics,
                    });
                }
            }
        }
        Ok(())
    }
}

fn parse_serial(v: &Node) -> Result<Vec<Serial>> {
    let items: Vec<&Node> = match v.as_seq() {
        Some(s) => s.iter().collect(),
        None => vec![v],
    };
    items
        .into_iter()
        .map(|i| {
            let text = i.key_text().unwrap_or_default();
            if let Some(p) = text.strip_suffix('%') {
                let pct: f64 = p.trim().parse().map_err(|_| {
                    Error::invalid(format!("bad serial percentage '{text}'"), &i.span)
                })?;
                Ok(Serial::Percent(pct))
            } else {
                let n: usize = text.trim().parse().map_err(|_| {
                    Error::invalid(
                        format!("serial must be a number or a percentage, found '{text}'"),
                        &i.span,
                    )
                })?;
                if n == 0 {
                    return Err(Error::invalid("serial: 0 would run no host", &i.span));
                }
                Ok(Serial::Count(n))
            }
        })
        .collect()
}
