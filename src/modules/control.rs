//! Modules that act on the run rather than the host: debug, assert, fail, set_fact,
//! meta, include_vars, ping.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Effect, MetaAction, Module, ModuleCtx, Plan};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct Debug;
pub struct Assert;
pub struct Fail;
pub struct SetFact;
pub struct Meta;
pub struct IncludeVars;
pub struct Ping;

const fn spec(
    name: &'static str,
    args: &'static [super::ArgSpec],
    free_form: FreeForm,
    controller_only: bool,
) -> ModuleSpec {
    ModuleSpec {
        name,
        aliases: &[],
        args,
        free_form,
        required_one_of: &[],
        mutually_exclusive: &[],
        controller_only,
        any_keys: false,
    }
}

static DEBUG: ModuleSpec = ModuleSpec {
    mutually_exclusive: &[&["msg", "var"]],
    ..spec(
        "debug",
        &[arg("msg", Any), arg("var", Str), arg("verbosity", Int)],
        FreeForm::KeyValue,
        true,
    )
};
static ASSERT: ModuleSpec = ModuleSpec {
    required_one_of: &[&["that"]],
    ..spec(
        "assert",
        &[
            arg("that", List).required(),
            arg("fail_msg", Any).aliases(&["msg"]),
            arg("success_msg", Any),
            arg("quiet", Bool),
        ],
        FreeForm::KeyValue,
        true,
    )
};
static FAIL: ModuleSpec = spec("fail", &[arg("msg", Any)], FreeForm::KeyValue, true);
static SET_FACT: ModuleSpec = ModuleSpec {
    any_keys: true,
    ..spec("set_fact", &[], FreeForm::KeyValue, true)
};
static META: ModuleSpec = spec("meta", &[], FreeForm::RawParams, true);
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
static PING: ModuleSpec = spec("ping", &[arg("data", Str)], FreeForm::KeyValue, false);

fn ok(pairs: Vec<(&str, Value)>) -> Plan {
    Plan::no_change(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

impl Module for Debug {
    fn spec(&self) -> &'static ModuleSpec {
        &DEBUG
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let verbosity = args.int("verbosity")?.unwrap_or(0);
        if i64::from(ctx.eval.verbosity()) < verbosity {
            let mut p = ok(vec![(
                "skipped_reason",
                Value::from("Verbosity threshold not met."),
            )]);
            p.skipped = true;
            return Ok(p);
        }
        if let Some(var) = args.str("var")? {
            // ansible-core 2.19 shows the error in place of the value.
            let value = match ctx.eval.eval_expr(&var) {
                Ok(v) if !v.is_undefined() => v,
                Ok(_) => Value::from(format!("<< error 1 - '{}' is undefined >>", var.trim())),
                Err(e) => {
                    let msg = e.message.split(" in '").next().unwrap_or_default();
                    Value::from(format!("<< error 1 - {msg} >>"))
                }
            };
            let mut p = ok(vec![(var.as_str(), value.clone())]);
            if let Some(err) = value.as_str().and_then(|v| v.strip_prefix("<< error 1 - ")) {
                let err = err.trim_end_matches(" >>");
                p.result.insert(
                    "warnings".into(),
                    Value::from(vec![format!(
                        "Encountered 1 template error.\nerror 1 - {err}"
                    )]),
                );
            }
            return Ok(p);
        }
        let msg = args
            .value("msg")
            .cloned()
            .unwrap_or_else(|| Value::from("Hello world!"));
        Ok(ok(vec![("msg", msg)]))
    }
}

impl Module for Assert {
    fn spec(&self) -> &'static ModuleSpec {
        &ASSERT
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        // A single condition may hold commas (`version('2.12', '>=')`): Ansible's assert
        // takes a string as one condition, it does not split it like a list argument.
        let conds = match args.value("that") {
            Some(v) if v.kind() == minijinja::value::ValueKind::String => vec![v.clone()],
            _ => args.list("that")?,
        };
        for cond in conds {
            if !ctx.eval.eval_cond(&cond)? {
                let msg = args
                    .value("fail_msg")
                    .cloned()
                    .unwrap_or_else(|| Value::from("Assertion failed"));
                let mut p = ok(vec![
                    ("msg", msg),
                    ("assertion", cond.clone()),
                    ("evaluated_to", Value::from(false)),
                ]);
                p.failed = true;
                return Ok(p);
            }
        }
        let msg = args
            .value("success_msg")
            .cloned()
            .unwrap_or_else(|| Value::from("All assertions passed"));
        Ok(ok(vec![("msg", msg)]))
    }
}

