//! include_vars: variables from a YAML/JSON file on the controller, or from every
//! matching file under a directory.

use super::{ok, spec};
use crate::diagnostics::{Error, Result};
use crate::modules::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use crate::modules::{Args, Effect, Module, ModuleCtx, Plan};
use crate::vars::Vars;
use minijinja::Value;

pub struct IncludeVars;

static INCLUDE_VARS: ModuleSpec = spec(
    "include_vars",
    &[
        arg("file", Str),
        arg("name", Str),
        arg("dir", Str),
        arg("depth", Int),
        arg("files_matching", Str),
        arg("ignore_files", List),
        arg("extensions", List),
        arg("hash_behaviour", Str),
        arg("ignore_unknown_extensions", Bool),
    ],
    FreeForm::RawParams,
    true,
);

impl Module for IncludeVars {
    fn spec(&self) -> &'static ModuleSpec {
        &INCLUDE_VARS
    }
    fn loaded_result_keys(&self) -> &'static [&'static str] {
        &["ansible_facts"]
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let from_dir = args.has("dir");
        let (vars, read) = match args.str("dir")? {
            Some(dir) => {
                let dir = ctx.find_src("vars", dir.trim())?;
                vars_dir(&dir, args)?
            }
            None => {
                let file = match args.str("file")? {
                    Some(f) => Some(f),
                    None => args.str("_raw_params")?,
                };
                let file = file.map(|f| f.trim().to_string()).filter(|f| !f.is_empty());
                // A file that is not there is the task's failure, with Ansible's result
                // (`message`, empty facts), so `ignore_errors` + `register` can test it.
                let Some(file) = file else {
                    return Ok(not_found("Could not find file".into()));
                };
                let path = match ctx.find_src("vars", &file) {
                    Ok(p) => p,
                    Err(e) if e.kind == crate::diagnostics::ErrorKind::NotFound => {
                        let searched: Vec<String> = ctx
                            .task
                            .search_dirs
                            .iter()
                            .flat_map(|d| [d.join("vars").join(&file), d.join(&file)])
                            .map(|p| format!("\t{}", p.display()))
                            .collect();
                        return Ok(not_found(format!(
                            "Could not find or access '{file}'\nSearched in:\n{}",
                            searched.join("\n")
                        )));
                    }
                    Err(e) => return Err(e),
                };
                (crate::vars::file::load_vars_file(&path)?, vec![path])
            }
        };
        let (facts, loaded) = match args.str("name")? {
            Some(n) => {
                let mut m = Vars::new();
                m.insert(n, Value::from_iter(vars));
                (m.clone(), m)
            }
            None => (vars.clone(), vars),
        };
        let (facts, loaded) = match args.str("hash_behaviour")?.as_deref() {
            None | Some("replace") => (facts, loaded),
            Some("merge") => {
                let merged = merged_with_current(ctx, facts);
                (merged.clone(), merged)
            }
            Some(other) => {
                return Err(Error::module(format!(
                    "include_vars: hash_behaviour must be 'replace' or 'merge', got '{other}'"
                )))
            }
        };
        let mut p = ok(vec![
            ("ansible_facts", Value::from_iter(facts)),
            (
                "ansible_included_var_files",
                // Ansible reports the absolute path of the file it read: from a directory
                // as its walk found it (through links), a file resolved.
                Value::from(
                    read.iter()
                        .map(|p| {
                            let shown = if from_dir {
                                std::path::absolute(p)
                            } else {
                                std::fs::canonicalize(p)
                            };
                            shown.unwrap_or(p.clone()).display().to_string()
                        })
                        .collect::<Vec<_>>(),
                ),
            ),
        ]);
        p.effects.push(Effect::IncludeVars(loaded));
        Ok(p)
    }
}

