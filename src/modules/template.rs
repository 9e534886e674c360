//! template: render a Jinja2 template from the controller and write it atomically.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{plan_write, ResultShape, WriteRequest};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
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
        arg("block_start_string", Str),
        arg("block_end_string", Str),
        arg("variable_start_string", Str),
        arg("variable_end_string", Str),
        arg("comment_start_string", Str),
        arg("comment_end_string", Str),
        arg("follow", Bool),
        arg("output_encoding", Str),
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
        // The module's whitespace and delimiter options (a `#jinja2:` header in the file
        // itself wins, as in Ansible).
        let mut opts = crate::template::TextOptions {
            trim_blocks: Some(args.bool("trim_blocks", true)?),
            lstrip_blocks: Some(args.bool("lstrip_blocks", false)?),
            ..Default::default()
        };
        for (name, _) in crate::template::text_options::DELIMITERS {
            if let Some(v) = args.str(name)? {
                opts.set_delimiter(name, v);
            }
        }
        let mut rendered = ctx
            .eval
            .render_text(&path.display().to_string(), &text, &opts)?;
        match args.str("newline_sequence")?.as_deref() {
            Some("\\r\\n") => rendered = rendered.replace('\n', "\r\n"),
            Some("\\r") => rendered = rendered.replace('\n', "\r"),
            _ => {}
        }
        let mut dest = args.req_str("dest")?;
        // Into a directory (named with a trailing slash, or one that exists: the stat the
        // write needs anyway, checksum included, so no extra round trip), under the
        // source's whole name, `.j2` kept: Ansible's `_original_basename`.
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("template");
        let mut current = None;
        if dest.ends_with('/') {
            dest = format!("{dest}{name}");
        } else {
            let st = ctx.stat(&dest, true, true)?;
            if st.kind == FileKind::Directory {
                dest = format!("{dest}/{name}");
            } else {
                current = Some((st, None));
            }
        }
        let after_header = dest.clone();
        let mut plan = plan_write(
            ctx,
            WriteRequest {
                make_parents: false,
                dest,
                content: match args.str("output_encoding")? {
                    Some(codec) => super::output_encoding::encode(&rendered, &codec)?,
                    None => rendered.into_bytes(),
                },
                attrs: Attrs::from_args_copying(args, &path)?,
                backup: args.bool("backup", false)?,
                validate: args.str("validate")?,
                force: args.bool("force", true)?,
                current,
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