impl Module for Fail {
    fn spec(&self) -> &'static ModuleSpec {
        &FAIL
    }
    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let msg = args
            .value("msg")
            .cloned()
            .unwrap_or_else(|| Value::from("Failed as requested from task"));
        let mut p = ok(vec![("msg", msg)]);
        p.failed = true;
        Ok(p)
    }
}

impl Module for SetFact {
    fn spec(&self) -> &'static ModuleSpec {
        &SET_FACT
    }
    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let facts: Vars = args
            .raw()
            .iter()
            .filter(|(k, _)| k.as_str() != "cacheable")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if facts.is_empty() {
            return Err(Error::module("set_fact needs at least one variable to set"));
        }
        let mut p = ok(vec![("ansible_facts", Value::from_iter(facts.clone()))]);
        p.effects.push(Effect::SetFacts(facts));
        Ok(p)
    }
}

impl Module for Meta {
    fn spec(&self) -> &'static ModuleSpec {
        &META
    }
    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let what = args.str("_raw_params")?.unwrap_or_default();
        let action = match what.trim() {
            "flush_handlers" => MetaAction::FlushHandlers,
            "end_play" => MetaAction::EndPlay,
            "end_host" => MetaAction::EndHost,
            "noop" | "reset_connection" | "refresh_inventory" => MetaAction::Noop,
            "clear_host_errors" => MetaAction::ClearHostErrors,
            other => return Err(Error::module(format!("meta: '{other}' is not supported"))
                .with_help(
                    "drover supports flush_handlers, end_play, end_host, noop, clear_host_errors",
                )),
        };
        let mut p = ok(vec![]);
        p.effects.push(Effect::Meta(action));
        Ok(p)
    }
}

impl Module for IncludeVars {
    fn spec(&self) -> &'static ModuleSpec {
        &INCLUDE_VARS
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let (vars, read) = match args.str("dir")? {
            Some(dir) => {
                let dir = ctx.find_src("vars", dir.trim())?;
                vars_dir(&dir, args)?
            }
            None => {
                let file = match args.str("file")? {
                    Some(f) => f,
                    None => args
                        .str("_raw_params")?
                        .ok_or_else(|| Error::module("include_vars needs a file"))?,
                };
                let path = ctx.find_src("vars", file.trim())?;
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
        let mut p = ok(vec![
            ("ansible_facts", Value::from_iter(facts)),
            (
                "ansible_included_var_files",
                // Ansible reports the absolute path of the file it read.
                Value::from(
                    read.iter()
                        .map(|p| {
                            std::fs::canonicalize(p)
                                .unwrap_or(p.clone())
                                .display()
                                .to_string()
                        })
                        .collect::<Vec<_>>(),
                ),
            ),
        ]);
        p.effects.push(Effect::IncludeVars(loaded));
        Ok(p)
    }
}

/// `include_vars dir:`: the files below `dir` in name order (`depth` levels, 0 = all),
/// those matching `files_matching` and not named in `ignore_files`, with one of
/// `extensions`; later files override earlier ones.
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
    let ignore: Vec<String> = args.str_list("ignore_files")?;
    let mut extensions: Vec<String> = args.str_list("extensions")?;
    if extensions.is_empty() {
        extensions = vec!["yaml".into(), "yml".into(), "json".into()];
    }
    let ignore_unknown = args.bool("ignore_unknown_extensions", false)?;
    let mut walk = walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name();
    if depth > 0 {
        walk = walk.max_depth(depth as usize);
    }
    let mut vars = Vars::new();
    let mut read = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| Error::module(format!("include_vars: {e}")).caused_by(e))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if ignore.contains(&name)
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
                entry.path().display(),
                extensions.join(", ")
            );
            return Err(Error::module(format!("include_vars: {message}"))
                .with_result_key("message", message)
                .with_help(
                    "set ignore_unknown_extensions: true, or list the extension in extensions",
                ));
        }
        vars.extend(crate::vars::file::load_vars_file(entry.path())?);
        read.push(entry.path().to_path_buf());
    }
    Ok((vars, read))
}

impl Module for Ping {
    fn spec(&self) -> &'static ModuleSpec {
        &PING
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let data = args.str("data")?.unwrap_or_else(|| "pong".into());
        if data == "crash" {
            // Ansible's ping raises an exception here; 2.19 reports an uncaught module
            // exception with this wording.
            return Err(Error::module("Task failed: Module failed: boom"));
        }
        let out = ctx.sh("echo pong", None)?;
        if out.rc != 0 {
            return Err(Error::module(format!(
                "ping failed: {}",
                out.stderr_str().trim()
            )));
        }
        Ok(ok(vec![("ping", Value::from(data))]))
    }
}
