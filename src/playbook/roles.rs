//! Roles: search path, defaults/vars/tasks/handlers, meta dependencies (each role once
//! per play unless `allow_duplicates`), and cycles refused with their members named.

use super::keywords::{apply_inheritable, unknown_key};
use super::loader::Loader;
use super::model::*;
use super::tasks::ListCtx;
use crate::diagnostics::{Error, Result, Span};
use crate::vars::file::load_vars_file;
use crate::vars::Vars;
use crate::yaml::{Node, NodeKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ROLE_ENTRY_KEYWORDS: &[&str] = &[
    "role",
    "name",
    "vars",
    "when",
    "tags",
    "become",
    "become_user",
    "remote_user",
    "become_method",
    "environment",
    "ignore_errors",
    "check_mode",
    "diff",
    "no_log",
    "any_errors_fatal",
    "delegate_to",
    "delegate_facts",
    "run_once",
    "module_defaults",
    "throttle",
];

/// A role loaded into a play: its tasks (dependencies first) and handlers.
pub struct LoadedRole {
    /// Dependencies first, then the role's own tasks.
    pub tasks: Vec<Item>,
}

impl Loader {
    /// Find a role directory: `roles/NAME` beside the playbook, `NAME` relative to it,
    /// then each roles path.
    pub fn resolve_role(&self, name: &str, span: &Span) -> Result<PathBuf> {
        if name.matches('.').count() >= 2 && !name.contains('/') {
            return Err(Error::invalid(
                format!("role '{name}' looks like a collection role"),
                span,
            )
            .with_help("roles from collections are not supported; copy the role into roles/"));
        }
        let mut candidates = vec![
            self.playbook_dir.join("roles").join(name),
            self.playbook_dir.join(name),
        ];
        for p in &self.roles_path {
            candidates.push(p.join(name));
        }
        if Path::new(name).is_absolute() {
            candidates.insert(0, PathBuf::from(name));
        }
        for c in &candidates {
            if c.is_dir() {
                return Ok(c.clone());
            }
        }
        let searched: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
        Err(Error::not_found(format!("role '{name}' not found"))
            .at(span.clone())
            .with_help(format!(
                "searched {}; set --roles-path or ANSIBLE_ROLES_PATH for other locations",
                searched.join(", ")
            )))
    }

    /// A `roles:` entry: a name, or a mapping with `role:` plus keywords and params.
    pub fn role_entry(&mut self, node: &Node, inh: &Inherited) -> Result<LoadedRole> {
        let (name, name_span, kw, params) = match &node.kind {
            NodeKind::Str(s) => (s.clone(), node.span.clone(), inh.clone(), Vars::new()),
            NodeKind::Map(entries) => {
                let mut kw = inh.clone();
                let mut params = Vars::new();
                let mut name = None;
                for (k, v) in entries {
                    let key = k.expect_str("a role key")?;
                    match key.as_str() {
                        "role" | "name" => {
                            name = Some((v.expect_str("role name")?, v.span.clone()))
                        }
                        "vars" => params.extend(super::keywords::vars_block(v)?),
                        // A role searches the collections of its meta/main.yml only.
                        "collections" => {
                            return Err(Error::invalid(
                                "'collections' on a role entry has no effect",
                                &k.span,
                            )
                            .with_help("a role's tasks search the collections listed in its meta/main.yml; put the list there"))
                        }
                        _ if apply_inheritable(&mut kw, &key, v)? => {}
                        _ if super::keywords::unsupported_reason(&key).is_some() => {
                            return Err(unknown_key(&key, k, "a role", ROLE_ENTRY_KEYWORDS))
                        }
                        // Anything else is a role parameter, as in Ansible.
                        _ => {
                            crate::vars::file::check_var_name(&key, &k.span)?;
                            params.insert(key, v.to_value());
                        }
                    }
                }
                let (name, span) =
                    name.ok_or_else(|| Error::invalid("role entry needs 'role:'", &node.span))?;
                (name, span, kw, params)
            }
            _ => {
                return Err(Error::invalid(
                    format!(
                        "a role entry must be a name or a mapping, found a {}",
                        node.type_name()
                    ),
                    &node.span,
                ))
            }
        };
        self.load_role(&name, &name_span, kw, params, &RoleOpts::default(), true)
    }

    /// Load a role (and its dependencies) into the current play.
    pub fn load_role(
        &mut self,
        name: &str,
        span: &Span,
        inh: Inherited,
        params: Vars,
        opts: &RoleOpts,
        dedupe: bool,
    ) -> Result<LoadedRole> {
        let path = self.resolve_role(name, span)?;
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        if let Some(pos) = self.role_stack.iter().position(|p| p == &canon) {
            let chain: Vec<String> = self.role_stack[pos..]
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect();
            return Err(Error::invalid(
                format!("role dependency cycle: {}", chain.join(" -> ")),
                span,
            )
            .with_help("remove one of the dependencies in meta/main.yml"));
        }
        check_role_dirs(&path)?;
        let meta = read_meta(&path)?;
        let key = format!("{}|{:?}|{:?}", canon.display(), params, opts.tasks_from);
        if dedupe && !meta.allow_duplicates && self.roles_seen.contains(&key) {
            return Ok(LoadedRole { tasks: Vec::new() });
        }
        self.roles_seen.push(key);
        self.role_stack.push(canon);
        let result = self.load_role_inner(name, &path, inh, params, opts, meta);
        self.role_stack.pop();
        result
    }

    fn load_role_inner(
        &mut self,
        name: &str,
        path: &Path,
        inh: Inherited,
        params: Vars,
        opts: &RoleOpts,
        meta: RoleMeta,
    ) -> Result<LoadedRole> {
        let mut tasks = Vec::new();
        for dep in &meta.dependencies {
            let mut dep_inh = inh.clone();
            dep_inh.role = None;
            let loaded = self.role_entry(dep, &dep_inh)?;
            tasks.extend(loaded.tasks);
        }
        let defaults = load_role_vars(path, "defaults", opts.defaults_from.as_deref())?;
        let vars = load_role_vars(path, "vars", opts.vars_from.as_deref())?;
        let role = Arc::new(Role {
            name: name.rsplit('/').next().unwrap_or(name).to_string(),
            path: path.to_path_buf(),
            defaults,
            vars,
            params: params.clone(),
        });
        self.play_roles.push(role.clone());
        let mut kw = inh;
        kw.role = Some(role.clone());
        // Roles do not inherit `collections`: their tasks search their meta list.
        kw.collections = meta.collections.clone().map(Arc::new);
        kw.params.extend(params);
        let search = Arc::new(vec![path.to_path_buf(), self.playbook_dir.clone()]);
        if let Some(tasks_file) = find_main(&path.join("tasks"), opts.tasks_from.as_deref()) {
            let lc = ListCtx {
                file: tasks_file.clone(),
                inh: kw.clone(),
                search_dirs: search.clone(),
                handler: false,
            };
            tasks.extend(self.load_task_file(&tasks_file, &lc)?);
        } else if let Some(tf) = &opts.tasks_from {
            return Err(
                Error::not_found(format!("role '{name}' has no tasks file '{tf}'"))
                    .at(Span::file(path)),
            );
        }
        if let Some(handlers_file) =
            find_main(&path.join("handlers"), opts.handlers_from.as_deref())
        {
            let mut hkw = kw.clone();
            hkw.when.clear();
            hkw.tags.clear();
            let lc = ListCtx {
                file: handlers_file.clone(),
                inh: hkw,
                search_dirs: search,
                handler: true,
            };
            let items = self.load_task_file(&handlers_file, &lc)?;
            self.add_handlers(items, Some(&role.name))?;
        }
        Ok(LoadedRole { tasks })
    }

    /// Static `import_role`: its tasks are spliced in place, its handlers join the play.
    pub fn import_role(
        &mut self,
        node: &Node,
        args: &super::tasks::ActionArgs,
        lc: &ListCtx,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let super::tasks::ActionArgs::Node(map) = args else {
            return Err(Error::invalid(
                "import_role needs a mapping with 'name'",
                &node.span,
            ));
        };
        let mut opts = RoleOpts::default();
        let mut name = None;
        for (k, v) in map.expect_map("import_role")? {
            match k.as_str().unwrap_or("") {
                "name" | "role" => name = Some(v.expect_str("role name")?),
                "tasks_from" => opts.tasks_from = Some(v.expect_str("tasks_from")?),
                "vars_from" => opts.vars_from = Some(v.expect_str("vars_from")?),
                "defaults_from" => opts.defaults_from = Some(v.expect_str("defaults_from")?),
                "handlers_from" => opts.handlers_from = Some(v.expect_str("handlers_from")?),
                other => {
                    return Err(Error::invalid(
                        format!("import_role option '{other}' is not supported"),
                        &k.span,
                    ))
                }
            }
        }
        let name = name.ok_or_else(|| Error::invalid("import_role needs 'name'", &node.span))?;
        let mut inh = lc.inh.clone();
        let mut params = Vars::new();
        for (k, v) in node.as_map().unwrap_or(&[]) {
            let key = k.key_text().unwrap_or_default();
            if key.ends_with("import_role") || key == "name" {
                continue;
            }
            if key == "vars" {
                params.extend(super::keywords::vars_block(v)?);
                continue;
            }
            if !apply_inheritable(&mut inh, &key, v)? {
                return Err(unknown_key(&key, k, "import_role", ROLE_ENTRY_KEYWORDS));
            }
        }
        let loaded = self.load_role(&name, &node.span, inh, params, &opts, false)?;
        out.extend(loaded.tasks);
        Ok(())
    }
}

/// A role directory that is a dangling or looping symlink is an error, not an empty part.
fn check_role_dirs(role: &Path) -> Result<()> {
    for sub in [
        "tasks",
        "handlers",
        "defaults",
        "vars",
        "meta",
        "files",
        "templates",
    ] {
        let p = role.join(sub);
        if std::fs::symlink_metadata(&p).is_ok() {
            if let Err(e) = std::fs::metadata(&p) {
                return Err(Error::io_at(&p, &e)
                    .at(Span::file(role))
                    .with_help("fix or remove the symbolic link"));
            }
        }
    }
    Ok(())
}

struct RoleMeta {
    dependencies: Vec<Node>,
    allow_duplicates: bool,
    /// `collections:` searched by the role's tasks.
    collections: Option<Vec<String>>,
}

fn read_meta(role: &Path) -> Result<RoleMeta> {
    let mut meta = RoleMeta {
        dependencies: Vec::new(),
        allow_duplicates: false,
        collections: None,
    };
    let Some(file) = find_main(&role.join("meta"), None) else {
        return Ok(meta);
    };
    for doc in crate::yaml::load_file(&file)? {
        if doc.is_null() {
            continue;
        }
        for (k, v) in doc.expect_map("meta/main.yml")? {
            match k.as_str().unwrap_or("") {
                "dependencies" => {
                    if let Some(seq) = v.as_seq() {
                        meta.dependencies = seq.to_vec();
                    } else if !v.is_null() {
                        return Err(Error::invalid("dependencies must be a list", &v.span));
                    }
                }
                "allow_duplicates" => meta.allow_duplicates = v.expect_bool("allow_duplicates")?,
                "collections" => {
                    meta.collections = Some(super::collections::parse(v)?).filter(|c| !c.is_empty())
                }
                // galaxy_info and argument_specs are metadata drover does not act on.
                _ => {}
            }
        }
    }
    Ok(meta)
}

/// `DIR/main.yml` (or `.yaml`, `main`), or `DIR/NAME(.yml)` for `tasks_from` and friends.
fn find_main(dir: &Path, name: Option<&str>) -> Option<PathBuf> {
    let base = name.unwrap_or("main");
    let stem = base.trim_end_matches(".yml").trim_end_matches(".yaml");
    [
        format!("{stem}.yml"),
        format!("{stem}.yaml"),
        stem.to_string(),
        base.to_string(),
    ]
    .into_iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

fn load_role_vars(role: &Path, sub: &str, from: Option<&str>) -> Result<Vars> {
    let dir = role.join(sub);
    if let Some(f) = find_main(&dir, from) {
        return load_vars_file(&f);
    }
    // `defaults/main/` as a directory of files.
    let d = dir.join(from.unwrap_or("main"));
    let mut vars = Vars::new();
    if d.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .map_err(|e| Error::io_at(&d, &e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            vars.extend(load_vars_file(&f)?);
        }
    } else if let Some(name) = from {
        return Err(Error::not_found(format!(
            "{sub} file '{name}' not found in role {}",
            role.display()
        )));
    }
    Ok(vars)
}
