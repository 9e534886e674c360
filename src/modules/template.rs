//! template: render a Jinja2 template from the controller and write it atomically.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{plan_write, ResultShape, WriteRequest};
use super::{Args, Module, ModuleCtx, Plan};
use crate::diagnostics::{Error, Result};

pub struct Template;

static SPEC: ModuleSpec = ModuleSpec {
    name: "template",
    aliases: &[],
    args: &[
        arg("src", Str).required(),
        arg("dest", Str).required(),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("backup", Bool),
        arg("force", Bool),
        arg("validate", Str),
        arg("newline_sequence", Str).choices(&["\\n", "\\r", "\\r\\n"]),
        arg("trim_blocks", Bool),
        arg("lstrip_blocks", Bool),
        arg("follow", Bool),
        arg("output_encoding", Str).choices(&["utf-8", "utf8"]),
        arg("unsafe_writes", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

impl Module for Template {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match args.str("dest") {
            Ok(Some(dest)) if !dest.ends_with('/') => vec![Probe::Stat {
                path: dest,
                follow: true,
                checksum: true,
            }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let src = args.req_str("src")?;
        let path = ctx.find_src("templates", &src)?;
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::module(format!("cannot read template {}: {e}", path.display())).caused_by(e)
        })?;
        let bytes = crate::vault::read_controller_file(bytes, &path)?;
        let text = crate::yaml::loader_decode(&bytes, &path)?;
        // The module's whitespace options become the template's `#jinja2:` header (a
        // header in the file itself wins, as in Ansible).
        let trim = args.bool("trim_blocks", true)?;
        let lstrip = args.bool("lstrip_blocks", false)?;
        let text = if (!trim || lstrip) && !text.starts_with("#jinja2:") {
            let py = |b: bool| if b { "True" } else { "False" };
            format!(
                "#jinja2: trim_blocks: {}, lstrip_blocks: {}\n{text}",
                py(trim),
                py(lstrip)
            )
        } else {
            text
        };
        let mut rendered = ctx.eval.render_text(&path.display().to_string(), &text)?;
        match args.str("newline_sequence")?.as_deref() {
            Some("\\r\\n") => rendered = rendered.replace('\n', "\r\n"),
            Some("\\r") => rendered = rendered.replace('\n', "\r"),
            _ => {}
        }
        let mut dest = args.req_str("dest")?;
        if dest.ends_with('/') {
            let name = path
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or("template");
            dest = format!("{dest}{name}");
        }
        let after_header = dest.clone();
        let mut plan = plan_write(
            ctx,
            WriteRequest {
                make_parents: false,
                dest,
                content: rendered.into_bytes(),
                attrs: Attrs::from_args(args)?,
                backup: args.bool("backup", false)?,
                validate: args.str("validate")?,
                force: args.bool("force", true)?,
                current: None,
                shape: ResultShape::File { after_header },
            },
        )?;
        if plan.is_change() && !ctx.check {
            plan.result
                .insert("src".into(), minijinja::Value::from(src));
        }
        Ok(plan)
    }
}