/// `hash_behaviour: merge`: each loaded mapping merged into the variable's current
/// value, recursively (Ansible's `combine_vars(existing, loaded, merge=True)`).
fn merged_with_current(ctx: &ModuleCtx<'_>, loaded: Vars) -> Vars {
    loaded
        .into_iter()
        .map(|(k, new)| {
            let current = ctx.eval.eval_expr(&k).ok().filter(|v| !v.is_undefined());
            // Ansible's combine_vars(merge=True) is its merge_hash, recursive, lists
            // replaced: the `combine` filter's.
            let maps = |v: &Value| v.kind() == minijinja::value::ValueKind::Map;
            let value = match current {
                Some(cur) if maps(&cur) && maps(&new) => {
                    crate::template::ansible::filters::merge_hash(&cur, &new, true, "replace")
                        .unwrap_or(new)
                }
                _ => new,
            };
            (k, value)
        })
        .collect()
}

/// The failed result of a file that is not there, as Ansible's include_vars gives it:
/// the reason under `message` (also `msg`, which drover shows), no facts, no files.
fn not_found(what: String) -> Plan {
    let message = format!(
        "{what} on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option"
    );
    let mut p = ok(vec![
        ("ansible_facts", Value::from_iter(Vars::new())),
        (
            "ansible_included_var_files",
            Value::from(Vec::<String>::new()),
        ),
        ("message", Value::from(message.clone())),
        ("msg", Value::from(message)),
    ]);
    p.failed = true;
    p
}

/// `include_vars dir:`: the files below `dir` (`depth` levels, 0 = all), directory by
/// directory in path order, each one's files by name; those matching `files_matching`
/// and not `ignore_files`, with one of `extensions`; later files override earlier ones.
fn vars_dir(dir: &std::path::Path, args: &Args) -> Result<(Vars, Vec<std::path::PathBuf>)> {
    let depth = args.int("depth")?.unwrap_or(0);
    let matching = match args.str("files_matching")? {
        // A Python regular expression (re.search), as in Ansible.
        Some(re) => Some(
            crate::pyregex::PyRegex::new(&re, false, false).map_err(|e| {
                Error::module(format!("include_vars: bad files_matching '{re}': {e}"))
            })?,
        ),
        None => None,
    };
    // Each a Python regular expression matched at the end of the name, as in Ansible.
    let ignore = args
        .str_list("ignore_files")?
        .iter()
        .map(|p| {
            crate::pyregex::PyRegex::new(&format!("{p}$"), false, false)
                .map_err(|e| Error::module(format!("Invalid regular expression: {p} ({e})")))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut extensions: Vec<String> = args.str_list("extensions")?;
    if extensions.is_empty() {
        extensions = vec!["yaml".into(), "yml".into(), "json".into()];
    }
    let ignore_unknown = args.bool("ignore_unknown_extensions", false)?;
    // As Ansible's os.walk(followlinks=True): links to directories are followed, the
    // directories are taken in the order of their paths, then each one's files by name.
    let mut walk = walkdir::WalkDir::new(dir).min_depth(1).follow_links(true);
    if depth > 0 {
        walk = walk.max_depth(depth as usize);
    }
    let mut files: Vec<(String, String, std::path::PathBuf)> = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| Error::module(format!("include_vars: {e}")).caused_by(e))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let parent = entry
            .path()
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = entry.file_name().to_string_lossy().into_owned();
        files.push((parent, name, entry.path().to_path_buf()));
    }
    files.sort();
    let mut vars = Vars::new();
    let mut read = Vec::new();
    for (_, name, path) in files {
        if ignore.iter().any(|re| re.is_match(&name).unwrap_or(false))
            || matching
                .as_ref()
                .is_some_and(|re| !re.is_match(&name).unwrap_or(false))
        {
            continue;
        }
        let ext = std::path::Path::new(&name)
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !extensions.contains(&ext) {
            if ignore_unknown {
                continue;
            }
            let message = format!(
                "{} does not have a valid extension: {}",
                path.display(),
                extensions.join(", ")
            );
            return Err(Error::module(format!("include_vars: {message}"))
                .with_result_key("message", message)
                .with_help(
                    "set ignore_unknown_extensions: true, or list the extension in extensions",
                ));
        }
        vars.extend(crate::vars::file::load_vars_file(&path)?);
        read.push(path);
    }
    Ok((vars, read))
}
