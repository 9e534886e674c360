//! replace: every match of a regular expression in a file, replaced.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{
    compile_regex, plan_write, python_replacement, read_with_state, regex_failed, ResultShape,
    WriteRequest,
};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
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
        let rep = python_replacement(&args.str("replace")?.unwrap_or_default());
        let (state, content) = read_with_state(ctx, &path)?;
        if state.kind != FileKind::File {
            return Err(Error::module(format!("Path {path} does not exist !")));
        }
        let text = String::from_utf8_lossy(content.as_deref().unwrap_or(b"")).into_owned();
        let mut start = 0;
        let mut end = text.len();
        if let Some(a) = args.str("after")? {
            let r = compile_regex(&a, "after", true)?;
            if let Some(m) = r.find(&text).map_err(regex_failed)? {
                start = m.end();
            }
        }
        if let Some(b) = args.str("before")? {
            let r = compile_regex(&b, "before", true)?;
            if let Some(m) = r.find(&text[start..]).map_err(regex_failed)? {
                end = start + m.start();
            }
        }
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
