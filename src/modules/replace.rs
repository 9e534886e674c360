//! replace: every match of a regular expression in a file, replaced.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{
    check_replacement, compile_regex, plan_write, python_replacement, read_with_state,
    regex_failed, ResultShape, WriteRequest,
};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
use crate::pyregex::PyRegex;
use crate::vars::Vars;
use minijinja::Value;

pub struct Replace;

static SPEC: ModuleSpec = ModuleSpec {
    name: "replace",
    aliases: &[],
    args: &[
        arg("path", Str)
            .required()
            .aliases(&["dest", "destfile", "name"]),
        arg("regexp", Str).required(),
        arg("replace", Str),
        arg("after", Str),
        arg("before", Str),
        arg("backup", Bool),
        arg("encoding", Str),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("validate", Str),
        arg("unsafe_writes", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

impl Module for Replace {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        super::write::edit_probes(args)
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let path = args.req_str("path")?;
        // Ansible compiles with re.MULTILINE.
        let re = compile_regex(&args.req_str("regexp")?, "regexp", true)?;
        let rep = args.str("replace")?.unwrap_or_default();
        let (state, content) = read_with_state(ctx, &path)?;
        match state.kind {
            FileKind::Directory => {
                return Err(Error::module(format!("Path {path} is a directory !")))
            }
            _ if !state.exists() => {
                return Err(Error::module(format!("Path {path} does not exist !")))
            }
            _ => {}
        }
        let text = String::from_utf8_lossy(content.as_deref().unwrap_or(b"")).into_owned();
        // As Ansible: the section is what lies between a match of `after` and a match of
        // `before` (one pattern, DOTALL, not multi-line); no match leaves the file alone.
        let (after, before) = (args.str("after")?, args.str("before")?);
        let section_pattern = match (&after, &before) {
            (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
            (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
            (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
            (None, None) => None,
        };
        let (mut start, mut end) = (0, text.len());
        if let Some(p) = section_pattern {
            let section_re = PyRegex::new(&format!("(?s){p}"), false, false).map_err(|e| {
                Error::module(format!(
                    "after/before '{p}' is not a valid regular expression: {e}"
                ))
            })?;
            let caps = section_re.captures(&text).map_err(regex_failed)?;
            match caps.as_ref().and_then(|c| c.name("subsection")) {
                Some(m) => (start, end) = (m.start(), m.end()),
                None => {
                    let mut r = Vars::new();
                    r.insert(
                        "msg".into(),
                        Value::from(format!(
                            "Pattern for before/after params did not match the given file: {p}"
                        )),
                    );
                    r.insert("rc".into(), Value::from(0));
                    return Ok(Plan::no_change(r));
                }
            }
        }
        // Python checks the template when it substitutes, once the section is found.
        check_replacement(&rep)
            .map_err(|e| Error::module(format!("Unable to process replace due to error: {e}")))?;
        let rep = python_replacement(&rep);
        let section = &text[start..end];
        let count = re.find_all(section).map_err(regex_failed)?.len();
        let replaced = re.replace_all(section, &rep).map_err(regex_failed)?;
        let new_text = format!("{}{}{}", &text[..start], replaced, &text[end..]);
        let mut plan = plan_write(
            ctx,
            WriteRequest {
                make_parents: false,
                dest: path,
                content: new_text.into_bytes(),
                attrs: Attrs::from_args(args)?,
                backup: args.bool("backup", false)?,
                validate: args.str("validate")?,
                force: true,
                current: Some((state, content)),
                shape: ResultShape::Replace,
            },
        )?;
        let msg = if plan.is_change() && count > 0 {
            format!("{count} replacements made")
        } else {
            String::new()
        };
        plan.result.insert("msg".into(), Value::from(msg));
        Ok(plan)
    }
}
